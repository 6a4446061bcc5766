"""The project page: its timeline, deadlines and levels, inspections with orders and evidence, the
notices sent, who answers for it; advancing it when its guards pass; its documents."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.errors import status_of
from ducha.api.routes.common import require_writer, scoped_project
from ducha.web.templating import page
from models.errors import DuchaError, NotFound
from workflows.login import Identity

router = APIRouter()
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _render(
    request: Request,
    session: Session,
    user: Identity,
    now: object,
    code: str,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    from datetime import datetime

    from workflows.project_page import project_page

    assert isinstance(now, datetime)
    found = scoped_project(session, user, code)
    shown = project_page(session=session, now=now, project=found)
    return page(request, "project.html", status_code=status, p=shown, now=now, error=error, done=done)


@router.get("/projects/{code}")
def project(
    code: str, request: Request, user: CurrentUser, session: ReadSession, now: Now, done: str | None = None
) -> Response:
    return _render(request, session, user, now, code, done=(done or "")[:200] or None)


@router.post("/projects/{code}/advance", dependencies=[CsrfChecked])
def advance(
    code: str,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    to: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from workflows.actions import advance_project

    try:
        require_writer(user, "change a project's stage")
        with web_transaction(request, context, user, action="advance", subject=code, at=now) as (
            session,
            write,
        ):
            found = scoped_project(session, user, code)
            write.subject, write.before = found.code, {"stage": found.stage}
            done = advance_project(
                session=session,
                now=now,
                calendar=context.calendar,
                actor=user.person,
                project=str(found.id),
                to=to,
                reason=reason,
            )
            write.after = {"stage": done.project.stage, "reason": reason}
    except DuchaError as exc:
        if isinstance(exc, NotFound):
            raise
        with context.reading() as session:
            return _render(
                request, session, user, now, code, status=status_of(exc), error="\n".join(exc.lines())
            )
    return RedirectResponse(f"/projects/{done.project.code}?done=advanced", status_code=303)


@router.post("/projects/{code}/documents", dependencies=[CsrfChecked])
def document(
    code: str,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    kind: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    from workflows.actions import add_document

    try:
        require_writer(user, "record a document")
        with web_transaction(request, context, user, action="document", subject=code, at=now) as (
            session,
            write,
        ):
            found = scoped_project(session, user, code)
            write.subject = found.code
            added = add_document(
                session=session, now=now, actor=user.person, project=str(found.id), kind=kind, title=title
            )
            write.after = {"kind": added.document.kind, "title": added.document.title}
    except DuchaError as exc:
        if isinstance(exc, NotFound):
            raise
        with context.reading() as session:
            return _render(
                request, session, user, now, code, status=status_of(exc), error="\n".join(exc.lines())
            )
    return RedirectResponse(f"/projects/{added.project.code}?done=document", status_code=303)


@router.get("/evidence/{sha256}")
def evidence(sha256: str, user: CurrentUser, session: ReadSession, context: ContextDep) -> Response:
    """An evidence file, to a login that sees a project it belongs to."""
    from workflows.project_page import evidence_visible

    if not SHA256.match(sha256):
        raise NotFound("no such evidence file")
    media = evidence_visible(session=session, sha256=sha256, scope=user.scope)
    if media is None:
        raise NotFound("no such evidence file")
    data = context.evidence_store.read(sha256)
    return Response(data, media_type=media, headers={"Cache-Control": "private, max-age=86400"})
