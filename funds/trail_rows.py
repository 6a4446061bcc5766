"""A project's fund trail row (``ducha audit trail``), made without SQLAlchemy.

``funds.reads.trail`` (SQLAlchemy's path) and ``workflows.lean_audit.trail`` (the statement compiled
ahead) read the same columns and make their rows here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TrailRow:
    """One movement of a project's money: an entry's line on one of its accounts."""

    seq: int
    occurred_at: datetime
    recorded_at: datetime
    kind: str
    fund: str
    account: str
    amount_fen: int
    balance_fen: int
    voucher: str | None
    invoice: str | None
    vendor: str | None
    category: str | None
    documents: list[str]
    actor: str | None
    memo: str | None
    refs: dict[str, int]
    override: str | None
    entry_hash: str


def trail_row(found: Any) -> TrailRow:
    """The row of one result row of ``funds.reads._trail_statement`` (the entry's document parsed)."""
    f = found
    body = json.loads(f[12])
    return TrailRow(
        f[0],
        f[1],
        f[2],
        f[3],
        f[4],
        f[5],
        int(f[6]),
        int(f[7]),
        f[8],
        f[9],
        f[10],
        f[11],
        documents=[item["sha256"] for item in body["documents"]],
        actor=body["actor"]["name"] if body["actor"] else None,
        memo=body["memo"],
        refs={key: value for key, value in body["refs"].items() if value is not None},
        override=body["override"]["reason"] if body["override"] else None,
        entry_hash=f[13],
    )
