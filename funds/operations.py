"""Money moving down to the projects, as balanced entries: receive, allocate, disburse, reclassify.

Every operation carries the client's operation id. It is looked up after the log's lock is taken, so
a replay (the same id again, say after a lost answer) finds the entry already made and returns it;
the same id with a field that differs is refused, naming the field. Limits are checked on balances
read under the same locks: the programme pool and a project's allocation never go below zero (no
override); a project's spending beyond its allocation is refused unless the office overrides it
with a reason, which the entry records (funds/spending.py).
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from funds.accounts import Kind, account
from funds.journal import Account, Draft, Log, Who, open_log
from funds.note import Signer
from models import FundingSource, Programme, Project, format_yuan
from models.errors import BadInput, NotFound, Refused
from models.ledger import JournalEntry, LedgerAccount


class OverLimit(Refused):
    """An entry would take an account below what it holds; nothing was written."""


@dataclass(frozen=True)
class Context:
    """Who records an operation, in which programme, when, under which operation id."""

    programme: Programme
    actor: Who | None
    now: datetime
    op_id: str
    occurred_at: datetime | None = None
    signers: Sequence[Signer] = field(default_factory=tuple)

    @property
    def when(self) -> datetime:
        return self.occurred_at or self.now


@dataclass(frozen=True)
class Recorded:
    """An entry an operation made (or, replayed, had made before)."""

    seq: int
    kind: str
    entry_hash: str
    document: dict[str, Any]
    replayed: bool = False


def fen(amount: int) -> int:
    """A positive amount in integer fen (never a float)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise BadInput(f"amount {amount!r}: money is integer fen")
    if amount <= 0:
        raise BadInput(f"amount {format_yuan(amount)}: must be more than 0")
    return amount


def _at(document: dict[str, Any], key: str) -> Any:
    if key == "documents":
        return [item["sha256"] for item in document["documents"]]
    value: Any = document
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def replay(session: Session, ctx: Context, request: dict[str, Any]) -> list[Recorded] | None:
    """The entries already made under ``ctx.op_id``, if the request is the same; None if none were."""
    rows = session.execute(
        select(
            col(JournalEntry.programme_id),
            col(JournalEntry.seq),
            col(JournalEntry.kind),
            col(JournalEntry.entry_hash),
            col(JournalEntry.body),
        )
        .where(col(JournalEntry.op_id) == ctx.op_id)
        .order_by(col(JournalEntry.op_part))
    ).all()
    if not rows:
        return None
    programme_id, first_seq = rows[0][0], rows[0][1]
    if programme_id != ctx.programme.id:
        raise Refused(
            f"--op-id {ctx.op_id!r} was used in another programme (id {programme_id}): use a new one"
        )
    document = json.loads(rows[0][4])
    for key, value in request.items():
        before = _at(document, key)
        if before != value:
            raise Refused(
                f"--op-id {ctx.op_id!r} was recorded as entry {first_seq} with {key} {before!r}; "
                f"this request has {value!r}: nothing written (a new operation needs a new --op-id)"
            )
    return [
        Recorded(seq, kind, entry_hash, json.loads(body), True) for _, seq, kind, entry_hash, body in rows
    ]


def request_of(ctx: Context, **fields: Any) -> dict[str, Any]:
    """What the client asked for, as document paths: compared field by field on a replay."""
    request = {key.replace("__", "."): value for key, value in fields.items()}
    request["actor.id"] = ctx.actor.id if ctx.actor else None
    if ctx.occurred_at is not None:
        from funds.canonical import instant

        request["occurred_at"] = instant(ctx.occurred_at)
    return request


def record(
    session: Session, ctx: Context, request: dict[str, Any], build: Callable[[Log], list[Draft]]
) -> list[Recorded]:
    """Take the log's lock, replay or build the entries, and append them."""
    assert ctx.programme.id is not None
    log = open_log(session=session, programme_id=ctx.programme.id, now=ctx.now, signers=list(ctx.signers))
    replayed = replay(session, ctx, request)
    if replayed is not None:
        return replayed
    out = []
    for draft in build(log):
        appended = log.append(draft)
        out.append(Recorded(appended.seq, draft.kind, appended.entry_hash, appended.document))
    return out


def draft(
    ctx: Context,
    kind: str,
    fund: FundingSource,
    amount: int,
    postings: list[tuple[Account, int]],
    *,
    project: Project | None = None,
    **more: Any,
) -> Draft:
    assert fund.id is not None
    return Draft(
        kind=kind,
        fund_id=fund.id,
        fund_code=fund.code,
        op_id=ctx.op_id,
        amount_fen=amount,
        postings=postings,
        occurred_at=ctx.when,
        recorded_at=ctx.now,
        actor=ctx.actor,
        project_id=project.id if project else None,
        project_code=project.code if project else None,
        **more,
    )


def at_least(log: Log, what: Account, amount: int, message: str) -> None:
    """Refuse (no override) an entry that would take ``what`` below zero."""
    held = log.lock([what.id])[what.id]
    if held < amount:
        raise OverLimit(f"{message}: {what.code} holds {format_yuan(held)}, {format_yuan(amount)} asked")


