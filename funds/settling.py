"""Settling and correcting entries: pay a commitment or a payable, void a commitment, reverse an entry.

A commitment is settled once (paid whole, or voided); a payable is paid in parts until nothing is
owed; a reversal mirrors an entry's lines and names it, once, and never takes the pool or an
allocation below zero (the bank account only with the office's override).
"""

import json

from sqlalchemy import func
from sqlmodel import Session, col, select

from funds.accounts import Kind, account
from funds.journal import Account, Draft, Log
from funds.operations import (
    Context,
    OverLimit,
    Recorded,
    accounts_named,
    draft,
    entry,
    fen,
    record,
    request_of,
)
from funds.spending import Purchase, within_limits
from models import FundingSource, Project, format_yuan
from models.errors import BadInput, Refused
from models.ledger import JournalEntry, Vendor


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
        overridden = within_limits(log, ctx, fund, project, paying, override, cash=True, room=False)
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
