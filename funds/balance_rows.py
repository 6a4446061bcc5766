"""An account's row of the balances, made without SQLAlchemy.

``funds.reads.balances`` (SQLAlchemy's path) and ``workflows.lean_reads`` (the statement compiled
ahead, for ``ducha funds balances``) read the same columns and make their rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BalanceRow:
    account: str
    fund: str
    kind: str
    project: str | None
    category: str | None
    vendor: str | None
    balance_fen: int


def balance_row(found: Any) -> BalanceRow:
    """The row of one result row of ``funds.reads._balances_statement`` (the sum is a Decimal on
    PostgreSQL: fen, whole)."""
    account, fund, kind, project, category, vendor, balance = found
    return BalanceRow(account, fund, kind, project, category, vendor, int(balance))
