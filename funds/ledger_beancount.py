"""A programme's ledger as a Beancount file (plain-text double-entry accounting), so that anyone can
check its arithmetic with another program: ``bean-check ledger.beancount``.

Every account becomes a Beancount account, its fund first (each fund is its own ledger)::

    source     Income:<Fund>:Source                  the money a level of government gave
    pool       Assets:<Fund>:Pool                    received, not yet allocated
    interfund  Assets:<Fund>:Interfund               a reclassification's clearing account
    allocation Assets:<Fund>:Allocation:<Project>    allocated, not yet disbursed
    bank       Assets:<Fund>:Bank:<Project>          disbursed, not spent nor reserved
    reserved   Assets:<Fund>:Reserved:<Project>      approved payments not yet made
    expense    Expenses:<Fund>:<Project>:<Category>  spent
    payable    Liabilities:<Fund>:Payable:<Project>:V<vendor id>   owed to a vendor

Each entry is a transaction on its local (Asia/Shanghai) date, in yuan (CNY) written exactly from
fen, with its place in the log (``seq``), its hash, voucher and invoice as metadata and a link
``^e<seq>`` (an entry that reverses, settles or pays another also carries that one's link). Every
account is opened on the day of its first entry. Balance assertions close each month (on the first
day of the next; Beancount checks a balance at the start of its day) and the export's last day, with
the balances ducha computes: ``bean-check`` recomputes them from the transactions and must agree to
the fen (``~ 0``: without it Beancount would let a balance be a fen off, its default tolerance).
"""

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from sqlalchemy import and_, func, select
from sqlmodel import Session

from funds.accounts import Kind
from models import FundingSource, Programme, Project
from models.errors import NotFound, Refused
from models.ledger import JournalEntry, JournalLine, LedgerAccount
from models.localtime import local_date
from models.types import table_of

ENTRY, LINE, ACCOUNT = table_of(JournalEntry), table_of(JournalLine), table_of(LedgerAccount)
FUND, PROJECT = table_of(FundingSource), table_of(Project)
CURRENCY = "CNY"
NOT_IN_NAME = re.compile(r"[^A-Za-z0-9-]")


def component(text: str) -> str:
    """A Beancount account name component: ASCII letters, digits and '-', starting with a capital."""
    cleaned = NOT_IN_NAME.sub("-", text)
    if not cleaned[:1].isalnum():
        cleaned = "X" + cleaned
    return cleaned[:1].upper() + cleaned[1:]


def account_name(
    fund: str, kind: str, project: str | None, category: str | None, vendor_id: int | None
) -> str:
    f = component(fund)
    p = component(project) if project else "Programme"
    if kind == Kind.SOURCE:
        return f"Income:{f}:Source"
    if kind == Kind.EXPENSE:
        return f"Expenses:{f}:{p}:{component(category or 'other')}"
    if kind == Kind.PAYABLE:
        return f"Liabilities:{f}:Payable:{p}:V{vendor_id}"
    name = f"Assets:{f}:{component(kind)}"
    return f"{name}:{p}" if project else name


def yuan(fen: int) -> str:
    return str(Decimal(fen).scaleb(-2))


def quoted(text: str) -> str:
    """A Beancount string: one line, its backslashes and quotes escaped."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Written:
    entries: int
    accounts: int
    assertions: int


def _accounts(session: Session, programme: Programme, at: datetime | None) -> dict[str, tuple[str, date]]:
    """Each used account's Beancount name and the local date of its first entry, by ledger code."""
    query = (
        select(
            ACCOUNT.c.code,
            FUND.c.code,
            ACCOUNT.c.kind,
            PROJECT.c.code,
            ACCOUNT.c.category,
            ACCOUNT.c.vendor_id,
            func.min(ENTRY.c.occurred_at),
        )
        .select_from(LINE)
        .join(ENTRY, and_(ENTRY.c.programme_id == LINE.c.programme_id, ENTRY.c.seq == LINE.c.entry_seq))
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(FUND, FUND.c.id == ACCOUNT.c.fund_id)
        .outerjoin(PROJECT, PROJECT.c.id == ACCOUNT.c.project_id)
        .where(LINE.c.programme_id == programme.id)
        .group_by(
            ACCOUNT.c.code,
            FUND.c.code,
            ACCOUNT.c.kind,
            PROJECT.c.code,
            ACCOUNT.c.category,
            ACCOUNT.c.vendor_id,
        )
        .order_by(ACCOUNT.c.code)
    )
    if at is not None:
        query = query.where(ENTRY.c.occurred_at <= at)
    found: dict[str, tuple[str, date]] = {}
    named: dict[str, str] = {}
    for code, fund, kind, project, category, vendor_id, first in session.execute(query):
        name = account_name(fund, kind, project, category, vendor_id)
        if named.setdefault(name, code) != code:
            raise Refused(f"accounts {named[name]} and {code} would both be {name} in Beancount")
        found[code] = (name, local_date(first))
    return found


