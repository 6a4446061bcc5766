"""Read models for deadlines and alerts, with the people each alert tells by name; both page and stream."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from models import (
    Alert,
    Deadline,
    DeadlineStatus,
    Person,
    Project,
    Role,
    holder_join,
)
from models.compiled import Compiled
from models.listing import Listing, Window
from models.people import RoleAssignment
from models.scope import EVERYTHING, Scope
from models.types import table_of
from workflows.alert_rows import HOLDER_FIELDS as HOLDER_FIELDS
from workflows.alert_rows import AlertRow as AlertRow
from workflows.alert_rows import Recipient as Recipient
from workflows.alert_rows import alert_rows, unit_holders


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


@cache
def _unit_holders() -> Compiled:
    """Who holds any role on a unit (as ``models.role_holders`` with no projects, by person), as
    ``(project_id, role, person id, name, phone, email)``; kept, and compiled ahead."""
    assignment, person = table_of(RoleAssignment).c, table_of(Person).c
    return Compiled(
        sa_select(assignment.project_id, assignment.role, person.id, person.name, person.phone, person.email)
        .join_from(table_of(RoleAssignment), table_of(Person), person.id == assignment.person_id)
        .where(
            assignment.role.in_([role.value for role in Role]),
            assignment.unit_id.is_not(None),
            assignment.revoked_at.is_(None),
        )
        .order_by(person.id)
    )


# The filters of the alert list, each a bound parameter of that name.
ALERT_FILTERS = ("level", "project_id", "since", "until")


@lru_cache(maxsize=64)
def _alerts_statement(filters: frozenset[str], scope: Scope) -> Compiled:
    """The alert list with ``filters`` (bound parameters of those names) in ``scope``: each alert with
    its deadline, project and the project's leader and specialist (outer joins); kept, and compiled
    ahead for ``ducha alerts``."""
    alert, deadline, project = table_of(Alert).c, table_of(Deadline).c, table_of(Project).c
    leader, specialist = holder_join(Role.LEADER, core=True), holder_join(Role.SPECIALIST, core=True)
    query: Any = sa_select(
        alert.id,
        alert.deadline_id,
        deadline.kind,
        deadline.title,
        deadline.project_id,
        project.code,
        alert.revision,
        alert.name,
        alert.level_at,
        alert.raised_at,
        deadline.due_at,
        alert.notify,
        *(getattr(leader.person, name) for name in HOLDER_FIELDS),
        *(getattr(specialist.person, name) for name in HOLDER_FIELDS),
    ).join_from(table_of(Alert), table_of(Deadline), deadline.id == alert.deadline_id)
    query = query.outerjoin(table_of(Project), project.id == deadline.project_id)
    query = specialist.onto(leader.onto(query, deadline.project_id), deadline.project_id)
    query = query.order_by(alert.level_at, alert.id)
    if "level" in filters:
        query = query.where(alert.name == bindparam("level"))
    if "project_id" in filters:
        query = query.where(deadline.project_id == bindparam("project_id"))
    if "since" in filters:
        query = query.where(alert.raised_at >= bindparam("since"))
    if "until" in filters:
        query = query.where(alert.raised_at <= bindparam("until"))
    if not scope.everything:
        query = query.where(scope.projects(deadline.project_id))
    return Compiled(query)


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
    given = {"level": level, "project_id": project_id, "since": since, "until": until}
    parameters = {name: value for name, value in given.items() if value is not None}
    units = unit_holders(_unit_holders().all(session, {}))
    query = _alerts_statement(frozenset(parameters), scope)
    return Listing.each(session, query, alert_rows(units), window, parameters)
