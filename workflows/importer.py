"""Import a project register (台账) into a programme, all or nothing, with bulk statements.

The file is read and checked first (workflows.register_file); then what only the database knows is
checked (villages the programme already has, phones that belong to someone else); then every row is
written with a handful of executemany statements: towns, villages, people, projects, budgets, roles
and the first history event. 100,000 rows are a few statements, not a million, so the write lock is
held for seconds.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Person,
    Place,
    PlaceKind,
    Programme,
    Project,
    ProjectFunding,
    Role,
    RoleAssignment,
    WorkflowEvent,
)
from models.bulk import insert_many, insert_new
from models.types import table_of
from workflows.definition import get_definition
from workflows.programmes import funding_sources
from workflows.projects import reserve_project_codes
from workflows.register_file import ImportRejected, ProjectLine, read_register

__all__ = ["CreatedProject", "ImportRejected", "create_projects", "import_projects", "parse_register"]


def parse_register(*, session: Session, path: Path, programme: Programme) -> list[ProjectLine]:
    """Read and check the register for ``programme``, file and database; ImportRejected lists all."""
    assert programme.id is not None
    sources = [s.code for s in funding_sources(session=session, programme_id=programme.id)]
    lines = read_register(path, sources)
    check_against_database(session=session, path=path, programme=programme, lines=lines)
    return lines


def check_against_database(
    *, session: Session, path: Path, programme: Programme, lines: Sequence[ProjectLine]
) -> None:
    """Refuse rows whose village the programme has, or whose phone belongs to someone else."""
    problems = list(_conflicts(session, path, programme, lines))
    if problems:
        raise ImportRejected(problems)


def _conflicts(
    session: Session, path: Path, programme: Programme, lines: Sequence[ProjectLine]
) -> Iterator[str]:
    village, town = aliased(Place), aliased(Place)
    existing = {
        (town_name, village_name): code
        for code, village_name, town_name in session.exec(
            select(Project.code, village.name, town.name)
            .join(village, col(village.id) == col(Project.village_id))
            .join(town, col(town.id) == col(village.parent_id))
            .where(col(Project.programme_id) == programme.id)
        ).all()
    }
    phones = _phone_owners(session)
    for line in lines:
        code = existing.get((line.town, line.village))
        if code is not None:
            yield (
                f"{path}: row {line.row}, field village: "
                f"duplicate village {line.village}: already project {code}"
            )
        for role, name, phone in (
            ("leader", line.leader, line.leader_phone),
            ("specialist", line.specialist, line.specialist_phone),
        ):
            owner = phones.get(phone)
            if owner is not None and owner[1] != name:
                yield f"{path}: row {line.row}, field {role}_phone: {phone} already belongs to {owner[1]}"


def _phone_owners(session: Session) -> dict[str, tuple[int, str, str | None]]:
    """Everyone with a phone: phone → (id, name, e-mail). One query, however many people."""
    rows = session.execute(
        sa_select(col(Person.phone), col(Person.id), col(Person.name), col(Person.email)).where(
            col(Person.phone).is_not(None)
        )
    ).all()
    return {phone: (person_id, name, email) for phone, person_id, name, email in rows}


@dataclass(frozen=True)
class CreatedProject:
    id: int
    code: str
    stage: str
    stage_entered_at: datetime


def import_projects(
    *,
    session: Session,
    path: Path,
    programme: Programme,
    now: datetime,
    lines: Sequence[ProjectLine] | None = None,
    actor: Person | None = None,
) -> list[CreatedProject]:
    """Check the whole register (``lines``, if it was read already), then create every project in
    the name of ``actor`` (None: the system)."""
    assert programme.id is not None
    if lines is None:
        lines = parse_register(session=session, path=path, programme=programme)
    else:
        check_against_database(session=session, path=path, programme=programme, lines=lines)
    return create_projects(
        session=session,
        programme=programme,
        lines=lines,
        now=now,
        created_by=f"import {path.name}",
        actor_id=actor.id if actor is not None else None,
    )


def create_projects(
    *,
    session: Session,
    programme: Programme,
    lines: Sequence[ProjectLine],
    now: datetime,
    created_by: str,
    actor_id: int | None = None,
) -> list[CreatedProject]:
    """Write checked register lines as projects at their workflow's first stage, in bulk."""
    assert programme.id is not None
    definition = get_definition(session=session, key=programme.definition_key)
    district = programme.district_id
    towns = _places(session, PlaceKind.TOWN, district, {(district, line.town) for line in lines})
    villages = _places(
        session, PlaceKind.VILLAGE, district, {(towns[district, line.town], line.village) for line in lines}
    )
    people = _people(session, lines)
    codes = reserve_project_codes(session=session, programme=programme, count=len(lines))
    rows = [
        {
            "programme_id": programme.id,
            "village_id": villages[towns[district, line.town], line.village],
            "code": code,
            "name": f"{line.village}村级组织活动场所",
            "definition_key": definition.key,
            "definition_version": definition.version,
            "stage": definition.initial,
            "stage_entered_at": now,
            "planned_start": line.planned_start,
            "planned_finish": line.planned_finish,
            "version": 1,
            "created_at": now,
        }
        for line, code in zip(lines, codes, strict=True)
    ]
    made = insert_new(session, table_of(Project), rows, key=["programme_id", "code"])
    ids = [made[programme.id, code] for code in codes]
    sources = {s.code: s.id for s in funding_sources(session=session, programme_id=programme.id)}
    _insert(
        session,
        ProjectFunding,
        (
            {"project_id": project_id, "source_id": sources[source], "amount_fen": amount}
            for project_id, line in zip(ids, lines, strict=True)
            for source, amount in line.budget_fen.items()
        ),
    )
    _insert(
        session,
        RoleAssignment,
        (
            {
                "person_id": people[phone],
                "role": role.value,
                "project_id": project_id,
                "unit_id": None,
                "granted_at": now,
                "granted_by_id": actor_id,
                "grant_reason": f"{created_by}, row {line.row}",
            }
            for project_id, line in zip(ids, lines, strict=True)
            for role, phone in ((Role.LEADER, line.leader_phone), (Role.SPECIALIST, line.specialist_phone))
        ),
    )
    _insert(
        session,
        WorkflowEvent,
        (
            {
                "project_id": project_id,
                "occurred_at": now,
                "actor_id": actor_id,
                "actor_name": created_by,
                "from_stage": None,
                "to_stage": definition.initial,
                "reason": "project created",
                "definition_version": definition.version,
            }
            for project_id in ids
        ),
    )
    return [
        CreatedProject(project_id, code, definition.initial, now)
        for project_id, code in zip(ids, codes, strict=True)
    ]


