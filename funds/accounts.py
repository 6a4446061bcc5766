"""Accounts, vendors and expense categories: found, or made once, inside the appending transaction.

An account's code names it in the entry documents: ``<fund>/<kind>[/<project>[/<category or vendor>]]``,
e.g. ``upper/bank/P007``, ``upper/expense/P007/construction``, ``district/payable/P007/v3``.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, col, select

from funds.account_kinds import PROJECT_KINDS as PROJECT_KINDS
from funds.account_kinds import Kind as Kind
from funds.journal import Account, Log
from models import FundingSource, Programme, Project
from models.errors import NotFound, Refused
from models.ledger import ExpenseCategory, LedgerAccount, Vendor
from models.types import table_of

# (code, name, earmarked): the earmark of the programmes (建设和办公用品配置) and what lies outside it.
DEFAULT_CATEGORIES = (
    ("construction", "建设 construction", True),
    ("furnishing", "办公用品配置 office furnishing", True),
    ("vehicle", "车辆购置 vehicles", False),
    ("hospitality", "接待 hospitality", False),
    ("other", "其他 other", False),
)


def account_code(
    fund: str,
    kind: Kind,
    project: str | None = None,
    category: str | None = None,
    vendor_id: int | None = None,
) -> str:
    parts = [fund, kind.value]
    if project is not None:
        parts.append(project)
    if category is not None:
        parts.append(category)
    if vendor_id is not None:
        parts.append(f"v{vendor_id}")
    return "/".join(parts)


def account(
    log: Log,
    fund: FundingSource,
    kind: Kind,
    project: Project | None = None,
    *,
    category: str | None = None,
    vendor: Vendor | None = None,
) -> Account:
    """The account, made on first use (the log's lock is held: nobody makes it at the same time)."""
    assert fund.id is not None
    code = account_code(
        fund.code, kind, project.code if project else None, category, vendor.id if vendor else None
    )
    cache = log.accounts
    found = cache.get(code)
    if found is not None:
        return found
    row = log.session.exec(
        select(LedgerAccount).where(
            col(LedgerAccount.programme_id) == log.programme_id, col(LedgerAccount.code) == code
        )
    ).first()
    if row is None:
        row = LedgerAccount(
            programme_id=log.programme_id,
            fund_id=fund.id,
            kind=kind.value,
            project_id=project.id if project else None,
            vendor_id=vendor.id if vendor else None,
            category=category,
            code=code,
        )
        log.session.add(row)
        log.session.flush()
    assert row.id is not None
    cache[code] = Account(row.id, code, fund.id)
    return cache[code]


def ensure_categories(*, session: Session, programme: Programme) -> list[ExpenseCategory]:
    """The programme's expense categories, the defaults made on first use."""
    found = list(
        session.exec(
            select(ExpenseCategory)
            .where(col(ExpenseCategory.programme_id) == programme.id)
            .order_by(col(ExpenseCategory.id))
        ).all()
    )
    if not found:  # two first writers at once: the second's rows are skipped, not an error
        rows = [
            {"programme_id": programme.id, "code": code, "name": name, "earmarked": earmarked}
            for code, name, earmarked in DEFAULT_CATEGORIES
        ]
        insert_or_skip(session, table_of(ExpenseCategory), rows)
        return ensure_categories(session=session, programme=programme)
    return found


def find_category(*, session: Session, programme: Programme, code: str) -> ExpenseCategory:
    categories = ensure_categories(session=session, programme=programme)
    for category in categories:
        if category.code == code:
            return category
    known = ", ".join(c.code for c in categories)
    raise NotFound(f"--category {code!r}: no such expense category (categories: {known})")


def find_fund(*, session: Session, programme: Programme, code: str) -> FundingSource:
    sources = list(
        session.exec(
            select(FundingSource)
            .where(col(FundingSource.programme_id) == programme.id)
            .order_by(col(FundingSource.position))
        ).all()
    )
    for source in sources:
        if source.code == code:
            return source
    raise NotFound(f"--fund {code!r}: {programme.name} has no such funding source (funds: {_codes(sources)})")


def _codes(sources: Iterable[FundingSource]) -> str:
    return ", ".join(source.code for source in sources)


def insert_or_skip(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those a unique constraint says are there (made meanwhile by another)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)


def ensure_vendor(*, session: Session, name: str, small_firm: bool | None, now: datetime) -> Vendor:
    """The vendor of that name, made on first use; its small-firm status is fixed when it is made."""
    vendor = session.exec(select(Vendor).where(col(Vendor.name) == name)).first()
    if vendor is None:
        insert_or_skip(
            session, table_of(Vendor), [{"name": name, "small_firm": bool(small_firm), "created_at": now}]
        )
        vendor = session.exec(select(Vendor).where(col(Vendor.name) == name)).one()
    if small_firm is not None and vendor.small_firm != small_firm:
        state = "a small firm" if vendor.small_firm else "not a small firm"
        raise Refused(f"vendor {name!r} is recorded as {state}; that does not change")
    return vendor
