"""Findings of fund audits: what an audit rule found in a programme's ledger, once per occurrence.

A finding is recorded the first time a rule finds its subject (an entry, a project's fund, a voucher
number …); an audit run again as of the same or a later day finds the same subject and records
nothing. An audit with the rule in force that no longer finds it clears it (``cleared_at``); found
again after that, it is a new occurrence of the subject, with its own inspection and order. A
finding about a project is a failed item of a fund-audit inspection of that project and becomes a
rectification order (origin: the audit); one about the whole programme (allocations against the
budget per source) answers to the office and has no order.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class FundAuditFinding(SQLModel, table=True):
    """One thing one audit rule found, with the ledger entries (numbers in the log) that show it."""

    __tablename__ = "fund_audit_finding"
    __table_args__ = (
        UniqueConstraint(
            "programme_id", "rule", "subject", "occurrence", name="uq_fund_audit_finding_occurrence"
        ),
        Index("ix_fund_audit_finding_project", "project_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(sa_column=Column(Integer, ForeignKey("programme.id"), nullable=False))
    rule: str = Field(sa_column=Column(String(64), nullable=False))
    # The version of the rule that found it: the date it was in force from, and what it cites.
    rule_effective: date = Field(sa_column=Column(Date, nullable=False))
    regulation: str = Field(sa_column=Column(Text, nullable=False))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    # 1 the first time the rule finds the subject; one more each time it is found after it cleared.
    occurrence: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    project_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("project.id"), nullable=True)
    )
    fund: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    severity: str = Field(sa_column=Column(String(16), nullable=False))
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    evidence: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The day the audit was run as of, when it was recorded, and by whom (None: the scheduled job).
    as_of: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    inspection_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("inspection.id"), nullable=True)
    )
    order_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("rectification_order.id"), nullable=True)
    )
    # As of when an audit with the rule in force no longer found it; None while it stands.
    cleared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
