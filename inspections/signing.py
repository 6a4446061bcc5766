"""Sign an inspection: it becomes immutable and its findings become rectification orders."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Protocol

from sqlalchemy import literal
from sqlmodel import Session, col, select

from inspections.loaded_templates import template_of
from inspections.orders import DEFAULT_DEADLINE_DAYS, close_by_reinspection, issue_order, withdraw
from inspections.recording import InspectionRefused
from inspections.templates import ItemKind
from models import (
    SINGLE_HOLDER_ROLES,
    Inspection,
    InspectionInspector,
    InspectionItemResult,
    InspectionKind,
    OrderStatus,
    Outcome,
    Person,
    RectificationOrder,
    Role,
    Verdict,
    role_holders,
)
from models.errors import Conflict
from models.optimistic import update_if_unchanged


class WorkingDays(Protocol):
    """The working-day calendar, as far as deadlines need it."""

    def deadline_after_working_days(self, start: datetime, n: int, cutoff: time = ...) -> datetime: ...


@dataclass(frozen=True)
class Signed:
    inspection: Inspection
    issued: list[RectificationOrder] = field(default_factory=list)
    closed: list[RectificationOrder] = field(default_factory=list)
    kept_open: list[RectificationOrder] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.inspection.outcome == Outcome.FAIL


def sign_inspection(
    *,
    session: Session,
    inspection: Inspection,
    actor: Person,
    now: datetime,
    calendar: WorkingDays,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
) -> Signed:
    """Sign: the inspection becomes immutable and its findings become orders with working-day deadlines.

    A correction carries over the open orders of the inspection it supersedes (withdrawing those whose
    item now passes); a re-inspection closes the orders of the items that now pass.
    """
    if inspection.signed_at is not None:
        raise InspectionRefused(f"inspection {inspection.id} is already signed")
    if now < inspection.inspected_at:
        raise InspectionRefused(
            f"inspection {inspection.id} took place at {inspection.inspected_at.isoformat()}: "
            f"it cannot be signed before that ({now.isoformat()})"
        )
    signer_ids = set(
        session.exec(
            select(InspectionInspector.person_id).where(
                col(InspectionInspector.inspection_id) == inspection.id
            )
        ).all()
    )
    if actor.id not in signer_ids:
        raise InspectionRefused(
            f"{actor.name} did not carry out inspection {inspection.id}: only its inspectors sign"
        )
    signing = {"signed_at": now, "signed_by_id": actor.id}
    if not update_if_unchanged(
        session=session, row=inspection, unchanged={"signed_at": None}, values=signing
    ):
        raise Conflict(f"inspection {inspection.id} was signed by someone else meanwhile")
    inspection_id = inspection.id
    assert inspection_id is not None
    template = template_of(session=session, inspection=inspection)
    verdicts = {
        row.item_key: row
        for row in session.exec(
            select(InspectionItemResult).where(col(InspectionItemResult.inspection_id) == inspection.id)
        ).all()
    }
    signed = Signed(inspection)
    carried: dict[str, RectificationOrder] = {}
    earlier_id = inspection.supersedes_id or (
        inspection.follow_up_of_id if inspection.kind == InspectionKind.RE_INSPECTION else None
    )
    if earlier_id is not None:
        for order in _open_orders_of(session, _chain(session, earlier_id)):
            row = verdicts.get(order.item_key)
            if row is not None and row.verdict == Verdict.PASSED:
                if inspection.kind == InspectionKind.RE_INSPECTION:
                    close_by_reinspection(
                        session=session,
                        order=order,
                        inspection_id=inspection_id,
                        actor_id=actor.id,
                        now=now,
                    )
                else:
                    withdraw(
                        session=session,
                        order=order,
                        inspection_id=inspection_id,
                        actor_id=actor.id,
                        now=now,
                    )
                signed.closed.append(order)
            else:
                carried[order.item_key] = order
                signed.kept_open.append(order)
    people = _project_people(session, inspection.project_id)
    for key, row in verdicts.items():
        if row.verdict != Verdict.FAILED or key in carried:
            continue
        item = template.item(key)
        assert item is not None
        responsible = people.get(item.responsible)
        if responsible is None:
            raise InspectionRefused(f"project has no {item.responsible.value} to answer for item {key}")
        value = (
            None
            if row.value is None
            else (int(row.value) if item.kind == ItemKind.SCORE else Decimal(row.value))
        )
        signed.issued.append(
            issue_order(
                session=session,
                project_id=inspection.project_id,
                inspection_id=inspection_id,
                item_key=key,
                severity=item.severity.value,
                description=item.failure_description(
                    value=value, evidence_count=row.evidence_count, notes=row.notes
                ),
                responsible_person_id=responsible,
                responsible_role=item.responsible.value,
                due_at=calendar.deadline_after_working_days(now, deadline_days[item.severity.value]),
                now=now,
                actor_id=actor.id,
            )
        )
    return signed


def _chain(session: Session, inspection_id: int) -> list[int]:
    """This inspection and every one it corrects or follows up, back to the first.

    Orders stay with the inspection that raised them; a correction of a correction, or a
    re-inspection of a re-inspection, must still find them.
    """
    chain: list[int] = []
    current: int | None = inspection_id
    while current is not None and current not in chain:
        chain.append(current)
        found = session.get(Inspection, current)
        assert found is not None
        current = found.supersedes_id or found.follow_up_of_id
    return chain


def _open_orders_of(session: Session, inspection_ids: list[int]) -> list[RectificationOrder]:
    """Open orders raised by any of these inspections, oldest first."""
    return list(
        session.exec(
            select(RectificationOrder)
            .where(
                col(RectificationOrder.inspection_id).in_(inspection_ids),
                col(RectificationOrder.status) != OrderStatus.CLOSED,
            )
            .order_by(col(RectificationOrder.id))
        ).all()
    )


def _project_people(session: Session, project_id: int) -> dict[Role, int]:
    holders = role_holders(session=session, projects=select(literal(project_id)), roles=SINGLE_HOLDER_ROLES)
    return {h.role: h.person_id for h in holders if h.project_id == project_id}
