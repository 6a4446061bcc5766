"""A person's row of ``ducha people``, made without SQLAlchemy.

``workflows.staff.list_people`` (SQLAlchemy's path) and ``workflows.lean_reads`` (the statements
compiled ahead) read the same columns and make their rows here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    phone: str | None
    email: str | None
    unit: str | None
    roles: list[str]  # "office@区委督查室", "specialist@P007", in force now


def people_rows(
    held: Callable[[int, int], Iterable[tuple[int, str, str]]],
) -> Callable[[list[Any]], list[PersonRow]]:
    """Rows of (id, name, phone, email, unit name) made into people with the roles they hold now:
    ``held(low, high)`` gives (person id, role, where) of the roles in force of the people with ids
    from ``low`` to ``high``, in the order they were granted."""

    def rows(batch: list[Any]) -> list[PersonRow]:
        roles: dict[int, list[str]] = {}
        if batch:
            ids = [found[0] for found in batch]
            for person_id, role, where in held(min(ids), max(ids)):
                roles.setdefault(person_id, []).append(f"{role}@{where}")
        return [
            PersonRow(person_id, name, phone, email, unit, roles.get(person_id, []))
            for person_id, name, phone, email, unit in batch
        ]

    return rows
