"""The one mapping of errors to HTTP answers: the vocabulary of models/errors.py, a missing login,
a malformed request, and bugs. The API answers JSON; the pages answer a page with the same status."""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ducha.api.deps import NotLoggedIn
from models.errors import Conflict, DuchaError, NotFound, Refused

log = logging.getLogger("ducha.web")


def status_of(exc: DuchaError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused | Conflict):
        return 409
    return 422


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _answer(
    request: Request, status: int, message: str, lines: list[str] | None = None, **headers: str
) -> Response:
    if _is_api(request):
        body: dict[str, Any] = {"detail": message}
        if lines:
            body["problems"] = lines
        return JSONResponse(body, status_code=status, headers=headers or None)
    from ducha.web.templating import page

    return page(
        request,
        "error.html",
        status_code=status,
        headers=headers or None,
        status=status,
        message=message,
        lines=lines or [],
    )


def _field(location: tuple[Any, ...]) -> str:
    parts = [
        str(part) for part in location if part not in ("body", "query", "path", "header", "cookie", "form")
    ]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(DuchaError)
    async def ducha_error(request: Request, exc: DuchaError) -> Response:
        lines = exc.lines()
        return _answer(
            request, status_of(exc), lines[0] if len(lines) == 1 else str(exc).splitlines()[0], lines
        )

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "log in first: a session cookie or an Authorization: Bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        from ducha.web.pages.auth import login_page

        return login_page(request, status_code=401, next_path=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        lines = [
            f"{_field(tuple(error.get('loc', ())))}: {error.get('msg', 'invalid')}" for error in exc.errors()
        ]
        return _answer(request, 422, lines[0] if lines else "invalid request", lines)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        return _answer(request, exc.status_code, str(exc.detail), None, **headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        trouble = _database_trouble(exc)
        if trouble is not None:
            return _answer(request, 503, trouble)
        reference = uuid.uuid4().hex[:12]
        text = "".join(traceback.format_exception(exc))
        log.error("internal error %s on %s %s\n%s", reference, request.method, request.url.path, text)
        context = getattr(request.app.state, "context", None)
        try:
            path = context.settings.error_log if context is not None else None
            if path is not None:
                with open(path, "a", encoding="utf-8") as out:
                    out.write(f"--- web {request.method} {request.url.path} [{reference}]\n{text}\n")
        except (OSError, DuchaError):
            pass
        return _answer(
            request, 500, f"internal error (reference {reference}): the details are in the error log"
        )


def _database_trouble(exc: Exception) -> str | None:
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return "the database is busy or unavailable: try again in a moment"
    return None
