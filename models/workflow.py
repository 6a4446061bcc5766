"""Loaded workflow definitions and the append-only history of every project's stages."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime
from models.versioned import VersionedSource


class WorkflowDefinitionRecord(VersionedSource, table=True):
    """The exact text of one version of a workflow definition, kept forever."""

    __tablename__ = "workflow_definition"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_workflow_definition_version"),)


class WorkflowEvent(SQLModel, table=True):
    """One stage change: who, when, from, to, why. Rows are never updated or deleted."""

    __tablename__ = "workflow_event"
    __table_args__ = (Index("ix_workflow_event_project_time", "project_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    # The actor's name as it was, so history reads the same after people are renamed.
    actor_name: str = Field(sa_column=Column(String(64), nullable=False))
    from_stage: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    to_stage: str = Field(sa_column=Column(String(32), nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    definition_version: int = Field(sa_column=Column(Integer, nullable=False))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
