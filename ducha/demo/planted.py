"""The problems planted in the demo's money for the audit rules to find, and the ordinary corrections
around them: an overspend the office let through, a purchase outside the earmark, a split payment, a
mistake reversed, a refund, a voided commitment (the late payable is in ducha/demo/funds.py)."""

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from models import Person
from models.localtime import LOCAL_TZ
from workflows.fund_actions import reverse_entry
from workflows.payment_actions import (
    PurchaseInput,
    commit_payment,
    record_refund,
    spend_funds,
    void_commitment,
)

if TYPE_CHECKING:
    from ducha.demo.funds import Member, _Book

UPPER, DISTRICT = "upper", "district"
SUPPLIERS = ["鑫源建材商行", "宏达水泥经销部", "永盛五金店", "安居门窗厂"]
BUILDERS = ["华建建筑工程有限公司", "润城建设有限公司", "兴业建筑劳务公司"]


def plant(book: "_Book", member: "Member", number: int, s: dict[str, Any]) -> None:
    """The problems the audit rules should find, and the ordinary corrections around them."""
    code, spec, head = member.project.code, member.specialist, book.head
    started = member.project.actual_start
    assert started is not None
    # Three days after it started, or two days before the demo date if it started later: what is
    # planted has happened by the demo date, wherever the demo date is.
    later = max(started, min(started + timedelta(days=3), book.today - timedelta(days=2)))
    if number == 0:  # the overspend: the office lets it pay beyond the allocation
        when = moment(later, 10)
        book.at(
            when,
            partial(
                spend_funds,
                now=when,
                op=book.op(head, f"spend-{code}-extra-works", "增加地基处理工程量"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=980_000,
                purchase=PurchaseInput(category="construction", vendor=BUILDERS[0], voucher=f"记-{code}-30"),
                override_reason="地基处理工程量增加, 经督查室研究同意先行支付, 待追加预算",
                **s,
            ),
        )
        more = moment(later, 11)
        book.at(
            more,
            partial(
                spend_funds,
                now=more,
                op=book.op(head, f"spend-{code}-extra-works-2", "增加地基处理人工"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=950_000,
                # Another firm: two payments to one firm within the hour, each under the threshold,
                # would be a split payment as well (the demo plants exactly one of those).
                purchase=PurchaseInput(category="construction", vendor=BUILDERS[2], voucher=f"记-{code}-31"),
                override_reason="同上, 第二笔",
                **s,
            ),
        )
    if number == 1:  # outside the earmark: hospitality is not construction nor office furnishing
        when = moment(later, 18)
        book.at(
            when,
            partial(
                spend_funds,
                now=when,
                op=book.op(spec, f"spend-{code}-dinner", "开工接待"),
                evidence=None,
                project=code,
                fund=DISTRICT,
                amount_fen=128_000,
                purchase=PurchaseInput(
                    category="hospitality",
                    vendor="聚福楼饭店",
                    voucher=f"记-{code}-40",
                    invoice=f"FP-{code}-40",
                ),
                **s,
            ),
        )
    if number == 2:  # the split payment: one vendor, two days, each under 10,000.00, together over it
        for n, (day, amount) in enumerate(((later, 560_000), (later + timedelta(days=1), 520_000))):
            when = moment(day, 16)
            book.at(
                when,
                partial(
                    spend_funds,
                    now=when,
                    op=book.op(spec, f"spend-{code}-windows-{n}", "门窗安装"),
                    evidence=None,
                    project=code,
                    fund=UPPER,
                    amount_fen=amount,
                    purchase=PurchaseInput(
                        category="construction",
                        vendor="安居门窗厂",
                        voucher=f"记-{code}-5{n}",
                        invoice=f"FP-{code}-5{n}",
                    ),
                    **s,
                ),
            )
    if number == 3:  # a mistake corrected: a reversal names it, then the right amount
        when = moment(later, 9)
        book.at(
            when,
            partial(
                spend_funds,
                now=when,
                op=book.op(spec, f"spend-{code}-cement", "水泥"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=560_000,
                purchase=PurchaseInput(category="construction", vendor=SUPPLIERS[1], voucher=f"记-{code}-60"),
                **s,
            ),
        )
        fixed = moment(later, 9, 30)
        book.at(fixed, lambda: _reverse_by_op(book, head, code, fixed, s))
    if number == 4:  # a refund of returned goods, and a voided commitment
        when = moment(later, 10)
        book.at(
            when,
            partial(
                record_refund,
                now=when,
                op=book.op(spec, f"refund-{code}-tiles", "退回破损地砖"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=45_000,
                purchase=PurchaseInput(category="construction", vendor=SUPPLIERS[0], voucher=f"记-{code}-70"),
                **s,
            ),
        )
    if number == 5:
        when = moment(later, 11)
        book.at(
            when,
            partial(
                commit_payment,
                now=when,
                op=book.op(spec, f"commit-{code}-roof"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=850_000,
                approved_by=str(member.leader.id),
                purchase=PurchaseInput(category="construction", vendor=BUILDERS[1]),
                **s,
            ),
        )
        voided = moment(later, 16)
        book.at(voided, lambda: _void_by_op(book, member.leader, code, voided, s))


def seq_of(book: "_Book", op_id: str) -> int:
    from models.ledger import JournalEntry

    return book.session.exec(
        select(JournalEntry.seq).where(
            col(JournalEntry.programme_id) == book.programme.id, col(JournalEntry.op_id) == op_id
        )
    ).one()


def _reverse_by_op(book: "_Book", head: Person, code: str, when: datetime, s: dict[str, Any]) -> Any:
    seq = seq_of(book, f"demo-spend-{code}-cement")
    reverse_entry(
        now=when,
        op=book.op(head, f"reverse-{code}-cement"),
        seq=seq,
        reason="金额录入错误 (5,600 应为 5,060)",
        **s,
    )
    return spend_funds(
        now=when,
        op=book.op(book.session.get(Person, head.id) or head, f"spend-{code}-cement-fixed", "水泥"),
        evidence=None,
        project=code,
        fund=UPPER,
        amount_fen=506_000,
        purchase=PurchaseInput(category="construction", vendor=SUPPLIERS[1], voucher=f"记-{code}-61"),
        **s,
    )


def _void_by_op(book: "_Book", leader: Person, code: str, when: datetime, s: dict[str, Any]) -> Any:
    seq = seq_of(book, f"demo-commit-{code}-roof")
    return void_commitment(
        now=when, op=book.op(leader, f"void-{code}-roof"), seq=seq, reason="合同重新谈判", **s
    )


def moment(day: date, hour: int, minute: int = 0) -> datetime:
    """An hour of a day, Shanghai time."""
    return datetime.combine(day, time(hour, minute), LOCAL_TZ)
