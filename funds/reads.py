"""What auditors and the office read from the ledger: balances, a project's trail, the programme's
summary, and the facts of entries (by project, vendor, category, time) that audit rules run on.

Every read takes ``at``: only entries that had happened by then (``occurred_at``) count. Each is one
set-based query; the lists stream (``Listing``).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlmodel import Session

from funds.balance_rows import BalanceRow as BalanceRow
from funds.balance_rows import balance_row
from funds.summary_rows import FundSummary as FundSummary
from funds.summary_rows import Position as Position
from funds.summary_rows import ProjectSummary as ProjectSummary
from funds.summary_rows import Summary as Summary
from funds.summary_rows import make_summary
from funds.trail_rows import TrailRow as TrailRow
from funds.trail_rows import trail_row
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


@cache
def _trail_statement(until: bool) -> Compiled:
    """A project's movements (``project_id`` of ``programme_id``) in log order, those by ``until`` if
    given; kept, and compiled ahead for ``ducha audit trail`` (workflows.ahead)."""
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
        .where(
            LINE.c.programme_id == bindparam("programme_id"), ACCOUNT.c.project_id == bindparam("project_id")
        )
        .order_by(LINE.c.entry_seq, LINE.c.position)
    )
    if until:
        query = query.where(ENTRY.c.occurred_at <= bindparam("until"))
    return Compiled(query)


def trail(
    *, session: Session, project: Project, at: datetime | None = None, window: Window = Window()
) -> Listing[TrailRow]:
    """Every movement on the project's accounts in log order, each with the account's balance after it."""
    parameters: dict[str, Any] = {"programme_id": project.programme_id, "project_id": project.id}
    if at is not None:
        parameters["until"] = at
    return Listing.each(session, _trail_statement(at is not None), trail_row, window, parameters)


@cache
def _fund_sources_statement() -> Compiled:
    """A programme's (``programme_id``) funding sources in their order: code, name, budget."""
    return Compiled(
        select(FUND.c.code, FUND.c.name, FUND.c.amount_fen)
        .where(FUND.c.programme_id == bindparam("programme_id"))
        .order_by(FUND.c.position)
    )


@cache
def _summary_statement(until: bool) -> Compiled:
    """The sum of each (fund, project, kind) of accounts of a programme (``programme_id``), of the
    entries by ``until`` if given: one GROUP BY; kept, and compiled ahead for ``ducha audit summary``."""
    query = (
        select(FUND.c.code, PROJECT.c.code, ACCOUNT.c.kind, func.sum(LINE.c.amount_fen))
        .select_from(LINE)
        .join(ENTRY, LINE_OF_ENTRY)
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(FUND, FUND.c.id == ACCOUNT.c.fund_id)
        .outerjoin(PROJECT, PROJECT.c.id == ACCOUNT.c.project_id)
        .where(LINE.c.programme_id == bindparam("programme_id"))
        .group_by(FUND.c.code, PROJECT.c.code, ACCOUNT.c.kind)
        .order_by(PROJECT.c.code, FUND.c.code)
    )
    if until:
        query = query.where(ENTRY.c.occurred_at <= bindparam("until"))
    return Compiled(query)


def summary(*, session: Session, programme: Programme, at: datetime | None = None) -> Summary:
    """Allocated, disbursed, reserved, spent, owed and idle money by fund and by project: one GROUP BY."""
    parameters: dict[str, Any] = {"programme_id": programme.id}
    sources = _fund_sources_statement().all(session, parameters)
    if at is not None:
        parameters["until"] = at
    totals = _summary_statement(at is not None).all(session, parameters)
    return make_summary(programme.name, at, sources, totals)


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
