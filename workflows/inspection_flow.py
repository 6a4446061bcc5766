"""Inspections as the lifecycle sees them: record a form, sign it, and act on a failed acceptance."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from inspections.evidence import EvidenceStore
from inspections.forms import read_form
from inspections.orders import DEFAULT_DEADLINE_DAYS
from inspections.records import (
    Recorded,
    Signed,
    WorkingDays,
    get_template,
    record_inspection,
    sign_inspection,
)
from inspections.templates import ChecklistTemplate
from models import Inspection, InspectionKind, Outcome, Person, Project, WorkflowEvent
from workflows.engine import apply_transition
from workflows.service import NotFound, find_person, find_project

# Where a failed acceptance sends the project (事后验收不合格 → 在建).
FAILED_ACCEPTANCE = ("acceptance", "in_construction")


def record_form(*, session: Session, path: Path, store: EvidenceStore, now: datetime) -> Recorded:
    """Read a filled form, resolve its project and inspectors, and record it unsigned."""

    def template_for(key: str, version: int) -> ChecklistTemplate:
        return get_template(session=session, key=key, version=version)[1]

    form = read_form(path, template_for)
    project = find_project(session=session, ref=form.project_ref)
    inspectors = [find_person(session=session, ref=ref) for ref in form.inspector_refs]
    return record_inspection(
        session=session, form=form, project=project, inspectors=inspectors, store=store, now=now
    )


@dataclass(frozen=True)
class SignedInLifecycle:
    signed: Signed
    transition: WorkflowEvent | None


def sign(
    *,
    session: Session,
    inspection_id: int,
    actor: Person,
    now: datetime,
    calendar: WorkingDays,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
) -> SignedInLifecycle:
    """Sign an inspection; a failed acceptance returns its project to construction with its orders."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(f"no inspection {inspection_id}")
    signed = sign_inspection(
        session=session,
        inspection=inspection,
        actor=actor,
        now=now,
        calendar=calendar,
        deadline_days=deadline_days,
    )
    transition = None
    project = session.get(Project, inspection.project_id)
    assert project is not None
    if (
        inspection.kind == InspectionKind.ACCEPTANCE
        and inspection.outcome == Outcome.FAIL
        and project.stage == FAILED_ACCEPTANCE[0]
    ):
        transition = apply_transition(
            session=session,
            project=project,
            to=FAILED_ACCEPTANCE[1],
            actor=actor,
            now=now,
            reason=f"验收不合格 acceptance failed (inspection #{inspection.id}, {len(signed.issued)} orders)",
        )
    return SignedInLifecycle(signed, transition)