def _bodies(session: Session, programme: Programme, at: datetime | None) -> Iterator[tuple[str, str]]:
    query = (
        select(ENTRY.c.body, ENTRY.c.entry_hash)
        .where(ENTRY.c.programme_id == programme.id)
        .order_by(ENTRY.c.seq)
        .execution_options(yield_per=2000)
    )
    if at is not None:
        query = query.where(ENTRY.c.occurred_at <= at)
    for body, entry_hash in session.execute(query):
        yield str(body), str(entry_hash)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def write_beancount(*, session: Session, programme: Programme, at: datetime | None, out: TextIO) -> Written:
    """Write the programme's ledger (entries that occurred by ``at``; None: all) to ``out``."""
    accounts = _accounts(session, programme, at)
    if not accounts:
        raise NotFound(f"{programme.name}: the ledger has no entries yet")
    first = min(opened for _, opened in accounts.values())
    out.write(f"; The fund ledger of {programme.name}, written by ducha (funds/ledger_beancount.py).\n")
    out.write("; Check it: bean-check FILE (the balance assertions are ducha's own balances).\n\n")
    out.write(f"option {quoted('title')} {quoted(programme.name)}\n")
    out.write(f"option {quoted('operating_currency')} {quoted(CURRENCY)}\n\n")
    out.write(f"{first.isoformat()} commodity {CURRENCY}\n\n")
    for name, opened in sorted(accounts.values(), key=lambda item: (item[1], item[0])):
        out.write(f"{opened.isoformat()} open {name} {CURRENCY}\n")
    # What each account's lines add up to in each month (by the entries' local dates).
    moved: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    last = first
    count = 0
    for body, entry_hash in _bodies(session, programme, at):
        document = json.loads(body)
        day = local_date(datetime.fromisoformat(document["occurred_at"]))
        last = max(last, day)
        links = [f"^e{document['seq']}"] + [
            f"^e{ref}" for ref in document["refs"].values() if ref is not None
        ]
        vendor = document["vendor"]["name"] if document["vendor"] else None
        narration = " ".join(
            part
            for part in (document["kind"], document["project"], document["category"], document["memo"])
            if part
        )
        payee = f"{quoted(vendor)} " if vendor else ""
        out.write(f"\n{day.isoformat()} * {payee}{quoted(narration)} {' '.join(links)}\n")
        out.write(f"  seq: {document['seq']}\n  entry_hash: {quoted(entry_hash)}\n")
        for key in ("voucher", "invoice"):
            if document[key]:
                out.write(f"  {key}: {quoted(document[key])}\n")
        for line in document["lines"]:
            name = accounts[line["account"]][0]
            out.write(f"  {name}  {yuan(line['amount'])} {CURRENCY}\n")
            moved[line["account"]][date(day.year, day.month, 1)] += line["amount"]
        count += 1
    assertions = 0
    out.write("\n; Balances at the end of each month, and at the end of the last day.\n")
    closing = last + timedelta(days=1)
    for code, (name, opened) in sorted(accounts.items(), key=lambda item: item[1][0]):
        balance = 0
        month = date(opened.year, opened.month, 1)
        while month <= last:
            balance += moved[code].get(month, 0)
            end = min(_next_month(month), closing)
            out.write(f"{end.isoformat()} balance {name}  {yuan(balance)} ~ 0 {CURRENCY}\n")
            assertions += 1
            month = _next_month(month)
    return Written(count, len(accounts), assertions)
