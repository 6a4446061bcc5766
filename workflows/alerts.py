"""Read models for deadlines and alerts, with the people each alert tells by name; both page and stream."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from models import (
    Alert,
    Deadline,
    DeadlineStatus,
    Holder,
    Person,
    Project,
    Role,
    holder_join,
    role_holders,
)
from models.listing import Listing, Window
from models.scope import EVERYTHING, Scope
from notifications.recipients import by_role, recipients


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


def list_deadlines(
    *,
    session: Session,
    now: datetime,
    open_only: bool = False,
    overdue_only: bool = False,
    project_id: int | None = None,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
) -> Listing[DeadlineRow]:
    """Deadlines in due order, with their project and who settled them by hand."""
    # Columns, not entities: a long list must not build an ORM object per row.
    query = (
        sa_select(
            col(Deadline.id),
            col(Deadline.kind),
            col(Deadline.subject),
            col(Deadline.title),
            col(Deadline.project_id),
            col(Project.code),
            col(Deadline.order_id),
            col(Deadline.due_at),
            col(Deadline.revision),
            col(Deadline.status),
            col(Deadline.settled_at),
            col(Person.name),
            col(Deadline.settle_note),
            col(Deadline.next_level_at),
        )
        .outerjoin(Project, col(Project.id) == col(Deadline.project_id))
        .outerjoin(Person, col(Person.id) == col(Deadline.settled_by_id))
        .order_by(col(Deadline.due_at), col(Deadline.id))
    )
    if open_only or overdue_only:
        query = query.where(col(Deadline.status) == DeadlineStatus.OPEN)
    if overdue_only:
        query = query.where(col(Deadline.due_at) < now)
    if project_id is not None:
        query = query.where(col(Deadline.project_id) == project_id)
    if not scope.everything:  # a programme's own deadlines (no project) are for those who see all
        query = query.where(scope.projects(col(Deadline.project_id)))

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
            overdue=status == DeadlineStatus.OPEN and due_at < now,
            next_level_at=next_level_at,
        )

    return Listing.each(session, query, row, window)


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


def list_alerts(
    *,
    session: Session,
    level: str | None = None,
    project_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
) -> Listing[AlertRow]:
    """Alerts in the order their levels came, each with the people its level tells; ``until``
    leaves out alerts raised after it (the list as it stood then).

    A project's leader and specialist come in the same query (outer joins), the office and
    leadership from one query of unit roles, so the list streams at any size.
    """
    leader, specialist = holder_join(Role.LEADER), holder_join(Role.SPECIALIST)
    query: Any = sa_select(
        col(Alert.id),
        col(Alert.deadline_id),
        col(Deadline.kind),
        col(Deadline.title),
        col(Deadline.project_id),
        col(Project.code),
        col(Alert.revision),
        col(Alert.name),
        col(Alert.level_at),
        col(Alert.raised_at),
        col(Deadline.due_at),
        col(Alert.notify),
        *(col(getattr(leader.person, name)) for name in HOLDER_FIELDS),
        *(col(getattr(specialist.person, name)) for name in HOLDER_FIELDS),
    ).join(Deadline, col(Deadline.id) == col(Alert.deadline_id))
    query = query.outerjoin(Project, col(Project.id) == col(Deadline.project_id))
    query = specialist.onto(leader.onto(query, col(Deadline.project_id)), col(Deadline.project_id))
    query = query.order_by(col(Alert.level_at), col(Alert.id))
    if level is not None:
        query = query.where(col(Alert.name) == level)
    if project_id is not None:
        query = query.where(col(Deadline.project_id) == project_id)
    if since is not None:
        query = query.where(col(Alert.raised_at) >= since)
    if until is not None:
        query = query.where(col(Alert.raised_at) <= until)
    if not scope.everything:
        query = query.where(scope.projects(col(Deadline.project_id)))
    units = by_role(
        h for h in role_holders(session=session, projects=None, roles=list(Role)) if h.project_id is None
    )
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

    return Listing.each(session, query, row, window)
