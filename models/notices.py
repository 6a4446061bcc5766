"""Notices: the outbox of what ducha tells people, every attempt to deliver one, and the inbox.

A notice is written in the same transaction as what causes it (an alert, an order, an inspection),
under an idempotency key (cause, recipient, channel) that the database keeps unique: a cause can
never tell a person twice on one channel. The dispatcher moves it through its states and records
every attempt; the in-app inbox (channel ``inbox``) is delivered when it is written.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class NoticeState(StrEnum):
    QUEUED = "queued"  # waiting to be sent (``not_before`` says from when: quiet hours end then)
    HELD = "held"  # kept for the person's daily digest
    SENDING = "sending"  # claimed by a dispatcher until ``lease_until``
    RETRY = "retry"  # a temporary failure: sent again at ``not_before``
    ACCEPTED = "accepted"  # the provider took it (the inbox: delivered)
    FAILED = "failed"  # a permanent failure, or out of attempts: a dead letter
    PASSED = "passed"  # never sent: a higher level of the same deadline told the person at once
    DIGESTED = "digested"  # went out inside the daily digest ``digest_id``


OPEN_STATES = (NoticeState.QUEUED, NoticeState.RETRY, NoticeState.SENDING)
INBOX = "inbox"


class Notice(SQLModel, table=True):
    """One message to one person on one channel."""

    __tablename__ = "notice"
    __table_args__ = (
        # What a dispatcher claims: the open ones whose time has come.
        Index("ix_notice_due", "state", "not_before"),
        Index("ix_notice_person", "person_id", "created_at"),
        CheckConstraint(
            "state IN ('queued', 'held', 'sending', 'retry', 'accepted', 'failed', 'passed', 'digested')",
            name="ck_notice_state",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # cause:recipient:channel, e.g. "alert:17:person:5:email"; unique: never twice.
    key: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    cause: str = Field(sa_column=Column(String(16), nullable=False))  # alert, order, inspection, digest…
    alert_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("alert.id"), nullable=True)
    )
    order_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("rectification_order.id"), nullable=True)
    )
    inspection_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=True)
    )
    deadline_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("deadline.id"), nullable=True, index=True)
    )
    project_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("project.id"), nullable=True, index=True)
    )
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    # "inbox", "email", "dingtalk:town-east", "wecom-app:district/USERID"…: never a secret.
    channel: str = Field(sa_column=Column(String(120), nullable=False))
    # Where it goes on that channel: the e-mail address, the phone; none for a group robot.
    address: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    template: str = Field(sa_column=Column(String(40), nullable=False))
    template_hash: str = Field(sa_column=Column(String(64), nullable=False))
    lang: str = Field(sa_column=Column(String(5), nullable=False))
    level: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # A 督办 (escalation): sent at once whatever the hour, and acknowledged in the inbox.
    escalation: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    subject: str = Field(sa_column=Column(Text, nullable=False))
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    state: NoticeState = Field(sa_column=Column(String(10), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Not to be sent before (quiet hours' end, a retry's planned time).
    not_before: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The inbox: when the person read it, and acknowledged it (an escalation must be).
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The notice this one stands in for (a fallback channel, a reminder of an unacknowledged one).
    follows_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("notice.id"), nullable=True)
    )
    digest_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("notice.id"), nullable=True)
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class NoticeAttempt(SQLModel, table=True):
    """One try to deliver a notice: when, on which channel, what came of it. Append-only."""

    __tablename__ = "notice_attempt"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(sa_column=Column(Integer, ForeignKey("notice.id"), nullable=False, index=True))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    channel: str = Field(sa_column=Column(String(120), nullable=False))
    dispatcher: str = Field(sa_column=Column(String(200), nullable=False))
    # accepted, retry, failed, in_doubt (a dispatcher died holding it: sent or not, nobody knows)
    outcome: str = Field(sa_column=Column(String(10), nullable=False))
    # The provider's answer or the error, secrets removed.
    detail: str = Field(sa_column=Column(Text, nullable=False))
    retry_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