def _insert(session: Session, model: type, rows: Iterable[dict[str, object]]) -> None:
    insert_many(session, table_of(model), list(rows))


def _places(
    session: Session, kind: PlaceKind, district: int, wanted: set[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """(parent id, name) → id of the towns or villages wanted in ``district``, made where missing.

    What exists is found under the district, by a join, never by a list of names or ids.
    """
    if kind == PlaceKind.TOWN:
        query = sa_select(col(Place.id), col(Place.parent_id), col(Place.name)).where(
            col(Place.kind) == kind, col(Place.parent_id) == district
        )
    else:
        town = aliased(Place)
        query = (
            sa_select(col(Place.id), col(Place.parent_id), col(Place.name))
            .join(town, col(town.id) == col(Place.parent_id))
            .where(col(Place.kind) == kind, col(town.parent_id) == district)
        )
    existing = {(parent, name): place_id for place_id, parent, name in session.execute(query).all()}
    missing = sorted(wanted - set(existing))
    if missing:
        made = insert_new(
            session,
            table_of(Place),
            [{"kind": kind.value, "name": name, "parent_id": parent} for parent, name in missing],
            key=["parent_id", "name"],
        )
        existing.update({(parent, name): place_id for (parent, name), place_id in made.items()})
    return existing


def _people(session: Session, lines: Sequence[ProjectLine]) -> dict[str, int]:
    """phone → person id for every leader and specialist of the register, made where missing."""
    known = _phone_owners(session)
    wanted: dict[str, tuple[str, str | None]] = {}
    for line in lines:
        for name, phone, email in (
            (line.leader, line.leader_phone, line.leader_email),
            (line.specialist, line.specialist_phone, line.specialist_email),
        ):
            have = wanted.get(phone)
            wanted[phone] = (name, (have[1] if have else None) or email)
    new = sorted(phone for phone in wanted if phone not in known)
    people = {phone: owner[0] for phone, owner in known.items() if phone in wanted}
    if new:
        made = insert_new(
            session,
            table_of(Person),
            [
                {
                    "name": wanted[phone][0],
                    "phone": phone,
                    "email": wanted[phone][1],
                    "unit_id": None,
                    "notice_addresses": [],
                }
                for phone in new
            ],
            key=["phone"],
        )
        people.update({phone: person_id for (phone,), person_id in made.items()})
    # Someone known without an e-mail takes the one the register gives, as a single row would.
    emails = [
        {"person_id": known[phone][0], "email": email}
        for phone, (_, email) in wanted.items()
        if phone in known and email and not known[phone][2]
    ]
    if emails:
        session.execute(
            update(Person).where(col(Person.id) == bindparam("person_id")).values(email=bindparam("email")),
            emails,
        )
    return people
