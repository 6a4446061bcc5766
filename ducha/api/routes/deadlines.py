"""Deadlines and their alerts; an approved extension."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import (
    Limit,
    Offset,
    Page,
    RowId,
    paged,
    require_writer,
    scoped_project,
    scoped_row,
    window,
)
from ducha.api.schemas import ExtendIn
from workflows.alerts import AlertRow, DeadlineRow

router = APIRouter(tags=["deadlines"])


@router.get("/deadlines", response_model=Page[DeadlineRow])
def deadlines(
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    project: str | None = None,
    open: bool = False,
    overdue: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Deadlines in due order (``overdue``: open and past due)."""
    from workflows.alerts import list_deadlines

    project_id = scoped_project(session, user, project).id if project else None
    return paged(
        list_deadlines(
            session=session,
            now=now,
            open_only=open,
            overdue_only=overdue,
            project_id=project_id,
            window=window(limit, offset),
            scope=user.scope,
        )
    )


@router.get("/alerts", response_model=Page[AlertRow])
def alerts(
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    project: str | None = None,
    level: str | None = Query(None, max_length=32),
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Alerts raised by the sweep, with the people each one tells."""
    from workflows.alerts import list_alerts

    project_id = scoped_project(session, user, project).id if project else None
    return paged(
        list_alerts(
            session=session,
            level=level,
            project_id=project_id,
            until=now,
            window=window(limit, offset),
            scope=user.scope,
        )
    )


@router.post("/deadlines/{deadline_id}/extend", response_model=DeadlineRow, dependencies=[CsrfChecked])
def extend(
    deadline_id: RowId, body: ExtendIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> DeadlineRow:
    """An approved extension (the office or leadership, with a reason): a new revision of the deadline."""
    from models import Deadline
    from workflows.actions import extend_deadline
    from workflows.alerts import list_deadlines

    require_writer(user, "extend a deadline")
    subject = f"deadline {deadline_id}"
    with web_transaction(request, context, user, action="deadline extended", subject=subject, at=now) as (
        session,
        write,
    ):
        found = scoped_row(session, user, Deadline, deadline_id, subject)
        write.before = {"due_at": found.due_at.isoformat(), "revision": found.revision}
        extend_deadline(
            session=session,
            now=now,
            calendar=context.calendar,
            actor=user.person,
            deadline_id=deadline_id,
            to=body.to,
            reason=body.reason,
        )
        [row] = [
            r
            for r in list_deadlines(session=session, now=now, project_id=found.project_id)
            if r.id == deadline_id
        ]
        write.after = {"due_at": row.due_at.isoformat(), "revision": row.revision, "reason": body.reason}
    return row
