"""The fund ledger (专款专用): record what happens to the money, and read the balances.

Every write takes ``--as PERSON`` and ``--op-id ID`` (the caller's own id for the operation: sent
again, it returns the entry already made; sent again with a different field, it is refused).
Amounts are yuan with at most two decimals (36940.00); entries are named by their number in the
programme's log (``ducha funds entries``).
"""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ducha.cli.common import (
    ActorOption,
    AtOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    ProgrammeOption,
    actor,
    console,
    context,
    lean_read,
    window,
)

if TYPE_CHECKING:
    from funds.operations import Recorded
    from models.raw import RawReader
    from models.window import Streamed

funds_app = typer.Typer(help="The fund ledger: allocate, disburse, commit, pay, spend … and balances.")

OpIdOption = Annotated[
    str, typer.Option("--op-id", help="Your id for this operation (a retry sends it again).")
]
FundOption = Annotated[str, typer.Option("--fund", help="The funding source's code (upper, district …).")]
AmountOption = Annotated[str, typer.Option("--amount", help="Yuan, up to two decimals (36940.00).")]
MemoOption = Annotated[str, typer.Option("--memo", help="A note kept with the entry.")]
OccurredOption = Annotated[
    str | None, typer.Option("--occurred", help="When it happened, if before now (ISO 8601).")
]
CategoryOption = Annotated[str | None, typer.Option("--category", help="Expense category (construction …).")]
VendorOption = Annotated[str | None, typer.Option("--vendor", help="Who is paid (made on first use).")]
SmallFirmOption = Annotated[
    bool | None, typer.Option("--small-firm/--not-small-firm", help="The vendor is a small firm (中小企业).")
]
VoucherOption = Annotated[str | None, typer.Option("--voucher", help="Voucher number (凭证号).")]
InvoiceOption = Annotated[str | None, typer.Option("--invoice", help="Invoice number (发票号).")]
DocumentOption = Annotated[
    list[Path] | None, typer.Option("--document", help="A scan kept in the evidence store; repeatable.")
]
OverrideOption = Annotated[
    str | None, typer.Option("--override-reason", help="The office lets it exceed the allocation, because …")
]
EntryArgument = Annotated[int, typer.Argument(metavar="ENTRY", min=0, help="The entry's number in the log.")]


def yuan(text: str, option: str = "--amount") -> int:
    from models.errors import BadInput
    from models.money import parse_yuan

    try:
        return parse_yuan(text)
    except ValueError as exc:
        raise BadInput(f"{option} {text!r}: {exc}") from None


def record_command(
    ctx: typer.Context,
    at: str | None,
    actor_ref: str,
    op_id: str,
    programme: str | None,
    occurred: str | None,
    memo: str,
    action: Callable[..., "Recorded | list[Recorded]"],
    **arguments: Any,
) -> None:
    """Run one ledger action in a transaction and say which entries it made (or found made)."""
    from ducha.clock import parse_instant
    from models import format_yuan
    from workflows.fund_actions import Operation

    app = context(ctx)
    now = app.now(at)
    when = parse_instant(occurred) if occurred else None
    setup = app.funds_setup()
    with app.transaction(now=now) as tx:
        op: Operation = Operation(actor(tx.session, actor_ref), op_id, programme, when, memo)
        extra = {"evidence": tx.evidence} if "evidence" in action.__annotations__ else {}
        made = action(session=tx.session, now=now, op=op, setup=setup, **extra, **arguments)
    for recorded in made if isinstance(made, list) else [made]:
        doc = recorded.document
        where = " ".join(str(part) for part in (doc["fund"], doc["project"]) if part)
        again = " (already recorded: nothing new)" if recorded.replayed else ""
        console().print(
            f"entry {recorded.seq}: {recorded.kind} {format_yuan(doc['amount'])} {where}; "
            f"hash {recorded.entry_hash[:16]}{again}",
            markup=False,
            highlight=False,
        )


@funds_app.command("receive")
def receive_command(
    ctx: typer.Context,
    fund: Annotated[str, typer.Argument(help="The funding source's code.")],
    amount: AmountOption,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    programme: ProgrammeOption = None,
    voucher: VoucherOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Record a fund's money reaching the programme (the office)."""
    from workflows.fund_actions import record_receipt

    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        record_receipt,
        fund=fund,
        amount_fen=yuan(amount),
        voucher=voucher,
    )


