"""Record an inspection from a filled form: checked in full first, stored unsigned."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from inspections.attachments import EvidenceItem, attach_evidence
from inspections.evidence import EvidenceWriter, read_evidence_file
from inspections.forms import FilledForm
from inspections.loaded_templates import get_template
from inspections.scoring import ScoreCard, score_inspection
from inspections.templates import ChecklistTemplate
from models import (
    EvidenceAttachment,
    Inspection,
    InspectionInspector,
    InspectionItemResult,
    Person,
    Project,
    Role,
    holds_unit_role,
)
from models.errors import Refused

INSPECTOR_ROLES = (Role.INSPECTOR, Role.OFFICE)


class InspectionRefused(Refused):
    """The inspection cannot be recorded or signed; the message says why. Nothing was written."""


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
    store: EvidenceWriter,
    now: datetime,
) -> Recorded:
    """Check everything, then store the inspection unsigned; a form naming a draft replaces it."""
    record, template = get_template(session=session, key=form.template_key, version=form.template_version)
    problems = _inspector_problems(session, template, inspectors)
    if form.inspected_at > now:
        when = f"inspected_at {form.inspected_at.isoformat()}"
        problems.append(f"{when} is after the time it is recorded ({now.isoformat()})")
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
            store.check(ref.original_name, read_evidence_file(ref.path, max_bytes=store.max_bytes))

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
                store.put(ref.original_name, read_evidence_file(ref.path, max_bytes=store.max_bytes)),
                ref.original_name,
                ref.taken_at,
                ref.gps,
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
