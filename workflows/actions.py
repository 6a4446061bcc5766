"""Every multi-step write a front end makes, each one function: the CLI, the jobs and the API call these.

An action takes the session, the time it happens (``now``), the person acting and plain arguments
(references as a person would type them: a project code, an order id), calls the domain, keeps
deadlines in step with what changed, and returns what it did. It never commits: the front end's
transaction (ducha.context) does, or rolls everything back, evidence files included.
"""

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from inspections.attachments import EvidenceItem
from inspections.evidence import EvidenceWriter, read_evidence_file
from inspections.forms import read_form
from inspections.loaded_templates import get_template
from inspections.orders import DEFAULT_DEADLINE_DAYS, check_response, get_order, move_due, respond, verify
from inspections.recording import INSPECTOR_ROLES, Recorded, record_inspection
from inspections.signing import Signed
from inspections.signing import sign_inspection as sign_checked_inspection
from inspections.spot_checks import draw_spot_check as draw_weighted
from models import (
    Deadline,
    Inspection,
    InspectionKind,
    OrderEvent,
    Person,
    Programme,
    Project,
    ProjectDocument,
    Role,
    SpotCheckDraw,
    WorkflowDefinitionRecord,
    WorkflowEvent,
)
from models.calendar import WorkingCalendar
from models.errors import BadInput, NotFound, Refused
from models.installation import Mode
from models.text import clean
from models.yaml_source import read_source_text
from notifications.inspection_notices import inspection_drafts
from notifications.outbox import NoticeSetup, enqueue
from workflows.authority import (
    ADMIN_OR_OFFICE,
    OFFICE,
    OFFICE_OR_LEADERSHIP,
    NotPermitted,
    record_activity,
    require_role,
)
from workflows.deadline_changes import extend, record_done, waive
from workflows.deadline_sync import SyncResult, sync_deadlines
from workflows.definition import get_definition, load_definition
from workflows.engine import actor_roles, apply_transition
from workflows.importer import CreatedProject, import_projects
from workflows.installation import mode_of
from workflows.people import find_person
from workflows.programmes import FundingSourceSpec, create_programme, find_programme, funding_sources
from workflows.projects import find_project, record_document
from workflows.reads import drawn_projects
from workflows.register_file import ProjectLine, read_register

# A reason, note or earmark: a paragraph, not a file.
REASON = 2000


def keep_deadlines_in_step(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    project: Project | None = None,
    programme: Programme | None = None,
) -> SyncResult:
    """Open and settle the deadlines a change implies, for one project, one programme or all."""
    return sync_deadlines(
        session=session,
        now=now,
        calendar=calendar,
        project_id=project.id if project is not None else None,
        programme_id=programme.id if programme is not None else None,
    )


def _project(session: Session, ref: str, programme: str | None) -> Project:
    programme_id = find_programme(session=session, ref=programme).id if programme else None
    return find_project(session=session, ref=ref, programme_id=programme_id)


# --- projects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Advanced:
    project: Project
    from_stage: str
    event: WorkflowEvent


def advance_project(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    actor: Person,
    project: str,
    to: str,
    reason: str = "",
    programme: str | None = None,
) -> Advanced:
    """Move a project to another stage (``resume`` un-suspends); refused with every unmet condition."""
    found = _project(session, project, programme)
    before = found.stage
    why = clean(reason, field="reason", max_length=REASON, multiline=True)
    event = apply_transition(session=session, project=found, to=to, actor=actor, now=now, reason=why)
    keep_deadlines_in_step(session=session, now=now, calendar=calendar, project=found)
    return Advanced(found, before, event)


@dataclass(frozen=True)
class DocumentAdded:
    project: Project
    document: ProjectDocument


