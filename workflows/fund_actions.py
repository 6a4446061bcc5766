"""What people do with a programme's money (funds/): each write one function, its roles checked first.

Who may do what:
- receive (a fund's money reaches the programme), allocate (to a project), disburse (into the
  project's bank account) and reverse (correct an entry): the supervision office or an admin;
- reclassify (move money between funds): the office or an admin records it, approved by someone
  else in district leadership or the office (``approved_by``);
- spend, commit (reserve an approved payment), pay, record a payable (goods or works accepted) and
  refund: the project's specialist or leader, or the office;
- who approves a commitment: the project's leader or the office, never the person recording it
  (separation of duties); a commitment is voided by the office or by whoever approved it;
- an override of the allocation limit: the office only, with a reason the entry keeps.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from funds.accounts import ensure_vendor, find_category, find_fund
from funds.journal import Who
from funds.note import Signer
from funds.operations import Context, Recorded, allocate, disburse, entry, receive, reclassify
from funds.spending import Purchase, commit, pay, payable, refund, reverse, spend, void
from inspections.evidence import EvidenceWriter, read_evidence_file
from models import Person, Programme, Project, Role
from models.errors import BadInput
from models.text import clean
from workflows.authority import ADMIN_OR_OFFICE, OFFICE, NotPermitted, require_role
from workflows.engine import actor_roles
from workflows.people import find_person
from workflows.programmes import find_programme
from workflows.projects import find_project

MEMO = 2000
PROJECT_WRITERS = (Role.SPECIALIST, Role.LEADER, Role.OFFICE)


@dataclass(frozen=True)
class FundsSetup:
    """The installation's signing keys (a checkpoint every 64 entries) and the approval threshold."""

    signers: Sequence[Signer] = field(default_factory=tuple)
    approval_threshold_fen: int | None = None


@dataclass(frozen=True)
class Operation:
    """Who records it, when, under which client operation id; ``occurred`` when it happened, if not now."""

    actor: Person
    op_id: str
    programme: str | None = None
    occurred: datetime | None = None
    memo: str = ""


def who(person: Person) -> Who:
    assert person.id is not None
    return Who(person.id, person.name)


def _context(session: Session, now: datetime, op: Operation, setup: FundsSetup) -> Context:
    op_id = clean(op.op_id, field="--op-id", max_length=100, required=True)
    if any(char.isspace() for char in op_id):
        raise BadInput(f"--op-id {op_id!r}: no spaces")
    if op.occurred is not None and op.occurred > now:
        raise BadInput("--occurred: an operation is recorded when or after it happens, not before")
    programme = find_programme(session=session, ref=op.programme)
    return Context(programme, who(op.actor), now, op_id, op.occurred, tuple(setup.signers))


def _memo(text: str) -> str | None:
    return clean(text, field="--memo", max_length=MEMO, multiline=True) or None


def _text(value: str | None, name: str) -> str | None:
    return clean(value, field=name, max_length=64) or None if value is not None else None


def _project_writer(session: Session, project: Project, actor: Person, doing: str) -> None:
    if not actor_roles(session, project, actor).intersection(PROJECT_WRITERS):
        raise NotPermitted(
            f"{actor.name} (id {actor.id}) is neither the specialist nor the leader of {project.code}, "
            f"nor in the supervision office: cannot {doing}"
        )


def _override(session: Session, actor: Person, reason: str | None) -> str | None:
    if reason is None:
        return None
    why = clean(reason, field="--override-reason", max_length=MEMO, multiline=True, required=True)
    require_role(session=session, actor=actor, roles=OFFICE, doing="override an allocation limit")
    return why


def _files(evidence: EvidenceWriter, paths: Sequence[Path]) -> tuple[tuple[str, str], ...]:
    contents = [(path.name, read_evidence_file(path, max_bytes=evidence.max_bytes)) for path in paths]
    for name, data in contents:
        evidence.check(name, data)
    return tuple((evidence.put(name, data).sha256, name) for name, data in contents)


def record_receipt(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    fund: str,
    amount_fen: int,
    voucher: str | None = None,
) -> Recorded:
    """The office records a fund's money reaching the programme pool."""
    require_role(session=session, actor=op.actor, roles=ADMIN_OR_OFFICE, doing="record money received")
    ctx = _context(session, now, op, setup)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    return receive(
        session=session,
        ctx=ctx,
        fund=source,
        amount=amount_fen,
        voucher=_text(voucher, "--voucher"),
        memo=_memo(op.memo),
    )


def _target(session: Session, ctx: Context, project: str) -> Project:
    return find_project(session=session, ref=project, programme_id=ctx.programme.id)


def allocate_funds(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    project: str,
    fund: str,
    amount_fen: int,
) -> Recorded:
    """The office allocates money of one fund to a project."""
    require_role(session=session, actor=op.actor, roles=ADMIN_OR_OFFICE, doing="allocate funds")
    ctx = _context(session, now, op, setup)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    target = _target(session, ctx, project)
    return allocate(
        session=session, ctx=ctx, fund=source, project=target, amount=amount_fen, memo=_memo(op.memo)
    )


