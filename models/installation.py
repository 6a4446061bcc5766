"""The installation itself: live or simulation, the record of attributed writes, the scheduler's lease."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Mode(StrEnum):
    LIVE = "live"  # time is the system clock's: a write dated in the future is refused
    SIMULATION = "simulation"  # training or playing a programme ahead: any time is accepted


class Installation(SQLModel, table=True):
    """One row, written once by ``ducha init`` or ``ducha demo``: what kind of database this is."""

    __tablename__ = "installation"
    __table_args__ = (
        CheckConstraint("id = 1", name="ck_installation_one_row"),
        CheckConstraint("mode IN ('live', 'simulation')", name="ck_installation_mode"),
    )

    id: int = Field(default=1, primary_key=True)
    mode: Mode = Field(sa_column=Column(String(10), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Activity(SQLModel, table=True):
    """One attributed write that has no history table of its own: a unit or person added, a programme
    created, a register imported, a workflow loaded (with a weaker-guard reason). Append-only."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_time", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # NULL: the system (init, the scheduled jobs).
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True, index=True)
    )
    action: str = Field(sa_column=Column(String(40), nullable=False))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SchedulerLease(SQLModel, table=True):
    """Which scheduler process runs the jobs, until when: renewed while it lives, taken over after."""

    __tablename__ = "scheduler_lease"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    holder: str = Field(sa_column=Column(String(200), nullable=False))
    acquired_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
