"""Notices a signed inspection causes: a rectification notice (整改通知书) per order it issued, to the
person who answers for it, and the acceptance result (验收结果) to the project's specialist and
leader and the supervision office."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import (
    Inspection,
    InspectionKind,
    Person,
    Place,
    Project,
    ProjectFunding,
    RectificationOrder,
    Role,
    RoleAssignment,
)
from models.calendar import WorkingCalendar
from models.localtime import local_date
from notifications.alert_notices import office_name, unit_holders
from notifications.outbox import Draft, Recipient

KIND_LABEL = {
    "zh": {
        "pre_review": "事前审查",
        "in_progress": "事中检查",
        "acceptance": "事后验收",
        "spot_check": "四不两直抽查",
        "re_inspection": "复查",
        "fund_audit": "资金审计",
    },
    "en": {
        "pre_review": "pre-review",
        "in_progress": "in-progress inspection",
        "acceptance": "acceptance inspection",
        "spot_check": "unannounced spot check",
        "re_inspection": "re-inspection",
        "fund_audit": "fund audit",
    },
}
SEVERITY_LABEL = {
    "zh": {"critical": "严重", "major": "较重", "minor": "一般"},
    "en": {"critical": "critical", "major": "major", "minor": "minor"},
}


def _recipient(person: Person) -> Recipient:
    assert person.id is not None
    return Recipient(
        person.id,
        person.name,
        person.email,
        person.phone,
        tuple(person.notice_addresses),
        person.lang,
        person.digest,
    )


def _project(session: Session, project_id: int) -> dict[str, object]:
    project = session.get(Project, project_id)
    assert project is not None
    village = session.get(Place, project.village_id)
    town = session.get(Place, village.parent_id) if village and village.parent_id else None
    budget = session.execute(
        select(func.coalesce(func.sum(ProjectFunding.amount_fen), 0)).where(
            col(ProjectFunding.project_id) == project_id
        )
    ).scalar_one()
    holders = {
        Role(role): person
        for role, person in session.execute(
            select(col(RoleAssignment.role), Person)
            .join(Person, col(Person.id) == col(RoleAssignment.person_id))
            .where(
                col(RoleAssignment.project_id) == project_id,
                col(RoleAssignment.revoked_at).is_(None),
                col(RoleAssignment.role).in_([Role.LEADER.value, Role.SPECIALIST.value]),
            )
        ).all()
    }
    return {
        "code": project.code,
        "name": project.name,
        "town": town.name if town else "",
        "village": village.name if village else "",
        "leader": holders[Role.LEADER].name if Role.LEADER in holders else None,
        "specialist": holders[Role.SPECIALIST].name if Role.SPECIALIST in holders else None,
        "budget_fen": int(budget),
        "_holders": holders,
    }


def inspection_drafts(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    inspection: Inspection,
    issued: Sequence[RectificationOrder],
) -> Iterator[Draft]:
    """The notices of a signed inspection: each order issued, and an acceptance's result."""
    assert inspection.id is not None
    project = _project(session, inspection.project_id)
    holders: dict[Role, Person] = project.pop("_holders")  # type: ignore[assignment]
    office = office_name(session)
    for order in issued:
        person = session.get(Person, order.responsible_person_id)
        assert person is not None and order.id is not None
        lang = person.lang if person.lang in KIND_LABEL else "zh"
        try:
            days = calendar.working_days_between(local_date(now), local_date(order.due_at))
        except Exception:
            days = (local_date(order.due_at) - local_date(now)).days
        yield Draft(
            cause=f"order:{order.id}",
            kind="order",
            person=_recipient(person),
            template="rectification",
            context={
                "person": {"name": person.name},
                "office": office,
                "now": now,
                "project": project,
                "order": {
                    "id": order.id,
                    "item": order.item_key,
                    "description": order.description,
                    "severity": SEVERITY_LABEL[lang].get(order.severity, order.severity),
                    "due_at": order.due_at,
                    "working_days": days,
                },
                "inspection": {
                    "kind": KIND_LABEL[lang].get(inspection.kind, inspection.kind),
                    "when": inspection.inspected_at,
                },
            },
            order_id=order.id,
            inspection_id=inspection.id,
            project_id=inspection.project_id,
        )
    if inspection.kind != InspectionKind.ACCEPTANCE:
        return
    told: dict[int, Person] = {}
    for role in (Role.SPECIALIST, Role.LEADER):
        if role in holders:
            told.setdefault(holders[role].id or 0, holders[role])
    for holder in unit_holders(session).get(Role.OFFICE, []):
        person = session.get(Person, holder.id)
        if person is not None:
            told.setdefault(holder.id, person)
    for person in told.values():
        yield Draft(
            cause=f"inspection:{inspection.id}",
            kind="inspection",
            person=_recipient(person),
            template="acceptance",
            context={
                "person": {"name": person.name},
                "office": office,
                "now": now,
                "project": project,
                "inspection": {
                    "when": inspection.inspected_at,
                    "score": f"{inspection.score_tenths / 10:.1f}",
                    "passed": inspection.outcome != "fail",
                    "orders": len(issued),
                },
            },
            inspection_id=inspection.id,
            project_id=inspection.project_id,
        )