def receive(
    *, session: Session, ctx: Context, fund: FundingSource, amount: int, voucher: str | None, memo: str | None
) -> Recorded:
    """The fund's money reaches the programme pool (at most the fund's budget in all)."""
    amount = fen(amount)
    request = request_of(ctx, kind="receive", fund=fund.code, amount=amount, voucher=voucher, memo=memo)

    def build(log: Log) -> list[Draft]:
        pool, source = account(log, fund, Kind.POOL), account(log, fund, Kind.SOURCE)
        received = -log.lock([source.id])[source.id]
        if received + amount > fund.amount_fen:
            raise OverLimit(
                f"fund {fund.code}: receiving {format_yuan(amount)} would make "
                f"{format_yuan(received + amount)}, over its budget of {format_yuan(fund.amount_fen)}"
            )
        return [
            draft(
                ctx, "receive", fund, amount, [(pool, amount), (source, -amount)], voucher=voucher, memo=memo
            )
        ]

    return record(session, ctx, request, build)[0]


def allocate(
    *, session: Session, ctx: Context, fund: FundingSource, project: Project, amount: int, memo: str | None
) -> Recorded:
    """Allocate money of one fund from the programme pool to a project."""
    amount = fen(amount)
    request = request_of(ctx, kind="allocate", fund=fund.code, project=project.code, amount=amount, memo=memo)

    def build(log: Log) -> list[Draft]:
        pool = account(log, fund, Kind.POOL)
        target = account(log, fund, Kind.ALLOCATION, project)
        at_least(log, pool, amount, f"fund {fund.code}: the pool has not received that much (funds receive)")
        return [
            draft(
                ctx, "allocate", fund, amount, [(target, amount), (pool, -amount)], project=project, memo=memo
            )
        ]

    return record(session, ctx, request, build)[0]


def disburse(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    voucher: str | None,
    memo: str | None,
) -> Recorded:
    """Pay part of a project's allocation into its bank account (never more than was allocated)."""
    amount = fen(amount)
    request = request_of(
        ctx, kind="disburse", fund=fund.code, project=project.code, amount=amount, voucher=voucher, memo=memo
    )

    def build(log: Log) -> list[Draft]:
        allocation = account(log, fund, Kind.ALLOCATION, project)
        bank = account(log, fund, Kind.BANK, project)
        at_least(
            log, allocation, amount, f"{project.code}: an allocation never pays out more than it received"
        )
        return [
            draft(
                ctx,
                "disburse",
                fund,
                amount,
                [(bank, amount), (allocation, -amount)],
                project=project,
                voucher=voucher,
                memo=memo,
            )
        ]

    return record(session, ctx, request, build)[0]


def reclassify(
    *,
    session: Session,
    ctx: Context,
    source: FundingSource,
    target: FundingSource,
    amount: int,
    project: Project | None,
    approver: Who,
    approval: str | None,
    reason: str,
) -> list[Recorded]:
    """Move money between two funds: two linked entries, each balanced in its own fund, approved."""
    amount = fen(amount)
    if source.id == target.id:
        raise BadInput("a reclassification moves money between two different funds (--from-fund, --to-fund)")
    where = project.code if project else None
    request = request_of(
        ctx,
        kind="reclassify",
        fund=source.code,
        project=where,
        amount=amount,
        approval__by__id=approver.id,
        approval__ref=approval,
        memo=reason,
    )
    approved = {"by": approver.plain(), "ref": approval}

    def build(log: Log) -> list[Draft]:
        kind = Kind.ALLOCATION if project else Kind.POOL
        out_of, into = account(log, source, kind, project), account(log, target, kind, project)
        at_least(log, out_of, amount, f"fund {source.code}: cannot move more than it holds")
        first = log.size
        common: dict[str, Any] = {"project": project, "approval": approved, "memo": reason}
        return [
            draft(
                ctx,
                "reclassify",
                source,
                amount,
                [(account(log, source, Kind.INTERFUND), amount), (out_of, -amount)],
                linked=first + 1,
                **common,
            ),
            replace_part(
                draft(
                    ctx,
                    "reclassify",
                    target,
                    amount,
                    [(into, amount), (account(log, target, Kind.INTERFUND), -amount)],
                    linked=first,
                    **common,
                )
            ),
        ]

    return record(session, ctx, request, build)


def replace_part(second: Draft) -> Draft:
    second.op_part = 1
    return second


def entry(session: Session, programme: Programme, seq: int) -> JournalEntry:
    found = session.get(JournalEntry, (programme.id, seq))
    if found is None:
        raise NotFound(f"no entry {seq} in the ledger of {programme.name}")
    return found


def accounts_named(log: Log, codes: list[str]) -> dict[str, Account]:
    """Accounts by their codes (a reversal's lines name them so)."""
    rows = log.session.scalars(
        select(LedgerAccount).where(
            col(LedgerAccount.programme_id) == log.programme_id, col(LedgerAccount.code).in_(codes)
        )
    ).all()
    return {row.code: Account(row.id, row.code, row.fund_id) for row in rows if row.id is not None}
