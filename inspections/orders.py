"""Rectification orders (整改通知): issued → responded → closed, or rejected back to issued."""

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from inspections.attachments import EvidenceItem, attach_evidence
from inspections.order_rows import OrderRow as OrderRow
from inspections.order_rows import order_rows
from models import (
    OrderAction,
    OrderEvent,
    OrderOrigin,
    OrderStatus,
    Person,
    Place,
    Project,
    RectificationOrder,
    Role,
    holds_unit_role,
)
from models.compiled import Compiled
from models.errors import Conflict, NotFound, Refused
from models.listing import Listing, Window
from models.localtime import local
from models.optimistic import update_if_unchanged
from models.scope import EVERYTHING, Scope
from models.types import table_of

# Working days to fix a finding, by severity (configurable per installation).
DEFAULT_DEADLINE_DAYS: Mapping[str, int] = {"critical": 5, "major": 10, "minor": 20}
VERIFIER_ROLES = (Role.OFFICE, Role.INSPECTOR)


class OrderRefused(Refused):
    """The order cannot take this step; the message says why. Nothing was written."""


class OrderChanged(Conflict):
    """Someone else moved the order on since it was read; nothing was written."""


def issue_order(
    *,
    session: Session,
    project_id: int,
    inspection_id: int | None,
    item_key: str,
    severity: str,
    description: str,
    responsible_person_id: int,
    due_at: datetime,
    now: datetime,
    actor_id: int | None,
    responsible_role: str | None = None,
    origin: OrderOrigin = OrderOrigin.INSPECTION,
) -> RectificationOrder:
    order = RectificationOrder(
        origin=origin,
        responsible_role=responsible_role,
        project_id=project_id,
        inspection_id=inspection_id,
        item_key=item_key,
        severity=severity,
        description=description,
        responsible_person_id=responsible_person_id,
        issued_at=now,
        due_at=due_at,
        status=OrderStatus.ISSUED,
    )
    session.add(order)
    session.flush()
    _event(session, order, OrderAction.ISSUED, actor_id, now, reason="", inspection_id=inspection_id)
    return order


def respond(
    *,
    session: Session,
    order: RectificationOrder,
    actor: Person,
    now: datetime,
    note: str,
    evidence: list[EvidenceItem],
) -> OrderEvent:
    """The responsible person reports the fix, with evidence."""
    check_response(session=session, order=order, actor=actor, evidence_count=len(evidence))
    _move(session, order, now, status=OrderStatus.RESPONDED)
    event = _event(session, order, OrderAction.RESPONDED, actor.id, now, reason=note.strip())
    attach_evidence(session=session, items=evidence, now=now, order_event_id=event.id)
    return event


def check_response(
    *, session: Session, order: RectificationOrder, actor: Person, evidence_count: int
) -> None:
    """Refuse a response the order cannot take, before any evidence of it is stored."""
    if order.status != OrderStatus.ISSUED:
        raise OrderRefused(f"order {order.id} is {order.status}: only an issued order takes a response")
    if actor.id != order.responsible_person_id and not holds_unit_role(
        session=session, person=actor, roles=VERIFIER_ROLES
    ):
        raise OrderRefused(f"{actor.name} is not responsible for order {order.id}")
    if evidence_count < 1:
        raise OrderRefused(f"order {order.id}: a response needs at least one evidence file")


def verify(
    *, session: Session, order: RectificationOrder, actor: Person, now: datetime, accept: bool, reason: str
) -> OrderEvent:
    """The office accepts the fix (closing the order) or rejects it back to issued, with a reason."""
    if order.status != OrderStatus.RESPONDED:
        raise OrderRefused(f"order {order.id} is {order.status}: only a responded order can be verified")
    if not holds_unit_role(session=session, person=actor, roles=VERIFIER_ROLES):
        raise OrderRefused(f"{actor.name} is not office or inspector: cannot verify order {order.id}")
    if actor.id == _responder(session, order):
        raise OrderRefused(
            f"{actor.name} responded to order {order.id}: someone else verifies it (separation of duties)"
        )
    if not accept and not reason.strip():
        raise OrderRefused(f"order {order.id}: a rejection needs a reason")
    if accept:
        _move(session, order, now, status=OrderStatus.CLOSED, closed_at=now)
        return _event(session, order, OrderAction.VERIFIED, actor.id, now, reason=reason.strip())
    _move(session, order, now, status=OrderStatus.ISSUED)
    return _event(session, order, OrderAction.REJECTED, actor.id, now, reason=reason.strip())


