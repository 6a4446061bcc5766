"""Logins: accounts linked to people, passwords (argon2id), TOTP, API tokens and calendar feed tokens.

An admin makes and revokes them (`ducha users …`); ``workflows.login`` checks them at each request.
Every secret handed out is random (``secrets``) and stored only as its SHA-256.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, select, update

from models import (
    ApiToken,
    CalendarFeedToken,
    OrgUnit,
    Person,
    RoleAssignment,
    UserAccount,
    WebSession,
)
from models.errors import BadInput, NotFound, Refused
from models.kinds import ACCOUNT_ROLES, SEE_ALL_ROLES, SINGLE_HOLDER_ROLES, VIEWER, Role
from models.scope import NOTHING, Scope
from models.text import clean
from workflows.authority import ADMIN, record_activity, require_role
from workflows.people import find_person

MIN_PASSWORD = 10
MAX_PASSWORD = 256
ISSUER = "ducha 督查"


@cache
def password_hasher() -> PasswordHash:
    """argon2id with pwdlib's current parameters: a hash made with others is redone at the next login."""
    return PasswordHash((Argon2Hasher(),))


def digest(secret: str) -> str:
    """What is stored of a handed-out secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def parse_account_role(value: str) -> str:
    role = value.strip().lower()
    if role not in ACCOUNT_ROLES:
        raise BadInput(f"role {value!r}: give one of {', '.join(ACCOUNT_ROLES)}")
    return role


def check_password(password: str, person: Person) -> None:
    """Refuse a password too short, too long, or made of what is known about the person."""
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadInput(f"password: at most {MAX_PASSWORD} characters")
    if len(set(password)) < 4:
        raise BadInput("password: too few different characters")
    lowered = password.lower()
    for known, what in ((person.phone, "phone number"), (person.name, "name"), (person.email, "e-mail")):
        if known and len(known) >= 3 and known.lower() in lowered:
            raise BadInput(f"password: must not contain the person's {what}")


def holds(*, session: Session, person: Person, role: str) -> bool:
    """Whether ``person`` holds ``role`` now (a project role on some project, a unit role on a unit)."""
    if role == VIEWER:
        return True
    query = select(RoleAssignment.id).where(
        col(RoleAssignment.person_id) == person.id,
        col(RoleAssignment.role) == role,
        col(RoleAssignment.revoked_at).is_(None),
    )
    return session.exec(query.limit(1)).first() is not None


def scope_of(*, session: Session, person: Person, role: str) -> Scope:
    """What a login of ``person`` acting as ``role`` may see (see models.scope)."""
    if role in {r.value for r in SINGLE_HOLDER_ROLES}:
        return Scope(person_id=person.id)
    unit = session.get(OrgUnit, person.unit_id) if person.unit_id is not None else None
    if unit is not None and unit.kind == "town":
        return Scope(town=unit.town or unit.name)
    if role == VIEWER:
        return Scope(everything=True)
    if role in SEE_ALL_ROLES and holds(session=session, person=person, role=role):
        return Scope(everything=True, sees_draws=role == Role.OFFICE.value)
    # A role no longer held: the login sees what the person answers for, nothing more.
    return Scope(person_id=person.id) if person.id is not None else NOTHING


def account_of(*, session: Session, person: Person) -> UserAccount:
    account = session.exec(select(UserAccount).where(col(UserAccount.person_id) == person.id)).first()
    if account is None:
        raise NotFound(f"{person.name} (id {person.id}) has no login: ducha users add")
    return account


@dataclass(frozen=True)
class NewUser:
    account: UserAccount
    person: Person
    # The password, when ducha made it (to hand over once; never stored or shown again).
    generated_password: str | None


def add_user(
    *, session: Session, now: datetime, actor: Person, person: str, role: str, password: str | None
) -> NewUser:
    """Give a person a login acting as ``role`` (one they hold, or viewer); admin only."""
    require_role(session=session, actor=actor, roles=ADMIN, doing="add a login")
    found = find_person(session=session, ref=person)
    wanted = parse_account_role(role)
    if not holds(session=session, person=found, role=wanted):
        raise Refused(
            f"{found.name} (id {found.id}) does not hold the role {wanted}: ducha roles assign first"
        )
    if session.exec(select(UserAccount.id).where(col(UserAccount.person_id) == found.id)).first():
        raise Refused(f"{found.name} (id {found.id}) has a login already (ducha users password to reset it)")
    generated = None if password is not None else secrets.token_urlsafe(12)
    chosen = password if password is not None else generated
    assert chosen is not None
    check_password(chosen, found)
    account = UserAccount(
        person_id=found.id,  # type: ignore[arg-type]
        role=wanted,
        password_hash=password_hasher().hash(chosen),
        created_at=now,
        created_by_id=actor.id,
        password_changed_at=now,
    )
    session.add(account)
    session.flush()
    record_activity(
        session=session, now=now, actor=actor, action="user added", subject=found.name, role=wanted
    )
    return NewUser(account, found, generated)


def end_sessions(*, session: Session, now: datetime, account: UserAccount, reason: str) -> int:
    """End every open session of ``account`` (its next request is a login page)."""
    result = session.execute(
        update(WebSession)
        .where(col(WebSession.user_id) == account.id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_password(
    *, session: Session, now: datetime, actor: Person, person: str, password: str | None
) -> NewUser:
    """A new password (made by ducha unless given): the admin for anyone, a person for their own.
    Every session of the account ends."""
    found = find_person(session=session, ref=person)
    if found.id != actor.id:
        require_role(session=session, actor=actor, roles=ADMIN, doing="reset another person's password")
    account = account_of(session=session, person=found)
    generated = None if password is not None else secrets.token_urlsafe(12)
    chosen = password if password is not None else generated
    assert chosen is not None
    check_password(chosen, found)
    account.password_hash = password_hasher().hash(chosen)
    account.password_changed_at = now
    session.add(account)
    end_sessions(session=session, now=now, account=account, reason="password changed")
    record_activity(session=session, now=now, actor=actor, action="password set", subject=found.name)
    return NewUser(account, found, generated)


def revoke_user(*, session: Session, now: datetime, actor: Person, person: str, reason: str) -> UserAccount:
    """Disable a login: its sessions and tokens stop working at their next request."""
    require_role(session=session, actor=actor, roles=ADMIN, doing="revoke a login")
    why = clean(reason, field="reason", max_length=2000, required=True)
    found = find_person(session=session, ref=person)
    account = account_of(session=session, person=found)
    if account.disabled_at is None:
        account.disabled_at = now
        session.add(account)
    end_sessions(session=session, now=now, account=account, reason="revoked")
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == account.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    record_activity(
        session=session, now=now, actor=actor, action="user revoked", subject=found.name, reason=why
    )
    return account


def revoke_token(*, session: Session, now: datetime, actor: Person, token_id: int) -> ApiToken:
    """Revoke one bearer token: the admin's, or its owner's."""
    token = session.get(ApiToken, token_id)
    account = session.get(UserAccount, token.user_id) if token is not None else None
    if token is None or account is None:
        raise NotFound(f"no API token {token_id}")
    if account.person_id != actor.id:
        require_role(session=session, actor=actor, roles=ADMIN, doing="revoke another person's token")
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
    record_activity(
        session=session, now=now, actor=actor, action="token revoked", subject=f"token {token_id}"
    )
    return token


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once


def make_token(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    person: str,
    days: int,
    role: str | None = None,
    label: str = "",
) -> NewToken:
    """A bearer token for scripts, acting as the account's role (or a narrower one the person holds)."""
    found = find_person(session=session, ref=person)
    if found.id != actor.id:
        require_role(session=session, actor=actor, roles=ADMIN, doing="make a token for another person")
    account = account_of(session=session, person=found)
    if account.disabled_at is not None:
        raise Refused(f"{found.name}'s login is revoked")
    acting = parse_account_role(role) if role else account.role
    if acting != account.role and acting != VIEWER and not holds(session=session, person=found, role=acting):
        raise Refused(f"{found.name} does not hold the role {acting}")
    if not 1 <= days <= 3650:
        raise BadInput("--days: from 1 to 3650")
    secret = new_secret()
    token = ApiToken(
        token_hash=digest(secret),
        user_id=account.id,  # type: ignore[arg-type]
        role=acting,
        label=clean(label, field="label", max_length=100) or f"token for {found.name}",
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    record_activity(
        session=session, now=now, actor=actor, action="token made", subject=found.name, role=acting
    )
    return NewToken(token, secret)


def enrol_totp(*, session: Session, now: datetime, actor: Person, person: str) -> tuple[str, str]:
    """A new TOTP secret for the login (the admin, or the person themself): (secret, otpauth URI)."""
    import pyotp

    found = find_person(session=session, ref=person)
    if found.id != actor.id:
        require_role(session=session, actor=actor, roles=ADMIN, doing="enrol another person's second factor")
    account = account_of(session=session, person=found)
    secret = pyotp.random_base32()
    account.totp_secret = secret
    account.totp_last_step = None
    session.add(account)
    end_sessions(session=session, now=now, account=account, reason="second factor enrolled")
    record_activity(session=session, now=now, actor=actor, action="totp enrolled", subject=found.name)
    uri = pyotp.TOTP(secret).provisioning_uri(name=found.phone or found.name, issuer_name=ISSUER)
    return secret, uri


def feed_token(*, session: Session, now: datetime, actor: Person, person: str) -> str:
    """A new secret calendar feed URL token for a person (earlier ones stop working); shown once."""
    found = find_person(session=session, ref=person)
    if found.id != actor.id:
        require_role(session=session, actor=actor, roles=ADMIN, doing="make another person's calendar feed")
    session.execute(
        update(CalendarFeedToken)
        .where(col(CalendarFeedToken.person_id) == found.id, col(CalendarFeedToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    secret = new_secret()
    session.add(CalendarFeedToken(token_hash=digest(secret), person_id=found.id, created_at=now))  # type: ignore[arg-type]
    session.flush()
    record_activity(session=session, now=now, actor=actor, action="calendar feed made", subject=found.name)
    return secret


def feed_person(*, session: Session, token: str) -> Person | None:
    """The person whose calendar feed ``token`` opens, if it is one in force."""
    row = session.exec(
        select(CalendarFeedToken).where(
            col(CalendarFeedToken.token_hash) == digest(token), col(CalendarFeedToken.revoked_at).is_(None)
        )
    ).first()
    return session.get(Person, row.person_id) if row is not None else None


@dataclass(frozen=True)
class UserRow:
    person_id: int
    name: str
    phone: str | None
    role: str
    totp: bool
    disabled_at: datetime | None
    created_at: datetime
    open_sessions: int
    tokens: int


def list_users(*, session: Session, now: datetime) -> list[UserRow]:
    """Every login with its open sessions and tokens in force (the office has tens, not thousands)."""
    from sqlalchemy import func

    sessions = (
        select(func.count())
        .where(
            col(WebSession.user_id) == col(UserAccount.id),
            col(WebSession.ended_at).is_(None),
            col(WebSession.expires_at) > now,
        )
        .scalar_subquery()
    )
    tokens = (
        select(func.count())
        .where(
            col(ApiToken.user_id) == col(UserAccount.id),
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > now,
        )
        .scalar_subquery()
    )
    rows = session.exec(
        select(UserAccount, Person, sessions, tokens)
        .join(Person, col(Person.id) == col(UserAccount.person_id))
        .order_by(col(UserAccount.id))
    ).all()
    return [
        UserRow(
            person.id,  # type: ignore[arg-type]
            person.name,
            person.phone,
            account.role,
            account.totp_secret is not None,
            account.disabled_at,
            account.created_at,
            int(open_sessions),
            int(open_tokens),
        )
        for account, person, open_sessions, open_tokens in rows
    ]