def add_document(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    project: str,
    kind: str,
    title: str = "",
    programme: str | None = None,
) -> DocumentAdded:
    """Record that a project document exists (guards such as documents_recorded look for it).

    The project's specialist or leader records it, or the supervision office.
    """
    found = _project(session, project, programme)
    held = actor_roles(session, found, actor)
    if not held.intersection((Role.SPECIALIST, Role.LEADER, Role.OFFICE)):
        raise NotPermitted(
            f"{actor.name} (id {actor.id}) is neither the specialist nor the leader of {found.code}, "
            "nor in the supervision office: cannot add its documents"
        )
    document = record_document(
        session=session,
        project=found,
        kind=clean(kind, field="kind", max_length=64, required=True),
        title=clean(title, field="title", max_length=200),
        actor=actor,
        now=now,
    )
    return DocumentAdded(found, document)


@dataclass(frozen=True)
class Imported:
    programme: Programme
    projects: list[CreatedProject]


@dataclass(frozen=True)
class Register:
    """A register file read and checked on its own, before the transaction that writes it."""

    path: Path
    programme: Programme
    lines: list[ProjectLine]


def read_register_file(*, session: Session, path: Path, programme: str | None = None) -> Register:
    """Read and check a register for a programme: every bad row named, nothing written."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    target = find_programme(session=session, ref=programme)
    assert target.id is not None
    sources = [source.code for source in funding_sources(session=session, programme_id=target.id)]
    return Register(path, target, read_register(path, sources))


def import_register(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    actor: Person,
    path: Path,
    programme: str | None = None,
    register: Register | None = None,
) -> Imported:
    """Import a project register (台账), all or nothing, and open the new projects' deadlines.

    Give ``register`` (from ``read_register_file``, in a reading session) to read the file before
    this transaction begins: the write lock is then held for the bulk write only.
    """
    require_role(session=session, actor=actor, roles=ADMIN_OR_OFFICE, doing="import a register")
    read = register or read_register_file(session=session, path=path, programme=programme)
    target = session.get(Programme, read.programme.id) or read.programme
    created = import_projects(
        session=session, path=read.path, programme=target, now=now, lines=read.lines, actor=actor
    )
    keep_deadlines_in_step(session=session, now=now, calendar=calendar, programme=target)
    record_activity(
        session=session,
        now=now,
        actor=actor,
        action="register imported",
        subject=f"{read.path.name} into {target.name}",
        programme_id=target.id,
        projects=len(created),
    )
    return Imported(target, created)


def start_programme(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    name: str,
    district: str,
    workflow: str,
    sources: Sequence[FundingSourceSpec],
    milestones: Mapping[str, date],
    earmark: str = "",
) -> Programme:
    """Create a programme with its budget per funding source and its milestone dates."""
    require_role(session=session, actor=actor, roles=ADMIN_OR_OFFICE, doing="create a programme")
    programme = create_programme(
        session=session,
        name=clean(name, field="name", max_length=200, required=True),
        district=clean(district, field="district", max_length=100, required=True),
        definition_key=workflow,
        sources=[
            FundingSourceSpec(
                code=clean(source.code, field="budget code", max_length=32, required=True),
                name=clean(source.name, field="budget name", max_length=200, required=True),
                amount_fen=source.amount_fen,
            )
            for source in sources
        ],
        milestones={
            clean(key, field="milestone", max_length=64, required=True): day
            for key, day in milestones.items()
        },
        earmark=clean(earmark, field="earmark", max_length=REASON, multiline=True),
        now=now,
    )
    record_activity(
        session=session,
        now=now,
        actor=actor,
        action="programme created",
        subject=programme.name,
        programme_id=programme.id,
    )
    return programme


def load_workflow(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    path: Path,
    allow_weaker_guards: bool = False,
    reason: str = "",
) -> WorkflowDefinitionRecord:
    """Validate and keep a workflow definition file; new projects use the newest version.

    A version that asks less than the one before it needs ``allow_weaker_guards`` and a reason,
    both recorded with who loaded it.
    """
    require_role(session=session, actor=actor, roles=ADMIN_OR_OFFICE, doing="load a workflow definition")
    why = clean(reason, field="reason", max_length=REASON, multiline=True)
    if allow_weaker_guards and not why:
        raise BadInput("--allow-weaker-guards needs --reason: say why the guards may be weaker")
    before = session.exec(select(func.count()).select_from(WorkflowDefinitionRecord)).one()
    record = load_definition(
        session=session,
        text=read_source_text(path),
        source=str(path),
        now=now,
        allow_weaker=allow_weaker_guards,
    )
    after = session.exec(select(func.count()).select_from(WorkflowDefinitionRecord)).one()
    if after != before:  # loaded now, not found already loaded
        record_activity(
            session=session,
            now=now,
            actor=actor,
            action="workflow loaded",
            subject=f"{record.key} v{record.version}",
            reason=why or None,
            weaker_guards_allowed=allow_weaker_guards,
        )
    return record


# --- inspections and orders ----------------------------------------------------------------------


def record_inspection_form(
    *, session: Session, now: datetime, evidence: EvidenceWriter, actor: Person, path: Path
) -> Recorded:
    """Read a filled checklist, resolve its project and inspectors, and record it unsigned.

    An inspector or the supervision office records it.
    """
    require_role(session=session, actor=actor, roles=INSPECTOR_ROLES, doing="record an inspection")
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    form = read_form(path, lambda key, version: get_template(session=session, key=key, version=version)[1])
    project = find_project(session=session, ref=form.project_ref)
    inspectors = [find_person(session=session, ref=ref) for ref in form.inspector_refs]
    return record_inspection(
        session=session, form=form, project=project, inspectors=inspectors, store=evidence, now=now
    )


@dataclass(frozen=True)
class SignedInLifecycle:
    signed: Signed
    transition: WorkflowEvent | None


def sign_inspection(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    actor: Person,
    inspection_id: int,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
    notices: NoticeSetup | None = None,
) -> SignedInLifecycle:
    """Sign an inspection; a failed inspection takes the transition its workflow declares for it
    (a failed acceptance returns the project to construction with its orders). The rectification
    notices of its orders, and an acceptance's result, are written in the same transaction."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(f"no inspection {inspection_id}")
    signed = sign_checked_inspection(
        session=session,
        inspection=inspection,
        actor=actor,
        now=now,
        calendar=calendar,
        deadline_days=deadline_days,
    )
    project = session.get(Project, inspection.project_id)
    assert project is not None
    transition = None
    if signed.failed:
        definition = get_definition(
            session=session, key=project.definition_key, version=project.definition_version
        )
        declared = definition.on_failed_inspection(project.stage, InspectionKind(inspection.kind))
        if declared is not None:
            transition = apply_transition(
                session=session,
                project=project,
                to=declared.to,
                actor=actor,
                now=now,
                reason=f"{InspectionKind(inspection.kind).failed} (inspection #{inspection.id}, "
                f"{len(signed.issued)} orders)",
            )
    keep_deadlines_in_step(session=session, now=now, calendar=calendar, project=project)
    setup = notices or NoticeSetup()
    drafts = inspection_drafts(
        session=session, now=now, calendar=calendar, inspection=inspection, issued=signed.issued
    )
    enqueue(
        session=session,
        now=now,
        drafts=drafts,
        templates=setup.templates,
        calendar=calendar,
        quiet=setup.quiet,
    )
    return SignedInLifecycle(signed, transition)


