"""Record inspections from filled forms, sign them, and issue or close rectification orders."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from inspections.attachments import EvidenceItem, attach_evidence
from inspections.evidence import EvidenceStore
from inspections.forms import FilledForm
from inspections.orders import DEFAULT_DEADLINE_DAYS, close_by_reinspection, issue_order, withdraw
from inspections.scoring import ScoreCard, score_inspection
from inspections.templates import ChecklistTemplate, ItemKind, builtin_template_files, parse_template
from models import (
    EvidenceAttachment,
    Inspection,
    InspectionInspector,
    InspectionItemResult,
    InspectionKind,
    InspectionTemplateRecord,
    OrderStatus,
    Person,
    Project,
    RectificationOrder,
    Role,
    RoleAssignment,
    Verdict,
    holds_unit_role,
)
from models.versioned import keep_source, newest_source

INSPECTOR_ROLES = (Role.INSPECTOR, Role.OFFICE)


class InspectionRefused(ValueError):
    """The inspection cannot be recorded or signed; the message says why. Nothing was written."""


class WorkingDays(Protocol):
    """The working-day calendar, as far as deadlines need it."""

    def deadline_after_working_days(self, start: datetime, n: int, cutoff: time = ...) -> datetime: ...


# --- templates -----------------------------------------------------------------------------------


def load_template(*, session: Session, text: str, source: str, now: datetime) -> InspectionTemplateRecord:
    """Validate a checklist template and keep its exact text; the same text again changes nothing."""
    template = parse_template(text, source)
    return keep_source(
        session=session,
        record_type=InspectionTemplateRecord,
        key=template.key,
        version=template.version,
        text=text,
        source=source,
        now=now,
        title=template.title,
        kind=template.kind.value,
    )


def load_builtin_templates(*, session: Session, now: datetime) -> list[InspectionTemplateRecord]:
    return [
        load_template(session=session, text=path.read_text(encoding="utf-8"), source=path.name, now=now)
        for path in builtin_template_files()
    ]


@lru_cache(maxsize=64)
def _parse_cached(text: str, source: str) -> ChecklistTemplate:
    return parse_template(text, source)


def get_template(
    *, session: Session, key: str, version: int | None = None
) -> tuple[InspectionTemplateRecord, ChecklistTemplate]:
    record = newest_source(session=session, record_type=InspectionTemplateRecord, key=key, version=version)
    if record is None:
        wanted = f"{key} version {version}" if version is not None else key
        raise LookupError(f"checklist template {wanted} is not loaded (run `ducha init`)")
    return record, _parse_cached(record.source_text, record.source_name)


def template_of(*, session: Session, inspection: Inspection) -> ChecklistTemplate:
    record = session.get(InspectionTemplateRecord, inspection.template_id)
    assert record is not None
    return _parse_cached(record.source_text, record.source_name)


# --- recording -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    inspection: Inspection
    card: ScoreCard


def record_inspection(
    *,
    session: Session,
    form: FilledForm,
    project: Project,
    inspectors: Sequence[Person],
    store: EvidenceStore,
    now: datetime,
) -> Recorded:
    """Check everything, then store the inspection unsigned; a form naming a draft replaces it."""
    record, template = get_template(session=session, key=form.template_key, version=form.template_version)
    problems = _inspector_problems(session, template, inspectors)
    card = score_inspection(template, form.results)  # raises ResultError naming each bad item
    previous = _checked_reference(session, project, form.supersedes_id, "supersedes", must_be_signed=True)
    original = _checked_reference(session, project, form.follow_up_of_id, "follow_up_of", must_be_signed=True)
    if (
        previous is not None
        and session.exec(
            select(Inspection.id).where(
                col(Inspection.supersedes_id) == previous.id, col(Inspection.id) != form.draft_id
            )
        ).first()
        is not None
    ):
        problems.append(f"inspection {previous.id} already has a correction")
    draft = None
    if form.draft_id is not None:
        draft = session.get(Inspection, form.draft_id)
        if draft is None or draft.project_id != project.id:
            problems.append(f"inspection {form.draft_id} is not a draft of {project.code}")
        elif draft.signed_at is not None:
            problems.append(
                f"inspection {draft.id} is signed and immutable: "
                f"record a correction with `supersedes: {draft.id}`"
            )
    if problems:
        raise InspectionRefused(f"{form.source}: " + "; ".join(problems))
    # Every evidence file is checked before anything is stored.
    for refs in form.evidence.values():
        for ref in refs:
            store.check(ref.original_name, ref.path.read_bytes())

    assert project.id is not None and record.id is not None
    fresh = Inspection(
        project_id=project.id,
        template_id=record.id,
        kind=form.kind,
        announced=form.announced,
        inspected_at=form.inspected_at,
        recorded_at=now,
        score_tenths=card.score_tenths,
        outcome=card.outcome,
        notes=form.notes,
        supersedes_id=form.supersedes_id,
        follow_up_of_id=original.id if original else None,
    )
    if draft is not None:
        _clear_draft(session, draft)
        for name in fresh.model_fields_set:
            setattr(draft, name, getattr(fresh, name))
        inspection = draft
    else:
        inspection = fresh
    session.add(inspection)
    session.flush()
    inspection_id = inspection.id
    assert inspection_id is not None
    for person in inspectors:
        assert person.id is not None
        session.add(InspectionInspector(inspection_id=inspection_id, person_id=person.id))
    by_key = {result.item_key: result for result in form.results}
    for verdict in card.items:
        result = by_key[verdict.item_key]
        row = InspectionItemResult(
            inspection_id=inspection_id,
            item_key=verdict.item_key,
            verdict=verdict.verdict,
            passed=result.passed,
            value=None if result.value is None else str(result.value),
            evidence_count=result.evidence_count,
            notes=result.notes,
        )
        session.add(row)
        session.flush()
        items = [
            EvidenceItem(
                store.put(ref.original_name, ref.path.read_bytes()), ref.original_name, ref.taken_at, ref.gps
            )
            for ref in form.evidence.get(verdict.item_key, [])
        ]
        attach_evidence(session=session, items=items, now=now, item_result_id=row.id)
    session.flush()
    return Recorded(inspection, card)


def _inspector_problems(
    session: Session, template: ChecklistTemplate, inspectors: Sequence[Person]
) -> list[str]:
    problems = []
    if len({p.id for p in inspectors}) < template.min_inspectors:
        problems.append(f"template {template.key} needs at least {template.min_inspectors} inspectors")
    for person in inspectors:
        if not holds_unit_role(session=session, person=person, roles=INSPECTOR_ROLES):
            problems.append(f"{person.name} is not an inspector or office member")
    return problems


def _checked_reference(
    session: Session, project: Project, inspection_id: int | None, field_name: str, *, must_be_signed: bool
) -> Inspection | None:
    if inspection_id is None:
        return None
    found = session.get(Inspection, inspection_id)
    if found is None or found.project_id != project.id:
        raise InspectionRefused(
            f"{field_name}: inspection {inspection_id} is not an inspection of {project.code}"
        )
    if must_be_signed and found.signed_at is None:
        raise InspectionRefused(f"{field_name}: inspection {inspection_id} is not signed yet")
    return found


def _clear_draft(session: Session, draft: Inspection) -> None:
    result_ids = select(InspectionItemResult.id).where(col(InspectionItemResult.inspection_id) == draft.id)
    session.exec(delete(EvidenceAttachment).where(col(EvidenceAttachment.item_result_id).in_(result_ids)))
    session.exec(delete(InspectionItemResult).where(col(InspectionItemResult.inspection_id) == draft.id))
    session.exec(delete(InspectionInspector).where(col(InspectionInspector.inspection_id) == draft.id))


# --- signing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    inspection: Inspection
    issued: list[RectificationOrder] = field(default_factory=list)
    closed: list[RectificationOrder] = field(default_factory=list)
    kept_open: list[RectificationOrder] = field(default_factory=list)


def sign_inspection(
    *,
    session: Session,
    inspection: Inspection,
    actor: Person,
    now: datetime,
    calendar: WorkingDays,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
) -> Signed:
    """Sign: the inspection becomes immutable and its findings become orders with working-day deadlines.

    A correction carries over the open orders of the inspection it supersedes (withdrawing those whose
    item now passes); a re-inspection closes the orders of the items that now pass.
    """
    if inspection.signed_at is not None:
        raise InspectionRefused(f"inspection {inspection.id} is already signed")
    signer_ids = set(
        session.exec(
            select(InspectionInspector.person_id).where(
                col(InspectionInspector.inspection_id) == inspection.id
            )
        ).all()
    )
    if actor.id not in signer_ids:
        raise InspectionRefused(
            f"{actor.name} did not carry out inspection {inspection.id}: only its inspectors sign"
        )
    result = session.execute(
        update(Inspection)
        .where(col(Inspection.id) == inspection.id, col(Inspection.signed_at).is_(None))
        .values(signed_at=now, signed_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InspectionRefused(f"inspection {inspection.id} was signed by someone else meanwhile")
    session.refresh(inspection)
    inspection_id = inspection.id
    assert inspection_id is not None
    template = template_of(session=session, inspection=inspection)
    verdicts = {
        row.item_key: row
        for row in session.exec(
            select(InspectionItemResult).where(col(InspectionItemResult.inspection_id) == inspection.id)
        ).all()
    }
    signed = Signed(inspection)
    carried: dict[str, RectificationOrder] = {}
    earlier_id = inspection.supersedes_id or (
        inspection.follow_up_of_id if inspection.kind == InspectionKind.RE_INSPECTION else None
    )
    if earlier_id is not None:
        for order in _open_orders_of(session, _chain(session, earlier_id)):
            row = verdicts.get(order.item_key)
            if row is not None and row.verdict == Verdict.PASSED:
                if inspection.kind == InspectionKind.RE_INSPECTION:
                    close_by_reinspection(
                        session=session,
                        order=order,
                        inspection_id=inspection_id,
                        actor_id=actor.id,
                        now=now,
                    )
                else:
                    withdraw(
                        session=session,
                        order=order,
                        inspection_id=inspection_id,
                        actor_id=actor.id,
                        now=now,
                    )
                signed.closed.append(order)
            else:
                carried[order.item_key] = order
                signed.kept_open.append(order)
    people = _project_people(session, inspection.project_id)
    for key, row in verdicts.items():
        if row.verdict != Verdict.FAILED or key in carried:
            continue
        item = template.item(key)
        assert item is not None
        responsible = people.get(item.responsible)
        if responsible is None:
            raise InspectionRefused(f"project has no {item.responsible.value} to answer for item {key}")
        value = (
            None
            if row.value is None
            else (int(row.value) if item.kind == ItemKind.SCORE else Decimal(row.value))
        )
        signed.issued.append(
            issue_order(
                session=session,
                project_id=inspection.project_id,
                inspection_id=inspection_id,
                item_key=key,
                severity=item.severity.value,
                description=item.failure_description(
                    value=value, evidence_count=row.evidence_count, notes=row.notes
                ),
                responsible_person_id=responsible,
                due_at=calendar.deadline_after_working_days(now, deadline_days[item.severity.value]),
                now=now,
                actor_id=actor.id,
            )
        )
    return signed


def _chain(session: Session, inspection_id: int) -> list[int]:
    """This inspection and every one it corrects or follows up, back to the first.

    Orders stay with the inspection that raised them; a correction of a correction, or a
    re-inspection of a re-inspection, must still find them.
    """
    chain: list[int] = []
    current: int | None = inspection_id
    while current is not None and current not in chain:
        chain.append(current)
        found = session.get(Inspection, current)
        assert found is not None
        current = found.supersedes_id or found.follow_up_of_id
    return chain


def _open_orders_of(session: Session, inspection_ids: list[int]) -> list[RectificationOrder]:
    """Open orders raised by any of these inspections, oldest first."""
    return list(
        session.exec(
            select(RectificationOrder)
            .where(
                col(RectificationOrder.inspection_id).in_(inspection_ids),
                col(RectificationOrder.status) != OrderStatus.CLOSED,
            )
            .order_by(col(RectificationOrder.id))
        ).all()
    )


def _project_people(session: Session, project_id: int) -> dict[Role, int]:
    rows = session.exec(
        select(RoleAssignment.role, RoleAssignment.person_id).where(
            col(RoleAssignment.project_id) == project_id
        )
    ).all()
    return {Role(role): person_id for role, person_id in rows}
