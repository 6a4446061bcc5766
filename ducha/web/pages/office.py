"""The office's desk: dead-letter notices (with retry), the log of the web's writes, and the admin's
page of units, people, roles, logins and channels (names only: never a secret)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.errors import status_of
from ducha.api.routes.common import RowId, require_roles
from ducha.web.templating import page
from models.errors import DuchaError, NotFound
from workflows.login import Identity

router = APIRouter()
OFFICE_DESK = ("office", "admin")


def _desk(user: Identity) -> None:
    if user.role not in OFFICE_DESK or not user.scope.everything:
        raise HTTPException(403, f"a {user.role} login has no office desk")


@router.get("/notices/failed")
def dead_letters(request: Request, user: CurrentUser, session: ReadSession) -> Response:
    from models.listing import Window
    from notifications.queries import list_notices

    _desk(user)
    failed = list_notices(session=session, failed=True, window=Window(200))
    return page(request, "dead_letters.html", rows=list(failed), count=failed.count())


@router.post("/notices/{notice_id}/retry", dependencies=[CsrfChecked])
def retry(notice_id: RowId, request: Request, user: CurrentUser, context: ContextDep, now: Now) -> Response:
    from workflows.notice_actions import retry_notice

    _desk(user)
    with web_transaction(
        request, context, user, action="notice retried", subject=f"notice {notice_id}", at=now
    ) as (
        session,
        write,
    ):
        if not 0 < notice_id < 2**31:
            raise NotFound(f"no notice {notice_id}")
        done = retry_notice(session=session, now=now, actor=user.person, notice_id=notice_id)
        write.after = {"state": done.state}
    return RedirectResponse("/notices/failed", status_code=303)


@router.get("/audit-log")
def audit_log(request: Request, user: CurrentUser, session: ReadSession) -> Response:
    from models.listing import Window
    from workflows.web_audit import list_web_audit

    require_roles(user, ("admin", "auditor"), "read the log of the web's writes")
    entries = list_web_audit(session=session, window=Window(300))
    return page(request, "audit_log.html", rows=list(entries), count=entries.count())


def _admin_page(
    request: Request,
    user: Identity,
    context: ContextDep,
    now: object,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    from datetime import datetime

    from models.kinds import ACCOUNT_ROLES
    from models.listing import Window
    from workflows.accounts import list_users
    from workflows.staff import list_people, list_roles, list_units

    assert isinstance(now, datetime)
    try:
        from notifications.channel_config import load_channels

        settings = context.settings
        channel_names = load_channels(settings.channels_file, settings.channels).names()
    except DuchaError as exc:
        channel_names = [f"(the channels file cannot be read: {exc})"]
    with context.reading() as session:
        return page(
            request,
            "admin.html",
            status_code=status,
            units=list_units(session=session),
            people=list(list_people(session=session, window=Window(500))),
            roles=list(list_roles(session=session, window=Window(500))),
            users=list_users(session=session, now=context.system_clock.now()),
            channels=channel_names,
            account_roles=ACCOUNT_ROLES,
            error=error,
            done=done,
            new_password=None,
        )


@router.get("/admin")
def admin(
    request: Request, user: CurrentUser, context: ContextDep, now: Now, done: str | None = None
) -> Response:
    require_roles(user, ("admin",), "keep units, people, roles and logins")
    return _admin_page(request, user, context, now, done=(done or "")[:40] or None)


@router.post("/admin/{what}", dependencies=[CsrfChecked])
async def admin_write(
    what: str, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> Response:
    """One of the admin's writes: unit, person, role, revoke-role, user, revoke-user."""
    from starlette.concurrency import run_in_threadpool

    require_roles(user, ("admin",), "keep units, people, roles and logins")
    form = await request.form()
    fields = {key: value.strip()[:2000] for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_admin_write, what, request, user, context, now, fields)


def _admin_write(
    what: str, request: Request, user: Identity, context: ContextDep, now: object, fields: dict[str, str]
) -> Response:
    from datetime import datetime

    from workflows import accounts, staff

    assert isinstance(now, datetime)
    get = fields.get
    if what not in ("unit", "person", "role", "revoke-role", "user", "revoke-user"):
        raise NotFound(f"no admin action {what!r}")
    try:
        with web_transaction(
            request, context, user, action=f"admin {what}", subject=get("name") or get("person") or "", at=now
        ) as (
            session,
            write,
        ):
            s, actor = session, user.person
            if what == "unit":
                staff.add_unit(
                    session=s,
                    now=now,
                    actor=actor,
                    name=get("name", ""),
                    kind=get("kind", ""),
                    town=get("town") or None,
                )
            elif what == "person":
                staff.add_person(
                    session=s,
                    now=now,
                    actor=actor,
                    name=get("name", ""),
                    phone=get("phone", ""),
                    email=get("email") or None,
                    unit=get("unit") or None,
                )
            elif what == "role":
                staff.assign_role(
                    session=s,
                    now=now,
                    actor=actor,
                    person=get("person", ""),
                    role=get("role", ""),
                    unit=get("unit") or None,
                    project=get("project") or None,
                    reason=get("reason", ""),
                )
            elif what == "revoke-role":
                staff.revoke_role(
                    session=s,
                    now=now,
                    actor=actor,
                    person=get("person", ""),
                    role=get("role", ""),
                    reason=get("reason", ""),
                    unit=get("unit") or None,
                    project=get("project") or None,
                )
            elif what == "user":
                made = accounts.add_user(
                    session=s,
                    now=now,
                    actor=actor,
                    person=get("person", ""),
                    role=get("role", ""),
                    password=None,
                )
            else:
                accounts.revoke_user(
                    session=s, now=now, actor=actor, person=get("person", ""), reason=get("reason", "")
                )
            write.after = {key: value for key, value in fields.items() if key != "csrf_token"}
    except DuchaError as exc:
        return _admin_page(request, user, context, now, status=status_of(exc), error="\n".join(exc.lines()))
    if what == "user":
        # The password is shown once, on this answer only (never stored in clear, never in a URL).
        return page(request, "password_once.html", person=made.person, password=made.generated_password)
    return RedirectResponse(f"/admin?done={what}", status_code=303)
