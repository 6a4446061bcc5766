"""Logging in (password, then the TOTP code if enrolled) and out."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ducha.api.deps import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    ContextDep,
    CsrfChecked,
    client_address,
)
from ducha.web.templating import page

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Where to go after the login: a path of this site only (never //elsewhere or a full URL)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value[:500]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def login_page(
    request: Request, *, status_code: int = 200, next_path: str | None = None, message: str | None = None
) -> Response:
    """The login form; it carries a CSRF token bound to a random cookie (there is no session yet)."""
    from workflows.accounts import new_secret

    cookie = request.cookies.get(LOGIN_COOKIE) or ""
    fresh = not cookie
    if fresh:
        cookie = new_secret()
        request.state.login_csrf = cookie
    response = page(
        request, "login.html", status_code=status_code, next_path=_safe_next(next_path), message=message
    )
    if fresh:
        response.set_cookie(
            LOGIN_COOKIE, cookie, httponly=True, samesite="strict", secure=_secure(request), max_age=3600
        )
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return login_page(request, next_path=next)


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    context: ContextDep,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    from workflows.login import log_in

    settings = context.settings
    system_now = context.system_clock.now()
    roles = frozenset(role.strip() for role in settings.totp_roles.split(",") if role.strip())
    with context.transaction(now=system_now) as tx:
        outcome = log_in(
            session=tx.session,
            now=system_now,
            login=login,
            password=password,
            address=client_address(request),
            lifetime=timedelta(hours=settings.session_hours),
            totp_roles=roles,
        )
    if outcome.token is None:
        headers = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else None
        status = 429 if outcome.retry_after else 401
        response = login_page(request, status_code=status, next_path=next, message=outcome.refusal)
        if headers:
            response.headers.update(headers)
        return response
    target = "/login/code?next=" + _safe_next(next) if outcome.needs_second_factor else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.get("/login/code")
def code_form(request: Request, next: str | None = None) -> Response:
    request.state.new_session = request.cookies.get(SESSION_COOKIE)
    return page(request, "totp.html", next_path=_safe_next(next), message=None)


@router.post("/login/code", dependencies=[CsrfChecked])
def code(
    request: Request,
    context: ContextDep,
    code: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    from workflows.login import second_factor

    token = request.cookies.get(SESSION_COOKIE, "")
    system_now = context.system_clock.now()
    with context.transaction(now=system_now) as tx:
        outcome = second_factor(
            session=tx.session, now=system_now, token=token, code=code, address=client_address(request)
        )
    if outcome.token is None:
        if not outcome.needs_second_factor and outcome.retry_after is None:
            return login_page(request, status_code=401, next_path=next, message=outcome.refusal)
        status = 429 if outcome.retry_after else 401
        return page(
            request, "totp.html", status_code=status, next_path=_safe_next(next), message=outcome.refusal
        )
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, context: ContextDep) -> Response:
    from workflows.login import log_out

    token = request.cookies.get(SESSION_COOKIE)
    if token:
        system_now = context.system_clock.now()
        with context.transaction(now=system_now) as tx:
            log_out(session=tx.session, now=system_now, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
