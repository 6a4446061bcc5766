"""What auditors and the office read from the ledger: balances, a project's trail, the programme's
summary, and the facts of entries (by project, vendor, category, time) that audit rules run on.

Every read takes ``at``: only entries that had happened by then (``occurred_at``) count. Each is one
set-based query; the lists stream (``Listing``).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlmodel import Session

from funds.accounts import Kind
from funds.balance_rows import BalanceRow as BalanceRow
from funds.balance_rows import balance_row
from models import FundingSource, Programme, Project
from models.compiled import Compiled
from models.ledger import ExpenseCategory, JournalEntry, JournalLine, LedgerAccount, Vendor
from models.listing import Listing, Window
from models.types import table_of

ENTRY, LINE, ACCOUNT = table_of(JournalEntry), table_of(JournalLine), table_of(LedgerAccount)
FUND, PROJECT, VENDOR = table_of(FundingSource), table_of(Project), table_of(Vendor)
CATEGORY = table_of(ExpenseCategory)
LINE_OF_ENTRY = and_(ENTRY.c.programme_id == LINE.c.programme_id, ENTRY.c.seq == LINE.c.entry_seq)


@lru_cache(maxsize=8)
def _balances_statement(filters: frozenset[str]) -> Compiled:
    """Every account's balance of the bound ``programme_id``, with ``filters`` (``project_id``, and
    ``occurred_by``: entries that had happened by then); kept, and compiled ahead for ``ducha funds
    balances`` (workflows.ahead)."""
    query = (
        select(
            ACCOUNT.c.code,
            FUND.c.code,
            ACCOUNT.c.kind,
            PROJECT.c.code,
            ACCOUNT.c.category,
            VENDOR.c.name,
            func.sum(LINE.c.amount_fen),
        )
        .select_from(LINE)
        .join(ENTRY, LINE_OF_ENTRY)
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(FUND, FUND.c.id == ACCOUNT.c.fund_id)
        .outerjoin(PROJECT, PROJECT.c.id == ACCOUNT.c.project_id)
        .outerjoin(VENDOR, VENDOR.c.id == ACCOUNT.c.vendor_id)
        .where(LINE.c.programme_id == bindparam("programme_id"))
        .group_by(
            ACCOUNT.c.id,
            ACCOUNT.c.code,
            FUND.c.code,
            ACCOUNT.c.kind,
            PROJECT.c.code,
            ACCOUNT.c.category,
            VENDOR.c.name,
        )
        .order_by(ACCOUNT.c.code)
    )
    if "project_id" in filters:
        query = query.where(ACCOUNT.c.project_id == bindparam("project_id"))
    if "occurred_by" in filters:
        query = query.where(ENTRY.c.occurred_at <= bindparam("occurred_by"))
    return Compiled(query)


def balances(
    *, session: Session, programme: Programme, project: Project | None = None, at: datetime | None = None
) -> Listing[BalanceRow]:
    """Every account's balance (of one project, or all), as of ``at``."""
    given = {"programme_id": programme.id, "project_id": project.id if project else None, "occurred_by": at}
    parameters = {name: value for name, value in given.items() if value is not None}
    query = _balances_statement(frozenset(parameters) - {"programme_id"})
    return Listing.each(session, query, balance_row, Window(), parameters)


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


def trail(
    *, session: Session, project: Project, at: datetime | None = None, window: Window = Window()
) -> Listing[TrailRow]:
    """Every movement on the project's accounts in log order, each with the account's balance after it."""
    query = (
        select(
            ENTRY.c.seq,
            ENTRY.c.occurred_at,
            ENTRY.c.recorded_at,
            ENTRY.c.kind,
            FUND.c.code,
            ACCOUNT.c.code,
            LINE.c.amount_fen,
            LINE.c.balance_fen,
            ENTRY.c.voucher,
            ENTRY.c.invoice,
            VENDOR.c.name,
            ENTRY.c.category,
            ENTRY.c.body,
            ENTRY.c.entry_hash,
        )
        .select_from(LINE)
        .join(ENTRY, LINE_OF_ENTRY)
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(FUND, FUND.c.id == ACCOUNT.c.fund_id)
        .outerjoin(VENDOR, VENDOR.c.id == ENTRY.c.vendor_id)
        .where(LINE.c.programme_id == project.programme_id, ACCOUNT.c.project_id == project.id)
        .order_by(LINE.c.entry_seq, LINE.c.position)
    )
    if at is not None:
        query = query.where(ENTRY.c.occurred_at <= at)

    def row(found: Any) -> TrailRow:
        body = json.loads(found[12])
        f = found
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
            entry_hash=found[13],
        )

    return Listing.each(session, query, row, window)


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


