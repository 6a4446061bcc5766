"""The ledger commands of a project's people: spend, commit, pay, void, payable, refund (ducha funds …)."""

from typing import Annotated, Any

import typer

from ducha.cli.common import ActorOption, AtOption, ProgrammeOption
from ducha.cli.funds import (
    AmountOption,
    CategoryOption,
    DocumentOption,
    EntryArgument,
    FundOption,
    InvoiceOption,
    MemoOption,
    OccurredOption,
    OpIdOption,
    OverrideOption,
    SmallFirmOption,
    VendorOption,
    VoucherOption,
    funds_app,
    record_command,
    yuan,
)


def _purchase(**given: Any) -> Any:
    from workflows.payment_actions import PurchaseInput

    given["documents"] = tuple(given.get("documents") or ())
    return PurchaseInput(**given)


@funds_app.command("spend")
def spend_command(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fund: FundOption,
    amount: AmountOption,
    category: CategoryOption,
    voucher: VoucherOption,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    vendor: VendorOption = None,
    small_firm: SmallFirmOption = None,
    invoice: InvoiceOption = None,
    document: DocumentOption = None,
    override_reason: OverrideOption = None,
    programme: ProgrammeOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Spend from the project's bank account on a category, below the approval threshold."""
    from workflows.payment_actions import spend_funds

    purchase = _purchase(
        category=category,
        vendor=vendor,
        small_firm=small_firm,
        voucher=voucher,
        invoice=invoice,
        documents=document,
    )
    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        spend_funds,
        project=project,
        fund=fund,
        amount_fen=yuan(amount),
        purchase=purchase,
        override_reason=override_reason,
    )


@funds_app.command("commit")
def commit_command(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fund: FundOption,
    amount: AmountOption,
    category: CategoryOption,
    approved_by: Annotated[str, typer.Option("--approved-by", help="Who approved the payment.")],
    actor_ref: ActorOption,
    op_id: OpIdOption,
    vendor: VendorOption = None,
    small_firm: SmallFirmOption = None,
    approval: Annotated[str | None, typer.Option("--approval", help="The approval's reference.")] = None,
    voucher: VoucherOption = None,
    invoice: InvoiceOption = None,
    document: DocumentOption = None,
    override_reason: OverrideOption = None,
    programme: ProgrammeOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Reserve an approved payment (the project's leader or the office approves; not the recorder)."""
    from workflows.payment_actions import commit_payment

    purchase = _purchase(
        category=category,
        vendor=vendor,
        small_firm=small_firm,
        voucher=voucher,
        invoice=invoice,
        documents=document,
    )
    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        commit_payment,
        project=project,
        fund=fund,
        amount_fen=yuan(amount),
        purchase=purchase,
        approved_by=approved_by,
        approval=approval,
        override_reason=override_reason,
    )


@funds_app.command("pay")
def pay_command(
    ctx: typer.Context,
    entry: EntryArgument,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Part of a payable (default: what is owed).")
    ] = None,
    voucher: VoucherOption = None,
    invoice: InvoiceOption = None,
    document: DocumentOption = None,
    override_reason: OverrideOption = None,
    programme: ProgrammeOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Pay a commitment (its reservation, whole) or a payable (from the bank account)."""
    from workflows.payment_actions import pay_entry

    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        pay_entry,
        seq=entry,
        amount_fen=yuan(amount) if amount is not None else None,
        voucher=voucher,
        invoice=invoice,
        documents=tuple(document or ()),
        override_reason=override_reason,
    )


@funds_app.command("void")
def void_command(
    ctx: typer.Context,
    entry: EntryArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
    actor_ref: ActorOption,
    op_id: OpIdOption,
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Cancel a commitment: its money goes back to the bank account (the office or its approver)."""
    from workflows.payment_actions import void_commitment

    record_command(ctx, at, actor_ref, op_id, programme, None, "", void_commitment, seq=entry, reason=reason)


@funds_app.command("payable")
def payable_command(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fund: FundOption,
    amount: AmountOption,
    vendor: VendorOption,
    category: CategoryOption,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    small_firm: SmallFirmOption = None,
    invoice: InvoiceOption = None,
    document: DocumentOption = None,
    override_reason: OverrideOption = None,
    programme: ProgrammeOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Record what is owed to a vendor once its goods or works are accepted (验收)."""
    from workflows.payment_actions import record_payable

    purchase = _purchase(
        category=category, vendor=vendor, small_firm=small_firm, invoice=invoice, documents=document
    )
    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        record_payable,
        project=project,
        fund=fund,
        amount_fen=yuan(amount),
        purchase=purchase,
        override_reason=override_reason,
    )


@funds_app.command("refund")
def refund_command(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fund: FundOption,
    amount: AmountOption,
    category: CategoryOption,
    actor_ref: ActorOption,
    op_id: OpIdOption,
    vendor: VendorOption = None,
    voucher: VoucherOption = None,
    programme: ProgrammeOption = None,
    memo: MemoOption = "",
    occurred: OccurredOption = None,
    at: AtOption = None,
) -> None:
    """Record money a vendor returned, out of the category it was spent on."""
    from workflows.payment_actions import record_refund

    purchase = _purchase(category=category, vendor=vendor, voucher=voucher)
    record_command(
        ctx,
        at,
        actor_ref,
        op_id,
        programme,
        occurred,
        memo,
        record_refund,
        project=project,
        fund=fund,
        amount_fen=yuan(amount),
        purchase=purchase,
    )
