"""The demo's money: every project's allocation per source, disbursements, and spending as it happened.

The two funds reach the programme first (1,684,600.00 + 162,400.00 = 1,847,000.00 yuan) and are
allocated in full (33,692.00 + 3,248.00 = 36,940.00 a project). Approved projects get their district
money and most of their upper-level money; projects in construction the rest, and spend it: materials
below the approval threshold, contract instalments committed with their leader's approval and paid,
a refund, a voided commitment, a corrected entry. Planted for the audit rules to find: one overspend
the office overrode, one purchase outside the earmark, one split payment (two payments to one vendor
within two days, each under the threshold, together over it) and one payable to a small firm still
unpaid more than 30 days after acceptance. Checkpoints are signed at the end of every day with entries.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from funds.checkpoints import sign_checkpoints
from funds.note import Signer
from models import Person, Programme, Project, WorkflowEvent
from models.localtime import LOCAL_TZ
from workflows.fund_actions import (
    FundsSetup,
    Operation,
    PurchaseInput,
    allocate_funds,
    commit_payment,
    disburse_funds,
    pay_entry,
    record_payable,
    record_receipt,
    record_refund,
    reverse_entry,
    spend_funds,
    void_commitment,
)

THRESHOLD_FEN = 1_000_000  # 10,000.00 yuan: DUCHA_APPROVAL_THRESHOLD's default
UPPER, DISTRICT = "upper", "district"
SUPPLIERS = ["鑫源建材商行", "宏达水泥经销部", "永盛五金店", "安居门窗厂"]
BUILDERS = ["华建建筑工程有限公司", "润城建设有限公司", "兴业建筑劳务公司"]
FURNITURE = "雅家办公家具店"
SURVEYOR = "精准测绘设计工作室"  # a small firm: its payable is the late one


@dataclass(frozen=True)
class Member:
    project: Project
    leader: Person
    specialist: Person


@dataclass
class _Book:
    session: Session
    programme: Programme
    head: Person
    setup: FundsSetup
    events: list[tuple[datetime, int, Callable[[], Any]]]
    today: date

    def at(self, moment: datetime, step: Callable[[], Any]) -> None:
        self.events.append((moment, len(self.events), step))

    def op(self, actor: Person, op_id: str, memo: str = "") -> Operation:
        return Operation(actor, f"demo-{op_id}", str(self.programme.id), memo=memo)


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL_TZ)


def _approved(session: Session, project: Project) -> datetime | None:
    return session.exec(
        select(WorkflowEvent.occurred_at).where(
            col(WorkflowEvent.project_id) == project.id, col(WorkflowEvent.to_stage) == "approved"
        )
    ).first()


def record_demo_funds(
    *,
    session: Session,
    programme: Programme,
    head: Person,
    members: list[Member],
    now: datetime,
    start: date,
    signers: list[Signer],
) -> int:
    """Record the demo's money up to ``now`` (events after it have not happened); how many entries."""
    setup = FundsSetup(tuple(signers), THRESHOLD_FEN)
    book = _Book(session, programme, head, setup, [], now.astimezone(LOCAL_TZ).date())
    rng = random.Random(20261211)
    s: dict[str, Any] = {"session": session, "setup": setup}
    for fund, amount in ((UPPER, 168_460_000), (DISTRICT, 16_240_000)):
        when = _moment(start + timedelta(days=1), 10)
        book.at(
            when,
            partial(
                record_receipt,
                now=when,
                op=book.op(head, f"receive-{fund}", "资金到位"),
                fund=fund,
                amount_fen=amount,
                voucher=f"到账-{fund}",
                **s,
            ),
        )
    for member in members:
        code = member.project.code
        for fund, amount in ((UPPER, 3_369_200), (DISTRICT, 324_800)):
            when = _moment(start + timedelta(days=2), 15)
            book.at(
                when,
                partial(
                    allocate_funds,
                    now=when,
                    op=book.op(head, f"allocate-{code}-{fund}"),
                    project=code,
                    fund=fund,
                    amount_fen=amount,
                    **s,
                ),
            )
    building = []
    for member in members:
        approved = _approved(session, member.project)
        if approved is None or member.project.stage == "suspended":
            continue
        code = member.project.code
        day = approved.astimezone(LOCAL_TZ).date() + timedelta(days=1)
        for fund, amount in ((DISTRICT, 324_800), (UPPER, 2_000_000)):
            when = _moment(day, 10)
            book.at(
                when,
                partial(
                    disburse_funds,
                    now=when,
                    op=book.op(head, f"disburse-{code}-{fund}-1"),
                    project=code,
                    fund=fund,
                    amount_fen=amount,
                    voucher=f"拨-{code}-{fund}",
                    **s,
                ),
            )
        if member.project.actual_start is not None:
            building.append(member)
    building.sort(key=lambda m: (m.project.actual_start, m.project.code))
    for number, member in enumerate(building):
        _build(book, member, number, rng, s)
    # The late payable: design and survey services from a small firm, accepted early, never paid.
    late = next(m for m in members if m.project.actual_start is None and m.project.stage == "approved")
    when = _moment(start + timedelta(days=5), 11)
    book.at(
        when,
        partial(
            record_payable,
            now=when,
            op=book.op(late.specialist, f"payable-{late.project.code}-survey", "测绘设计服务验收"),
            evidence=None,
            project=late.project.code,
            fund=UPPER,
            amount_fen=480_000,
            purchase=PurchaseInput(
                category="construction", vendor=SURVEYOR, small_firm=True, invoice="FP-2026-0117"
            ),
            **s,
        ),
    )
    return _play(book, now, signers)


