"""Read models for deadlines and alerts, with the people each alert tells by name; both page and stream."""

from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

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
from workflows.alert_rows import DeadlineRow as DeadlineRow
from workflows.alert_rows import Recipient as Recipient
from workflows.alert_rows import alert_rows, deadline_rows, unit_holders


@lru_cache(maxsize=64)
def _deadlines_statement(filters: frozenset[str], scope: Scope) -> Compiled:
    """Deadlines in due order, with their project and who settled them by hand, with ``filters``
    (``open``; ``overdue_at`` and ``project_id`` bound); kept, and compiled ahead for ``ducha deadlines``."""
    deadline, project, person = table_of(Deadline), table_of(Project), table_of(Person)
    d = deadline.c
    # Columns, not entities: a long list must not build an ORM object per row.
    query: Any = (
        sa_select(
            d.id,
            d.kind,
            d.subject,
            d.title,
            d.project_id,
            project.c.code,
            d.order_id,
            d.due_at,
            d.revision,
            d.status,
            d.settled_at,
            person.c.name,
            d.settle_note,
            d.next_level_at,
        )  # fmt: skip
        .select_from(deadline)
        .outerjoin(project, project.c.id == d.project_id)
        .outerjoin(person, person.c.id == d.settled_by_id)
        .order_by(d.due_at, d.id)
    )
    if "open" in filters or "overdue_at" in filters:
        query = query.where(d.status == DeadlineStatus.OPEN)
    if "overdue_at" in filters:
        query = query.where(d.due_at < bindparam("overdue_at"))
    if "project_id" in filters:
        query = query.where(d.project_id == bindparam("project_id"))
    if not scope.everything:  # a programme's own deadlines (no project) are for those who see all
        query = query.where(scope.projects(d.project_id))
    return Compiled(query)


def deadline_filters(
    *, open_only: bool, overdue_at: datetime | None, project_id: int | None
) -> tuple[frozenset[str], dict[str, Any]]:
    """The statement's filters and their parameters for these choices."""
    given = {"overdue_at": overdue_at, "project_id": project_id}
    parameters = {name: value for name, value in given.items() if value is not None}
    return frozenset({*parameters, *(["open"] if open_only else [])}), parameters


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
    filters, parameters = deadline_filters(
        open_only=open_only, overdue_at=now if overdue_only else None, project_id=project_id
    )
    query = _deadlines_statement(filters, scope)
    return Listing.each(session, query, deadline_rows(now), window, parameters)


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
