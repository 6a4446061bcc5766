"""What a project does with its money, as balanced entries: spend, commit, pay, void, payable, refund,
and the reversal that corrects any entry.

A project's headroom in a fund is what it may still commit: its allocation not yet disbursed, plus
its bank account, less what it owes vendors (payables not yet paid). Spending, a commitment or a
payable beyond the headroom, or a payment beyond the bank account, is refused unless the office
overrides it with a reason (``override``), which the entry records. A payment at or above the
approval threshold goes through a commitment that someone approved (``commit``), then ``pay``.
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from funds.accounts import Kind, account
from funds.journal import Account, Draft, Log, Who
from funds.operations import (
    Context,
    OverLimit,
    Recorded,
    accounts_named,
    at_least,
    draft,
    entry,
    fen,
    record,
    request_of,
)
from models import FundingSource, Project, format_yuan
from models.errors import BadInput, Refused
from models.ledger import JournalEntry, LedgerAccount, Vendor


@dataclass(frozen=True)
class Purchase:
    """What a payment is for: the category, the vendor, the voucher (凭证号) and invoice (发票号), files."""

    category: str | None
    vendor: Vendor | None = None
    voucher: str | None = None
    invoice: str | None = None
    documents: tuple[tuple[str, str], ...] = ()  # (sha256, file name)
    memo: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "vendor": {"name": self.vendor.name, "small_firm": self.vendor.small_firm}
            if self.vendor
            else None,
            "vendor_id": self.vendor.id if self.vendor else None,
            "voucher": self.voucher,
            "invoice": self.invoice,
            "memo": self.memo,
            "documents": [{"sha256": sha, "name": name} for sha, name in self.documents],
        }

    def request(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "vendor.name": self.vendor.name if self.vendor else None,
            "voucher": self.voucher,
            "invoice": self.invoice,
            "memo": self.memo,
            "documents": [sha for sha, _ in self.documents],
        }


def headroom(log: Log, fund: FundingSource, project: Project) -> int:
    """Allocation not yet disbursed + bank − payables not yet paid, of the project in the fund."""
    owed = log.session.exec(
        select(LedgerAccount.id).where(
            col(LedgerAccount.project_id) == project.id,
            col(LedgerAccount.fund_id) == fund.id,
            col(LedgerAccount.kind) == Kind.PAYABLE.value,
        )
    ).all()
    ids = [account(log, fund, Kind.ALLOCATION, project).id, account(log, fund, Kind.BANK, project).id]
    return sum(log.lock([*ids, *(i for i in owed if i is not None)]).values())


def _within(
    log: Log,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    override: str | None,
    *,
    cash: bool,
    room: bool,
) -> dict[str, Any] | None:
    """Check the headroom and (``cash``) the bank account; return the override recorded, if one was needed."""
    problems = []
    if room:
        left = headroom(log, fund, project)
        if left < amount:
            problems.append(f"beyond its allocation ({format_yuan(left)} left in fund {fund.code})")
    if cash:
        bank = account(log, fund, Kind.BANK, project)
        held = log.lock([bank.id])[bank.id]
        if held < amount:
            problems.append(f"more than its bank account {bank.code} holds ({format_yuan(held)})")
    if not problems:
        return None
    if override is None:
        raise OverLimit(
            f"{project.code}: {format_yuan(amount)} is {'; '.join(problems)}: refused "
            "(disburse first, or the office overrides it with --override-reason)"
        )
    return {"by": ctx.actor.plain() if ctx.actor else None, "reason": override}


def spend(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    purchase: Purchase,
    override: str | None,
    threshold: int | None,
) -> Recorded:
    """Spend from the project's bank account on a category, with a voucher (below the approval threshold)."""
    amount = fen(amount)
    if threshold is not None and amount >= threshold:
        raise Refused(
            f"{project.code}: {format_yuan(amount)} is at or above the approval threshold "
            f"{format_yuan(threshold)}: commit it with --approved-by, then pay it"
        )
    request = request_of(
        ctx, kind="spend", fund=fund.code, project=project.code, amount=amount, **_flat(purchase)
    )

    def build(log: Log) -> list[Draft]:
        assert purchase.category is not None
        expense = account(log, fund, Kind.EXPENSE, project, category=purchase.category)
        bank = account(log, fund, Kind.BANK, project)
        overridden = _within(log, ctx, fund, project, amount, override, cash=True, room=True)
        postings = [(expense, amount), (bank, -amount)]
        return [
            draft(
                ctx,
                "spend",
                fund,
                amount,
                postings,
                project=project,
                override=overridden,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def commit(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    purchase: Purchase,
    approver: Who,
    approval: str | None,
    override: str | None,
) -> Recorded:
    """Reserve an approved payment: the money leaves the bank account for the reservation."""
    amount = fen(amount)
    request = request_of(
        ctx,
        kind="commit",
        fund=fund.code,
        project=project.code,
        amount=amount,
        approval__by__id=approver.id,
        approval__ref=approval,
        **_flat(purchase),
    )

    def build(log: Log) -> list[Draft]:
        reserved = account(log, fund, Kind.RESERVED, project)
        bank = account(log, fund, Kind.BANK, project)
        overridden = _within(log, ctx, fund, project, amount, override, cash=True, room=True)
        return [
            draft(
                ctx,
                "commit",
                fund,
                amount,
                [(reserved, amount), (bank, -amount)],
                project=project,
                approval={"by": approver.plain(), "ref": approval},
                override=overridden,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def _settled(session: Session, target: JournalEntry) -> None:
    for column, verb in ((JournalEntry.settles_seq, "settled"), (JournalEntry.reverses_seq, "reversed")):
        by = session.exec(
            select(JournalEntry.seq, JournalEntry.kind).where(
                col(JournalEntry.programme_id) == target.programme_id, col(column) == target.seq
            )
        ).first()
        if by is not None:
            raise Refused(f"entry {target.seq} ({target.kind}) was already {verb} by entry {by[0]} ({by[1]})")


def _project_and_fund(session: Session, target: JournalEntry) -> tuple[Project, FundingSource]:
    project = session.get(Project, target.project_id)
    fund = session.get(FundingSource, target.fund_id)
    assert project is not None and fund is not None
    return project, fund


def pay(
    *,
    session: Session,
    ctx: Context,
    seq: int,
    amount: int | None,
    voucher: str | None,
    invoice: str | None,
    documents: tuple[tuple[str, str], ...],
    override: str | None,
) -> Recorded:
    """Pay a commitment (its whole reservation) or a payable (from the bank account, in part or whole)."""
    target = entry(session, ctx.programme, seq)
    if target.kind not in ("commit", "payable"):
        raise BadInput(f"entry {seq} is a {target.kind}: pay names a commitment or a payable")
    if target.kind == "commit" and amount is not None and amount != target.amount_fen:
        raise BadInput(
            f"commitment {seq} is for {format_yuan(target.amount_fen)}: it is paid whole (or voided)"
        )
    refs = "settles" if target.kind == "commit" else "payable"
    body = json.loads(target.body)
    vendor = session.get(Vendor, target.vendor_id) if target.vendor_id else None
    request = request_of(
        ctx,
        kind="pay",
        amount=amount if amount is not None else None,
        voucher=voucher,
        invoice=invoice,
        documents=[sha for sha, _ in documents],
        **{f"refs__{refs}": seq},
    )
    if amount is None:
        del request["amount"]
    purchase = Purchase(
        target.category, vendor, voucher or target.voucher, invoice or target.invoice, documents
    )

    def build(log: Log) -> list[Draft]:
        project, fund = _project_and_fund(session, target)
        _settled(session, target) if target.kind == "commit" else None
        fields = {**purchase.fields(), "approval": body["approval"]}
        if target.kind == "commit":
            reserved = account(log, fund, Kind.RESERVED, project)
            expense = account(log, fund, Kind.EXPENSE, project, category=target.category)
            postings = [(expense, target.amount_fen), (reserved, -target.amount_fen)]
            return [
                draft(ctx, "pay", fund, target.amount_fen, postings, project=project, settles=seq, **fields)
            ]
        owed = target.amount_fen - _paid_on(session, target)
        paying = fen(amount) if amount is not None else owed
        if paying > owed:
            raise OverLimit(f"payable {seq}: {format_yuan(owed)} is still owed, {format_yuan(paying)} asked")
        payable = account(log, fund, Kind.PAYABLE, project, vendor=vendor)
        bank = account(log, fund, Kind.BANK, project)
        overridden = _within(log, ctx, fund, project, paying, override, cash=True, room=False)
        postings = [(payable, paying), (bank, -paying)]
        return [
            draft(
                ctx,
                "pay",
                fund,
                paying,
                postings,
                project=project,
                payable=seq,
                override=overridden,
                **fields,
            )
        ]

    return record(session, ctx, request, build)[0]


def _paid_on(session: Session, payable: JournalEntry) -> int:
    paid = session.exec(
        select(func.coalesce(func.sum(JournalEntry.amount_fen), 0)).where(
            col(JournalEntry.programme_id) == payable.programme_id,
            col(JournalEntry.payable_seq) == payable.seq,
            col(JournalEntry.kind) == "pay",
        )
    ).one()
    return int(paid)


def void(*, session: Session, ctx: Context, seq: int, reason: str) -> Recorded:
    """Cancel a commitment: the reserved money goes back to the bank account."""
    target = entry(session, ctx.programme, seq)
    if target.kind != "commit":
        raise BadInput(f"entry {seq} is a {target.kind}: only a commitment is voided")
    request = request_of(ctx, kind="void", memo=reason, refs__settles=seq)

    def build(log: Log) -> list[Draft]:
        _settled(session, target)
        project, fund = _project_and_fund(session, target)
        reserved, bank = account(log, fund, Kind.RESERVED, project), account(log, fund, Kind.BANK, project)
        postings = [(bank, target.amount_fen), (reserved, -target.amount_fen)]
        return [
            draft(
                ctx,
                "void",
                fund,
                target.amount_fen,
                postings,
                project=project,
                settles=seq,
                memo=reason,
                category=target.category,
                vendor_id=target.vendor_id,
                vendor=json.loads(target.body)["vendor"],
            )
        ]

    return record(session, ctx, request, build)[0]


def payable(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    purchase: Purchase,
    override: str | None,
) -> Recorded:
    """Record what is owed to a vendor for goods or works accepted (验收): spent, not yet paid."""
    amount = fen(amount)
    if purchase.vendor is None:
        raise BadInput("a payable names its vendor (--vendor)")
    request = request_of(
        ctx, kind="payable", fund=fund.code, project=project.code, amount=amount, **_flat(purchase)
    )

    def build(log: Log) -> list[Draft]:
        assert purchase.category is not None
        expense = account(log, fund, Kind.EXPENSE, project, category=purchase.category)
        owed = account(log, fund, Kind.PAYABLE, project, vendor=purchase.vendor)
        overridden = _within(log, ctx, fund, project, amount, override, cash=False, room=True)
        postings = [(expense, amount), (owed, -amount)]
        return [
            draft(
                ctx,
                "payable",
                fund,
                amount,
                postings,
                project=project,
                override=overridden,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def refund(
    *, session: Session, ctx: Context, fund: FundingSource, project: Project, amount: int, purchase: Purchase
) -> Recorded:
    """Money a vendor returns: back into the bank account, out of the category it was spent on."""
    amount = fen(amount)
    request = request_of(
        ctx, kind="refund", fund=fund.code, project=project.code, amount=amount, **_flat(purchase)
    )

    def build(log: Log) -> list[Draft]:
        assert purchase.category is not None
        expense = account(log, fund, Kind.EXPENSE, project, category=purchase.category)
        bank = account(log, fund, Kind.BANK, project)
        at_least(
            log, expense, amount, f"{project.code}: a refund is at most what was spent on {purchase.category}"
        )
        return [
            draft(
                ctx,
                "refund",
                fund,
                amount,
                [(bank, amount), (expense, -amount)],
                project=project,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


# Entries a reversal may not correct, and what to do instead.
IRREVERSIBLE = {
    "commit": "void the commitment",
    "void": "commit the payment again",
    "pay": "record a refund",
    "reverse": "record the operation again",
    "reclassify": "reclassify the money back",
}
HARD = (Kind.POOL.value, Kind.ALLOCATION.value)


def reverse(*, session: Session, ctx: Context, seq: int, reason: str, override: str | None) -> Recorded:
    """Correct an entry with its mirror image, which names it; the original stays as it was."""
    target = entry(session, ctx.programme, seq)
    if target.kind in IRREVERSIBLE:
        raise Refused(f"entry {seq} is a {target.kind}, which is not reversed: {IRREVERSIBLE[target.kind]}")
    if target.kind == "payable" and _paid_on(session, target):
        raise Refused(f"payable {seq} was paid in part or whole: record a refund instead")
    body = json.loads(target.body)
    request = request_of(ctx, kind="reverse", memo=reason, refs__reverses=seq)

    def build(log: Log) -> list[Draft]:
        _settled(session, target)
        named = accounts_named(log, [line["account"] for line in body["lines"]])
        postings: list[tuple[Account, int]] = [
            (named[line["account"]], -line["amount"]) for line in body["lines"]
        ]
        held = log.lock(a.id for a, _ in postings)
        overridden = None
        for acct, amount in postings:
            kind = acct.code.split("/")[1]
            if held[acct.id] + amount >= 0 or kind not in (*HARD, Kind.BANK.value):
                continue
            if kind in HARD or override is None:
                raise OverLimit(
                    f"reversing entry {seq} would take {acct.code} below zero "
                    f"(it holds {format_yuan(held[acct.id])})"
                )
            overridden = {"by": ctx.actor.plain() if ctx.actor else None, "reason": override}
        project, fund = _project_and_fund(session, target) if target.project_id else (None, None)
        source = fund or session.get(FundingSource, target.fund_id)
        assert source is not None
        return [
            draft(
                ctx,
                "reverse",
                source,
                target.amount_fen,
                postings,
                project=project,
                reverses=seq,
                memo=reason,
                category=target.category,
                vendor_id=target.vendor_id,
                vendor=body["vendor"],
                override=overridden,
            )
        ]

    return record(session, ctx, request, build)[0]


def _flat(purchase: Purchase) -> dict[str, Any]:
    return {key.replace(".", "__"): value for key, value in purchase.request().items()}
