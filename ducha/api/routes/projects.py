"""Programmes, projects, their transitions and documents."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import Limit, Offset, Page, paged, require_writer, scoped_project, window
from ducha.api.schemas import (
    DocumentIn,
    DocumentOut,
    EventOut,
    ProjectDetailOut,
    TransitionIn,
    TransitionOut,
)
from workflows.board import ProgrammeRow, ProjectRow

router = APIRouter(tags=["projects"])


@router.get("/me", tags=["logins"])
def me(user: CurrentUser) -> dict[str, Any]:
    """Who this login is, the role it acts in and what it sees."""
    return {
        "person_id": user.person.id,
        "name": user.person.name,
        "phone": user.person.phone,
        "role": user.role,
        "sees_everything": user.scope.everything,
        "town": user.scope.town,
    }


@router.get("/programmes", response_model=Page[ProgrammeRow])
def programmes(
    user: CurrentUser, session: ReadSession, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Programmes with their budget per source; the project count is of the projects this login sees."""
    from workflows.board import list_programmes

    return paged(list_programmes(session=session, window=window(limit, offset), scope=user.scope))


@router.get("/projects", response_model=Page[ProjectRow])
def projects(
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    programme: str | None = Query(None, max_length=200),
    stage: str | None = Query(None, max_length=32),
    town: str | None = Query(None, max_length=100),
    overdue: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Projects this login may see, filtered by programme, stage, town, or an overdue deadline."""
    from workflows.board import list_projects
    from workflows.programmes import find_programme

    programme_id = find_programme(session=session, ref=programme).id if programme else None
    listing = list_projects(
        session=session,
        programme_id=programme_id,
        stage=stage,
        town=town,
        window=window(limit, offset),
        scope=user.scope,
        overdue_at=now if overdue else None,
        cached=True,
    )
    return paged(listing)


@router.get("/projects/{project}", response_model=ProjectDetailOut)
def project(project: str, user: CurrentUser, session: ReadSession, now: Now) -> dict[str, Any]:
    """One project: its row, history, documents and what could happen next (with what stands in the way)."""
    from workflows.reads import project_detail

    found = scoped_project(session, user, project)
    detail = project_detail(session=session, now=now, project=str(found.id))
    return {
        "project": detail.project,
        "history": [EventOut.model_validate(event, from_attributes=True) for event in detail.history],
        "documents": [DocumentOut.model_validate(doc, from_attributes=True) for doc in detail.documents],
        "next": detail.next,
    }


@router.post("/projects/{project}/transitions", response_model=TransitionOut, dependencies=[CsrfChecked])
def advance(
    project: str, body: TransitionIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    """Move a project to another stage; refused (409) with every unmet condition in words."""
    from workflows.actions import advance_project

    require_writer(user, "change a project's stage")
    with web_transaction(request, context, user, action="advance", subject=project, at=now) as (
        session,
        write,
    ):
        found = scoped_project(session, user, project)
        write.subject, write.before = found.code, {"stage": found.stage}
        done = advance_project(
            session=session,
            now=now,
            calendar=context.calendar,
            actor=user.person,
            project=str(found.id),
            to=body.to,
            reason=body.reason,
        )
        write.after = {"stage": done.project.stage, "reason": body.reason}
    return {
        "project": done.project.code,
        "from_stage": done.from_stage,
        "to_stage": done.project.stage,
        "occurred_at": done.event.occurred_at,
    }


@router.post("/projects/{project}/documents", response_model=DocumentOut, dependencies=[CsrfChecked])
def add_document(
    project: str, body: DocumentIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> DocumentOut:
    """Record a project document (its specialist or leader, or the office)."""
    from workflows.actions import add_document as record

    require_writer(user, "record a document")
    with web_transaction(request, context, user, action="document", subject=project, at=now) as (
        session,
        write,
    ):
        found = scoped_project(session, user, project)
        write.subject = found.code
        done = record(
            session=session,
            now=now,
            actor=user.person,
            project=str(found.id),
            kind=body.kind,
            title=body.title,
        )
        write.after = {"kind": done.document.kind, "title": done.document.title}
        return DocumentOut.model_validate(done.document, from_attributes=True)