def respond_to_order(
    *,
    session: Session,
    now: datetime,
    evidence: EvidenceWriter,
    actor: Person,
    order_id: int,
    files: Sequence[Path],
    note: str = "",
) -> OrderEvent:
    """Report a fix with evidence files; the order waits for the office to verify it.

    Everything is checked (the order, who answers, every file) before a file is stored.
    """
    order = get_order(session=session, order_id=order_id)
    check_response(session=session, order=order, actor=actor, evidence_count=len(files))
    contents = [(path.name, read_evidence_file(path, max_bytes=evidence.max_bytes)) for path in files]
    for name, data in contents:
        evidence.check(name, data)
    items = [EvidenceItem(evidence.put(name, data), name) for name, data in contents]
    why = clean(note, field="note", max_length=REASON, multiline=True)
    return respond(session=session, order=order, actor=actor, now=now, note=why, evidence=items)


def verify_order(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    actor: Person,
    order_id: int,
    accept: bool,
    reason: str = "",
) -> OrderEvent:
    """Accept a fix (the order closes, its deadline is met or missed) or reject it back to issued."""
    order = get_order(session=session, order_id=order_id)
    why = clean(reason, field="reason", max_length=REASON, multiline=True)
    event = verify(session=session, order=order, actor=actor, now=now, accept=accept, reason=why)
    project = session.get(Project, order.project_id)
    keep_deadlines_in_step(session=session, now=now, calendar=calendar, project=project)
    return event


