"""Spot-check draws (四不两直): the supervision office's alone. To anyone else a draw does not exist,
before the visit or after it (404, like one that was never made)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import RowId
from ducha.api.schemas import DrawIn
from models.errors import NotFound
from workflows.login import Identity

router = APIRouter(tags=["spot checks"])


def _office_only(user: Identity, what: str) -> None:
    if not user.scope.sees_draws:
        raise NotFound(f"no {what}")


def _plain(draw: Any, drawn: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": draw.id,
        "programme_id": draw.programme_id,
        "drawn_at": draw.drawn_at.isoformat(),
        "count": len(draw.drawn_project_ids),
        "seed_source": draw.seed_source,
        "projects": drawn,
    }


@router.post("/spotchecks", dependencies=[CsrfChecked])
def draw(body: DrawIn, request: Request, user: CurrentUser, context: ContextDep, now: Now) -> dict[str, Any]:
    """Draw projects for unannounced visits, weighted toward risk, from a secure seed; told to nobody."""
    from workflows.actions import draw_spot_check

    _office_only(user, "such route")
    with web_transaction(
        request, context, user, action="spot check drawn", subject=body.programme, at=now
    ) as (
        session,
        write,
    ):
        done = draw_spot_check(
            session=session, now=now, actor=user.person, programme=body.programme, count=body.count
        )
        write.subject, write.after = f"draw {done.draw.id}", {"projects": [p["code"] for p in done.drawn]}
    return _plain(done.draw, done.drawn)


@router.get("/spotchecks/{draw_id}")
def draw_detail(draw_id: RowId, user: CurrentUser, session: ReadSession) -> dict[str, Any]:
    """A recorded draw with its projects, and whether it replays the same from its recorded seed."""
    from workflows.reads import spot_check_draw

    _office_only(user, f"spot-check draw {draw_id}")
    if not 0 < draw_id < 2**31:
        raise NotFound(f"no spot-check draw {draw_id}")
    detail = spot_check_draw(session=session, draw_id=draw_id)
    return {**_plain(detail.draw, detail.drawn), "replays_the_same": detail.honest}
