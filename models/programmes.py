"""Programmes, their funding sources and milestones, and the projects they fund."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Programme(SQLModel, table=True):
    """A programme of projects under one earmark, e.g. 村级组织活动场所建设(第一批)."""

    __tablename__ = "programme"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    district_id: int = Field(sa_column=Column(Integer, ForeignKey("place.id"), nullable=False))
    # The workflow definition its projects follow (each project pins the version it started with).
    definition_key: str = Field(sa_column=Column(String(64), nullable=False))
    # 专款专用: what the money may be spent on.
    earmark: str = Field(default="", sa_column=Column(Text, nullable=False))
    illustrative: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FundingSource(SQLModel, table=True):
    """One source of a programme's budget (e.g. upper-level funds), in fen."""

    __tablename__ = "funding_source"
    __table_args__ = (
        UniqueConstraint("programme_id", "code", name="uq_funding_source_code"),
        CheckConstraint("amount_fen >= 0", name="ck_funding_source_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False, index=True)
    )
    code: str = Field(sa_column=Column(String(32), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    position: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class ProgrammeMilestone(SQLModel, table=True):
    """A programme-wide date for a milestone its workflow declares ("all start by 2026-12-31")."""

    __tablename__ = "programme_milestone"
    __table_args__ = (UniqueConstraint("programme_id", "key", name="uq_programme_milestone_key"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False, index=True)
    )
    key: str = Field(sa_column=Column(String(64), nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False))


class Project(SQLModel, table=True):
    """One village's project; ``version`` guards against concurrent transitions."""

    __tablename__ = "project"
    __table_args__ = (
        UniqueConstraint("programme_id", "code", name="uq_project_code"),
        UniqueConstraint("programme_id", "village_id", name="uq_project_village"),
        CheckConstraint("planned_finish >= planned_start", name="ck_project_planned_dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False, index=True)
    )
    village_id: int = Field(sa_column=Column(Integer, ForeignKey("place.id"), nullable=False))
    code: str = Field(sa_column=Column(String(32), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    definition_key: str = Field(sa_column=Column(String(64), nullable=False))
    definition_version: int = Field(sa_column=Column(Integer, nullable=False))
    stage: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    # The stage a suspended project returns to when it resumes.
    resume_stage: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    stage_entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    planned_start: date = Field(sa_column=Column(Date, nullable=False))
    planned_finish: date = Field(sa_column=Column(Date, nullable=False))
    actual_start: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    actual_finish: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ProjectFunding(SQLModel, table=True):
    """A project's budget from one funding source, in fen."""

    __tablename__ = "project_funding"
    __table_args__ = (
        UniqueConstraint("project_id", "source_id", name="uq_project_funding_source"),
        CheckConstraint("amount_fen >= 0", name="ck_project_funding_amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True))
    source_id: int = Field(sa_column=Column(Integer, ForeignKey("funding_source.id"), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))


class ProjectDocument(SQLModel, table=True):
    """A document recorded for a project (site plan, land approval, design, budget…)."""

    __tablename__ = "project_document"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
