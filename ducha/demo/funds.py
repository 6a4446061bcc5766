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
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from ducha.demo.planted import moment as at_hour
from ducha.demo.planted import plant, seq_of
from funds.checkpoints import sign_checkpoints
from funds.note import Signer
from models import Person, Programme, Project, WorkflowEvent
from models.localtime import LOCAL_TZ
from workflows.fund_actions import (
    FundsSetup,
    Operation,
    allocate_funds,
    disburse_funds,
    record_receipt,
)
from workflows.payment_actions import (
    PurchaseInput,
    commit_payment,
    pay_entry,
    record_payable,
    spend_funds,
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
        when = at_hour(start + timedelta(days=1), 10)
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
            when = at_hour(start + timedelta(days=2), 15)
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
            when = at_hour(day, 10)
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
    when = at_hour(start + timedelta(days=5), 11)
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
    when = at_hour(started, 9, 30)
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
    bought: list[str] = []
    for n in range(0 if number == 2 else 2):  # the split-payment project buys its materials at once
        amount = rng.randrange(200_000, 600_000, 100)
        vendor = rng.choice(SUPPLIERS)
        if vendor in bought:  # two purchases at one supplier in a day would be a split payment unplanted
            vendor = SUPPLIERS[(SUPPLIERS.index(vendor) + 1) % len(SUPPLIERS)]
        bought.append(vendor)
        moment = at_hour(started, 14 + n, rng.randrange(0, 60))
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
    committed = at_hour(started + timedelta(days=1), 10)
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
        paid = at_hour(started + timedelta(days=2), 11)
        book.at(paid, lambda: _pay_commitment(book, spec, code, paid, s))
    if number % 2 == 0:
        furnished = at_hour(started + timedelta(days=2), 15)
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
    plant(book, member, number, s)


def _pay_commitment(book: _Book, spec: Person, code: str, when: datetime, s: dict[str, Any]) -> Any:
    seq = seq_of(book, f"demo-commit-{code}-contract")
    return pay_entry(
        now=when,
        op=book.op(spec, f"pay-{code}-contract"),
        evidence=None,
        seq=seq,
        voucher=f"付-{code}-10",
        **s,
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
    moment = min(at_hour(day, 23, 55), now)
    assert book.programme.id is not None
    sign_checkpoints(
        session=book.session, now=moment, signers=signers, reason="daily", programme_id=book.programme.id
    )
