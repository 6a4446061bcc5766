"""Deadlines (every obligation is a row), their escalation levels, and the alerts a sweep raises."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.kinds import Role
from models.types import UTCDateTime


class DeadlineKind(StrEnum):
    MILESTONE = "milestone"  # programme milestone, e.g. all start construction by 2026-12-31
    STAGE_LIMIT = "stage_limit"  # time allowed in a workflow stage
    RECTIFICATION = "rectification"  # 限期整改: an order's deadline
    CADENCE = "cadence"  # 一月一总结、一季度一督查、一年一考评


class Cadence(StrEnum):
    MONTHLY_SUMMARY = "monthly_summary"  # 一月一总结
    QUARTERLY_INSPECTION = "quarterly_inspection"  # 一季度一督查
    YEARLY_EVALUATION = "yearly_evaluation"  # 一年一考评


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    WAIVED = "waived"


class Deadline(SQLModel, table=True):
    """One obligation with a due time; ``next_level_at`` says when the sweep must look at it again."""

    __tablename__ = "deadline"
    __table_args__ = (
        UniqueConstraint("subject", name="uq_deadline_subject"),
        # The sweep reads only open deadlines whose next level has come.
        Index("ix_deadline_sweep", "next_level_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: DeadlineKind = Field(sa_column=Column(String(16), nullable=False))
    # What the obligation is about, unique: "milestone:start_construction:project:7", "order:12".
    subject: str = Field(sa_column=Column(String(120), nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    programme_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("programme.id"), nullable=True, index=True)
    )
    project_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("project.id"), nullable=True, index=True)
    )
    order_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("rectification_order.id"), nullable=True)
    )
    # What it is about, in columns (the subject says the same in one string): the milestone's key;
    # the stage and when the project entered it; the cadence and the period it covers.
    milestone_key: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    stage: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    stage_entered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    cadence: Cadence | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    period_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    period_end: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    status: DeadlineStatus = Field(sa_column=Column(String(8), nullable=False))
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Who settled it by hand (a cadence recorded done, a waiver) and why; NULL when its own event did.
    settled_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    settle_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Position in the ladder of the next level to raise, and when; NULL once nothing is left to raise.
    next_level: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    next_level_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class DeadlineLevel(SQLModel, table=True):
    """When one escalation level of one revision falls due, and which roles it tells."""

    __tablename__ = "deadline_level"
    __table_args__ = (Index("ix_deadline_level_due", "deadline_id", "revision", "at"),)

    deadline_id: int = Field(
        sa_column=Column(Integer, ForeignKey("deadline.id"), primary_key=True, nullable=False)
    )
    revision: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    level: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    name: str = Field(sa_column=Column(String(32), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The roles told at this level, in order: ["specialist", "leader"].
    notify: list[Role] = Field(sa_column=Column(JSON, nullable=False))


class Alert(SQLModel, table=True):
    """A deadline reached a level: raised once per (deadline, revision, level), never again."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("deadline_id", "revision", "level", name="uq_alert_level"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(sa_column=Column(Integer, ForeignKey("deadline.id"), nullable=False, index=True))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    level: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(sa_column=Column(String(32), nullable=False))
    notify: list[Role] = Field(sa_column=Column(JSON, nullable=False))
    level_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    raised_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DeadlineRevision(SQLModel, table=True):
    """An approved extension: the deadline's revision ``revision`` is due at ``due_at`` instead of
    ``previous_due_at``. Append-only; the deadline row moves to a new revision only with one of these."""

    __tablename__ = "deadline_revision"

    deadline_id: int = Field(
        sa_column=Column(Integer, ForeignKey("deadline.id"), primary_key=True, nullable=False)
    )
    revision: int = Field(sa_column=Column(Integer, primary_key=True, nullable=False))
    previous_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    approved_by_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
