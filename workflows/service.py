"""Queries and writes for programmes, projects, people and documents (plain keyword-only functions)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from models import (
    FundingSource,
    OrgUnit,
    Person,
    Place,
    PlaceKind,
    Programme,
    ProgrammeMilestone,
    Project,
    ProjectDocument,
    ProjectFunding,
    Role,
    RoleAssignment,
    WorkflowEvent,
)
from workflows.definition import get_definition


class NotFound(LookupError):
    """Nothing matches what the user named (or too many things do)."""


class Conflict(ValueError):
    """The write would contradict data already recorded."""


@dataclass(frozen=True)
class FundingSourceSpec:
    code: str
    name: str
    amount_fen: int


# --- places and people ---------------------------------------------------------------------------


def ensure_place(*, session: Session, kind: PlaceKind, name: str, parent_id: int | None) -> Place:
    """The place of that name under ``parent_id``, created if missing."""
    query = select(Place).where(col(Place.name) == name, col(Place.kind) == kind)
    query = query.where(
        col(Place.parent_id).is_(None) if parent_id is None else col(Place.parent_id) == parent_id
    )
    place = session.exec(query).first()
    if place is None:
        place = Place(kind=kind, name=name, parent_id=parent_id)
        session.add(place)
        session.flush()
    return place


def ensure_unit(*, session: Session, name: str, kind: str, place_id: int | None = None) -> OrgUnit:
    unit = session.exec(select(OrgUnit).where(col(OrgUnit.name) == name)).first()
    if unit is None:
        unit = OrgUnit(name=name, kind=kind, place_id=place_id)
        session.add(unit)
        session.flush()
    return unit


def ensure_person(
    *, session: Session, name: str, phone: str | None, email: str | None, unit_id: int | None = None
) -> Person:
    """The person with this phone (or, without a phone, this name), created if missing.

    A phone already recorded for someone of another name is a conflict, not a merge.
    """
    if phone:
        person = session.exec(select(Person).where(col(Person.phone) == phone)).first()
        if person is not None:
            if person.name != name:
                raise Conflict(f"phone {phone} already belongs to {person.name}")
            if email and not person.email:
                person.email = email
            return person
    else:
        person = session.exec(
            select(Person).where(col(Person.name) == name, col(Person.phone).is_(None))
        ).first()
        if person is not None:
            return person
    person = Person(name=name, phone=phone or None, email=email or None, unit_id=unit_id)
    session.add(person)
    session.flush()
    return person


def assign_role(
    *,
    session: Session,
    person: Person,
    role: Role,
    project: Project | None = None,
    unit: OrgUnit | None = None,
) -> RoleAssignment:
    assignment = RoleAssignment(
        person_id=person.id,  # type: ignore[arg-type]
        role=role,
        project_id=project.id if project else None,
        unit_id=unit.id if unit else None,
    )
    session.add(assignment)
    session.flush()
    return assignment


def find_person(*, session: Session, ref: str) -> Person:
    """A person by id, phone or name; an ambiguous name is an error."""
    ref = ref.strip()
    matches = list(
        session.exec(
            select(Person).where(
                or_(
                    col(Person.phone) == ref,
                    col(Person.name) == ref,
                    col(Person.id) == (int(ref) if ref.isdigit() and len(ref) < 9 else -1),
                )
            )
        ).all()
    )
    if not matches:
        raise NotFound(f"no person {ref!r} (give a name, phone or id)")
    if len(matches) > 1:
        who = ", ".join(f"{p.name} (id {p.id}, {p.phone or 'no phone'})" for p in matches)
        raise NotFound(f"{ref!r} matches several people: {who}; give the phone or id")
    return matches[0]


# --- programmes ----------------------------------------------------------------------------------


def create_programme(
    *,
    session: Session,
    name: str,
    district: str,
    definition_key: str,
    sources: Sequence[FundingSourceSpec],
    milestones: Mapping[str, date],
    earmark: str,
    now: datetime,
    illustrative: bool = False,
) -> Programme:
    """Create a programme with its budget per funding source and its milestone dates."""
    if session.exec(select(Programme).where(col(Programme.name) == name)).first() is not None:
        raise Conflict(f"programme {name!r} already exists")
    definition = get_definition(session=session, key=definition_key)
    for key in milestones:
        if definition.milestone(key) is None:
            known = ", ".join(m.key for m in definition.milestones)
            raise Conflict(f"workflow {definition_key} has no milestone {key!r} (milestones: {known})")
    if not sources:
        raise Conflict("a programme needs at least one funding source")
    district_place = ensure_place(session=session, kind=PlaceKind.DISTRICT, name=district, parent_id=None)
    programme = Programme(
        name=name,
        district_id=district_place.id,  # type: ignore[arg-type]
        definition_key=definition_key,
        earmark=earmark,
        illustrative=illustrative,
        created_at=now,
    )
    session.add(programme)
    session.flush()
    for position, source in enumerate(sources):
        session.add(
            FundingSource(
                programme_id=programme.id,  # type: ignore[arg-type]
                code=source.code,
                name=source.name,
                amount_fen=source.amount_fen,
                position=position,
            )
        )
    for key, due in milestones.items():
        session.add(ProgrammeMilestone(programme_id=programme.id, key=key, due_date=due))  # type: ignore[arg-type]
    session.flush()
    return programme


def find_programme(*, session: Session, ref: str | None) -> Programme:
    """A programme by id or name; with no ref, the only programme there is."""
    if ref is None:
        programmes = list(session.exec(select(Programme).order_by(col(Programme.id))).all())
        if len(programmes) == 1:
            return programmes[0]
        if not programmes:
            raise NotFound("there is no programme yet (run `ducha demo` or `ducha programmes create`)")
        names = ", ".join(p.name for p in programmes)
        raise NotFound(f"several programmes exist ({names}): name one with --programme")
    query = select(Programme).where(
        or_(col(Programme.name) == ref, col(Programme.id) == (int(ref) if ref.isdigit() else -1))
    )
    programme = session.exec(query).first()
    if programme is None:
        raise NotFound(f"no programme {ref!r}")
    return programme


def funding_sources(*, session: Session, programme_id: int) -> list[FundingSource]:
    return list(
        session.exec(
            select(FundingSource)
            .where(col(FundingSource.programme_id) == programme_id)
            .order_by(col(FundingSource.position))
        ).all()
    )


def milestones(*, session: Session, programme_id: int) -> list[ProgrammeMilestone]:
    return list(
        session.exec(
            select(ProgrammeMilestone)
            .where(col(ProgrammeMilestone.programme_id) == programme_id)
            .order_by(col(ProgrammeMilestone.due_date))
        ).all()
    )


# --- projects ------------------------------------------------------------------------------------


def next_project_code(*, session: Session, programme_id: int) -> str:
    count = session.exec(
        select(func.count()).select_from(Project).where(col(Project.programme_id) == programme_id)
    ).one()
    return f"P{count + 1:03d}"


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
) -> Project:
    """Create a project at its workflow's first stage, pinned to the newest definition version."""
    if planned_finish < planned_start:
        raise Conflict(f"planned finish {planned_finish} is before planned start {planned_start}")
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
        raise Conflict(f"{town} {village} already has project {taken} in this programme")
    sources = {s.code: s for s in funding_sources(session=session, programme_id=programme.id)}  # type: ignore[arg-type]
    unknown = set(budget_fen) - set(sources)
    if unknown:
        raise Conflict(f"unknown funding source {', '.join(sorted(unknown))} (sources: {', '.join(sources)})")
    project = Project(
        programme_id=programme.id,  # type: ignore[arg-type]
        village_id=village_place.id,  # type: ignore[arg-type]
        code=next_project_code(session=session, programme_id=programme.id),  # type: ignore[arg-type]
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
    for code, amount in budget_fen.items():
        session.add(ProjectFunding(project_id=project.id, source_id=sources[code].id, amount_fen=amount))  # type: ignore[arg-type]
    assign_role(session=session, person=leader, role=Role.LEADER, project=project)
    assign_role(session=session, person=specialist, role=Role.SPECIALIST, project=project)
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
    ref = ref.strip()
    village = aliased(Place)
    query = (
        select(Project)
        .join(village, col(village.id) == col(Project.village_id))
        .where(
            or_(
                col(Project.code) == ref.upper(),
                col(village.name) == ref,
                col(Project.id) == (int(ref) if ref.isdigit() else -1),
            )
        )
    )
    if programme_id is not None:
        query = query.where(col(Project.programme_id) == programme_id)
    matches = list(session.exec(query).all())
    if not matches:
        raise NotFound(f"no project {ref!r} (give a code such as P007, a village name or an id)")
    if len(matches) > 1:
        raise NotFound(f"{ref!r} matches {len(matches)} projects: name the programme with --programme")
    return matches[0]


def record_document(
    *, session: Session, project: Project, kind: str, title: str, actor: Person | None, now: datetime
) -> ProjectDocument:
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


def documents(*, session: Session, project_id: int) -> list[ProjectDocument]:
    return list(
        session.exec(
            select(ProjectDocument)
            .where(col(ProjectDocument.project_id) == project_id)
            .order_by(col(ProjectDocument.recorded_at))
        ).all()
    )


def history(*, session: Session, project_id: int) -> list[WorkflowEvent]:
    return list(
        session.exec(
            select(WorkflowEvent)
            .where(col(WorkflowEvent.project_id) == project_id)
            .order_by(col(WorkflowEvent.occurred_at), col(WorkflowEvent.id))
        ).all()
    )
