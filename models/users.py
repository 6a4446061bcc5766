"""Logins for the web and the API: accounts linked to people, sessions, bearer tokens, calendar feed
tokens, login attempts, and the append-only log of every write made through the web or the API.

Every secret handed to a browser or a script (a session cookie, a bearer token, a feed URL) is
stored only as its SHA-256: a copy of the database lets nobody log in.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from models.kinds import ACCOUNT_ROLES
from models.types import UTCDateTime

_ROLES = ", ".join(f"'{role}'" for role in ACCOUNT_ROLES)


class UserAccount(SQLModel, table=True):
    """A person's login: the role it acts in (what it sees and may do), its password hash (argon2id)
    and, optionally, a TOTP second factor."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLES})", name="ck_user_account_role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    # The base32 TOTP secret once the second factor is enrolled.
    totp_secret: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    # The last TOTP time step accepted: a code is good once (a code seen over a shoulder is spent).
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    password_changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Set by an admin's revocation: no login, no session, no token works any more.
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class WebSession(SQLModel, table=True):
    """A browser's login: an opaque random token in an HttpOnly cookie, stored hashed here."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user", "user_id", "ended_at"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The absolute limit: the session ends then, however busy it is.
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Waiting for the TOTP code: the password was right, the second factor not yet given.
    second_factor_pending: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # logout, revoked, idle, expired, password changed
    end_reason: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    address: str = Field(sa_column=Column(String(64), nullable=False))


class ApiToken(SQLModel, table=True):
    """A script's bearer token: scoped to a role of its account, expiring, revocable; stored hashed."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLES})", name="ck_api_token_role"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=False, index=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    label: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class CalendarFeedToken(SQLModel, table=True):
    """The secret of a person's iCal feed URL (``/calendar/{token}.ics``), stored hashed; revocable."""

    __tablename__ = "calendar_feed_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False, index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LoginAttempt(SQLModel, table=True):
    """One try to log in, kept to throttle guessing per account and per address (等保 2.0)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_login", "login", "at"),
        Index("ix_login_attempt_address", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # What was typed as the login (a phone or a name), cut to the column; the account if one matched.
    login: str = Field(sa_column=Column(String(64), nullable=False))
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=True)
    )
    address: str = Field(sa_column=Column(String(64), nullable=False))
    succeeded: bool = Field(sa_column=Column(Boolean, nullable=False))
    # password, second factor, throttled, disabled
    stage: str = Field(sa_column=Column(String(16), nullable=False))


class WebAudit(SQLModel, table=True):
    """One write made through the web or the API: who, when, from which address, what, before and
    after. Append-only (by trigger)."""

    __tablename__ = "web_audit"
    __table_args__ = (Index("ix_web_audit_time", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=True)
    )
    person_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True, index=True)
    )
    address: str = Field(sa_column=Column(String(64), nullable=False))
    method: str = Field(sa_column=Column(String(8), nullable=False))
    path: str = Field(sa_column=Column(String(300), nullable=False))
    action: str = Field(sa_column=Column(String(60), nullable=False))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    # The HTTP status the write ended with: 2xx done; 4xx refused (then nothing else was written).
    status: int = Field(sa_column=Column(Integer, nullable=False))
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
