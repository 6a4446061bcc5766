"""From the alerts a sweep raised to the notices they cause: who is told, with which template.

The alerts of one sweep are read back in one streamed query (by their id range and raising time:
no list of ids is bound), with each deadline's project, its leader and specialist, and the budget.
Each level tells the people ``notifications.recipients`` names. When several levels of one deadline
came at once (a late first sweep, a restored server), each person is told once, at the highest level
that names them; the lower alerts get notices recorded as *passed*, never sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import (
    Alert,
    Deadline,
    OrgUnit,
    Person,
    Place,
    Programme,
    Project,
    ProjectFunding,
    Role,
    RoleAssignment,
    holder_join,
)
from models.calendar import WorkingCalendar
from models.localtime import local_date
from notifications.outbox import Draft, Recipient
from notifications.recipients import roles_told

# Each escalation level's template; an escalated level (督办) is acknowledged in the inbox.
TEMPLATE_OF_LEVEL = {"upcoming": "reminder", "due": "due", "overdue": "overdue"}
ESCALATED = "supervision"
BATCH = 2000
_PERSON_COLUMNS = ("id", "name", "email", "phone", "notice_addresses", "lang", "digest")


def template_of(level: str) -> tuple[str, bool]:
    """The template of a level, and whether it is an escalation."""
    if level in TEMPLATE_OF_LEVEL:
        return TEMPLATE_OF_LEVEL[level], False
    return ESCALATED, True


def recipient(row: Any, prefix: str = "") -> Recipient | None:
    values = [getattr(row, f"{prefix}{name}") for name in _PERSON_COLUMNS]
    if values[0] is None:
        return None
    person_id, name, email, phone, addresses, lang, digest = values
    return Recipient(person_id, name, email, phone, tuple(addresses or ()), lang or "zh", bool(digest))


def unit_holders(session: Session) -> dict[Role, list[Recipient]]:
    """Everyone holding a role on a unit now (the office, leadership…), by role."""
    columns: list[Any] = [col(RoleAssignment.role), *[col(getattr(Person, name)) for name in _PERSON_COLUMNS]]
    rows = session.execute(
        select(*columns)
        .join(Person, col(Person.id) == col(RoleAssignment.person_id))
        .where(col(RoleAssignment.unit_id).is_not(None), col(RoleAssignment.revoked_at).is_(None))
        .order_by(col(Person.id))
    ).all()
    found: dict[Role, list[Recipient]] = {}
    for row in rows:
        person = recipient(row)
        assert person is not None
        found.setdefault(Role(row.role), []).append(person)
    return found


def office_name(session: Session) -> str:
    name = session.execute(
        select(col(OrgUnit.name)).where(col(OrgUnit.kind) == "office").order_by(col(OrgUnit.id)).limit(1)
    ).scalar()
    return str(name) if name else "督查室"


def alert_drafts(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    first_id: int,
    last_id: int,
) -> Iterator[Draft]:
    """Drafts for the alerts raised at ``now`` with ids from ``first_id`` to ``last_id``."""
    leader, specialist = holder_join(Role.LEADER), holder_join(Role.SPECIALIST)
    village, town = aliased(Place), aliased(Place)
    budget = (
        select(func.coalesce(func.sum(ProjectFunding.amount_fen), 0))
        .where(col(ProjectFunding.project_id) == col(Project.id))
        .scalar_subquery()
    )
    people: list[Any] = [
        col(getattr(alias, name)).label(f"{prefix}{name}")
        for prefix, alias in (("l_", leader.person), ("s_", specialist.person))
        for name in _PERSON_COLUMNS
    ]
    query: Any = (
        select(
            col(Alert.id).label("alert_id"),
            col(Alert.deadline_id),
            col(Alert.level),
            col(Alert.name).label("level_name"),
            col(Alert.notify),
            col(Deadline.title),
            col(Deadline.kind),
            col(Deadline.due_at),
            col(Deadline.project_id),
            col(Deadline.order_id),
            col(Project.code),
            col(Project.name).label("project_name"),
            col(village.name).label("village"),
            col(town.name).label("town"),
            col(Programme.name).label("programme"),
            budget.label("budget_fen"),
            *people,
        )
        .join(Deadline, col(Deadline.id) == col(Alert.deadline_id))
        .outerjoin(Project, col(Project.id) == col(Deadline.project_id))
        .outerjoin(village, col(village.id) == col(Project.village_id))
        .outerjoin(town, col(town.id) == col(village.parent_id))
        .outerjoin(Programme, col(Programme.id) == col(Deadline.programme_id))
    )
    query = specialist.onto(leader.onto(query, col(Project.id)), col(Project.id))
    query = query.where(
        col(Alert.id) >= first_id, col(Alert.id) <= last_id, col(Alert.raised_at) == now
    ).order_by(col(Alert.deadline_id), col(Alert.level))
    on_units = unit_holders(session)
    context_common = {"office": office_name(session), "now": now}
    today = local_date(now)
    rows = session.execute(query.execution_options(yield_per=BATCH))
    for _, group in groupby(rows, key=lambda row: row.deadline_id):
        yield from _deadline_drafts(list(group), on_units, context_common, today, calendar)


def _deadline_drafts(
    alerts: list[Any],
    on_units: dict[Role, list[Recipient]],
    common: dict[str, Any],
    today: Any,
    calendar: WorkingCalendar,
) -> Iterator[Draft]:
    """The drafts of one deadline's alerts of this sweep (ordered by level): each person told once."""
    first = alerts[0]
    on_project = first.project_id is not None
    holders: dict[Role, list[Recipient]] = {}
    lead, spec = recipient(first, "l_"), recipient(first, "s_")
    if lead is not None:
        holders[Role.LEADER] = [lead]
    if spec is not None:
        holders[Role.SPECIALIST] = [spec]
    told: list[tuple[Any, list[Recipient]]] = []
    highest: dict[int, int] = {}  # person → the index of the highest alert that tells them
    for index, alert in enumerate(alerts):
        people: dict[int, Recipient] = {}
        for role in roles_told(alert.notify, on_project=on_project):
            for person in holders.get(role) or on_units.get(role) or []:
                people.setdefault(person.id, person)
        told.append((alert, list(people.values())))
        for person_id in people:
            highest[person_id] = index
    due_day = local_date(first.due_at)
    try:
        days = calendar.working_days_between(today, due_day)
    except Exception:  # a year the calendar does not cover: calendar days
        days = (due_day - today).days
    project = None
    if on_project:
        project = {
            "code": first.code,
            "name": first.project_name,
            "town": first.town,
            "village": first.village,
            "leader": lead.name if lead else None,
            "specialist": spec.name if spec else None,
            "budget_fen": int(first.budget_fen or 0),
        }
    deadline = {"title": first.title, "kind": first.kind, "due_at": first.due_at}
    for index, (alert, audience) in enumerate(told):
        template, escalation = template_of(alert.level_name)
        for person in audience:
            yield Draft(
                cause=f"alert:{alert.alert_id}",
                kind="alert",
                person=person,
                template=template,
                context={
                    **common,
                    "person": {"name": person.name},
                    "project": project,
                    "programme": {"name": first.programme or ""},
                    "deadline": deadline,
                    "level": alert.level_name,
                    "working_days": abs(days),
                },
                escalation=escalation,
                passed=highest[person.id] != index,
                level=alert.level_name,
                alert_id=alert.alert_id,
                order_id=first.order_id,
                deadline_id=alert.deadline_id,
                project_id=first.project_id,
            )