def disburse_funds(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    project: str,
    fund: str,
    amount_fen: int,
    voucher: str | None = None,
) -> Recorded:
    """The office pays part of a project's allocation into the project's bank account."""
    require_role(session=session, actor=op.actor, roles=ADMIN_OR_OFFICE, doing="disburse funds")
    ctx = _context(session, now, op, setup)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    return disburse(
        session=session,
        ctx=ctx,
        fund=source,
        project=_target(session, ctx, project),
        amount=amount_fen,
        voucher=_text(voucher, "--voucher"),
        memo=_memo(op.memo),
    )


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
    files = _files(evidence, given.documents) if evidence is not None and given.documents else ()
    return Purchase(
        category, vendor, _text(given.voucher, "--voucher"), _text(given.invoice, "--invoice"), files, memo
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
    ctx = _context(session, now, op, setup)
    target = _target(session, ctx, project)
    _project_writer(session, target, op.actor, "record its spending")
    if purchase.category is None or not purchase.voucher:
        raise BadInput("spending names its --category and its --voucher (凭证号)")
    override = _override(session, op.actor, override_reason)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, _memo(op.memo))
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
    ctx = _context(session, now, op, setup)
    target = _target(session, ctx, project)
    _project_writer(session, target, op.actor, "commit its payments")
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
    override = _override(session, op.actor, override_reason)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, _memo(op.memo))
    return commit(
        session=session,
        ctx=ctx,
        fund=source,
        project=target,
        amount=amount_fen,
        purchase=bought,
        approver=who(approver),
        approval=_text(approval, "--approval"),
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
    ctx = _context(session, now, op, setup)
    target = entry(session, ctx.programme, seq)
    project = session.get(Project, target.project_id) if target.project_id else None
    if project is None:
        raise BadInput(f"entry {seq} is a {target.kind}: pay names a commitment or a payable")
    _project_writer(session, project, op.actor, "pay its commitments and payables")
    override = _override(session, op.actor, override_reason)
    files = _files(evidence, documents) if evidence is not None and documents else ()
    return pay(
        session=session,
        ctx=ctx,
        seq=seq,
        amount=amount_fen,
        voucher=_text(voucher, "--voucher"),
        invoice=_text(invoice, "--invoice"),
        documents=files,
        override=override,
    )


def void_commitment(
    *, session: Session, now: datetime, op: Operation, setup: FundsSetup, seq: int, reason: str
) -> Recorded:
    """Cancel a commitment: the office, or whoever approved it."""
    ctx = _context(session, now, op, setup)
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
    ctx = _context(session, now, op, setup)
    target = _target(session, ctx, project)
    _project_writer(session, target, op.actor, "record its payables")
    if purchase.category is None or purchase.vendor is None:
        raise BadInput("a payable names its --vendor and its --category")
    override = _override(session, op.actor, override_reason)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, _memo(op.memo))
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
    ctx = _context(session, now, op, setup)
    target = _target(session, ctx, project)
    _project_writer(session, target, op.actor, "record its refunds")
    if purchase.category is None:
        raise BadInput("a refund names the --category the money was spent on")
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    bought = _purchase(session, ctx, purchase, evidence, _memo(op.memo))
    return refund(session=session, ctx=ctx, fund=source, project=target, amount=amount_fen, purchase=bought)


def reverse_entry(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    seq: int,
    reason: str,
    override_reason: str | None = None,
) -> Recorded:
    """The office corrects an entry with a reversing entry that names it."""
    require_role(session=session, actor=op.actor, roles=ADMIN_OR_OFFICE, doing="reverse an entry")
    why = clean(reason, field="--reason", max_length=MEMO, multiline=True, required=True)
    ctx = _context(session, now, op, setup)
    override = _override(session, op.actor, override_reason)
    return reverse(session=session, ctx=ctx, seq=seq, reason=why, override=override)


def reclassify_funds(
    *,
    session: Session,
    now: datetime,
    op: Operation,
    setup: FundsSetup,
    from_fund: str,
    to_fund: str,
    amount_fen: int,
    approved_by: str,
    reason: str,
    project: str | None = None,
    approval: str | None = None,
) -> list[Recorded]:
    """Move money between two funds (the pool, or one project's allocations): two linked entries."""
    require_role(session=session, actor=op.actor, roles=ADMIN_OR_OFFICE, doing="reclassify funds")
    why = clean(reason, field="--reason", max_length=MEMO, multiline=True, required=True)
    ctx = _context(session, now, op, setup)
    approver = find_person(session=session, ref=approved_by)
    if approver.id == op.actor.id:
        raise NotPermitted(
            f"{approver.name} cannot approve a reclassification they record: another person approves"
        )
    require_role(
        session=session,
        actor=approver,
        roles=(Role.LEADERSHIP, Role.OFFICE),
        doing="approve a reclassification",
    )
    return reclassify(
        session=session,
        ctx=ctx,
        source=find_fund(session=session, programme=ctx.programme, code=from_fund),
        target=find_fund(session=session, programme=ctx.programme, code=to_fund),
        amount=amount_fen,
        project=_target(session, ctx, project) if project else None,
        approver=who(approver),
        approval=_text(approval, "--approval"),
        reason=why,
    )


def programme_of(session: Session, ref: str | None) -> Programme:
    return find_programme(session=session, ref=ref)
