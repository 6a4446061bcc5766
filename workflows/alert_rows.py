"""A deadline's and an alert's row of their lists (an alert with the people it tells), made
without SQLAlchemy.

``workflows.alerts.list_deadlines``/``list_alerts`` (SQLAlchemy's path) and ``workflows.lean_reads``
(the statements compiled ahead, for ``ducha deadlines`` and ``ducha alerts``) read the same columns
and make their rows here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.kinds import Holder, Role
from notifications.recipients import by_role, recipients

HOLDER_FIELDS = ("id", "name", "phone", "email")
# models.DeadlineStatus.OPEN (its module holds the tables; a test keeps the two equal).
OPEN = "open"


@dataclass(frozen=True)
class DeadlineRow:
    id: int
    kind: str
    subject: str
    title: str
    project_id: int | None
    project_code: str | None
    order_id: int | None
    due_at: datetime
    revision: int
    status: str
    settled_at: datetime | None
    settled_by: str | None  # who settled it by hand (a cadence recorded done, a waiver)
    settle_note: str | None
    overdue: bool
    next_level_at: datetime | None


def deadline_rows(now: datetime) -> Callable[[Any], DeadlineRow]:
    """The row of one result row of ``workflows.alerts._deadlines_statement``; overdue: open past ``now``."""

    def row(found: Any) -> DeadlineRow:
        (
            deadline_id, kind, subject, title, project, code, order_id, due_at, revision, status,
            settled_at, settled_by, settle_note, next_level_at,
        ) = found  # fmt: skip
        return DeadlineRow(
            id=deadline_id,
            kind=kind,
            subject=subject,
            title=title,
            project_id=project,
            project_code=code,
            order_id=order_id,
            due_at=due_at,
            revision=revision,
            status=status,
            settled_at=settled_at,
            settled_by=settled_by,
            settle_note=settle_note,
            overdue=status == OPEN and due_at < now,
            next_level_at=next_level_at,
        )

    return row


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
