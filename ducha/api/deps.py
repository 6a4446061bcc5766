"""What routes and pages depend on, as typed aliases: the context, a read session, who is asking,
the time, the CSRF check, and a write transaction that records itself in the web audit log."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from ducha.context import AppContext
from models.errors import DuchaError
from workflows.login import Identity

SESSION_COOKIE = "ducha_session"
# Before a login there is no session to bind a CSRF token to: a random cookie the form repeats.
LOGIN_COOKIE = "ducha_login_csrf"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Posted before there is a session: their token is bound to the login cookie instead.
LOGIN_PATHS = ("/login", "/login/code")


# The dependencies that do no I/O are ``async``: FastAPI runs them on the event loop, where a plain
# ``def`` would be a hop to a worker thread and back, and on a busy machine each hop waits its turn
# for a core (a page of the project list made seven of them).


async def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(app_context)]


def reading(context: ContextDep) -> Iterator[Session]:
    with context.reading() as session:
        yield session


ReadSession = Annotated[Session, Depends(reading)]


async def now(context: ContextDep) -> datetime:
    """The time of the request: the system clock, or a simulation's running clock."""
    return context.now()


Now = Annotated[datetime, Depends(now)]


async def plain_parameters(request: Request) -> None:
    """Refuse a query or path parameter no name or id can hold (a NUL, a control character), naming
    it: PostgreSQL would refuse a NUL with an error, SQLite would look it up; both answer 422 here."""
    from models.errors import BadInput
    from models.text import normalised, problem

    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        wrong = problem(normalised(str(value)), max_length=2000)
        if wrong is not None:
            raise BadInput(f"{name}: {wrong}")


PlainParameters = Depends(plain_parameters)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def csrf_token_for(session_token: str) -> str:
    """The synchronizer token of a session: derived from its secret cookie, so nothing to store, and
    nobody without the cookie can make it."""
    return hmac.new(session_token.encode(), b"ducha csrf", hashlib.sha256).hexdigest()


class NotLoggedIn(Exception):
    """No valid session or token: 401 (an API answer, or the login page)."""


def find_identity(request: Request, context: AppContext) -> Identity | None:
    """Who the request comes from: a bearer token, else the session cookie; None if neither is valid."""
    from workflows.login import check_session, identify_token, record_session_check

    if hasattr(request.state, "identity"):
        known: Identity | None = request.state.identity
        return known
    system_now = context.system_clock.now()
    found: Identity | None = None
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        with context.reading() as session:
            found = identify_token(session=session, now=system_now, bearer=header[7:].strip())
        request.state.via_token = True
    elif cookie := request.cookies.get(SESSION_COOKIE):
        idle = timedelta(minutes=context.settings.session_idle_minutes)
        with context.reading() as session:
            check = check_session(session=session, now=system_now, token=cookie, idle=idle)
        if check.write is not None:  # once a minute per session, or to end an idle one
            with context.transaction(now=system_now) as tx:
                record_session_check(session=tx.session, now=system_now, check=check)
        found = check.identity
        request.state.via_token = False
    request.state.identity = found
    return found


def current_identity(request: Request, context: ContextDep) -> Identity:
    found = find_identity(request, context)
    if found is None:
        raise NotLoggedIn()
    return found


CurrentUser = Annotated[Identity, Depends(current_identity)]


async def csrf_protect(request: Request, context: ContextDep) -> None:
    """Refuse an unsafe request a browser sent from another site: Fetch Metadata first, then the
    synchronizer token (form field or header, so htmx carries it). Bearer-token requests carry no
    ambient credentials and need neither."""
    if request.method not in UNSAFE:
        return
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None and request.url.path not in LOGIN_PATHS:
        raise NotLoggedIn()  # no session to ride on: nothing to forge, and the answer is "log in"
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(403, "refused: a cross-site request (Sec-Fetch-Site: " + site[:20] + ")")
    expected = csrf_token_for(cookie) if cookie else None
    if expected is None:
        login = request.cookies.get(LOGIN_COOKIE)
        expected = csrf_token_for(login) if login else None
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if expected is None or given is None or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "refused: the form's security token is missing or stale; reload the page")


CsrfChecked = Depends(csrf_protect)


@dataclass
class WebWrite:
    """One write through the web or the API, its audit record filled in as it goes."""

    action: str
    subject: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@contextmanager
def web_transaction(
    request: Request, context: AppContext, user: Identity, *, action: str, subject: str, at: datetime
) -> Iterator[tuple[Session, WebWrite]]:
    """A write transaction dated ``at`` that records the write in the audit log when it commits;
    a refused write is recorded on its own (nothing else of it is written) and re-raised."""
    from workflows.web_audit import record_web_write

    write = WebWrite(action, subject)
    common: dict[str, Any] = {
        "identity": user,
        "address": client_address(request),
        "method": request.method,
        "path": request.url.path,
    }
    try:
        with context.transaction(now=at) as tx:
            request.state.evidence = tx.evidence
            yield tx.session, write
            # The log keeps real time (who did what, when), whatever time a simulation's write is dated.
            record_web_write(
                session=tx.session,
                now=context.system_clock.now(),
                action=write.action,
                subject=write.subject,
                status=200,
                before=write.before,
                after=write.after,
                **common,
            )
    except DuchaError as exc:
        from ducha.api.errors import status_of

        with context.transaction(now=context.system_clock.now()) as tx:
            record_web_write(
                session=tx.session,
                now=context.system_clock.now(),
                action=write.action,
                subject=write.subject,
                status=status_of(exc),
                before=write.before,
                after={},
                message=str(exc)[:2000],
                **common,
            )
        raise
