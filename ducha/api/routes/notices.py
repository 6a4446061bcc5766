"""Notices (the office sees all, everyone else their own), the inbox and its acknowledgement, a retry."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import Limit, Offset, Page, RowId, paged, require_roles, window
from ducha.api.schemas import AckOut
from models.errors import NotFound
from notifications.queries import NoticeRow

router = APIRouter(tags=["notices"])
OFFICE_VIEW = ("office", "admin", "leadership", "auditor")


@router.get("/notices", response_model=Page[NoticeRow])
def notices(
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    failed: bool = False,
    state: str | None = Query(None, max_length=16),
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Notices, newest first: every one for the office, a person's own for everyone else."""
    from notifications.queries import list_notices

    mine = None if user.role in OFFICE_VIEW and user.scope.everything else user.person.id
    return paged(
        list_notices(
            session=session,
            state=state,
            failed=failed,
            person_id=mine,
            as_of=now,
            window=window(limit, offset),
        )
    )


@router.get("/notices/{notice_id}")
def notice(notice_id: RowId, user: CurrentUser, session: ReadSession) -> dict[str, Any]:
    """One notice with every delivery attempt (secrets never recorded)."""
    from notifications.queries import notice_detail

    if not 0 < notice_id < 2**31:
        raise NotFound(f"no notice {notice_id}")
    detail = notice_detail(session=session, notice_id=notice_id)
    if detail.notice.person_id != user.person.id and not (user.role in OFFICE_VIEW and user.scope.everything):
        raise NotFound(f"no notice {notice_id}")
    return asdict(detail)


@router.get("/inbox", response_model=Page[NoticeRow])
def inbox(
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    unacknowledged: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """This login's inbox (every notice is delivered here too)."""
    from models.notices import INBOX
    from notifications.queries import list_notices

    return paged(
        list_notices(
            session=session,
            person_id=user.person.id,
            channel=INBOX,
            delivered=True,
            unacknowledged=unacknowledged,
            as_of=now,
            window=window(limit, offset),
        )
    )


@router.post("/inbox/{notice_id}/ack", response_model=AckOut, dependencies=[CsrfChecked])
def acknowledge(
    notice_id: RowId, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    """Acknowledge a notice of one's own inbox (an escalation waits for it)."""
    from workflows.notice_actions import acknowledge as ack

    subject = f"notice {notice_id}"
    with web_transaction(request, context, user, action="notice acknowledged", subject=subject, at=now) as (
        session,
        write,
    ):
        if not 0 < notice_id < 2**31:
            raise NotFound(f"no notice {notice_id}")
        done = ack(session=session, now=now, person=user.person, notice_id=notice_id)
        write.after = {"acknowledged_at": done.acknowledged_at.isoformat() if done.acknowledged_at else None}
    return {"notice_id": notice_id, "acknowledged_at": done.acknowledged_at, "read_at": done.read_at}


@router.post("/notices/{notice_id}/retry", response_model=NoticeRow, dependencies=[CsrfChecked])
def retry(notice_id: RowId, request: Request, user: CurrentUser, context: ContextDep, now: Now) -> NoticeRow:
    """Send a failed notice again (the office or the admin)."""
    from notifications.queries import notice_detail
    from workflows.notice_actions import retry_notice

    require_roles(user, ("office", "admin"), "send a notice again")
    subject = f"notice {notice_id}"
    with web_transaction(request, context, user, action="notice retried", subject=subject, at=now) as (
        session,
        write,
    ):
        if not 0 < notice_id < 2**31:
            raise NotFound(f"no notice {notice_id}")
        done = retry_notice(session=session, now=now, actor=user.person, notice_id=notice_id)
        write.after = {"state": done.state}
        assert done.id is not None
        row = notice_detail(session=session, notice_id=done.id).notice
    return row
