"""我的待办 my to-do: my inbox (acknowledge), my deadlines, my open orders (respond with photos)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import RowId
from ducha.web.templating import page
from models.errors import NotFound

router = APIRouter()
SHOWN = 100


@router.get("/todo")
def todo(
    request: Request, user: CurrentUser, session: ReadSession, now: Now, done: str | None = None
) -> Response:
    from inspections.orders import list_orders
    from models.listing import Window
    from models.notices import INBOX
    from notifications.queries import list_notices
    from workflows.alerts import list_deadlines

    inbox = list_notices(
        session=session,
        person_id=user.person.id,
        channel=INBOX,
        as_of=now,
        window=Window(SHOWN),
    )
    orders = list_orders(
        session=session, now=now, open_only=True, responsible_person_id=user.person.id, window=Window(SHOWN)
    )
    deadlines = list_deadlines(
        session=session, now=now, open_only=True, scope=user.scope, window=Window(SHOWN)
    )
    return page(
        request,
        "todo.html",
        inbox=list(inbox),
        inbox_count=inbox.count(),
        orders=list(orders),
        deadlines=list(deadlines),
        deadline_count=deadlines.count(),
        now=now,
        done=(done or "")[:40] or None,
    )


@router.post("/inbox/{notice_id}/ack", dependencies=[CsrfChecked])
def acknowledge(
    notice_id: RowId, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> Response:
    from workflows.notice_actions import acknowledge as ack

    with web_transaction(
        request, context, user, action="notice acknowledged", subject=f"notice {notice_id}", at=now
    ) as (
        session,
        write,
    ):
        if not 0 < notice_id < 2**31:
            raise NotFound(f"no notice {notice_id}")
        done = ack(session=session, now=now, person=user.person, notice_id=notice_id)
        write.after = {"acknowledged_at": done.acknowledged_at.isoformat() if done.acknowledged_at else None}
    if request.headers.get("hx-request"):
        return page(request, "ack_done.html", notice_id=notice_id, at=done.acknowledged_at)
    return RedirectResponse("/todo?done=acknowledged", status_code=303)