def summary(*, session: Session, programme: Programme, at: datetime | None = None) -> Summary:
    """Allocated, disbursed, reserved, spent, owed and idle money by fund and by project: one GROUP BY."""
    query = (
        select(FUND.c.code, PROJECT.c.code, ACCOUNT.c.kind, func.sum(LINE.c.amount_fen))
        .select_from(LINE)
        .join(ENTRY, LINE_OF_ENTRY)
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(FUND, FUND.c.id == ACCOUNT.c.fund_id)
        .outerjoin(PROJECT, PROJECT.c.id == ACCOUNT.c.project_id)
        .where(LINE.c.programme_id == programme.id)
        .group_by(FUND.c.code, PROJECT.c.code, ACCOUNT.c.kind)
        .order_by(PROJECT.c.code, FUND.c.code)
    )
    if at is not None:
        query = query.where(ENTRY.c.occurred_at <= at)
    sources = session.execute(
        select(FUND.c.code, FUND.c.name, FUND.c.amount_fen)
        .where(FUND.c.programme_id == programme.id)
        .order_by(FUND.c.position)
    ).all()
    funds = {code: FundSummary(code, name, budget) for code, name, budget in sources}
    projects: dict[tuple[str, str], ProjectSummary] = {}
    for fund, project, kind, total in session.execute(query):
        balance = int(total)
        if project is None:
            if kind == Kind.SOURCE:
                funds[fund].received_fen = -balance
            elif kind == Kind.POOL:
                funds[fund].pool_fen = balance
            continue
        projects.setdefault((project, fund), ProjectSummary(project, fund)).position.add(kind, balance)
        funds[fund].position.add(kind, balance)
    return Summary(programme.name, at, list(funds.values()), list(projects.values()))


@dataclass(frozen=True)
class EntryFact:
    """One entry as audit rules see it: what, where, who was paid, on what, when, and its evidence."""

    seq: int
    kind: str
    fund: str
    project: str | None
    vendor: str | None
    small_firm: bool | None
    category: str | None
    earmarked: bool | None
    amount_fen: int
    voucher: str | None
    invoice: str | None
    occurred_at: datetime
    recorded_at: datetime
    actor_id: int | None
    reverses: int | None
    settles: int | None
    payable: int | None
    linked: int | None
    override: bool
    entry_hash: str


def entry_facts(
    *,
    session: Session,
    programme: Programme,
    project: Project | None = None,
    vendor: Vendor | None = None,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    window: Window = Window(),
) -> Listing[EntryFact]:
    """The entries of a programme in log order, with their vendor's and category's facts joined."""
    query = (
        select(
            ENTRY.c.seq,
            ENTRY.c.kind,
            FUND.c.code,
            PROJECT.c.code,
            VENDOR.c.name,
            VENDOR.c.small_firm,
            ENTRY.c.category,
            CATEGORY.c.earmarked,
            ENTRY.c.amount_fen,
            ENTRY.c.voucher,
            ENTRY.c.invoice,
            ENTRY.c.occurred_at,
            ENTRY.c.recorded_at,
            ENTRY.c.actor_id,
            ENTRY.c.reverses_seq,
            ENTRY.c.settles_seq,
            ENTRY.c.payable_seq,
            ENTRY.c.linked_seq,
            ENTRY.c.override,
            ENTRY.c.entry_hash,
        )
        .select_from(ENTRY)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .outerjoin(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
        .outerjoin(VENDOR, VENDOR.c.id == ENTRY.c.vendor_id)
        .outerjoin(
            CATEGORY,
            and_(CATEGORY.c.programme_id == ENTRY.c.programme_id, CATEGORY.c.code == ENTRY.c.category),
        )
        .where(ENTRY.c.programme_id == programme.id)
        .order_by(ENTRY.c.seq)
    )
    if project is not None:
        query = query.where(ENTRY.c.project_id == project.id)
    if vendor is not None:
        query = query.where(ENTRY.c.vendor_id == vendor.id)
    if category is not None:
        query = query.where(ENTRY.c.category == category)
    if since is not None:
        query = query.where(ENTRY.c.occurred_at >= since)
    if until is not None:
        query = query.where(ENTRY.c.occurred_at <= until)
    return Listing.each(session, query, lambda row: EntryFact(*row), window)


def body_lines(session: Session, programme: Programme, upto: int) -> Iterator[str]:
    """The canonical documents of entries 0 … upto − 1, in log order (for an export)."""
    query = (
        select(ENTRY.c.body)
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.seq < upto)
        .order_by(ENTRY.c.seq)
        .execution_options(yield_per=2000)
    )
    for (body,) in session.execute(query):
        yield body
