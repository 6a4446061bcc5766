"""What a project's people do with its money: spend, commit an approved payment, pay, void, record a
payable at acceptance, record a refund. Who may do what is in workflows/fund_actions.py's docstring."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from funds.accounts import ensure_vendor, find_category, find_fund
from funds.operations import Context, Recorded, entry
from funds.settling import pay, void
from funds.spending import Purchase, commit, payable, refund, spend
from inspections.evidence import EvidenceWriter
from models import Project, Role
from models.errors import BadInput
from models.text import clean
from workflows.authority import OFFICE, NotPermitted, require_role
from workflows.engine import actor_roles
from workflows.fund_actions import (
    MEMO,
    FundsSetup,
    Operation,
    context_of,
    memo_of,
    override_of,
    require_project_writer,
    store_files,
    target_project,
    text_of,
    who,
)
from workflows.people import find_person


@dataclass(frozen=True)
class PurchaseInput:
    """What a payment is for, as a person gives it."""

    category: str | None = None
    vendor: str | None = None
    small_firm: bool | None = None
    voucher: str | None = None
    invoice: str | None = None
    documents: Sequence[Path] = ()


def _purchase(
    session: Session, ctx: Context, given: PurchaseInput, evidence: EvidenceWriter | None, memo: str | None
) -> Purchase:
    category = None
    if given.category is not None:
        category = find_category(session=session, programme=ctx.programme, code=given.category).code
    vendor = None
    if given.vendor is not None:
        name = clean(given.vendor, field="--vendor", max_length=200, required=True)
        vendor = ensure_vendor(session=session, name=name, small_firm=given.small_firm, now=ctx.now)
    files = store_files(evidence, given.documents) if evidence is not None and given.documents else ()
    return Purchase(
        category,
        vendor,
        text_of(given.voucher, "--voucher"),
        text_of(given.invoice, "--invoice"),
        files,
        memo,
    )


def spend_funds(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    evidence: EvidenceWriter | None,
    project: str,
    fund: str,
    amount_fen: int,
    purchase: PurchaseInput,
    override_reason: str | None = None,
) -> Recorded:
    """A project spends from its bank account on a category, with a voucher (below the approval threshold)."""
    ctx = context_of(session, now, op, setup)
    target = target_project(session, ctx, project)
    require_project_writer(session, target, op.actor, "record its spending")
    if purchase.category is None or not purchase.voucher:
        raise BadInput("spending names its --category and its --voucher (凭证号)")
    override = override_of(session, op.actor, override_reason)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, memo_of(op.memo))
    return spend(
        session=session,
        ctx=ctx,
        fund=source,
        project=target,
        amount=amount_fen,
        purchase=bought,
        override=override,
        threshold=setup.approval_threshold_fen,
    )


def commit_payment(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    evidence: EvidenceWriter | None,
    project: str,
    fund: str,
    amount_fen: int,
    purchase: PurchaseInput,
    approved_by: str,
    approval: str | None = None,
    override_reason: str | None = None,
) -> Recorded:
    """Reserve a payment its approver agreed to (the project's leader or the office, not the recorder)."""
    ctx = context_of(session, now, op, setup)
    target = target_project(session, ctx, project)
    require_project_writer(session, target, op.actor, "commit its payments")
    if purchase.category is None:
        raise BadInput("a commitment names its --category")
    approver = find_person(session=session, ref=approved_by)
    if approver.id == op.actor.id:
        raise NotPermitted(f"{approver.name} cannot approve a payment they record: another person approves")
    if not actor_roles(session, target, approver).intersection((Role.LEADER, Role.OFFICE)):
        raise NotPermitted(
            f"{approver.name} (id {approver.id}) is neither the leader of {target.code} nor in the "
            "supervision office: cannot approve its payments"
        )
    override = override_of(session, op.actor, override_reason)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, memo_of(op.memo))
    return commit(
        session=session,
        ctx=ctx,
        fund=source,
        project=target,
        amount=amount_fen,
        purchase=bought,
        approver=who(approver),
        approval=text_of(approval, "--approval"),
        override=override,
    )


def pay_entry(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    evidence: EvidenceWriter | None,
    seq: int,
    amount_fen: int | None = None,
    voucher: str | None = None,
    invoice: str | None = None,
    documents: Sequence[Path] = (),
    override_reason: str | None = None,
) -> Recorded:
    """Pay a commitment (posts its reservation) or a payable (from the bank account)."""
    ctx = context_of(session, now, op, setup)
    target = entry(session, ctx.programme, seq)
    project = session.get(Project, target.project_id) if target.project_id else None
    if project is None:
        raise BadInput(f"entry {seq} is a {target.kind}: pay names a commitment or a payable")
    require_project_writer(session, project, op.actor, "pay its commitments and payables")
    override = override_of(session, op.actor, override_reason)
    files = store_files(evidence, documents) if evidence is not None and documents else ()
    return pay(
        session=session,
        ctx=ctx,
        seq=seq,
        amount=amount_fen,
        voucher=text_of(voucher, "--voucher"),
        invoice=text_of(invoice, "--invoice"),
        documents=files,
        override=override,
    )


def void_commitment(
    *, session: Session, now: datetime, op: Operation, setup: FundsSetup, seq: int, reason: str
) -> Recorded:
    """Cancel a commitment: the office, or whoever approved it."""
    ctx = context_of(session, now, op, setup)
    why = clean(reason, field="--reason", max_length=MEMO, multiline=True, required=True)
    target = entry(session, ctx.programme, seq)
    if target.kind == "commit":
        import json

        approver = json.loads(target.body)["approval"]["by"]["id"]
        if approver != op.actor.id:
            require_role(
                session=session, actor=op.actor, roles=OFFICE, doing="void a commitment someone else approved"
            )
    return void(session=session, ctx=ctx, seq=seq, reason=why)


def record_payable(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    evidence: EvidenceWriter | None,
    project: str,
    fund: str,
    amount_fen: int,
    purchase: PurchaseInput,
    override_reason: str | None = None,
) -> Recorded:
    """Record what the project owes a vendor once its goods or works are accepted (验收)."""
    ctx = context_of(session, now, op, setup)
    target = target_project(session, ctx, project)
    require_project_writer(session, target, op.actor, "record its payables")
    if purchase.category is None or purchase.vendor is None:
        raise BadInput("a payable names its --vendor and its --category")
    override = override_of(session, op.actor, override_reason)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, memo_of(op.memo))
    return payable(
        session=session,
        ctx=ctx,
        fund=source,
        project=target,
        amount=amount_fen,
        purchase=bought,
        override=override,
    )


def record_refund(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    evidence: EvidenceWriter | None,
    project: str,
    fund: str,
    amount_fen: int,
    purchase: PurchaseInput,
) -> Recorded:
    """Money a vendor returns to the project, out of the category it was spent on."""
    ctx = context_of(session, now, op, setup)
    target = target_project(session, ctx, project)
    require_project_writer(session, target, op.actor, "record its refunds")
    if purchase.category is None:
        raise BadInput("a refund names the --category the money was spent on")
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, memo_of(op.memo))
    return refund(session=session, ctx=ctx, fund=source, project=target, amount=amount_fen, purchase=bought)
