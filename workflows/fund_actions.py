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

from funds.accounts import find_fund
from funds.journal import Who
from funds.note import Signer
from funds.operations import Context, Recorded, allocate, disburse, receive, reclassify
from funds.settling import reverse
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


def context_of(session: Session, now: datetime, op: Operation, setup: FundsSetup) -> Context:
    op_id = clean(op.op_id, field="--op-id", max_length=100, required=True)
    if any(char.isspace() for char in op_id):
        raise BadInput(f"--op-id {op_id!r}: no spaces")
    if op.occurred is not None and op.occurred > now:
        raise BadInput("--occurred: an operation is recorded when or after it happens, not before")
    programme = find_programme(session=session, ref=op.programme)
    return Context(programme, who(op.actor), now, op_id, op.occurred, tuple(setup.signers))


def memo_of(text: str) -> str | None:
    return clean(text, field="--memo", max_length=MEMO, multiline=True) or None


def text_of(value: str | None, name: str) -> str | None:
    return clean(value, field=name, max_length=64) or None if value is not None else None


def require_project_writer(session: Session, project: Project, actor: Person, doing: str) -> None:
    if not actor_roles(session, project, actor).intersection(PROJECT_WRITERS):
        raise NotPermitted(
            f"{actor.name} (id {actor.id}) is neither the specialist nor the leader of {project.code}, "
            f"nor in the supervision office: cannot {doing}"
        )


def override_of(session: Session, actor: Person, reason: str | None) -> str | None:
    if reason is None:
        return None
    why = clean(reason, field="--override-reason", max_length=MEMO, multiline=True, required=True)
    require_role(session=session, actor=actor, roles=OFFICE, doing="override an allocation limit")
    return why


def store_files(evidence: EvidenceWriter, paths: Sequence[Path]) -> tuple[tuple[str, str], ...]:
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
    ctx = context_of(session, now, op, setup)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    return receive(
        session=session,
        ctx=ctx,
        fund=source,
        amount=amount_fen,
        voucher=text_of(voucher, "--voucher"),
        memo=memo_of(op.memo),
    )


def target_project(session: Session, ctx: Context, project: str) -> Project:
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
    ctx = context_of(session, now, op, setup)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    target = target_project(session, ctx, project)
    return allocate(
        session=session, ctx=ctx, fund=source, project=target, amount=amount_fen, memo=memo_of(op.memo)
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
    ctx = context_of(session, now, op, setup)
    source = find_fund(session=session, programme=ctx.programme, code=fund)
    return disburse(
        session=session,
        ctx=ctx,
        fund=source,
        project=target_project(session, ctx, project),
        amount=amount_fen,
        voucher=text_of(voucher, "--voucher"),
        memo=memo_of(op.memo),
    )


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
    ctx = context_of(session, now, op, setup)
    override = override_of(session, op.actor, override_reason)
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
    ctx = context_of(session, now, op, setup)
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
        project=target_project(session, ctx, project) if project else None,
        approver=who(approver),
        approval=text_of(approval, "--approval"),
        reason=why,
    )


def programme_of(session: Session, ref: str | None) -> Programme:
    return find_programme(session=session, ref=ref)
