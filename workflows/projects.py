"""Projects: create one at its workflow's first stage, find one, record its documents, read its history."""

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache, lru_cache

from sqlalchemy import bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import (
    Person,
    Place,
    PlaceKind,
    Programme,
    Project,
    ProjectDocument,
    ProjectFunding,
    Role,
    WorkflowEvent,
)
from models.compiled import Compiled
from models.errors import NotFound, Refused, candidates
from models.types import table_of
from workflows.definition import get_definition
from workflows.people import SHOWN_MATCHES, assign_role, ensure_place
from workflows.programmes import funding_sources
from workflows.show_rows import (
    DocumentLine,
    HistoryLine,
    document_lines,
    history_lines,
    project_ref_parameters,
)


def reserve_project_codes(*, session: Session, programme: Programme, count: int) -> list[str]:
    """The next ``count`` project codes of a programme (P001, P002…), with the programme row locked.

    The lock (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions are serial already) makes two
    imports into one programme take turns instead of both choosing the same codes.
    """
    session.exec(select(Programme.id).where(col(Programme.id) == programme.id).with_for_update()).one()
    taken = session.exec(
        select(func.count()).select_from(Project).where(col(Project.programme_id) == programme.id)
    ).one()
    return [f"P{number:03d}" for number in range(taken + 1, taken + count + 1)]


def create_project(
    *,
    session: Session,
    programme: Programme,
    town: str,
    village: str,
    leader: Person,
    specialist: Person,
    budget_fen: Mapping[str, int],
    planned_start: date,
    planned_finish: date,
    now: datetime,
    created_by: str,
    code: str | None = None,
) -> Project:
    """Create a project at its workflow's first stage, pinned to the newest definition version.

    ``code`` comes from ``reserve_project_codes``; without it the next free code is reserved.
    """
    if planned_finish < planned_start:
        raise Refused(f"planned finish {planned_finish} is before planned start {planned_start}")
    definition = get_definition(session=session, key=programme.definition_key)
    town_place = ensure_place(
        session=session, kind=PlaceKind.TOWN, name=town, parent_id=programme.district_id
    )
    village_place = ensure_place(
        session=session, kind=PlaceKind.VILLAGE, name=village, parent_id=town_place.id
    )
    taken = session.exec(
        select(Project.code).where(
            col(Project.programme_id) == programme.id, col(Project.village_id) == village_place.id
        )
    ).first()
    if taken is not None:
        raise Refused(f"{town} {village} already has project {taken} in this programme")
    sources = {s.code: s for s in funding_sources(session=session, programme_id=programme.id)}  # type: ignore[arg-type]
    unknown = set(budget_fen) - set(sources)
    if unknown:
        raise Refused(f"unknown funding source {', '.join(sorted(unknown))} (sources: {', '.join(sources)})")
    project = Project(
        programme_id=programme.id,  # type: ignore[arg-type]
        village_id=village_place.id,  # type: ignore[arg-type]
        code=code or reserve_project_codes(session=session, programme=programme, count=1)[0],
        name=f"{village}村级组织活动场所",
        definition_key=definition.key,
        definition_version=definition.version,
        stage=definition.initial,
        stage_entered_at=now,
        planned_start=planned_start,
        planned_finish=planned_finish,
        created_at=now,
    )
    session.add(project)
    session.flush()
    for source_code, amount in budget_fen.items():
        session.add(
            ProjectFunding(project_id=project.id, source_id=sources[source_code].id, amount_fen=amount)  # type: ignore[arg-type]
        )
    assign_role(session=session, person=leader, role=Role.LEADER, project=project, now=now, reason=created_by)
    assign_role(
        session=session, person=specialist, role=Role.SPECIALIST, project=project, now=now, reason=created_by
    )
    session.add(
        WorkflowEvent(
            project_id=project.id,  # type: ignore[arg-type]
            occurred_at=now,
            actor_name=created_by,
            from_stage=None,
            to_stage=definition.initial,
            reason="project created",
            definition_version=definition.version,
        )
    )
    session.flush()
    return project


def find_project(*, session: Session, ref: str, programme_id: int | None = None) -> Project:
    """A project by code (P007), village name or id."""
    parameters = project_ref_parameters(ref, programme_id)
    statement = project_ref_statement("programme_id" in parameters)
    matches = statement.windowed(offset=False, limit=True).all(
        session, {**parameters, "window_limit": SHOWN_MATCHES + 1}
    )
    if not matches:
        raise NotFound(
            f"no project {parameters['name']!r} (give a code such as P007, a village name or an id)"
        )
    if len(matches) > 1:
        counted = statement.counting().first(session, parameters)
        assert counted is not None
        total = int(counted[0])
        codes = candidates((f"{row[1]} (id {row[0]})" for row in matches), total=total)
        raise NotFound(
            f"{parameters['name']!r} matches {total} projects ({codes}): name the programme with --programme"
        )
    found = session.get(Project, matches[0][0])
    assert found is not None
    return found


@lru_cache(maxsize=2)
def project_ref_statement(in_programme: bool) -> Compiled:
    """The projects a reference names (``workflows.show_rows.project_ref_parameters``: by code, village
    name or id; in the programme ``programme_id`` if ``in_programme``), in id order, with what
    ``ducha show`` and ``ducha audit trail`` need of each (``workflows.show_rows.ShownProject``)."""
    project, village = table_of(Project), table_of(Place).alias("village")
    p = project.c
    query = (
        sa_select(
            p.id,
            p.code,
            p.stage,
            p.resume_stage,
            p.definition_key,
            p.definition_version,
            p.programme_id,
            p.name,
        )
        .select_from(project.join(village, village.c.id == p.village_id))
        .where(
            or_(
                p.code == bindparam("code"),
                village.c.name == bindparam("name"),
                p.id == bindparam("ref_id"),
            )
        )
    )
    if in_programme:
        query = query.where(p.programme_id == bindparam("programme_id"))
    return Compiled(query.order_by(p.id))


def record_document(
    *, session: Session, project: Project, kind: str, title: str, actor: Person | None, now: datetime
) -> ProjectDocument:
    """Record that a document of ``kind`` exists for the project."""
    document = ProjectDocument(
        project_id=project.id,  # type: ignore[arg-type]
        kind=kind,
        title=title or kind,
        recorded_at=now,
        recorded_by_id=actor.id if actor else None,
    )
    session.add(document)
    session.flush()
    return document


def documents(*, session: Session, project_id: int) -> list[DocumentLine]:
    return document_lines(documents_statement().all(session, {"project_id": project_id}))


@cache
def documents_statement() -> Compiled:
    """The documents of ``project_id`` (``workflows.show_rows.DocumentLine``), in the order recorded."""
    d = table_of(ProjectDocument).c
    return Compiled(
        sa_select(d.id, d.kind, d.title, d.recorded_at)
        .where(d.project_id == bindparam("project_id"))
        .order_by(d.recorded_at, d.id)
    )


def history(*, session: Session, project_id: int) -> list[HistoryLine]:
    return history_lines(history_statement().all(session, {"project_id": project_id}))


@cache
def history_statement() -> Compiled:
    """The stage changes of ``project_id`` (``workflows.show_rows.HistoryLine``), as they happened."""
    e = table_of(WorkflowEvent).c
    return Compiled(
        sa_select(e.id, e.occurred_at, e.actor_id, e.actor_name, e.from_stage, e.to_stage, e.reason)
        .where(e.project_id == bindparam("project_id"))
        .order_by(e.occurred_at, e.id)
    )
