"""An inspection's row of the list, made without SQLAlchemy.

``inspections.queries.list_inspections`` (SQLAlchemy's path) and ``workflows.lean_reads`` (the
statement compiled ahead, for ``ducha inspections``) read the same columns and make their rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class InspectionRow:
    id: int
    project_id: int
    project_code: str
    kind: str
    announced: bool
    inspected_at: datetime
    score: Decimal
    outcome: str
    signed_at: datetime | None
    supersedes_id: int | None
    follow_up_of_id: int | None


def inspection_row(found: Any) -> InspectionRow:
    """The row of one result row of ``inspections.queries._inspections_statement``."""
    (
        inspection_id, project_id, code, kind, announced, inspected_at, score_tenths, outcome, signed_at,
        supersedes_id, follow_up_of_id,
    ) = found  # fmt: skip
    return InspectionRow(
        id=inspection_id,
        project_id=project_id,
        project_code=code,
        kind=kind,
        announced=announced,
        inspected_at=inspected_at,
        score=Decimal(score_tenths) / 10,
        outcome=outcome,
        signed_at=signed_at,
        supersedes_id=supersedes_id,
        follow_up_of_id=follow_up_of_id,
    )


@dataclass(frozen=True)
class ItemLine:
    """One item of an inspection as ``ducha inspect show`` prints it."""

    item_key: str
    text: str
    verdict: str | None
    value: str | None
    notes: str
    original_verdict: str | None  # in the inspection a re-inspection follows up


@dataclass(frozen=True)
class ResultLine:
    """What an item's recorded result shows (``inspection_item_result``: verdict, value, notes)."""

    verdict: str | None
    value: str | None
    notes: str


def item_lines(
    items: list[tuple[str, str]], rows: dict[str, ResultLine], original: dict[str, ResultLine]
) -> list[ItemLine]:
    """The template's items (key, text) in its order, each with its result and the original's verdict."""
    return [
        ItemLine(
            item_key=key,
            text=text,
            verdict=rows[key].verdict if key in rows else None,
            value=rows[key].value if key in rows else None,
            notes=rows[key].notes if key in rows else "",
            original_verdict=original[key].verdict if key in original else None,
        )
        for key, text in items
    ]
