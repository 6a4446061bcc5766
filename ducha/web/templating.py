"""The pages' Jinja2 environment: autoescaped (data is never read as markup), Chinese first, dates in
Asia/Shanghai and money in 元 from integer fen."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from models.localtime import local
from models.money import format_yuan

HERE = Path(__file__).parent
# Stage colours of the battle map: one per phase of the lifecycle.
STAGE_CLASS = {
    "proposed": "s-before",
    "pre_review": "s-before",
    "approved": "s-ready",
    "in_construction": "s-building",
    "completed": "s-after",
    "acceptance": "s-after",
    "accepted": "s-done",
    "closed": "s-done",
    "rejected": "s-stopped",
    "suspended": "s-stopped",
}
LEVEL_LABELS = {
    "upcoming": "临期",
    "due": "到期",
    "overdue": "逾期",
    "escalated_1": "督办",
    "escalated_2": "区领导督办",
}


def _when(value: datetime | date | None, form: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).strftime(form)
    return value.strftime("%Y-%m-%d")


def _yuan(fen: int | None) -> str:
    return "" if fen is None else format_yuan(fen)


def _tiles(town: Any) -> Markup:
    """The battle map's tiles of one town (workflows.battle_map.TownTiles), each a link to its project
    page: written here rather than in the template, where 5,000 tiles took Jinja half a second, and
    once per kept map (``town.rendered``: a map read from the cache is written again for nothing).
    Every value is escaped (``html.escape``: a plain string, not a ``Markup`` object per value)."""
    rendered = town.rendered
    if rendered is None:
        rendered = town.rendered = Markup(_write_tiles(town.tiles))
    return rendered  # type: ignore[no-any-return]


def _write_tiles(tiles: Iterable[Any]) -> str:
    parts = []
    shown: dict[str | None, str] = {}  # stage labels and levels repeat: escaped once
    for tile in tiles:
        code, village = html.escape(tile.code), html.escape(tile.village)
        label = shown.get(tile.stage_label)
        if label is None:
            label = shown[tile.stage_label] = html.escape(tile.stage_label)
        late, level = tile.overdue, tile.level
        badge = shown_level = title = ""
        if level:
            key = f"level:{level}"
            if key not in shown:
                shown[key] = html.escape(LEVEL_LABELS.get(level, level))
            shown_level = shown[key]
        if late or level:
            # The tooltip says in words what the badge abbreviates (the tile shows the rest).
            words = [f"逾期 {late} 项"] if late else []
            if level:
                words.append(shown_level)
            title = f' title="{" · ".join(words)}"'
        if late:
            extra = f"·{shown_level}" if level and level.startswith("escalated") else ""
            marked = f' data-level="{html.escape(level)}"' if level else ""
            badge = f'<span class="badge"{marked}>{late}{extra}</span>'
        parts.append(
            f'<a class="tile {STAGE_CLASS.get(tile.stage, "s-other")}{" late" if late else ""}" '
            f'href="/projects/{code}" data-code="{code}"{title}>'
            f'<span class="code">{code}</span><br>{village}<br>{label}{badge}</a>'
        )
    return "\n".join(parts)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "xml"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["day"] = lambda value: _when(value, "%Y-%m-%d")
    env.filters["yuan"] = _yuan
    env.globals["stage_class"] = lambda stage: STAGE_CLASS.get(stage, "s-other")
    env.globals["level_label"] = lambda level: LEVEL_LABELS.get(level, level or "")
    env.globals["tiles"] = _tiles
    return env


def page(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render ``template`` with the request's login, its CSRF token and ``values``."""
    from ducha.api.deps import LOGIN_COOKIE, SESSION_COOKIE, csrf_token_for

    identity = getattr(request.state, "identity", None)
    cookie = request.cookies.get(SESSION_COOKIE) or getattr(request.state, "new_session", None)
    login_cookie = getattr(request.state, "login_csrf", None) or request.cookies.get(LOGIN_COOKIE)
    csrf = csrf_token_for(cookie) if cookie else (csrf_token_for(login_cookie) if login_cookie else "")
    body = (
        environment()
        .get_template(template)
        .render(request=request, user=identity, csrf_token=csrf, path=request.url.path, **values)
    )
    return HTMLResponse(body, status_code=status_code, headers=headers)
