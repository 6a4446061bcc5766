"""A recorded fund-audit finding's row (``ducha audit findings``), made without SQLAlchemy.

``workflows.fund_audit.audit_findings`` (SQLAlchemy's path) and ``workflows.lean_audit.findings``
(the statement compiled ahead) read the same columns and make their rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FindingRow:
    """A recorded finding as the auditor reads it, with its order's state."""

    id: int
    rule: str
    rule_effective: str
    regulation: str
    subject: str
    project: str | None
    fund: str | None
    severity: str
    amount_fen: int
    evidence: list[int]
    description: str
    detail: dict[str, object]
    as_of: datetime
    order_id: int | None
    order_status: str | None
    order_due_at: datetime | None
    occurrence: int
    cleared_at: datetime | None


def finding_row(found: Any) -> FindingRow:
    """The row of one result row of ``workflows.fund_audit._findings_statement``."""
    (
        finding_id, rule, rule_effective, regulation, subject, project, fund, severity, amount_fen,
        evidence, description, detail, as_of, order_id, status, due_at, occurrence, cleared_at,
    ) = found  # fmt: skip
    return FindingRow(
        finding_id,
        rule,
        rule_effective.isoformat(),
        regulation,
        subject,
        project,
        fund,
        severity,
        amount_fen,
        list(evidence),
        description,
        dict(detail),
        as_of,
        order_id,
        str(status) if status is not None else None,
        due_at,
        occurrence,
        cleared_at,
    )
