"""What each audit rule finds in a programme's ledger as of a day: set-based queries, one or two per
rule, never a parameter per row.

Only what had happened by ``as_of`` counts (``occurred_at``); an entry reversed by then is as if it
never was (a reversing entry is no spending either). The rules that look along time (split
payments, late payables) stream one ordered query and walk it once; the others are a GROUP BY or
an anti-join. Each returns ``Finding``s whose ``evidence`` are entry numbers in the log.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from funds.accounts import Kind
from funds.audit_rules import (
    DuplicateParams,
    Finding,
    IdleParams,
    LatePayableParams,
    OverspendParams,
    RuleVersion,
    SplitParams,
    late_interest_fen,
)
from funds.reads import ACCOUNT, CATEGORY, ENTRY, FUND, LINE, LINE_OF_ENTRY, PROJECT, VENDOR
from models import Inspection, Programme, ProjectFunding, WorkflowEvent, format_yuan
from models.localtime import local_date
from models.types import table_of

INSPECTION, EVENT, BUDGET = table_of(Inspection), table_of(WorkflowEvent), table_of(ProjectFunding)
SPENDING = ("spend", "commit", "payable")
REVERSAL = aliased(ENTRY, name="reversal")
SETTLED = aliased(ENTRY, name="settled")


def _live(as_of: datetime) -> ColumnElement[bool]:
    """The entry had happened by ``as_of`` and was not reversed by then (nor is a reversal)."""
    reversed_ = exists().where(
        REVERSAL.c.programme_id == ENTRY.c.programme_id,
        REVERSAL.c.reverses_seq == ENTRY.c.seq,
        REVERSAL.c.occurred_at <= as_of,
    )
    return and_(ENTRY.c.occurred_at <= as_of, ENTRY.c.kind != "reverse", ~reversed_)


def _not_voided(as_of: datetime) -> ColumnElement[bool]:
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
            _live(as_of),
            _not_voided(as_of),
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
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.kind.in_(SPENDING), _live(as_of))
        .order_by(ENTRY.c.seq)
    )
    spending: dict[tuple[int, int], list[tuple[int, bool]]] = {}
    for project_id, fund_id, seq, overridden in session.execute(entries):
        spending.setdefault((project_id, fund_id), []).append((seq, bool(overridden)))
    for project_id, fund_id, code, fund, allocated, excess in found:
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
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.kind == "allocate", _live(as_of))
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
            ENTRY.c.programme_id == programme.id, ENTRY.c.kind.in_(("allocate", "reclassify")), _live(as_of)
        )
        .order_by(ENTRY.c.seq)
    )
    seqs: dict[tuple[int, int | None], list[int]] = {}
    by_fund: dict[int, list[int]] = {}
    for fund_id, project_id, seq in session.execute(allocations):
        seqs.setdefault((fund_id, project_id), []).append(seq)
        by_fund.setdefault(fund_id, []).append(seq)
    for fund_id, fund, budget, total in session.execute(per_fund):
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


def disbursed_before_pre_review(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """A disbursement to a project before a signed pre-review of it had passed."""
    passed = exists().where(
        INSPECTION.c.project_id == ENTRY.c.project_id,
        INSPECTION.c.kind == "pre_review",
        INSPECTION.c.outcome != "fail",
        INSPECTION.c.signed_at.is_not(None),
        INSPECTION.c.signed_at <= as_of,
        INSPECTION.c.inspected_at <= ENTRY.c.occurred_at,
    )
    query = (
        select(
            ENTRY.c.seq,
            ENTRY.c.project_id,
            PROJECT.c.code,
            FUND.c.code,
            ENTRY.c.amount_fen,
            ENTRY.c.occurred_at,
        )
        .join(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.kind == "disburse", _live(as_of), ~passed)
        .order_by(ENTRY.c.seq)
    )
    for seq, project_id, code, fund, amount, when in session.execute(query):
        yield Finding(
            rule.key,
            f"entry {seq}",
            project_id,
            code,
            fund,
            int(amount),
            (seq,),
            f"{code} 于 {local_date(when)} 拨付 {format_yuan(amount)} 元（第{seq}号分录）时尚未通过事前审查"
            f" ({code}: {format_yuan(amount)} disbursed on {local_date(when)} before its pre-review passed)",
        )


def spending_after_closure(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """Spending, a commitment, a payment or a payable of a project after it was closed (结项)."""
    closed = (
        select(EVENT.c.project_id, func.min(EVENT.c.occurred_at).label("closed_at"))
        .where(EVENT.c.to_stage == "closed", EVENT.c.occurred_at <= as_of)
        .group_by(EVENT.c.project_id)
        .subquery()
    )
    query = (
        select(
            ENTRY.c.seq,
            ENTRY.c.project_id,
            PROJECT.c.code,
            FUND.c.code,
            ENTRY.c.amount_fen,
            ENTRY.c.kind,
            closed.c.closed_at,
        )
        .join(closed, closed.c.project_id == ENTRY.c.project_id)
        .join(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .where(
            ENTRY.c.programme_id == programme.id,
            ENTRY.c.kind.in_((*SPENDING, "pay")),
            ENTRY.c.occurred_at > closed.c.closed_at,
            _live(as_of),
        )
        .order_by(ENTRY.c.seq)
    )
    for seq, project_id, code, fund, amount, kind, closed_at in session.execute(query):
        yield Finding(
            rule.key,
            f"entry {seq}",
            project_id,
            code,
            fund,
            int(amount),
            (seq,),
            f"{code} 于 {local_date(closed_at)} 结项后仍发生 {kind} {format_yuan(amount)} 元（第{seq}号分录）"
            f" ({code}: a {kind} of {format_yuan(amount)} after it was closed on {local_date(closed_at)})",
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
            .where(ENTRY.c.programme_id == programme.id, number.is_not(None), _live(as_of))
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
            .where(ENTRY.c.programme_id == programme.id, _live(as_of))
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


def split_payment(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """Payments by one project to one vendor within the window, each under the approval threshold,
    together at or over it: one ordered query, walked once."""
    params: SplitParams = rule.params
    threshold, window = params.threshold_fen, timedelta(days=params.window_days)
    query = (
        select(
            ENTRY.c.project_id,
            PROJECT.c.code,
            VENDOR.c.name,
            FUND.c.code,
            ENTRY.c.seq,
            ENTRY.c.occurred_at,
            ENTRY.c.amount_fen,
        )
        .join(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
        .join(VENDOR, VENDOR.c.id == ENTRY.c.vendor_id)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .where(
            ENTRY.c.programme_id == programme.id,
            ENTRY.c.kind == "spend",
            ENTRY.c.amount_fen < threshold,
            _live(as_of),
        )
        .order_by(ENTRY.c.project_id, ENTRY.c.vendor_id, ENTRY.c.occurred_at, ENTRY.c.seq)
        .execution_options(yield_per=2000)
    )
    run: list[Any] = []
    for row in session.execute(query):
        if run and (run[0][0], run[0][2]) != (row[0], row[2]):
            yield from _clusters(rule, run, window, threshold, params.min_payments)
            run = []
        run.append(tuple(row))
    if run:
        yield from _clusters(rule, run, window, threshold, params.min_payments)


def _clusters(
    rule: RuleVersion, rows: list[Any], window: timedelta, threshold: int, least: int
) -> Iterator[Finding]:
    start = 0
    while start < len(rows):
        end = start
        while end + 1 < len(rows) and rows[end + 1][5] - rows[start][5] <= window:
            end += 1
        group = rows[start : end + 1]
        total = sum(int(r[6]) for r in group)
        if len(group) >= least and total >= threshold:
            project_id, code, vendor, fund = group[0][0], group[0][1], group[0][2], group[0][3]
            seqs = tuple(r[4] for r in group)
            yield Finding(
                rule.key,
                f"{code}/{vendor}/{seqs[0]}",
                project_id,
                code,
                fund,
                total,
                seqs,
                f"{code} 向 {vendor} 在 {window.days} 日内分 {len(group)} 笔支付共 {format_yuan(total)} 元，"
                f"每笔均低于审批限额 {format_yuan(threshold)} 元（分录 {', '.join(map(str, seqs))}）"
                f" ({code}: {len(group)} payments to {vendor} within {window.days} days, each under "
                f"{format_yuan(threshold)}, together {format_yuan(total)})",
                {"vendor": vendor, "threshold_fen": threshold},
            )
            start = end + 1
        else:
            start += 1


def idle_funds(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """Money in a project's bank account since before the cutoff (``days`` ago) and not spent since:
    its balance then less what has gone out since (what goes out spends the oldest money first)."""
    params: IdleParams = rule.params
    cutoff = as_of - timedelta(days=params.days)
    before = func.sum(case((ENTRY.c.occurred_at <= cutoff, LINE.c.amount_fen), else_=0))
    out_since = func.sum(
        case((and_(ENTRY.c.occurred_at > cutoff, LINE.c.amount_fen < 0), LINE.c.amount_fen), else_=0)
    )
    idle = before + out_since
    query = (
        select(ACCOUNT.c.project_id, ACCOUNT.c.fund_id, PROJECT.c.code, FUND.c.code, idle)
        .select_from(LINE)
        .join(ENTRY, LINE_OF_ENTRY)
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(PROJECT, PROJECT.c.id == ACCOUNT.c.project_id)
        .join(FUND, FUND.c.id == ACCOUNT.c.fund_id)
        .where(
            LINE.c.programme_id == programme.id,
            ACCOUNT.c.kind == Kind.BANK.value,
            ENTRY.c.occurred_at <= as_of,
        )
        .group_by(ACCOUNT.c.project_id, ACCOUNT.c.fund_id, PROJECT.c.code, FUND.c.code)
        .having(idle >= params.min_fen)
        .order_by(PROJECT.c.code, FUND.c.code)
    )
    found = [tuple(row) for row in session.execute(query)]
    if not found:
        return
    disbursed = (
        select(ENTRY.c.project_id, ENTRY.c.fund_id, ENTRY.c.seq)
        .where(
            ENTRY.c.programme_id == programme.id,
            ENTRY.c.kind == "disburse",
            ENTRY.c.occurred_at <= cutoff,
            _live(as_of),
        )
        .order_by(ENTRY.c.seq)
    )
    seqs: dict[tuple[int, int], list[int]] = {}
    for project_id, fund_id, seq in session.execute(disbursed):
        seqs.setdefault((project_id, fund_id), []).append(seq)
    for project_id, fund_id, code, fund, amount in found:
        yield Finding(
            rule.key,
            f"{code}/{fund}",
            project_id,
            code,
            fund,
            int(amount),
            tuple(seqs.get((project_id, fund_id), ())),
            f"{code} 的 {fund} 资金 {format_yuan(amount)} 元拨付后超过 {params.days} 天未使用"
            f" ({code}: {format_yuan(amount)} of {fund} disbursed and unspent "
            f"for more than {params.days} days)",
            {"days": params.days, "since": local_date(cutoff).isoformat()},
        )


def late_payable(
    session: Session, programme: Programme, rule: RuleVersion, as_of: datetime
) -> Iterator[Finding]:
    """A payable to a small firm (中小企业) unpaid ``days`` after acceptance, with its late interest.

    The term ends ``days`` calendar days after the day of acceptance (Shanghai dates); each day after
    it, what is still unpaid accrues ``daily_rate_per_10000``/10,000 of itself. Interest is summed in
    fen-days (a payment made late counts up to its own day) and rounded once, half up, to the fen.
    """
    params: LatePayableParams = rule.params
    pay = aliased(ENTRY, name="pay")
    pay_reversed = exists().where(
        REVERSAL.c.programme_id == pay.c.programme_id,
        REVERSAL.c.reverses_seq == pay.c.seq,
        REVERSAL.c.occurred_at <= as_of,
    )
    query = (
        select(
            ENTRY.c.seq,
            ENTRY.c.project_id,
            PROJECT.c.code,
            FUND.c.code,
            VENDOR.c.name,
            ENTRY.c.amount_fen,
            ENTRY.c.occurred_at,
            pay.c.occurred_at,
            pay.c.amount_fen,
        )
        .join(PROJECT, PROJECT.c.id == ENTRY.c.project_id)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .join(VENDOR, VENDOR.c.id == ENTRY.c.vendor_id)
        .outerjoin(
            pay,
            and_(
                pay.c.programme_id == ENTRY.c.programme_id,
                pay.c.payable_seq == ENTRY.c.seq,
                pay.c.kind == "pay",
                pay.c.occurred_at <= as_of,
                ~pay_reversed,
            ),
        )
        .where(
            ENTRY.c.programme_id == programme.id,
            ENTRY.c.kind == "payable",
            VENDOR.c.small_firm == literal(True),
            # A bound in UTC a day wide of the local dates; the exact term is counted below.
            ENTRY.c.occurred_at <= as_of - timedelta(days=params.days - 1),
            _live(as_of),
        )
        .order_by(ENTRY.c.seq, pay.c.occurred_at)
    )
    today = local_date(as_of)
    current: list[Any] = []
    for row in session.execute(query):
        if current and current[0][0] != row[0]:
            yield from _late(rule, params, current, today)
            current = []
        current.append(tuple(row))
    if current:
        yield from _late(rule, params, current, today)


def _late(rule: RuleVersion, params: LatePayableParams, rows: list[Any], today: Any) -> Iterator[Finding]:
    seq, project_id, code, fund, vendor, amount, accepted = rows[0][:7]
    due = local_date(accepted) + timedelta(days=params.days)
    if today <= due:
        return
    unpaid, fen_days, paid = int(amount), 0, []
    for row in rows:
        if row[7] is None:
            continue
        unpaid -= int(row[8])
        paid.append(row)
        fen_days += int(row[8]) * max(0, (local_date(row[7]) - due).days)
    if unpaid <= 0:
        return
    late_days = (today - due).days
    fen_days += unpaid * late_days
    interest = late_interest_fen(fen_days, params.daily_rate_per_10000)
    yield Finding(
        rule.key,
        f"entry {seq}",
        project_id,
        code,
        fund,
        unpaid,
        (seq,),
        f"{code} 欠 {vendor}（中小企业）{format_yuan(unpaid)} 元，{local_date(accepted)} 验收，"
        f"应于 {due} 前支付，已逾期 {late_days} 天，逾期利息 {format_yuan(interest)} 元"
        f" ({code} owes small firm {vendor} {format_yuan(unpaid)}, "
        f"accepted {local_date(accepted)}, due {due}: "
        f"{late_days} days late, late interest {format_yuan(interest)})",
        {"vendor": vendor, "due": due.isoformat(), "days_late": late_days, "interest_fen": interest},
    )


RULES: dict[str, Callable[[Session, Programme, RuleVersion, datetime], Iterator[Finding]]] = {
    "outside_earmark": outside_earmark,
    "overspend": overspend,
    "allocation_mismatch": allocation_mismatch,
    "disbursed_before_pre_review": disbursed_before_pre_review,
    "spending_after_closure": spending_after_closure,
    "duplicate_document": duplicate_document,
    "split_payment": split_payment,
    "idle_funds": idle_funds,
    "late_payable": late_payable,
}


def find(
    *, session: Session, programme: Programme, rules: list[RuleVersion], as_of: datetime
) -> list[tuple[RuleVersion, Finding]]:
    """Every finding of the rules in force, rule by rule in the file's order."""
    return [(rule, finding) for rule in rules for finding in RULES[rule.key](session, programme, rule, as_of)]