def _responder(session: Session, order: RectificationOrder) -> int | None:
    """Who gave the response now waiting for verification."""
    return session.exec(
        select(OrderEvent.actor_id)
        .where(col(OrderEvent.order_id) == order.id, col(OrderEvent.action) == OrderAction.RESPONDED)
        .order_by(col(OrderEvent.occurred_at).desc(), col(OrderEvent.id).desc())
        .limit(1)
    ).first()


def move_due(
    *,
    session: Session,
    order: RectificationOrder,
    due_at: datetime,
    actor_id: int | None,
    now: datetime,
    reason: str,
) -> OrderEvent:
    """An approved extension of the order's deadline: the order is due then too, and says so."""
    if order.status == OrderStatus.CLOSED:
        raise OrderRefused(f"order {order.id} is closed: its deadline cannot move")
    _move(session, order, now, due_at=due_at)
    return _event(session, order, OrderAction.EXTENDED, actor_id, now, reason=reason)


def reassign(
    *,
    session: Session,
    order: RectificationOrder,
    to_person_id: int,
    actor_id: int | None,
    now: datetime,
    reason: str,
) -> OrderEvent:
    """The project's new leader or specialist answers for an open order of that role from now on."""
    if order.status == OrderStatus.CLOSED:
        raise OrderRefused(f"order {order.id} is closed: it has nobody to answer any more")
    _move(session, order, now, responsible_person_id=to_person_id)
    return _event(session, order, OrderAction.REASSIGNED, actor_id, now, reason=reason)


def close_by_reinspection(
    *, session: Session, order: RectificationOrder, inspection_id: int, actor_id: int | None, now: datetime
) -> OrderEvent:
    """A passing re-inspection item closes the order it covers."""
    if order.status == OrderStatus.CLOSED:
        raise OrderRefused(f"order {order.id} is already closed")
    _move(session, order, now, status=OrderStatus.CLOSED, closed_at=now)
    return _event(
        session,
        order,
        OrderAction.CLOSED_BY_REINSPECTION,
        actor_id,
        now,
        reason="",
        inspection_id=inspection_id,
    )


def withdraw(
    *, session: Session, order: RectificationOrder, inspection_id: int, actor_id: int | None, now: datetime
) -> OrderEvent:
    """A signed correction found the item passing after all: the order is withdrawn."""
    _move(session, order, now, status=OrderStatus.CLOSED, closed_at=now)
    return _event(
        session,
        order,
        OrderAction.WITHDRAWN,
        actor_id,
        now,
        reason="corrected inspection",
        inspection_id=inspection_id,
    )


def _move(session: Session, order: RectificationOrder, now: datetime, **values: object) -> None:
    """Change the order, if nobody did meanwhile, at ``now``: never before its last recorded event."""
    last = session.exec(
        select(OrderEvent.occurred_at)
        .where(col(OrderEvent.order_id) == order.id)
        .order_by(col(OrderEvent.occurred_at).desc())
        .limit(1)
    ).first()
    if last is not None and now < last:
        raise OrderRefused(
            f"order {order.id}: the time given ({local(now):%Y-%m-%d %H:%M}) is before its last recorded "
            f"event ({local(last):%Y-%m-%d %H:%M})"
        )
    values["version"] = order.version + 1
    if not update_if_unchanged(
        session=session, row=order, unchanged={"version": order.version}, values=values
    ):
        raise OrderChanged(f"order {order.id} was changed by someone else since it was read: retry")