@dataclass(frozen=True)
class Drawn:
    draw: SpotCheckDraw
    drawn: list[dict[str, Any]]  # project id, code, weight and reasons, in the order drawn


def draw_spot_check(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    programme: str | None,
    count: int,
    seed: int | None = None,
) -> Drawn:
    """Draw projects for unannounced visits (四不两直), weighted toward risk; recorded, told to nobody.

    Only the supervision office draws. The randomness comes from the system's secure source and is
    recorded with the draw, after it: nobody can try seeds on a copy of the database first. A seed
    may be given only in a simulation (to replay a draw on purpose).
    """
    require_role(session=session, actor=actor, roles=OFFICE, doing="draw a spot check")
    if seed is not None and mode_of(session) != Mode.SIMULATION:
        raise Refused(
            "--seed is for a simulation only: on a live database the draw's randomness comes from a secure "
            "source, recorded after the draw"
        )
    source = "given" if seed is not None else "secure"
    drawn_seed = seed if seed is not None else secrets.randbits(63)
    target = find_programme(session=session, ref=programme)
    assert target.id is not None
    definition = get_definition(session=session, key=target.definition_key)
    record = draw_weighted(
        session=session,
        programme_id=target.id,
        count=count,
        seed=drawn_seed,
        seed_source=source,
        actor=actor,
        now=now,
        exclude_stages=definition.inactive_stages(),
    )
    return Drawn(record, drawn_projects(session=session, draw=record))


# --- deadlines -----------------------------------------------------------------------------------


def _deadline(session: Session, deadline_id: int) -> Deadline:
    deadline = session.get(Deadline, deadline_id)
    if deadline is None:
        raise NotFound(f"no deadline {deadline_id}")
    return deadline


def extend_deadline(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    actor: Person,
    deadline_id: int,
    to: date,
    reason: str,
) -> Deadline:
    """Record an extension approved by ``actor`` (the office or leadership) to the end of day ``to``,
    with the reason: a new revision in the deadline's history, new levels; the order behind a
    rectification deadline is due then too (``orders --overdue`` agrees with ``deadlines``)."""
    why = clean(reason, field="reason", max_length=REASON, multiline=True, required=True)
    require_role(session=session, actor=actor, roles=OFFICE_OR_LEADERSHIP, doing="extend a deadline")
    deadline = extend(
        session=session,
        deadline=_deadline(session, deadline_id),
        due_at=WorkingCalendar.end_of_day(to),
        calendar=calendar,
        now=now,
        approved_by=actor,
        reason=why,
    )
    if deadline.order_id is not None:
        order = get_order(session=session, order_id=deadline.order_id)
        move_due(
            session=session,
            order=order,
            due_at=deadline.due_at,
            actor_id=actor.id,
            now=now,
            reason=f"deadline {deadline.id} extended (revision {deadline.revision}): {why}",
        )
    return deadline


def record_deadline_done(
    *, session: Session, now: datetime, actor: Person, deadline_id: int, note: str | None = None
) -> Deadline:
    """The office records a cadence done now (the summary sent, the evaluation held): met or missed."""
    what = clean(note, field="note", max_length=REASON, multiline=True) if note is not None else None
    return record_done(session=session, deadline=_deadline(session, deadline_id), by=actor, at=now, note=what)


def waive_deadline(
    *, session: Session, now: datetime, actor: Person, deadline_id: int, reason: str
) -> Deadline:
    """The office lifts an obligation with a reason: the deadline raises nothing more."""
    why = clean(reason, field="reason", max_length=REASON, multiline=True)
    return waive(session=session, deadline=_deadline(session, deadline_id), by=actor, at=now, reason=why)
