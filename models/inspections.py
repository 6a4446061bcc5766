"""Inspections, their item results and evidence, rectification orders (整改通知) and spot-check draws."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from models.kinds import (  # noqa: F401  (re-exported: the value types of these tables)
    InspectionKind,
    OrderAction,
    OrderOrigin,
    OrderStatus,
    Outcome,
    Verdict,
)
from models.types import UTCDateTime
from models.versioned import VersionedSource


class InspectionTemplateRecord(VersionedSource, table=True):
    """The exact text of one version of a checklist template, kept forever."""

    __tablename__ = "inspection_template"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_inspection_template_version"),)

    kind: str = Field(sa_type=String(32), nullable=False)


class Inspection(SQLModel, table=True):
    """One inspection of one project against one template version; immutable once signed."""

    __tablename__ = "inspection"
    __table_args__ = (
        Index("ix_inspection_project_time", "project_id", "inspected_at"),
        CheckConstraint("score_tenths BETWEEN 0 AND 1000", name="ck_inspection_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False))
    template_id: int = Field(sa_column=Column(Integer, ForeignKey("inspection_template.id"), nullable=False))
    kind: InspectionKind = Field(sa_column=Column(String(32), nullable=False))
    announced: bool = Field(sa_column=Column(Boolean, nullable=False))
    inspected_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Score in tenths of a point (0..1000), computed from the item results, never typed in.
    score_tenths: int = Field(sa_column=Column(Integer, nullable=False))
    outcome: Outcome = Field(sa_column=Column(String(32), nullable=False))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    signed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    signed_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    # A correction is a new inspection that supersedes the signed one it corrects.
    supersedes_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=True, unique=True)
    )
    # A re-inspection points to the inspection whose findings it follows up.
    follow_up_of_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=True)
    )


class InspectionInspector(SQLModel, table=True):
    __tablename__ = "inspection_inspector"

    inspection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("inspection.id"), primary_key=True, nullable=False)
    )
    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id"), primary_key=True, nullable=False)
    )


class InspectionItemResult(SQLModel, table=True):
    """The result of one checklist item; ``value`` is the score or measurement as written."""

    __tablename__ = "inspection_item_result"
    __table_args__ = (UniqueConstraint("inspection_id", "item_key", name="uq_inspection_item"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=False, index=True)
    )
    item_key: str = Field(sa_column=Column(String(64), nullable=False))
    verdict: Verdict = Field(sa_column=Column(String(16), nullable=False))
    passed: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    value: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    evidence_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))


class EvidenceFile(SQLModel, table=True):
    """A stored evidence file, addressed by the SHA-256 of its bytes."""

    __tablename__ = "evidence_file"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    media_type: str = Field(sa_column=Column(String(100), nullable=False))
    stored_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class EvidenceAttachment(SQLModel, table=True):
    """Evidence attached to an item result or an order event, with when and where it was taken."""

    __tablename__ = "evidence_attachment"
    __table_args__ = (
        CheckConstraint(
            "(item_result_id IS NULL) <> (order_event_id IS NULL)", name="ck_evidence_attachment_one_owner"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(sa_column=Column(Integer, ForeignKey("evidence_file.id"), nullable=False))
    item_result_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("inspection_item_result.id"), nullable=True, index=True),
    )
    order_event_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("order_event.id"), nullable=True, index=True)
    )
    original_name: str = Field(sa_column=Column(String(255), nullable=False))
    taken_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    latitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    longitude: float | None = Field(default=None, sa_column=Column(Float, nullable=True))


class RectificationOrder(SQLModel, table=True):
    """限期整改: a failed item to fix by a deadline, answerable by one person."""

    __tablename__ = "rectification_order"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_key", name="uq_order_inspection_item"),
        CheckConstraint(
            "origin <> 'inspection' OR inspection_id IS NOT NULL", name="ck_order_inspection_origin"
        ),
        Index("ix_order_open_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=Column(Integer, ForeignKey("project.id"), nullable=False, index=True))
    origin: OrderOrigin = Field(
        default=OrderOrigin.INSPECTION,
        sa_column=Column(String(16), nullable=False, server_default="inspection"),
    )
    # The inspection whose item failed; an order of another origin may have none. Orders of one
    # inspection are unique per item (NULLs never collide in a unique constraint).
    inspection_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=True)
    )
    item_key: str = Field(sa_column=Column(String(64), nullable=False))
    severity: str = Field(sa_column=Column(String(16), nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    responsible_person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False))
    # The project role that answers for it (the checklist item's ``responsible``): a new holder of
    # the role takes over its open orders. NULL for an order of no project role.
    responsible_role: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: OrderStatus = Field(sa_column=Column(String(16), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False))


class OrderEvent(SQLModel, table=True):
    """One step in an order's life: issued, responded, rejected, verified. Append-only."""

    __tablename__ = "order_event"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(
        sa_column=Column(Integer, ForeignKey("rectification_order.id"), nullable=False, index=True)
    )
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    action: OrderAction = Field(sa_column=Column(String(32), nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    inspection_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=True)
    )


class SpotCheckDraw(SQLModel, table=True):
    """四不两直: a recorded, reproducible random draw of projects to visit unannounced."""

    __tablename__ = "spot_check_draw"

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(
        sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False, index=True)
    )
    drawn_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    drawn_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    # "secure": drawn from the system's secure source when the draw was made (live); "given": the
    # seed came with the command (a simulation only), so the draw can be replayed on purpose.
    seed_source: str = Field(
        default="secure", sa_column=Column(String(8), nullable=False, server_default="secure")
    )
    count: int = Field(sa_column=Column(Integer, nullable=False))
    # Each candidate's weight and the reasons behind it, and the project ids drawn, as recorded.
    weights: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    drawn_project_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
