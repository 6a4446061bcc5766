"""Read models for deadlines and alerts, with the people each alert tells by name."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    SINGLE_HOLDER_ROLES,
    Alert,
    Deadline,
    DeadlineStatus,
    Person,
    Project,
    Role,
    RoleAssignment,
)


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
) -> list[DeadlineRow]:
    query = (
        select(Deadline, Project.code, Person.name)
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
    return [
        DeadlineRow(
            id=d.id,  # type: ignore[arg-type]
            kind=d.kind,
            subject=d.subject,
            title=d.title,
            project_id=d.project_id,
            project_code=code,
            order_id=d.order_id,
            due_at=d.due_at,
            revision=d.revision,
            status=d.status,
            settled_at=d.settled_at,
            settled_by=settled_by,
            settle_note=d.settle_note,
            overdue=d.status == DeadlineStatus.OPEN and d.due_at < now,
            next_level_at=d.next_level_at,
        )
        for d, code, settled_by in session.exec(query).all()
    ]


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
) -> list[AlertRow]:
    """Alerts, newest level first, each with the people its level tells (by role on the project or unit)."""
    query = (
        select(Alert, Deadline, Project.code)
        .join(Deadline, col(Deadline.id) == col(Alert.deadline_id))
        .outerjoin(Project, col(Project.id) == col(Deadline.project_id))
        .order_by(col(Alert.level_at), col(Alert.id))
    )
    if level is not None:
        query = query.where(col(Alert.name) == level)
    if project_id is not None:
        query = query.where(col(Deadline.project_id) == project_id)
    if since is not None:
        query = query.where(col(Alert.raised_at) >= since)
    rows = session.exec(query).all()
    people = _people_by_role(session, {d.project_id for _, d, _ in rows if d.project_id is not None})
    out = []
    for alert, deadline, code in rows:
        roles = [Role(role) for role in alert.notify.split(",") if role]
        if deadline.project_id is None:
            # A programme's own obligation (a cadence) has no project leader or specialist: the
            # supervision office, which owns it, hears the rungs that would have gone to them.
            roles = [Role.OFFICE if role in SINGLE_HOLDER_ROLES else role for role in roles]
        told = {
            r.person_id: r
            for role in dict.fromkeys(roles)
            for r in people.get((deadline.project_id, role), people.get((None, role), []))
        }
        recipients = list(told.values())
        out.append(
            AlertRow(
                id=alert.id,  # type: ignore[arg-type]
                deadline_id=deadline.id,  # type: ignore[arg-type]
                kind=deadline.kind,
                title=deadline.title,
                project_id=deadline.project_id,
                project_code=code,
                revision=alert.revision,
                level=alert.name,
                level_at=alert.level_at,
                raised_at=alert.raised_at,
                due_at=deadline.due_at,
                recipients=recipients,
            )
        )
    return out


def _people_by_role(
    session: Session, project_ids: set[int]
) -> dict[tuple[int | None, Role], list[Recipient]]:
    """(project id, role) → people; unit roles (office, leadership) under project None."""
    person = aliased(Person)
    rows = session.exec(
        select(RoleAssignment.project_id, RoleAssignment.role, person)
        .join(person, col(person.id) == col(RoleAssignment.person_id))
        .where(
            (col(RoleAssignment.project_id).in_(list(project_ids)))
            | (col(RoleAssignment.unit_id).is_not(None))
        )
        .order_by(col(person.id))
    ).all()
    out: dict[tuple[int | None, Role], list[Recipient]] = {}
    for project_id, role, who in rows:
        assert who.id is not None
        out.setdefault((project_id, Role(role)), []).append(
            Recipient(who.id, who.name, role, who.phone, who.email)
        )
    return out
