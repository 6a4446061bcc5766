"""Recording an inspection from its checklist in the browser (a phone's too, photos included), looking
at one, signing it; and the rectification order: respond with photos, verify."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.errors import status_of
from ducha.api.routes.common import RowId, require_writer, scoped_project, scoped_row
from ducha.api.uploads import save_uploads
from ducha.web.templating import page
from models import Inspection, Person, RectificationOrder, Role, RoleAssignment
from models.errors import DuchaError, NotFound
from workflows.login import Identity

router = APIRouter()


def _inspectors(session: Session) -> list[Person]:
    """The people who may be named on a checklist: inspectors and the office, in force."""
    holders = select(RoleAssignment.person_id).where(
        col(RoleAssignment.role).in_([Role.INSPECTOR.value, Role.OFFICE.value]),
        col(RoleAssignment.revoked_at).is_(None),
    )
    # A subquery, not DISTINCT over the rows: PostgreSQL cannot compare a JSON column for DISTINCT.
    return list(
        session.exec(
            select(Person).where(col(Person.id).in_(holders)).order_by(col(Person.id)).limit(200)
        ).all()
    )


def _form_page(
    request: Request,
    session: Session,
    user: Identity,
    now: Any,
    project: str,
    template: str,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    from inspections.loaded_templates import get_template
    from models.localtime import local

    found = scoped_project(session, user, project)
    _, checklist = get_template(session=session, key=template)
    return page(
        request,
        "inspect_form.html",
        status_code=status,
        project=found,
        checklist=checklist,
        inspectors=_inspectors(session),
        inspected_at=local(now).strftime("%Y-%m-%dT%H:%M"),
        error=error,
    )


@router.get("/inspections/new")
def new_inspection(
    request: Request,
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    project: str = Query(max_length=100),
    template: str = Query("in-progress", max_length=64),
) -> Response:
    return _form_page(request, session, user, now, project, template)


@router.post("/inspections/new", dependencies=[CsrfChecked])
async def record_inspection(request: Request, user: CurrentUser, context: ContextDep, now: Now) -> Response:
    """Record the filled checklist (unsigned); its photos go into the evidence store."""
    form = await request.form()
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    files: dict[str, list[UploadFile]] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            files.setdefault(key, []).append(value)  # type: ignore[arg-type]
    inspectors = [
        value for key, value in form.multi_items() if key == "inspectors" and isinstance(value, str)
    ]
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_record, request, user, context, now, fields, files, inspectors)


def _record(
    request: Request,
    user: Identity,
    context: Any,
    now: Any,
    fields: dict[str, str],
    files: dict[str, list[UploadFile]],
    inspectors: list[str],
) -> Response:
    from ducha.web.checklist_form import write_form
    from inspections.loaded_templates import get_template
    from workflows.actions import record_inspection_form

    project, template = fields.get("project", "")[:100], fields.get("template", "")[:64]
    try:
        require_writer(user, "record an inspection")
        with tempfile.TemporaryDirectory(prefix="ducha-form-") as folder:
            with context.reading() as session:
                found = scoped_project(session, user, project)
                _, checklist = get_template(session=session, key=template)
            path = write_form(
                folder=Path(folder),
                template=checklist,
                project_code=found.code,
                inspectors=inspectors,
                inspected_at=fields.get("inspected_at", "")[:40],
                fields=fields,
                files=files,
                max_bytes=context.settings.evidence_max_bytes,
            )
            with web_transaction(
                request, context, user, action="inspection recorded", subject=found.code, at=now
            ) as (
                session,
                write,
            ):
                recorded = record_inspection_form(
                    session=session, now=now, evidence=request.state.evidence, actor=user.person, path=path
                )
                write.after = {"inspection": recorded.inspection.id, "outcome": recorded.inspection.outcome}
    except DuchaError as exc:
        if isinstance(exc, NotFound):
            raise
        lines = [line.replace(str(Path(tempfile.gettempdir())), "") for line in exc.lines()]
        with context.reading() as session:
            return _form_page(
                request, session, user, now, project, template, status=status_of(exc), error="\n".join(lines)
            )
    return RedirectResponse(f"/inspections/{recorded.inspection.id}", status_code=303)


@router.get("/inspections/{inspection_id}")
def inspection(inspection_id: RowId, request: Request, user: CurrentUser, session: ReadSession) -> Response:
    from workflows.reads import inspection_detail

    scoped_row(session, user, Inspection, inspection_id, f"inspection {inspection_id}")
    return page(request, "inspection.html", d=inspection_detail(session=session, inspection_id=inspection_id))


@router.post("/inspections/{inspection_id}/sign", dependencies=[CsrfChecked])
def sign(
    inspection_id: RowId, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> Response:
    from workflows.actions import sign_inspection

    require_writer(user, "sign an inspection")
    with web_transaction(
        request, context, user, action="inspection signed", subject=f"inspection {inspection_id}", at=now
    ) as (
        session,
        _,
    ):
        scoped_row(session, user, Inspection, inspection_id, f"inspection {inspection_id}")
        sign_inspection(
            session=session,
            now=now,
            calendar=context.calendar,
            actor=user.person,
            inspection_id=inspection_id,
            deadline_days=context.deadline_days,
            notices=context.notices,
        )
    return RedirectResponse(f"/inspections/{inspection_id}", status_code=303)


def _order(session: Session, user: Identity, order_id: int) -> RectificationOrder:
    return scoped_row(session, user, RectificationOrder, order_id, f"rectification order {order_id}")


@router.get("/orders/{order_id}")
def order(
    order_id: RowId,
    request: Request,
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    error: str | None = None,
) -> Response:
    from inspections.orders import list_orders

    found = _order(session, user, order_id)
    [row] = [
        r for r in list_orders(session=session, now=now, project_id=found.project_id) if r.id == order_id
    ]
    return page(request, "order.html", o=row, order=found, error=None)


@router.post("/orders/{order_id}/respond", dependencies=[CsrfChecked])
def respond(
    order_id: RowId,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    evidence: Annotated[list[UploadFile], File()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Report the fix with photos; back to my to-do list."""
    from workflows.actions import respond_to_order

    require_writer(user, "respond to an order")
    chosen = [upload for upload in evidence if upload.filename]
    with tempfile.TemporaryDirectory(prefix="ducha-response-") as folder:
        paths = save_uploads(Path(folder), chosen, limit=context.settings.evidence_max_bytes)
        with web_transaction(
            request, context, user, action="order responded", subject=f"order {order_id}", at=now
        ) as (
            session,
            write,
        ):
            _order(session, user, order_id)
            respond_to_order(
                session=session,
                now=now,
                evidence=request.state.evidence,
                actor=user.person,
                order_id=order_id,
                files=paths,
                note=note,
            )
            write.after = {"files": [path.name for path in paths], "note": note}
    return RedirectResponse("/todo?done=responded", status_code=303)


@router.post("/orders/{order_id}/verify", dependencies=[CsrfChecked])
def verify(
    order_id: RowId,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    verdict: Annotated[str, Form(pattern="^(accept|reject)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from workflows.actions import verify_order

    require_writer(user, "verify an order")
    with web_transaction(
        request, context, user, action="order verified", subject=f"order {order_id}", at=now
    ) as (
        session,
        write,
    ):
        _order(session, user, order_id)
        verify_order(
            session=session,
            now=now,
            calendar=context.calendar,
            actor=user.person,
            order_id=order_id,
            accept=verdict == "accept",
            reason=reason,
        )
        write.after = {"verdict": verdict, "reason": reason}
    return RedirectResponse(f"/orders/{order_id}", status_code=303)
