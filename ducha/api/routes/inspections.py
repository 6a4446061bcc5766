"""Inspections (record a filled checklist with its evidence, sign) and rectification orders (respond
with evidence, verify)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import (
    Limit,
    Offset,
    Page,
    RowId,
    paged,
    require_in_scope,
    require_writer,
    scoped_project,
    scoped_row,
    window,
)
from ducha.api.schemas import OrderEventOut, RecordedOut, SignedOut, VerifyIn
from ducha.api.uploads import save_uploads
from inspections.orders import OrderRow
from inspections.queries import InspectionRow
from models.errors import BadInput

router = APIRouter(tags=["inspections and orders"])


@router.get("/inspections", response_model=Page[InspectionRow])
def inspections(
    user: CurrentUser, session: ReadSession, project: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    from inspections.queries import list_inspections

    project_id = scoped_project(session, user, project).id if project else None
    return paged(
        list_inspections(
            session=session, project_id=project_id, window=window(limit, offset), scope=user.scope
        )
    )


@router.get("/inspections/{inspection_id}")
def inspection(inspection_id: RowId, user: CurrentUser, session: ReadSession) -> dict[str, Any]:
    """One inspection item by item (beside the inspection it follows up, for a re-inspection)."""
    from models import Inspection
    from workflows.reads import inspection_detail

    scoped_row(session, user, Inspection, inspection_id, f"inspection {inspection_id}")
    detail = inspection_detail(session=session, inspection_id=inspection_id)
    record = detail.inspection
    return {
        "id": record.id,
        "project": detail.project_code,
        "kind": record.kind,
        "announced": record.announced,
        "inspected_at": record.inspected_at.isoformat(),
        "signed_at": record.signed_at.isoformat() if record.signed_at else None,
        "score": str(record.score_tenths / 10),
        "outcome": record.outcome,
        "inspectors": detail.inspectors,
        "items": [
            {
                "key": item.item_key,
                "text": item.text,
                "verdict": item.verdict,
                "value": item.value,
                "notes": item.notes,
                "original_verdict": item.original_verdict,
            }
            for item in detail.items
        ],
    }


@router.post("/inspections", response_model=RecordedOut, dependencies=[CsrfChecked])
def record_inspection(
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    form: Annotated[
        UploadFile, File(description="the filled checklist (YAML, as `ducha inspect new` makes it)")
    ],
    evidence: Annotated[
        list[UploadFile] | None, File(description="the evidence files the checklist names")
    ] = None,
) -> dict[str, Any]:
    """Record a filled checklist with its evidence files, unsigned (an inspector or the office)."""
    from workflows.actions import record_inspection_form

    require_writer(user, "record an inspection")
    with tempfile.TemporaryDirectory(prefix="ducha-form-") as folder:
        paths = save_uploads(
            Path(folder), [form, *(evidence or [])], limit=context.settings.evidence_max_bytes
        )
        with web_transaction(request, context, user, action="inspection recorded", subject="", at=now) as (
            session,
            write,
        ):
            recorded = record_inspection_form(
                session=session, now=now, evidence=request.state.evidence, actor=user.person, path=paths[0]
            )
            record = recorded.inspection
            require_in_scope(session, user, record.project_id, "project of this checklist")
            code = scoped_project(session, user, str(record.project_id)).code
            write.subject, write.after = (
                f"inspection {record.id}",
                {"project": code, "outcome": record.outcome},
            )
    return {
        "inspection_id": record.id,
        "project": code,
        "score": str(record.score_tenths / 10),
        "outcome": record.outcome,
    }


@router.post("/inspections/{inspection_id}/sign", response_model=SignedOut, dependencies=[CsrfChecked])
def sign(
    inspection_id: RowId, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    """Sign an inspection: it becomes immutable and its failed items become rectification orders."""
    from models import Inspection
    from workflows.actions import sign_inspection

    require_writer(user, "sign an inspection")
    subject = f"inspection {inspection_id}"
    with web_transaction(request, context, user, action="inspection signed", subject=subject, at=now) as (
        session,
        _,
    ):
        scoped_row(session, user, Inspection, inspection_id, subject)
        done = sign_inspection(
            session=session,
            now=now,
            calendar=context.calendar,
            actor=user.person,
            inspection_id=inspection_id,
            deadline_days=context.deadline_days,
            notices=context.notices,
        )
    return {
        "inspection_id": inspection_id,
        "outcome": done.signed.inspection.outcome,
        "orders": [order.id for order in done.signed.issued],
        "transition": done.transition.to_stage if done.transition else None,
    }


@router.get("/orders", response_model=Page[OrderRow])
def orders(
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    project: str | None = None,
    open: bool = False,
    overdue: bool = False,
    mine: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Rectification orders (``mine``: those this login's person must answer)."""
    from inspections.orders import list_orders

    project_id = scoped_project(session, user, project).id if project else None
    return paged(
        list_orders(
            session=session,
            now=now,
            project_id=project_id,
            open_only=open,
            overdue_only=overdue,
            window=window(limit, offset),
            scope=user.scope,
            responsible_person_id=user.person.id if mine else None,
        )
    )


def _order_in_scope(session: Any, user: Any, order_id: RowId) -> None:
    from models import RectificationOrder

    scoped_row(session, user, RectificationOrder, order_id, f"rectification order {order_id}")


@router.post("/orders/{order_id}/respond", response_model=OrderEventOut, dependencies=[CsrfChecked])
def respond(
    order_id: RowId,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    evidence: Annotated[list[UploadFile], File(description="photos or scans of the fix")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> dict[str, Any]:
    """Report a fix with evidence files (the person the order names)."""
    from workflows.actions import respond_to_order

    require_writer(user, "respond to an order")
    if not evidence:
        raise BadInput("evidence: give at least one file")
    with tempfile.TemporaryDirectory(prefix="ducha-response-") as folder:
        paths = save_uploads(Path(folder), evidence, limit=context.settings.evidence_max_bytes)
        subject = f"order {order_id}"
        with web_transaction(request, context, user, action="order responded", subject=subject, at=now) as (
            session,
            write,
        ):
            _order_in_scope(session, user, order_id)
            event = respond_to_order(
                session=session,
                now=now,
                evidence=request.state.evidence,
                actor=user.person,
                order_id=order_id,
                files=paths,
                note=note,
            )
            write.after = {"files": [path.name for path in paths], "note": note}
    return {"order_id": order_id, "action": event.action, "at": event.occurred_at, "status": "responded"}


@router.post("/orders/{order_id}/verify", response_model=OrderEventOut, dependencies=[CsrfChecked])
def verify(
    order_id: RowId, body: VerifyIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    """Accept a fix (the order closes) or reject it back to issued: the office or an inspector,
    never whoever responded."""
    from inspections.orders import get_order
    from workflows.actions import verify_order

    require_writer(user, "verify an order")
    with web_transaction(
        request, context, user, action="order verified", subject=f"order {order_id}", at=now
    ) as (
        session,
        write,
    ):
        _order_in_scope(session, user, order_id)
        event = verify_order(
            session=session,
            now=now,
            calendar=context.calendar,
            actor=user.person,
            order_id=order_id,
            accept=body.accept,
            reason=body.reason,
        )
        status = get_order(session=session, order_id=order_id).status
        write.after = {"accept": body.accept, "reason": body.reason, "status": status}
    return {"order_id": order_id, "action": event.action, "at": event.occurred_at, "status": status}
