"""Logging in and being recognised at each request: passwords, the second factor, sessions with idle
and absolute limits, bearer tokens, and throttling of failed logins (等保 2.0: identification,
login-failure handling, session timeout).

The times here are the system clock's (a session's idle timeout is real time even in a simulation),
given as ``now`` like every other time.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func
from sqlmodel import Session, col, or_, select, update

from models import ApiToken, LoginAttempt, Person, UserAccount, WebSession
from models.scope import Scope
from workflows.accounts import digest, new_secret, password_hasher, scope_of

# 5 failures in 15 minutes, per account and per address; then each try waits twice as long as the
# one before (30 s, 1 min, 2 min, …, at most an hour) after the last failure.
FAILURES, WINDOW = 5, timedelta(minutes=15)
FIRST_WAIT, LONGEST_WAIT = timedelta(seconds=30), timedelta(hours=1)
# A session's last-seen time is written at most this often (every request would be a write).
TOUCH_EVERY = timedelta(seconds=60)


@cache
def _dummy_hash() -> str:
    """A hash to check an unknown login against: a wrong name takes as long as a wrong password."""
    return password_hasher().hash(new_secret())


@dataclass(frozen=True)
class Identity:
    """Who is asking: the login, its person, the role it acts in and what it may see."""

    account: UserAccount
    person: Person
    role: str
    scope: Scope
    # The session's id (a browser) or None (a bearer token).
    session_id: int | None = None
    token_id: int | None = None


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt came to; the attempt itself is recorded either way."""

    # The session cookie's value, when a session was opened (maybe still waiting for the TOTP code).
    token: str | None = None
    needs_second_factor: bool = False
    # Why not, in words a person can act on (the same for a wrong name and a wrong password).
    refusal: str | None = None
    # Seconds to wait before trying again (throttled).
    retry_after: int | None = None


def _wait(failures: int) -> timedelta:
    wait: timedelta = FIRST_WAIT * 2 ** max(failures - FAILURES, 0)
    return min(wait, LONGEST_WAIT)


def throttled(*, session: Session, now: datetime, login: str, address: str) -> int | None:
    """Seconds left before another try is allowed for this login or this address, or None."""
    waits = []
    for column, value in ((LoginAttempt.login, login[:64]), (LoginAttempt.address, address[:64])):
        failures, last = session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                col(column) == value,
                col(LoginAttempt.at) > now - WINDOW,
                col(LoginAttempt.succeeded).is_(False),
                # A refused try checked no password: it neither counts nor pushes the wait on.
                col(LoginAttempt.stage) != "throttled",
            )
        ).one()
        if failures >= FAILURES and last is not None:
            left = last + _wait(int(failures)) - now
            if left > timedelta(0):
                waits.append(math.ceil(left.total_seconds()))
    return max(waits) if waits else None


def _attempt(
    session: Session,
    now: datetime,
    login: str,
    address: str,
    account: UserAccount | None,
    ok: bool,
    stage: str,
) -> None:
    session.add(
        LoginAttempt(
            at=now,
            login=login[:64],
            user_id=account.id if account else None,
            address=address[:64],
            succeeded=ok,
            stage=stage,
        )
    )
    session.flush()


def _find_account(session: Session, login: str) -> UserAccount | None:
    text = login.strip()
    if "\x00" in text:  # no login holds one (and PostgreSQL would refuse the lookup)
        return None
    rows = session.exec(
        select(UserAccount)
        .join(Person, col(Person.id) == col(UserAccount.person_id))
        .where(or_(col(Person.phone) == text, col(Person.name) == text))
        .limit(2)
    ).all()
    return rows[0] if len(rows) == 1 else None  # a name two people share logs in by phone


def log_in(
    *,
    session: Session,
    now: datetime,
    login: str,
    password: str,
    address: str,
    lifetime: timedelta,
    totp_roles: frozenset[str] = frozenset(),
) -> LoginOutcome:
    """Check a login and password; open a session (waiting for the TOTP code if one is enrolled)."""
    login = login.replace("\x00", "\ufffd")  # kept and looked up as typed, but PostgreSQL takes no NUL
    wait = throttled(session=session, now=now, login=login, address=address)
    if wait is not None:
        _attempt(session, now, login, address, None, False, "throttled")
        return LoginOutcome(refusal=f"too many failed logins: try again in {wait} s", retry_after=wait)
    account = _find_account(session, login)
    hasher = password_hasher()
    if account is None:
        hasher.verify(password, _dummy_hash())  # the same work as a real check
        _attempt(session, now, login, address, None, False, "password")
        return LoginOutcome(refusal="wrong login or password")
    valid, rehashed = hasher.verify_and_update(password, account.password_hash)
    if not valid or account.disabled_at is not None:
        _attempt(session, now, login, address, account, False, "password" if not valid else "disabled")
        return LoginOutcome(refusal="wrong login or password")
    if rehashed is not None:  # made with older parameters: keep the stronger hash from now on
        account.password_hash = rehashed
        session.add(account)
    if account.totp_secret is None and account.role in totp_roles:
        _attempt(session, now, login, address, account, False, "no second factor")
        return LoginOutcome(
            refusal=f"the {account.role} role needs a second factor: "
            "ask the admin to enrol one (ducha users totp)"
        )
    _attempt(session, now, login, address, account, True, "password")
    token = new_secret()
    session.add(
        WebSession(
            token_hash=digest(token),
            user_id=account.id,  # type: ignore[arg-type]
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            second_factor_pending=account.totp_secret is not None,
            address=address[:64],
        )
    )
    session.flush()
    return LoginOutcome(token=token, needs_second_factor=account.totp_secret is not None)


