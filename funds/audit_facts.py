"""What the audit rules that look at amounts find in a programme's ledger as of a day: spending
outside the earmark, beyond an allocation, allocations against the budget per source, a voucher or
invoice number used twice. Set-based queries, one or two per rule, never a parameter per row; the
rules that look along time are in ``funds/audit_timing.py``.

Only what had happened by ``as_of`` counts (``occurred_at``); an entry reversed by then is as if it
never was (a reversing entry is no spending either). Each rule returns ``Finding``s whose
``evidence`` are entry numbers in the log.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from funds.accounts import Kind
from funds.audit_rules import DuplicateParams, Finding, OverspendParams, RuleVersion
from funds.reads import ACCOUNT, CATEGORY, ENTRY, FUND, LINE, LINE_OF_ENTRY, PROJECT
from models import Inspection, Programme, ProjectFunding, WorkflowEvent, format_yuan
from models.types import table_of

INSPECTION, EVENT, BUDGET = table_of(Inspection), table_of(WorkflowEvent), table_of(ProjectFunding)
SPENDING = ("spend", "commit", "payable")
REVERSAL = aliased(ENTRY, name="reversal")
SETTLED = aliased(ENTRY, name="settled")


def live(as_of: datetime) -> ColumnElement[bool]:
    """The entry had happened by ``as_of`` and was not reversed by then (nor is a reversal)."""
    reversed_ = exists().where(
        REVERSAL.c.programme_id == ENTRY.c.programme_id,
        REVERSAL.c.reverses_seq == ENTRY.c.seq,
        REVERSAL.c.occurred_at <= as_of,
    )
    return and_(ENTRY.c.occurred_at <= as_of, ENTRY.c.kind != "reverse", ~reversed_)


def not_voided(as_of: datetime) -> ColumnElement[bool]:
    return ~exists().where(
        SETTLED.c.programme_id == ENTRY.c.programme_id,
        SETTLED.c.settles_seq == ENTRY.c.seq,
        SETTLED.c.kind == "void",
        SETTLED.c.occurred_at <= as_of,
    )


def outside_earmark(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """Spending, a commitment or a payable on a category outside the programme's earmark."""
    query = (
        select(
            ENTRY.c.seq, ENTRY.c.project_id, PROJECT.c.code, FUND.c.code, ENTRY.c.category, ENTRY.c.amount_fen
        )
        .select_from(ENTRY)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .join(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
        .outerjoin(
            CATEGORY,
            and_(CATEGORY.c.programme_id == ENTRY.c.programme_id, CATEGORY.c.code == ENTRY.c.category),
        )
        .where(
            ENTRY.c.programme_id == programme.id,
            ENTRY.c.kind.in_(SPENDING),
            or_(CATEGORY.c.earmarked.is_(None), CATEGORY.c.earmarked == False),  # noqa: E712
            live(as_of),
            not_voided(as_of),
        )
        .order_by(ENTRY.c.seq)
    )
    for seq, project_id, code, fund, category, amount in session.execute(query):
        yield Finding(
            rule.key,
            f"entry {seq}",
            project_id,
            code,
            fund,
            int(amount),
            (seq,),
            f"第{seq}号分录 {format_yuan(amount)} 元用于“{category}”，不在专项资金用途内"
            f" (entry {seq}: {format_yuan(amount)} on {category}, outside the earmark)",
            {"category": category},
        )


def _project_positions(programme: Programme, as_of: datetime) -> Any:
    """Per project and fund: what it received (every line on its accounts) and spent or reserved."""
    spent = func.sum(
        case((ACCOUNT.c.kind.in_((Kind.EXPENSE.value, Kind.RESERVED.value)), LINE.c.amount_fen), else_=0)
    )
    return (
        select(
            ACCOUNT.c.project_id.label("project_id"),
            ACCOUNT.c.fund_id.label("fund_id"),
            func.sum(LINE.c.amount_fen).label("allocated"),
            spent.label("spent"),
        )
        .select_from(LINE)
        .join(ENTRY, LINE_OF_ENTRY)
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .where(
            LINE.c.programme_id == programme.id,
            ACCOUNT.c.project_id.is_not(None),
            ENTRY.c.occurred_at <= as_of,
        )
        .group_by(ACCOUNT.c.project_id, ACCOUNT.c.fund_id)
    )


def overspend(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """A project whose spending and reservations in a fund exceed what it was allocated in it."""
    params: OverspendParams = rule.params
    positions = _project_positions(programme, as_of).subquery()
    over = positions.c.spent - positions.c.allocated
    groups = (
        select(
            positions.c.project_id,
            positions.c.fund_id,
            PROJECT.c.code,
            FUND.c.code,
            positions.c.allocated,
            over,
        )
        .join(PROJECT, PROJECT.c.id == positions.c.project_id)
        .join(FUND, FUND.c.id == positions.c.fund_id)
        .where(over > params.tolerance_fen)
        .order_by(PROJECT.c.code, FUND.c.code)
    )
    found = [tuple(row) for row in session.execute(groups)]
    if not found:
        return
    # The entries of those projects' spending in those funds (the few groups over, joined: no ids bound).
    overs = select(positions.c.project_id, positions.c.fund_id).where(over > params.tolerance_fen).subquery()
    entries = (
        select(ENTRY.c.project_id, ENTRY.c.fund_id, ENTRY.c.seq, ENTRY.c.override)
        .join(overs, and_(overs.c.project_id == ENTRY.c.project_id, overs.c.fund_id == ENTRY.c.fund_id))
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.kind.in_(SPENDING), live(as_of))
        .order_by(ENTRY.c.seq)
    )
    spending: dict[tuple[int, int], list[tuple[int, bool]]] = {}
    for project_id, fund_id, seq, overridden in session.execute(entries):
        spending.setdefault((project_id, fund_id), []).append((seq, bool(overridden)))
    for project_id, fund_id, code, fund, allocated, excess in found:
        allocated, excess = int(allocated), int(excess)  # PostgreSQL's SUM is a NUMERIC
        rows = spending.get((project_id, fund_id), [])
        # The entries the office let through beyond the allocation say it best; else all of it.
        evidence = tuple(seq for seq, overridden in rows if overridden) or tuple(seq for seq, _ in rows)
        yield Finding(
            rule.key,
            f"{code}/{fund}",
            project_id,
            code,
            fund,
            int(excess),
            evidence,
            f"{code} 在 {fund} 资金中的支出超过分配额 {format_yuan(allocated)} 元 {format_yuan(excess)} 元"
            f"（分录 {', '.join(map(str, evidence))}）"
            f" ({code} spent {format_yuan(excess)} more than its {fund} allocation, "
            f"{format_yuan(allocated)})",
            {"allocated_fen": int(allocated)},
        )


def allocation_mismatch(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """A fund whose allocations to projects do not add up to its budget, or a project whose
    allocation in a fund is not its budget from that source (once any allocation was made)."""
    allocated = (
        select(ENTRY.c.fund_id)
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.kind == "allocate", live(as_of))
        .group_by(ENTRY.c.fund_id)
        .subquery()
    )  # the funds with an allocation by then: before the first, nothing is out of step yet
    positions = _project_positions(programme, as_of).subquery()
    per_fund = (
        select(FUND.c.id, FUND.c.code, FUND.c.amount_fen, func.coalesce(func.sum(positions.c.allocated), 0))
        .join(allocated, allocated.c.fund_id == FUND.c.id)
        .outerjoin(positions, positions.c.fund_id == FUND.c.id)
        .where(FUND.c.programme_id == programme.id)
        .group_by(FUND.c.id, FUND.c.code, FUND.c.amount_fen)
        .order_by(FUND.c.position)
    )
    per_project = (
        select(
            positions.c.project_id, PROJECT.c.code, FUND.c.code, BUDGET.c.amount_fen, positions.c.allocated
        )
        .join(PROJECT, PROJECT.c.id == positions.c.project_id)
        .join(FUND, FUND.c.id == positions.c.fund_id)
        .join(
            BUDGET,
            and_(BUDGET.c.project_id == positions.c.project_id, BUDGET.c.source_id == positions.c.fund_id),
        )
        .where(BUDGET.c.amount_fen != positions.c.allocated)
        .order_by(PROJECT.c.code, FUND.c.code)
    )
    allocations = (
        select(ENTRY.c.fund_id, ENTRY.c.project_id, ENTRY.c.seq)
        .where(
            ENTRY.c.programme_id == programme.id, ENTRY.c.kind.in_(("allocate", "reclassify")), live(as_of)
        )
        .order_by(ENTRY.c.seq)
    )
    seqs: dict[tuple[int, int | None], list[int]] = {}
    by_fund: dict[int, list[int]] = {}
    for fund_id, project_id, seq in session.execute(allocations):
        seqs.setdefault((fund_id, project_id), []).append(seq)
        by_fund.setdefault(fund_id, []).append(seq)
    for fund_id, fund, budget, total in session.execute(per_fund):
        total = int(total)
        if int(total) != int(budget):
            yield Finding(
                rule.key,
                f"fund {fund}",
                None,
                None,
                fund,
                abs(int(total) - int(budget)),
                tuple(by_fund.get(fund_id, ())),
                f"{fund} 资金分配到项目合计 {format_yuan(total)} 元，与预算 {format_yuan(budget)} 元不符"
                f" (fund {fund}: {format_yuan(total)} allocated to projects, budget {format_yuan(budget)})",
                {"allocated_fen": int(total), "budget_fen": int(budget)},
            )
    fund_ids = {
        code: fid
        for fid, code in session.execute(
            select(FUND.c.id, FUND.c.code).where(FUND.c.programme_id == programme.id)
        )
    }
    for project_id, code, fund, budget, total in session.execute(per_project):
        total = int(total)
        yield Finding(
            rule.key,
            f"{code}/{fund}",
            project_id,
            code,
            fund,
            abs(int(total) - int(budget)),
            tuple(seqs.get((fund_ids[fund], project_id), ())),
            f"{code} 的 {fund} 资金分配 {format_yuan(total)} 元，与该来源预算 {format_yuan(budget)} 元不符"
            f" ({code}: {format_yuan(total)} allocated from {fund}, "
            f"its budget from it {format_yuan(budget)})",
            {"allocated_fen": int(total), "budget_fen": int(budget)},
        )


def duplicate_document(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """A voucher or invoice number on two operations (a payment of a commitment or a payable may
    repeat the number of what it settles: that is one operation)."""
    params: DuplicateParams = rule.params
    for name in params.fields:
        number = ENTRY.c[name]
        root = func.coalesce(ENTRY.c.settles_seq, ENTRY.c.payable_seq, ENTRY.c.seq)
        twice = (
            select(number.label("number"))
            .where(ENTRY.c.programme_id == programme.id, number.is_not(None), live(as_of))
            .group_by(number)
            .having(func.count(func.distinct(root)) > 1)
            .subquery()
        )
        query = (
            select(
                twice.c.number,
                ENTRY.c.seq,
                ENTRY.c.project_id,
                PROJECT.c.code,
                FUND.c.code,
                ENTRY.c.amount_fen,
            )
            .join(twice, twice.c.number == number)
            .join(FUND, FUND.c.id == ENTRY.c.fund_id)
            .outerjoin(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
            .where(ENTRY.c.programme_id == programme.id, live(as_of))
            .order_by(twice.c.number, ENTRY.c.seq)
        )
        groups: dict[str, list[tuple[int, int | None, str | None, str, int]]] = {}
        for value, seq, project_id, code, fund, amount in session.execute(query):
            groups.setdefault(value, []).append((seq, project_id, code, fund, int(amount)))
        label = {"voucher": "凭证号", "invoice": "发票号"}[name]
        for value, rows in groups.items():
            _, project_id, code, fund, _ = rows[-1]  # the later use answers for it
            seqs = tuple(row[0] for row in rows)
            yield Finding(
                rule.key,
                f"{name} {value}",
                project_id,
                code,
                fund,
                sum(row[4] for row in rows[1:]),
                seqs,
                f"{label} {value} 被重复使用（分录 {', '.join(map(str, seqs))}）"
                f" ({name} {value} used on entries {', '.join(map(str, seqs))})",
                {name: value},
            )
