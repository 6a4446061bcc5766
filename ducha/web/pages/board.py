"""The battle map (挂图作战) and the overdue list: what the office and the leaders look at first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from ducha.api.deps import CurrentUser, Now, ReadSession
from ducha.web.templating import page
from models import Programme
from models.errors import NotFound

router = APIRouter()


def programme_of(session: Session, ref: str | None) -> Programme:
    """The programme asked for, else the first one (a page always shows something)."""
    from workflows.programmes import find_programme

    if ref:
        return find_programme(session=session, ref=ref)
    first = session.exec(select(Programme).order_by(col(Programme.id)).limit(1)).first()
    if first is None:
        raise NotFound("there is no programme yet (ducha demo, or ducha programmes create)")
    return first


@router.get("/")
def home(user: CurrentUser) -> Response:
    target = "/board" if user.scope.everything or user.scope.town else "/todo"
    return RedirectResponse(target, status_code=303)


@router.get("/board")
def board(
    request: Request,
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    programme: str | None = Query(None, max_length=200),
    town: str | None = Query(None, max_length=100),
    stage: str | None = Query(None, max_length=32),
    overdue: bool = False,
    wall: bool = False,
) -> Response:
    """Every project as a tile grouped by town, coloured by stage, a red badge where something is late."""
    from workflows.battle_map import battle_map
    from workflows.board import programme_choices

    chosen = programme_of(session, programme)
    found = battle_map(
        session=session,
        programme=chosen,
        now=now,
        scope=user.scope,
        town=town or None,
        stage=stage or None,
        overdue_only=overdue,
        cached=True,
    )
    programmes: list[Any] = programme_choices(session=session)
    return page(
        request,
        "board.html",
        map=found,
        programmes=programmes,
        town=town or "",
        stage=stage or "",
        overdue=overdue,
        wall=wall,
        now=now,
    )


SORTS = {"due": "due_at", "project": "project_code", "title": "title"}


@router.get("/overdue")
def overdue(
    request: Request,
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    sort: str = Query("due", pattern="^(due|project|title|level)$"),
) -> Response:
    """Overdue deadlines with the escalation level each has reached, sortable."""
    from workflows.alerts import list_deadlines

    rows = list(list_deadlines(session=session, now=now, overdue_only=True, scope=user.scope))
    levels = _levels(session, now, [row.id for row in rows]) if rows else {}
    key = SORTS.get(sort)
    if key:
        rows.sort(key=lambda row: (getattr(row, key) or "", row.id))
    else:
        rows.sort(key=lambda row: (-levels.get(row.id, (0, ""))[0], row.due_at))
    return page(request, "overdue.html", rows=rows, levels=levels, sort=sort, now=now)


def _levels(session: Session, now: Any, ids: list[int]) -> dict[int, tuple[int, str]]:
    """The highest level raised on each of these (open, overdue) deadlines: one grouped query over the
    same overdue set, not a list of ids bound as parameters."""
    from sqlalchemy import and_, func

    from models import Alert, Deadline, DeadlineStatus

    top = (
        select(Alert.deadline_id, func.max(Alert.level).label("top"))
        .join(
            Deadline,
            and_(col(Deadline.id) == col(Alert.deadline_id), col(Deadline.revision) == col(Alert.revision)),
        )
        .where(
            col(Deadline.status) == DeadlineStatus.OPEN,
            col(Deadline.due_at) < now,
            col(Alert.raised_at) <= now,
        )
        .group_by(col(Alert.deadline_id))
        .subquery()
    )
    rows = session.exec(
        select(Alert.deadline_id, Alert.level, Alert.name).join(
            top, and_(top.c.deadline_id == col(Alert.deadline_id), top.c.top == col(Alert.level))
        )
    ).all()
    wanted = set(ids)
    return {deadline: (level, name) for deadline, level, name in rows if deadline in wanted}
