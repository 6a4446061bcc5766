"""An alert's row of the list, with the people it tells, made without SQLAlchemy.

``workflows.alerts.list_alerts`` (SQLAlchemy's path) and ``workflows.lean_reads.list_alerts`` (the
statements compiled ahead, for ``ducha alerts``) read the same columns and make their rows here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.kinds import Holder, Role
from notifications.recipients import by_role, recipients

HOLDER_FIELDS = ("id", "name", "phone", "email")


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    role: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class AlertRow:
    id: int
    deadline_id: int
    kind: str
    title: str
    project_id: int | None
    project_code: str | None
    revision: int
    level: str
    level_at: datetime
    raised_at: datetime
    due_at: datetime
    recipients: list[Recipient]


def unit_holders(found: Iterable[Any]) -> dict[Role, list[Holder]]:
    """The unit role holders by role, from ``(project_id, role, person id, name, phone, email)`` rows
    (``workflows.alerts._unit_holders``) of assignments on a unit."""
    return by_role(
        Holder(project_id, Role(role), person_id, name, phone, email)
        for project_id, role, person_id, name, phone, email in found
        if project_id is None
    )


def alert_rows(units: dict[Role, list[Holder]]) -> Callable[[Any], AlertRow]:
    """The row of one result row of ``workflows.alerts._alerts_statement``: its columns, then the
    project leader's and specialist's ``HOLDER_FIELDS``."""
    width = len(HOLDER_FIELDS)

    def holder(project_id: int | None, role: Role, values: tuple[Any, ...]) -> list[Holder]:
        person_id, name, phone, email = values
        return [] if person_id is None else [Holder(project_id, role, person_id, name, phone, email)]

    def row(found: Any) -> AlertRow:
        (
            alert_id, deadline_id, kind, title, project_id, code, revision, level, level_at, raised_at,
            due_at, notify,
        ) = found[:12]  # fmt: skip
        lead, spec = tuple(found[12 : 12 + width]), tuple(found[12 + width : 12 + 2 * width])
        told = recipients(
            notify,
            on_project=project_id is not None,
            project_holders={
                Role.LEADER: holder(project_id, Role.LEADER, lead),
                Role.SPECIALIST: holder(project_id, Role.SPECIALIST, spec),
            },
            unit_holders=units,
        )
        return AlertRow(
            id=alert_id,
            deadline_id=deadline_id,
            kind=kind,
            title=title,
            project_id=project_id,
            project_code=code,
            revision=revision,
            level=level,
            level_at=level_at,
            raised_at=raised_at,
            due_at=due_at,
            recipients=[Recipient(h.person_id, h.name, h.role.value, h.phone, h.email) for h in told],
        )

    return row
