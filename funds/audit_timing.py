"""What the audit rules that look along time find: money disbursed before the pre-review passed,
spent after closure, split into payments under the threshold, idle too long, owed to a small firm
past its term. The rules that look at amounts are in ``funds/audit_facts.py``; ``find`` runs them all.

Split payments and late payables stream one ordered query and walk it once; the others are an
anti-join or a GROUP BY. Only what had happened by ``as_of`` counts; a reversed entry never was.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from funds.accounts import Kind
from funds.audit_facts import (
    EVENT,
    INSPECTION,
    REVERSAL,
    SPENDING,
    allocation_mismatch,
    duplicate_document,
    live,
    outside_earmark,
    overspend,
)
from funds.audit_rules import (
    Finding,
    IdleParams,
    LatePayableParams,
    RuleVersion,
    SplitParams,
    late_interest_fen,
)
from funds.reads import ACCOUNT, ENTRY, FUND, LINE, LINE_OF_ENTRY, PROJECT, VENDOR
from models import Programme, format_yuan
from models.localtime import local_date


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
        .where(ENTRY.c.programme_id == programme.id, ENTRY.c.kind == "disburse", live(as_of), ~passed)
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
            live(as_of),
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
            live(as_of),
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
            live(as_of),
        )
        .order_by(ENTRY.c.seq)
    )
    seqs: dict[tuple[int, int], list[int]] = {}
    for project_id, fund_id, seq in session.execute(disbursed):
        seqs.setdefault((project_id, fund_id), []).append(seq)
    for project_id, fund_id, code, fund, amount in found:
        amount = int(amount)
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
            live(as_of),
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