def _event(
    session: Session,
    order: RectificationOrder,
    action: OrderAction,
    actor_id: int | None,
    now: datetime,
    reason: str,
    inspection_id: int | None = None,
) -> OrderEvent:
    event = OrderEvent(
        order_id=order.id,  # type: ignore[arg-type]
        occurred_at=now,
        actor_id=actor_id,
        action=action,
        reason=reason,
        inspection_id=inspection_id,
    )
    session.add(event)
    session.flush()
    return event


def get_order(*, session: Session, order_id: int) -> RectificationOrder:
    order = session.get(RectificationOrder, order_id)
    if order is None:
        raise NotFound(f"no rectification order {order_id}")
    return order


@lru_cache(maxsize=1)
def open_order_ids_statement() -> Compiled:
    """The ids of the rectification orders of ``project_id`` not closed, in due order (then id): what the
    ``no_open_orders`` guard reads (workflows.guard_rules), compiled ahead for ``ducha show``."""
    o = table_of(RectificationOrder).c
    return Compiled(
        sa_select(o.id)
        .where(o.project_id == bindparam("project_id"), o.status != OrderStatus.CLOSED.value)
        .order_by(o.due_at, o.id)
    )


# The orders' filters: ``open`` (not closed) is a shape of its own, the others bound parameters.
ORDER_FILTERS = ("project_id", "open", "overdue_at", "responsible_person_id")


@lru_cache(maxsize=64)
def _orders_statement(filters: frozenset[str], scope: Scope) -> Compiled:
    """Orders with their project code, village and responsible person, in due order, with
    ``filters``; kept, and compiled ahead for ``ducha orders`` (workflows.ahead)."""
    order, project, person = table_of(RectificationOrder), table_of(Project), table_of(Person)
    village = table_of(Place).alias("village")
    o = order.c
    query: Any = (
        sa_select(
            o.id,
            o.project_id,
            o.origin,
            o.inspection_id,
            o.item_key,
            o.severity,
            o.description,
            o.responsible_person_id,
            o.status,
            o.issued_at,
            o.due_at,
            o.closed_at,
            project.c.code,
            village.c.name,
            person.c.name,
        )  # fmt: skip
        .join_from(order, project, project.c.id == o.project_id)
        .join(village, village.c.id == project.c.village_id)
        .join(person, person.c.id == o.responsible_person_id)
        .order_by(o.due_at, o.id)
    )
    if "project_id" in filters:
        query = query.where(o.project_id == bindparam("project_id"))
    if "open" in filters or "overdue_at" in filters:
        query = query.where(o.status != OrderStatus.CLOSED)
    if "overdue_at" in filters:
        query = query.where(o.due_at < bindparam("overdue_at"))
    if "responsible_person_id" in filters:
        query = query.where(o.responsible_person_id == bindparam("responsible_person_id"))
    if not scope.everything:
        query = query.where(scope.projects(o.project_id))
    return Compiled(query)


def order_filters(
    *, project_id: int | None, open_only: bool, overdue_at: datetime | None, responsible_person_id: int | None
) -> tuple[frozenset[str], dict[str, Any]]:
    """The statement's filters and their parameters for these choices."""
    given = {
        "project_id": project_id,
        "overdue_at": overdue_at,
        "responsible_person_id": responsible_person_id,
    }
    parameters = {name: value for name, value in given.items() if value is not None}
    return frozenset({*parameters, *(["open"] if open_only else [])}), parameters


def list_orders(
    *,
    session: Session,
    now: datetime,
    project_id: int | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
    responsible_person_id: int | None = None,
) -> Listing[OrderRow]:
    """Orders with their project and responsible person; overdue means open past its due time."""
    filters, parameters = order_filters(
        project_id=project_id,
        open_only=open_only,
        overdue_at=now if overdue_only else None,
        responsible_person_id=responsible_person_id,
    )
    query = _orders_statement(filters, scope)
    return Listing.each(session, query, order_rows(now), window, parameters)
