"""Places, organisation units, people and the roles they hold: find them, or make them once."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from models import OrgUnit, Person, Place, PlaceKind, Project, Role, RoleAssignment
from models.errors import NotFound, Refused, candidates
from models.text import reference


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
    """The unit of that name, created if missing."""
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

    A phone already recorded for someone of another name is refused, not merged.
    """
    if phone:
        person = session.exec(select(Person).where(col(Person.phone) == phone)).first()
        if person is not None:
            if person.name != name:
                raise Refused(f"phone {phone} already belongs to {person.name}")
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
    now: datetime | None = None,
    by: Person | None = None,
    reason: str | None = None,
) -> RoleAssignment:
    """Give ``person`` a role on one project or one unit, granted ``now`` by ``by`` (None: the system)."""
    assignment = RoleAssignment(
        person_id=person.id,  # type: ignore[arg-type]
        role=role,
        project_id=project.id if project else None,
        unit_id=unit.id if unit else None,
        granted_at=now,
        granted_by_id=by.id if by else None,
        grant_reason=reason,
    )
    session.add(assignment)
    session.flush()
    return assignment


# How many matches an ambiguous reference names before it says "and N more".
SHOWN_MATCHES = 5


def find_person(*, session: Session, ref: str) -> Person:
    """A person by id, phone or name; an ambiguous name is an error that names a few of them."""
    ref = reference(ref, field="person")
    matching = or_(
        col(Person.phone) == ref,
        col(Person.name) == ref,
        col(Person.id) == (int(ref) if ref.isdecimal() and len(ref) < 9 else -1),
    )
    matches = list(
        session.exec(select(Person).where(matching).order_by(col(Person.id)).limit(SHOWN_MATCHES + 1)).all()
    )
    if not matches:
        raise NotFound(f"no person {ref!r} (give a name, phone or id)")
    if len(matches) > 1:
        total = session.exec(select(func.count()).select_from(Person).where(matching)).one()
        who = candidates((f"{p.name} (id {p.id}, {p.phone or 'no phone'})" for p in matches), total=total)
        raise NotFound(f"{ref!r} matches {total} people: {who}; give the phone or id")
    return matches[0]
