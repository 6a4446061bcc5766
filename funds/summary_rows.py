"""The programme's money summary (``ducha audit summary``) made from its two reads, without SQLAlchemy.

``funds.reads.summary`` (SQLAlchemy's path) and ``workflows.lean_audit.summary`` (the statements
compiled ahead) read the same columns and add them up here: one arithmetic for both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from funds.account_kinds import Kind


@dataclass
class Position:
    """Money of one fund (and one project, or the whole fund), by where it is."""

    allocated_fen: int = 0
    disbursed_fen: int = 0
    reserved_fen: int = 0
    spent_fen: int = 0
    owed_fen: int = 0  # payables not yet paid
    idle_fen: int = 0  # disbursed, neither spent nor reserved: in the project's bank account

    def add(self, kind: str, balance: int) -> None:
        self.allocated_fen += balance
        if kind != Kind.ALLOCATION:
            self.disbursed_fen += balance
        if kind == Kind.RESERVED:
            self.reserved_fen += balance
        elif kind == Kind.EXPENSE:
            self.spent_fen += balance
        elif kind == Kind.PAYABLE:
            self.owed_fen -= balance
        elif kind == Kind.BANK:
            self.idle_fen += balance


@dataclass
class FundSummary:
    fund: str
    name: str
    budget_fen: int
    received_fen: int = 0
    pool_fen: int = 0  # received, not yet allocated
    position: Position = field(default_factory=Position)


@dataclass
class ProjectSummary:
    project: str
    fund: str
    position: Position = field(default_factory=Position)


@dataclass
class Summary:
    programme: str
    as_of: datetime | None
    funds: list[FundSummary]
    projects: list[ProjectSummary]


def make_summary(
    programme: str,
    at: datetime | None,
    sources: Iterable[Any],
    totals: Iterable[Any],
) -> Summary:
    """The summary of a programme's funds (``sources``: code, name, budget in their order) from the
    sum of each (fund, project, kind) of accounts (``totals``, a project's rows in project order)."""
    funds = {code: FundSummary(code, name, budget) for code, name, budget in sources}
    projects: dict[tuple[str, str], ProjectSummary] = {}
    for fund, project, kind, total in totals:
        balance = int(total)
        if project is None:
            if kind == Kind.SOURCE:
                funds[fund].received_fen = -balance
            elif kind == Kind.POOL:
                funds[fund].pool_fen = balance
            continue
        projects.setdefault((project, fund), ProjectSummary(project, fund)).position.add(kind, balance)
        funds[fund].position.add(kind, balance)
    return Summary(programme, at, list(funds.values()), list(projects.values()))