def _build(book: _Book, member: Member, number: int, rng: random.Random, s: dict[str, Any]) -> None:
    """A project in construction: the rest of its money, materials, a contract instalment, furniture."""
    project, code, spec, lead = member.project, member.project.code, member.specialist, member.leader
    assert project.actual_start is not None
    started = project.actual_start
    head = book.head
    when = _moment(started, 9, 30)
    book.at(
        when,
        partial(
            disburse_funds,
            now=when,
            op=book.op(head, f"disburse-{code}-upper-2"),
            project=code,
            fund=UPPER,
            amount_fen=1_369_200,
            voucher=f"拨-{code}-upper-2",
            **s,
        ),
    )
    for n in range(0 if number == 2 else 2):  # the split-payment project buys its materials at once
        amount = rng.randrange(200_000, 600_000, 100)
        vendor = rng.choice(SUPPLIERS)
        moment = _moment(started, 14 + n, rng.randrange(0, 60))
        book.at(
            moment,
            partial(
                spend_funds,
                now=moment,
                op=book.op(spec, f"spend-{code}-material-{n}", "建材采购"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=amount,
                purchase=PurchaseInput(
                    category="construction",
                    vendor=vendor,
                    voucher=f"记-{code}-{n + 1:02d}",
                    invoice=f"FP-{code}-{n + 1}",
                ),
                **s,
            ),
        )
    builder = BUILDERS[number % len(BUILDERS)]
    committed = _moment(started + timedelta(days=1), 10)
    book.at(
        committed,
        partial(
            commit_payment,
            now=committed,
            op=book.op(spec, f"commit-{code}-contract", "施工合同首期款"),
            evidence=None,
            project=code,
            fund=UPPER,
            amount_fen=1_200_000,
            approved_by=str(lead.id),
            approval=f"批-{code}-1",
            purchase=PurchaseInput(category="construction", vendor=builder, voucher=f"记-{code}-10"),
            **s,
        ),
    )
    if number % 3 != 2:  # a third of them wait for payment at the demo date
        paid = _moment(started + timedelta(days=2), 11)
        book.at(paid, lambda: _pay_commitment(book, spec, code, paid, s))
    if number % 2 == 0:
        furnished = _moment(started + timedelta(days=2), 15)
        book.at(
            furnished,
            partial(
                spend_funds,
                now=furnished,
                op=book.op(spec, f"spend-{code}-furniture", "会议桌椅"),
                evidence=None,
                project=code,
                fund=DISTRICT,
                amount_fen=rng.randrange(150_000, 300_000, 100),
                purchase=PurchaseInput(category="furnishing", vendor=FURNITURE, voucher=f"记-{code}-20"),
                **s,
            ),
        )
    _planted(book, member, number, s)


def _pay_commitment(book: _Book, spec: Person, code: str, when: datetime, s: dict[str, Any]) -> Any:
    seq = _seq_of(book, f"demo-commit-{code}-contract")
    return pay_entry(
        now=when,
        op=book.op(spec, f"pay-{code}-contract"),
        evidence=None,
        seq=seq,
        voucher=f"付-{code}-10",
        **s,
    )


def _planted(book: _Book, member: Member, number: int, s: dict[str, Any]) -> None:
    """The problems the audit rules should find, and the ordinary corrections around them."""
    code, spec, head = member.project.code, member.specialist, book.head
    started = member.project.actual_start
    assert started is not None
    # Three days after it started, or two days before the demo date if it started later: what is
    # planted has happened by the demo date, wherever the demo date is.
    later = max(started, min(started + timedelta(days=3), book.today - timedelta(days=2)))
    if number == 0:  # the overspend: the office lets it pay beyond the allocation
        when = _moment(later, 10)
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
        more = _moment(later, 11)
        book.at(
            more,
            partial(
                spend_funds,
                now=more,
                op=book.op(head, f"spend-{code}-extra-works-2", "增加地基处理工程量"),
                evidence=None,
                project=code,
                fund=UPPER,
                amount_fen=950_000,
                purchase=PurchaseInput(category="construction", vendor=BUILDERS[0], voucher=f"记-{code}-31"),
                override_reason="同上, 第二笔",
                **s,
            ),
        )
    if number == 1:  # outside the earmark: hospitality is not construction nor office furnishing
        when = _moment(later, 18)
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
            when = _moment(day, 16)
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
        when = _moment(later, 9)
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
        fixed = _moment(later, 9, 30)
        book.at(fixed, lambda: _reverse_by_op(book, head, code, fixed, s))
    if number == 4:  # a refund of returned goods, and a voided commitment
        when = _moment(later, 10)
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
        when = _moment(later, 11)
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
        voided = _moment(later, 16)
        book.at(voided, lambda: _void_by_op(book, member.leader, code, voided, s))


def _seq_of(book: _Book, op_id: str) -> int:
    from models.ledger import JournalEntry

    return book.session.exec(
        select(JournalEntry.seq).where(
            col(JournalEntry.programme_id) == book.programme.id, col(JournalEntry.op_id) == op_id
        )
    ).one()


def _reverse_by_op(book: _Book, head: Person, code: str, when: datetime, s: dict[str, Any]) -> Any:
    seq = _seq_of(book, f"demo-spend-{code}-cement")
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


def _void_by_op(book: _Book, leader: Person, code: str, when: datetime, s: dict[str, Any]) -> Any:
    seq = _seq_of(book, f"demo-commit-{code}-roof")
    return void_commitment(
        now=when, op=book.op(leader, f"void-{code}-roof"), seq=seq, reason="合同重新谈判", **s
    )


def _play(book: _Book, now: datetime, signers: list[Signer]) -> int:
    """Run the events that had happened by ``now`` in time order; sign each day's checkpoint at 23:55."""
    count = 0
    current: date | None = None
    for when, _, step in sorted(book.events, key=lambda event: (event[0], event[1])):
        if when > now:
            continue
        day = when.astimezone(LOCAL_TZ).date()
        if current is not None and day != current and signers:
            _day_end(book, current, now, signers)
        current = day
        step()
        count += 1
    if current is not None and signers:
        _day_end(book, current, now, signers)
    return count


def _day_end(book: _Book, day: date, now: datetime, signers: list[Signer]) -> None:
    moment = min(_moment(day, 23, 55), now)
    assert book.programme.id is not None
    sign_checkpoints(
        session=book.session, now=moment, signers=signers, reason="daily", programme_id=book.programme.id
    )