@funds_app.command("allocate")
def allocate_command(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fund: FundOption,
    amount: AmountOption,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    programme: ProgrammeOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Allocate money of one fund to a project (the office)."""
    from workflows.fund_actions import allocate_funds

    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        allocate_funds,
        project=project,
        fund=fund,
        amount_fen=yuan(amount),
    )


@funds_app.command("disburse")
def disburse_command(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fund: FundOption,
    amount: AmountOption,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    programme: ProgrammeOption = None,
    voucher: VoucherOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Pay part of a project's allocation into its bank account (the office)."""
    from workflows.fund_actions import disburse_funds

    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        disburse_funds,
        project=project,
        fund=fund,
        amount_fen=yuan(amount),
        voucher=voucher,
    )


@funds_app.command("reverse")
def reverse_command(
    ctx: typer.Context,
    entry: EntryArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    actor_ref: ActorOption,
    op_id: OpIdOption,
    override_reason: OverrideOption = None,
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Correct an entry with a reversing entry that names it (the office)."""
    from workflows.fund_actions import reverse_entry

    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        None,
        "",
        reverse_entry,
        seq=entry,
        reason=reason,
        override_reason=override_reason,
    )


@funds_app.command("reclassify")
def reclassify_command(
    ctx: typer.Context,
    from_fund: Annotated[str, typer.Option("--from-fund", help="Fund the money leaves.")],
    to_fund: Annotated[str, typer.Option("--to-fund", help="Fund it goes to.")],
    amount: AmountOption,
    approved_by: Annotated[
        str, typer.Option("--approved-by", help="Who approved it (leadership or office).")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    actor_ref: ActorOption,
    op_id: OpIdOption,
    project: Annotated[
        str | None, typer.Option("--project", help="Between this project's allocations.")
    ] = None,
    approval: Annotated[str | None, typer.Option("--approval", help="The approval's reference.")] = None,
    programme: ProgrammeOption = None,
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Move money between two funds, approved: two linked entries, one in each fund."""
    from workflows.fund_actions import reclassify_funds

    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        "",
        reclassify_funds,
        from_fund=from_fund,
        to_fund=to_fund,
        amount_fen=yuan(amount),
        approved_by=approved_by,
        reason=reason,
        project=project,
        approval=approval,
    )


@funds_app.command("balances")
def balances_command(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option("--project", help="Only this project's accounts.")] = None,
    programme: ProgrammeOption = None,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Every account's balance, as of --at (what had happened by then)."""
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import as_of_line, print_page
    from funds.balance_rows import BalanceRow
    from models.money import format_yuan

    app = context(ctx)
    as_of = app.as_of(at)
    shown = window(limit, offset, as_json=as_json)

    def emit(name: str, listing: "Streamed[BalanceRow]") -> None:
        if as_json:
            emit_list(listing, as_of=as_of)
            return

        def cells(row: BalanceRow) -> list[object]:
            return [
                row.account,
                row.fund,
                row.kind,
                row.project or "",
                row.vendor or "",
                format_yuan(row.balance_fen),
            ]

        title = f"balances of {name}" + (f", {as_of_line(as_of)}" if as_of else "")
        columns = ("account", "fund", "kind", "project", "vendor", "balance")
        print_page(console(), listing, title, columns, cells, balance="right")

    from workflows import lean_reads

    def lean(reader: "RawReader") -> "tuple[str, Streamed[BalanceRow]]":
        found = lean_reads.find_programme(reader, programme)
        target = lean_reads.find_project(reader, project, found.id).id if project else None
        return found.name, lean_reads.balances(
            reader, programme_id=found.id, project_id=target, at=as_of, window=shown
        )

    with lean_read(app, lean) as made:
        if made is not None:
            emit(*made)
            return
    from funds.reads import balances
    from workflows.programmes import find_programme
    from workflows.projects import find_project

    with app.reading() as session:
        found = find_programme(session=session, ref=programme)
        target = find_project(session=session, ref=project, programme_id=found.id) if project else None
        listing = balances(session=session, programme=found, project=target, at=as_of)
        listing.window = shown
        emit(found.name, listing)
