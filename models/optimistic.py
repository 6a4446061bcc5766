"""Optimistic locking: write a row only if what was read is still there, and say whether it was.

Two people change the same project (or order, or inspection) at once: both read it, both write with
``UPDATE … WHERE id = ? AND version = ?`` (or ``AND signed_at IS NULL``), and the database lets one
through. The other learns it from the row count and refuses with a Conflict; nothing half-written.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, col


def update_if_unchanged(
    *, session: Session, row: SQLModel, unchanged: Mapping[str, Any], values: Mapping[str, Any]
) -> bool:
    """Write ``values`` to ``row`` if its columns still hold ``unchanged``; bring the loaded row in step.

    Returns False (and writes nothing) when someone else changed the row since it was read.
    """
    table = type(row)
    [key] = sa_inspect(table).primary_key
    conditions = [key == sa_inspect(row).identity[0]]
    for name, expected in unchanged.items():
        column = col(getattr(table, name))
        conditions.append(column.is_(None) if expected is None else column == expected)
    result = session.execute(
        update(table).where(*conditions).values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    # The UPDATE wrote the row; the object in hand takes its new values without a second write.
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True
