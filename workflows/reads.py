"""The reads front ends share beyond plain lists: one project in full, one inspection item by item
(side by side with the one it follows up), a blank checklist, the definitions, a spot-check draw."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from inspections.forms import blank_form
from inspections.inspection_rows import ItemLine as ItemLine  # where its readers import it
from inspections.inspection_rows import ResultLine, item_lines
from inspections.loaded_templates import get_template, template_of
from inspections.spot_checks import replay
from models import (
    Inspection,
    InspectionInspector,
    InspectionItemResult,
    InspectionKind,
    Person,
    Project,
    SpotCheckDraw,
    Verdict,
    WorkflowDefinitionRecord,
)
from models.compiled import Compiled
from models.errors import BadInput, NotFound
from models.types import table_of
from workflows.board import list_projects
from workflows.definition_rows import DEFINITION_FIELDS, DefinitionRow
from workflows.engine import available_transitions
from workflows.programmes import find_programme
from workflows.projects import documents, find_project, history
from workflows.show_rows import ProjectDetail as ProjectDetail  # where its readers import it


def project_detail(
    *, session: Session, now: datetime, project: str, programme: str | None = None
) -> ProjectDetail:
    programme_id = find_programme(session=session, ref=programme).id if programme else None
    found = find_project(session=session, ref=project, programme_id=programme_id)
    assert found.id is not None
    [row] = list_projects(session=session, project_id=found.id).all()
    return ProjectDetail(
        project=row,
        history=history(session=session, project_id=found.id),
        documents=documents(session=session, project_id=found.id),
        next=available_transitions(session=session, project=found, now=now),
    )


@dataclass(frozen=True)
class InspectionDetail:
    inspection: Inspection
    project_code: str
    inspectors: list[str]
    items: list[ItemLine]
    follows_up: bool


@lru_cache(maxsize=1)
def inspectors_statement() -> Compiled:
    """The names of an inspection's inspectors (``inspection_id``), in the order of their ids; kept,
    and compiled ahead for ``ducha inspect show`` (workflows.ahead)."""
    person, inspector = table_of(Person), table_of(InspectionInspector)
    return Compiled(
        sa_select(person.c.name)
        .join_from(person, inspector, inspector.c.person_id == person.c.id)
        .where(inspector.c.inspection_id == bindparam("inspection_id"))
        .order_by(person.c.id)
    )


@lru_cache(maxsize=1)
def results_statement() -> Compiled:
    """An inspection's item results (``inspection_id``): key, verdict, value, notes."""
    result = table_of(InspectionItemResult).c
    return Compiled(
        sa_select(result.item_key, result.verdict, result.value, result.notes).where(
            result.inspection_id == bindparam("inspection_id")
        )
    )


def inspection_detail(
    *, session: Session, inspection_id: int, as_of: datetime | None = None
) -> InspectionDetail:
    """One inspection item by item; a re-inspection beside the inspection it follows up.

    One recorded after ``as_of`` did not exist yet then.
    """
    inspection = session.get(Inspection, inspection_id)
    if inspection is None or (as_of is not None and inspection.recorded_at > as_of):
        raise NotFound(f"no inspection {inspection_id}")
    project = session.get(Project, inspection.project_id)
    assert project is not None
    checklist = template_of(session=session, inspection=inspection)

    def results(of: int) -> dict[str, ResultLine]:
        found = results_statement().all(session, {"inspection_id": of})
        return {key: ResultLine(verdict, value, notes) for key, verdict, value, notes in found}

    rows = results(inspection_id)
    original = results(inspection.follow_up_of_id) if inspection.follow_up_of_id else {}
    items = item_lines([(item.key, item.text) for _, item in checklist.iter_items()], rows, original)
    inspectors = [name for (name,) in inspectors_statement().all(session, {"inspection_id": inspection_id})]
    return InspectionDetail(inspection, project.code, inspectors, items, follows_up=bool(original))


def _results(session: Session, inspection_id: int) -> dict[str, InspectionItemResult]:
    return {
        row.item_key: row
        for row in session.exec(
            select(InspectionItemResult).where(col(InspectionItemResult.inspection_id) == inspection_id)
        ).all()
    }


@dataclass(frozen=True)
class BlankChecklist:
    project_code: str
    template_key: str
    text: str


def blank_checklist(
    *,
    session: Session,
    now: datetime,
    project: str,
    template: str,
    kind: InspectionKind | None = None,
    follow_up: int | None = None,
    inspectors: Sequence[str] = (),
) -> BlankChecklist:
    """A blank checklist to fill in; a follow-up carries the original's failed items forward."""
    found = find_project(session=session, ref=project)
    _, checklist = get_template(session=session, key=template)
    carried = None
    if follow_up is not None:
        original = session.get(Inspection, follow_up)
        if original is None or original.project_id != found.id:
            raise BadInput(f"--follow-up {follow_up}: not an inspection of {found.code}")
        checklist = template_of(session=session, inspection=original)
        carried = {
            row.item_key: row
            for row in _results(session, follow_up).values()
            if row.verdict == Verdict.FAILED
        }
        kind = InspectionKind.RE_INSPECTION
    text = blank_form(
        template=checklist,
        project_code=found.code,
        kind=kind or checklist.kind,
        inspected_at=now,
        inspector_refs=list(inspectors),
        follow_up_of=follow_up,
        carried=carried,
    )
    return BlankChecklist(found.code, checklist.key, text)


@lru_cache(maxsize=2)
def _definitions_statement(loaded_by: bool) -> Compiled:
    """The definitions' columns but their text, by key and version; with ``loaded_by``, those loaded
    by the bound ``loaded_by``. Kept, and compiled ahead for ``ducha workflows`` (workflows.ahead)."""
    table = table_of(WorkflowDefinitionRecord)
    query = sa_select(*(table.c[name] for name in DEFINITION_FIELDS))
    if loaded_by:
        query = query.where(table.c.loaded_at <= bindparam("loaded_by"))
    return Compiled(query.order_by(table.c.key, table.c.version))


def workflow_definitions(*, session: Session, loaded_by: datetime | None = None) -> list[DefinitionRow]:
    """The workflow definitions (loaded by ``loaded_by``, if given), by key and version."""
    parameters = {} if loaded_by is None else {"loaded_by": loaded_by}
    found = _definitions_statement(loaded_by is not None).all(session, parameters)
    return [DefinitionRow(*row) for row in found]


@dataclass(frozen=True)
class DrawDetail:
    draw: SpotCheckDraw
    drawn: list[dict[str, Any]]  # project id, code, weight and reasons, in the order drawn
    replayed: list[int]  # the draw run again from its recorded weights and seed

    @property
    def honest(self) -> bool:
        return self.replayed == self.draw.drawn_project_ids


def spot_check_draw(*, session: Session, draw_id: int, as_of: datetime | None = None) -> DrawDetail:
    """A recorded draw, its projects, and the same draw run again from its recorded seed."""
    record = session.get(SpotCheckDraw, draw_id)
    if record is None or (as_of is not None and record.drawn_at > as_of):
        raise NotFound(f"no spot-check draw {draw_id}")
    return DrawDetail(record, drawn_projects(session=session, draw=record), replay(record))


def drawn_projects(*, session: Session, draw: SpotCheckDraw) -> list[dict[str, Any]]:
    """The drawn projects with their codes and the weights they were drawn with."""
    out = []
    for project_id in draw.drawn_project_ids:
        project = session.get(Project, project_id)
        assert project is not None
        out.append({"project_id": project_id, "code": project.code, **draw.weights[str(project_id)]})
    return out