def second_factor(*, session: Session, now: datetime, token: str, code: str, address: str) -> LoginOutcome:
    """Check the TOTP code of a session waiting for it; a code is good once."""
    import pyotp

    found = _open_session(session, now, token)
    account = session.get(UserAccount, found.user_id) if found is not None else None
    if found is None or account is None or not found.second_factor_pending or account.totp_secret is None:
        return LoginOutcome(refusal="log in again")
    login = str(account.person_id)
    wait = throttled(session=session, now=now, login=login, address=address)
    if wait is not None:
        _attempt(session, now, login, address, account, False, "throttled")
        return LoginOutcome(refusal=f"too many wrong codes: try again in {wait} s", retry_after=wait)
    totp = pyotp.TOTP(account.totp_secret)
    step = totp.timecode(now)
    good = next(
        (s for s in (step, step - 1, step + 1) if totp.generate_otp(s) == code.strip()),
        None,
    )
    if good is None or (account.totp_last_step is not None and good <= account.totp_last_step):
        _attempt(session, now, login, address, account, False, "second factor")
        return LoginOutcome(refusal="wrong code", needs_second_factor=True)
    account.totp_last_step = good
    found.second_factor_pending = False
    session.add_all([account, found])
    _attempt(session, now, login, address, account, True, "second factor")
    return LoginOutcome(token=token)


def _open_session(session: Session, now: datetime, token: str) -> WebSession | None:
    found = session.exec(select(WebSession).where(col(WebSession.token_hash) == digest(token))).first()
    if found is None or found.ended_at is not None or found.expires_at <= now:
        return None
    return found


@dataclass(frozen=True)
class SessionCheck:
    """A session cookie checked in a read: who it is, and what (if anything) must be written."""

    identity: Identity | None
    # "touch": note the request's time (at most every minute); "idle": the session ends now.
    write: str | None = None
    session_id: int | None = None


def check_session(*, session: Session, now: datetime, token: str, idle: timedelta) -> SessionCheck:
    """The login behind a session cookie, if the session is open, not idle too long, not expired.

    It only reads: most requests write nothing, and the few that must (once a minute, or to end an
    idle session) do it after, in a short transaction of their own (``record_session_check``)."""
    found = _open_session(session, now, token)
    if found is None or found.second_factor_pending:
        return SessionCheck(None)
    account = session.get(UserAccount, found.user_id)
    if account is None or account.disabled_at is not None:
        return SessionCheck(None)
    if now - found.last_seen_at > idle:
        return SessionCheck(None, "idle", found.id)
    person = session.get(Person, account.person_id)
    assert person is not None
    scope = scope_of(session=session, person=person, role=account.role)
    identity = Identity(account, person, account.role, scope, session_id=found.id)
    return SessionCheck(identity, "touch" if now - found.last_seen_at > TOUCH_EVERY else None, found.id)


def record_session_check(*, session: Session, now: datetime, check: SessionCheck) -> None:
    """Write what ``check_session`` found must be written (never moving an ended session)."""
    if check.write is None or check.session_id is None:
        return
    values = {"last_seen_at": now} if check.write == "touch" else {"ended_at": now, "end_reason": "idle"}
    session.execute(
        update(WebSession)
        .where(col(WebSession.id) == check.session_id, col(WebSession.ended_at).is_(None))
        .values(**values)
    )


def identify_session(*, session: Session, now: datetime, token: str, idle: timedelta) -> Identity | None:
    """Check a session cookie and write what the check asks for, in one session (tests, scripts)."""
    check = check_session(session=session, now=now, token=token, idle=idle)
    record_session_check(session=session, now=now, check=check)
    return check.identity


def identify_token(*, session: Session, now: datetime, bearer: str) -> Identity | None:
    """The login behind a bearer token, if the token is in force."""
    found = session.exec(
        select(ApiToken, UserAccount, Person)
        .join(UserAccount, col(UserAccount.id) == col(ApiToken.user_id))
        .join(Person, col(Person.id) == col(UserAccount.person_id))
        .where(col(ApiToken.token_hash) == digest(bearer))
    ).first()  # one query, not three: every API request asks it
    if found is None:
        return None
    token, account, person = found
    if token.revoked_at is not None or token.expires_at <= now or account.disabled_at is not None:
        return None
    scope = scope_of(session=session, person=person, role=token.role)
    return Identity(account, person, token.role, scope, token_id=token.id)


def log_out(*, session: Session, now: datetime, token: str) -> None:
    found = _open_session(session, now, token)
    if found is not None:
        found.ended_at, found.end_reason = now, "logout"
        session.add(found)
