"""The office's own staff: units, people and the roles they hold, kept by an admin, as history.

Every change is attributed (who, when, why) and append-only: a role is granted by a new row and
revoked by closing it, once (a trigger refuses anything else). A project's leader or specialist is
replaced by granting the role to someone else: the old assignment is closed, and the project's open
orders of that role go to the new holder (its deadlines tell whoever holds the role, so they follow).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from inspections.orders import reassign
from models import (
    OrderStatus,
    OrgUnit,
    Person,
    Project,
    RectificationOrder,
    Role,
    RoleAssignment,
)
from models.compiled import Compiled
from models.errors import BadInput, NotFound, Problems, Refused, candidates
from models.kinds import PROJECT_ROLES, SINGLE_HOLDER_ROLES, UNIT_ROLES, UnitKind
from models.listing import Listing, Window
from models.optimistic import update_if_unchanged
from models.text import clean, normalised, reference
from models.text import problem as text_problem
from models.types import table_of
from workflows.authority import ADMIN, record_activity, require_role
from workflows.people import SHOWN_MATCHES, find_person
from workflows.projects import find_project
from workflows.register_file import EMAIL, PHONE, ImportRejected, cell_text, read_table
from workflows.staff_rows import PersonRow as PersonRow  # where its readers import it
from workflows.staff_rows import people_rows

# The unit ``ducha init --admin`` makes for the installation's admins.
ADMIN_UNIT = "ducha 系统管理"
REASON = 2000
ADDABLE_KINDS = [kind for kind in UnitKind if kind != UnitKind.ADMIN]


# --- values checked at the edge ------------------------------------------------------------------


def person_fields(name: str, phone: str | None, email: str | None) -> tuple[str, str | None, str | None]:
    """A person's name, phone and e-mail, normalised, or BadInput naming the field."""
    clean_name = clean(name, field="name", max_length=64, required=True)
    clean_phone = normalised(phone or "") or None
    if clean_phone is not None and not PHONE.match(clean_phone):
        raise BadInput(f"phone: not a phone number: {clean_phone!r}")
    clean_email = normalised(email or "") or None
    if clean_email is not None and (len(clean_email) > 254 or not EMAIL.match(clean_email)):
        raise BadInput(f"email: not an e-mail address: {clean_email!r}")
    return clean_name, clean_phone, clean_email


def parse_role(value: str) -> Role:
    try:
        return Role(normalised(value).lower())
    except ValueError:
        raise BadInput(f"role {value!r}: give one of {', '.join(r.value for r in Role)}") from None


def parse_unit_kind(value: str) -> UnitKind:
    try:
        kind = UnitKind(normalised(value).lower())
    except ValueError:
        kind = None
    if kind is None or kind == UnitKind.ADMIN:
        raise BadInput(f"unit kind {value!r}: give one of {', '.join(k.value for k in ADDABLE_KINDS)}")
    return kind


# --- units ---------------------------------------------------------------------------------------


def find_unit(*, session: Session, ref: str) -> OrgUnit:
    """A unit by name or id."""
    text = reference(ref, field="unit")
    by_id = int(text) if text.isdecimal() and len(text) < 10 else -1
    unit = session.exec(
        select(OrgUnit)
        .where(or_(col(OrgUnit.name) == text, col(OrgUnit.id) == by_id))
        .order_by(col(OrgUnit.id))
    ).first()
    if unit is None:
        known = session.exec(select(OrgUnit.name).order_by(col(OrgUnit.id)).limit(SHOWN_MATCHES + 1)).all()
        total = session.exec(select(func.count()).select_from(OrgUnit)).one()
        hint = f"; units: {candidates(known, total=total)}" if known else "; no unit yet (ducha units add)"
        raise NotFound(f"no unit {ref!r}{hint}")
    return unit


def admin_unit(*, session: Session) -> OrgUnit:
    """The installation's admin unit, made on first use."""
    unit = session.exec(select(OrgUnit).where(col(OrgUnit.kind) == UnitKind.ADMIN.value)).first()
    if unit is None:
        unit = OrgUnit(name=ADMIN_UNIT, kind=UnitKind.ADMIN.value)
        session.add(unit)
        session.flush()
    return unit


def add_unit(
    *, session: Session, now: datetime, actor: Person, name: str, kind: str, town: str | None = None
) -> OrgUnit:
    """A new organisation unit: the supervision office, district leadership, a town, the auditors."""
    require_role(session=session, actor=actor, roles=ADMIN, doing="add a unit")
    unit_kind = parse_unit_kind(kind)
    unit_name = clean(name, field="name", max_length=100, required=True)
    town_name = clean(town, field="town", max_length=100) if town else None
    if town_name and unit_kind != UnitKind.TOWN:
        raise BadInput(f"--town goes with --kind town, not {unit_kind.value}")
    existing = session.exec(select(OrgUnit).where(col(OrgUnit.name) == unit_name)).first()
    if existing is not None:
        raise Refused(f"a unit named {unit_name} exists already (id {existing.id}, {existing.kind})")
    unit = OrgUnit(
        name=unit_name,
        kind=unit_kind.value,
        town=town_name or (unit_name if unit_kind == UnitKind.TOWN else None),
    )
    session.add(unit)
    session.flush()
    record_activity(
        session=session, now=now, actor=actor, action="unit added", subject=unit_name, kind=unit_kind.value
    )
    return unit


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    kind: str
    town: str | None
    people: int


def list_units(*, session: Session) -> list[UnitRow]:
    members = select(Person.unit_id, func.count().label("n")).group_by(col(Person.unit_id)).subquery()
    rows = session.exec(
        select(OrgUnit, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.unit_id == col(OrgUnit.id))
        .order_by(col(OrgUnit.id))
    ).all()
    return [UnitRow(u.id, u.name, u.kind, u.town, n) for u, n in rows]  # type: ignore[arg-type]


# --- people --------------------------------------------------------------------------------------


def _phone_owner(session: Session, phone: str) -> Person | None:
    return session.exec(select(Person).where(col(Person.phone) == phone)).first()


def add_person(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    name: str,
    phone: str,
    email: str | None = None,
    unit: str | None = None,
) -> Person:
    """Someone new; a phone number belongs to one person (namesakes are told apart by it)."""
    require_role(session=session, actor=actor, roles=ADMIN, doing="add a person")
    clean_name, clean_phone, clean_email = person_fields(name, phone, email)
    if clean_phone is None:
        raise BadInput("phone: is empty")
    owner = _phone_owner(session, clean_phone)
    if owner is not None:
        raise Refused(f"phone {clean_phone} already belongs to {owner.name} (id {owner.id})")
    unit_row = find_unit(session=session, ref=unit) if unit else None
    person = Person(
        name=clean_name,
        phone=clean_phone,
        email=clean_email,
        unit_id=unit_row.id if unit_row else None,
    )
    session.add(person)
    session.flush()
    record_activity(
        session=session,
        now=now,
        actor=actor,
        action="person added",
        subject=f"{clean_name} {clean_phone}",
        person_id=person.id,
    )
    return person


def edit_person(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    person: str,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    unit: str | None = None,
    lang: str | None = None,
    digest: bool | None = None,
) -> Person:
    """Correct someone's name, phone, e-mail or unit, or choose the language of their notices and
    whether they get the daily digest instead of single notices (admin); the change is recorded."""
    from notifications.rendering import LANGS

    if lang is not None and lang not in LANGS:
        raise BadInput(f"--lang {lang!r}: give one of {', '.join(LANGS)}")
    require_role(session=session, actor=actor, roles=ADMIN, doing="edit a person")
    found = find_person(session=session, ref=person)
    new_name, new_phone, new_email = person_fields(
        name if name is not None else found.name,
        phone if phone is not None else found.phone,
        email if email is not None else found.email,
    )
    if phone is not None and new_phone is None:
        raise BadInput("--phone: is empty")
    if new_phone != found.phone and new_phone is not None:
        owner = _phone_owner(session, new_phone)
        if owner is not None:
            raise Refused(f"phone {new_phone} already belongs to {owner.name} (id {owner.id})")
    changes: dict[str, Any] = {}
    for key, value in (("name", new_name), ("phone", new_phone), ("email", new_email)):
        if getattr(found, key) != value:
            changes[key] = [getattr(found, key), value]
            setattr(found, key, value)
    if unit is not None:
        unit_id = find_unit(session=session, ref=unit).id if unit else None
        if unit_id != found.unit_id:
            changes["unit_id"] = [found.unit_id, unit_id]
            found.unit_id = unit_id
    for key, wanted in (("lang", lang), ("digest", digest)):
        if wanted is not None and getattr(found, key) != wanted:
            changes[key] = [getattr(found, key), wanted]
            setattr(found, key, wanted)
    if not changes:
        raise Refused(f"{found.name} (id {found.id}): nothing to change")
    session.add(found)
    session.flush()
    record_activity(
        session=session,
        now=now,
        actor=actor,
        action="person edited",
        subject=f"{found.name} (id {found.id})",
        changes=changes,
    )
    return found


@lru_cache(maxsize=1)
def people_statement() -> Compiled:
    """Everyone with their unit's name, by id (``ducha people``; compiled ahead: workflows.ahead)."""
    person, unit = table_of(Person), table_of(OrgUnit)
    p = person.c
    return Compiled(
        sa_select(p.id, p.name, p.phone, p.email, unit.c.name)
        .outerjoin_from(person, unit, unit.c.id == p.unit_id)
        .order_by(p.id)
    )


@lru_cache(maxsize=1)
def people_roles_statement() -> Compiled:
    """The roles in force of the people with ids from ``low`` to ``high``: (person id, role, the unit's
    name or the project's code), in the order they were granted."""
    assignment, unit, project = table_of(RoleAssignment), table_of(OrgUnit), table_of(Project)
    a = assignment.c
    return Compiled(
        sa_select(a.person_id, a.role, func.coalesce(unit.c.name, project.c.code))
        .outerjoin_from(assignment, unit, unit.c.id == a.unit_id)
        .outerjoin(project, project.c.id == a.project_id)
        .where(a.person_id.between(bindparam("low"), bindparam("high")), a.revoked_at.is_(None))
        .order_by(a.id)
    )


def list_people(*, session: Session, window: Window = Window()) -> Listing[PersonRow]:
    """Everyone, with their unit and the roles they hold now."""

    def held(low: int, high: int) -> list[Any]:
        return people_roles_statement().all(session, {"low": low, "high": high})

    return Listing(session, people_statement(), people_rows(held), window)


# --- roles ---------------------------------------------------------------------------------------


def _grant(
    session: Session,
    *,
    person: Person,
    role: Role,
    now: datetime,
    by: Person | None,
    reason: str | None,
    project: Project | None = None,
    unit: OrgUnit | None = None,
) -> RoleAssignment:
    assignment = RoleAssignment(
        person_id=person.id,  # type: ignore[arg-type]
        role=role,
        project_id=project.id if project else None,
        unit_id=unit.id if unit else None,
        granted_at=now,
        granted_by_id=by.id if by else None,
        grant_reason=reason or None,
    )
    session.add(assignment)
    session.flush()
    return assignment


def _close(
    session: Session, assignment: RoleAssignment, *, now: datetime, by: Person | None, reason: str
) -> None:
    if not update_if_unchanged(
        session=session,
        row=assignment,
        unchanged={"revoked_at": None},
        values={"revoked_at": now, "revoked_by_id": by.id if by else None, "revoke_reason": reason},
    ):
        from models.errors import Conflict

        raise Conflict(f"role assignment {assignment.id} was closed by someone else just now: look again")


def init_admin(
    *, session: Session, now: datetime, name: str, phone: str, email: str | None = None
) -> tuple[Person, bool]:
    """The first admin (``ducha init --admin``); True when the role was granted now."""
    clean_name, clean_phone, clean_email = person_fields(name, phone, email)
    if clean_phone is None:
        raise BadInput("--phone: is empty")
    unit = admin_unit(session=session)
    person = _phone_owner(session, clean_phone)
    if person is None:
        person = Person(name=clean_name, phone=clean_phone, email=clean_email, unit_id=unit.id)
        session.add(person)
        session.flush()
    elif person.name != clean_name:
        raise Refused(f"phone {clean_phone} already belongs to {person.name} (id {person.id})")
    held = session.exec(
        select(RoleAssignment.id).where(
            col(RoleAssignment.person_id) == person.id,
            col(RoleAssignment.role) == Role.ADMIN,
            col(RoleAssignment.revoked_at).is_(None),
        )
    ).first()
    if held is not None:
        return person, False
    _grant(session, person=person, role=Role.ADMIN, now=now, by=None, reason="ducha init --admin", unit=unit)
    return person, True


def admins(*, session: Session) -> list[Person]:
    return list(
        session.exec(
            select(Person)
            .join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id))
            .where(col(RoleAssignment.role) == Role.ADMIN, col(RoleAssignment.revoked_at).is_(None))
            .order_by(col(Person.id))
        ).all()
    )


@dataclass(frozen=True)
class Assigned:
    assignment: RoleAssignment
    person: Person
    scope: str  # the unit's name or the project's code
    replaced: Person | None  # the project's previous holder of the role
    reassigned_orders: list[int]


def _scope(
    session: Session, role: Role, unit: str | None, project: str | None, programme_id: int | None = None
) -> tuple[OrgUnit | None, Project | None]:
    if unit and project:
        raise BadInput("give --unit or --project, not both")
    if role in PROJECT_ROLES:
        if not project:
            raise BadInput(f"{role.value} is a project role: give --project CODE")
        return None, find_project(session=session, ref=project, programme_id=programme_id)
    if project:
        raise BadInput(
            f"{role.value} is held on a unit, not a project: give --unit "
            f"(project roles: {', '.join(r.value for r in PROJECT_ROLES)})"
        )
    if not unit:
        if role == Role.ADMIN:
            return admin_unit(session=session), None
        raise BadInput(f"{role.value} is held on a unit: give --unit NAME")
    found = find_unit(session=session, ref=unit)
    allowed = UNIT_ROLES[UnitKind(found.kind)]
    if role not in allowed:
        fits = ", ".join(r.value for r in allowed) or "no unit role (its people lead or handle projects)"
        raise Refused(f"{role.value} is not a role of a {found.kind} unit like {found.name}: it takes {fits}")
    return found, None


def _active(
    session: Session, *, role: Role, unit: OrgUnit | None, project: Project | None, person: Person | None
) -> RoleAssignment | None:
    query = select(RoleAssignment).where(
        col(RoleAssignment.role) == role, col(RoleAssignment.revoked_at).is_(None)
    )
    if project is not None:
        query = query.where(col(RoleAssignment.project_id) == project.id)
    if unit is not None:
        query = query.where(col(RoleAssignment.unit_id) == unit.id)
    if person is not None:
        query = query.where(col(RoleAssignment.person_id) == person.id)
    return session.exec(query.order_by(col(RoleAssignment.id))).first()


def assign_role(
    *,
    session: Session,
    now: datetime,
    actor: Person | None,
    person: str | Person,
    role: str | Role,
    unit: str | None = None,
    project: str | None = None,
    reason: str = "",
    programme_id: int | None = None,
) -> Assigned:
    """Grant a role on a unit or a project; a project's leader or specialist replaces the one before.

    ``actor`` None is the system (an import); otherwise the actor must be an admin.
    """
    if actor is not None:
        require_role(session=session, actor=actor, roles=ADMIN, doing="assign roles")
    wanted = role if isinstance(role, Role) else parse_role(role)
    holder = person if isinstance(person, Person) else find_person(session=session, ref=person)
    why = clean(reason, field="reason", max_length=REASON, multiline=True)
    on_unit, on_project = _scope(session, wanted, unit, project, programme_id)
    replaced: Person | None = None
    moved: list[int] = []
    if on_project is not None and wanted in SINGLE_HOLDER_ROLES:
        current = _active(session, role=wanted, unit=None, project=on_project, person=None)
        if current is not None and current.person_id == holder.id:
            raise Refused(f"{holder.name} is already the {wanted.value} of {on_project.code}")
        if current is not None:
            replaced = session.get(Person, current.person_id)
            assert replaced is not None
            because = f"replaced by {holder.name} (id {holder.id})" + (f": {why}" if why else "")
            _close(session, current, now=now, by=actor, reason=because)
    elif _active(session, role=wanted, unit=on_unit, project=on_project, person=holder) is not None:
        where = on_unit.name if on_unit else on_project.code  # type: ignore[union-attr]
        raise Refused(f"{holder.name} already holds {wanted.value} on {where}")
    assignment = _grant(
        session, person=holder, role=wanted, now=now, by=actor, reason=why, project=on_project, unit=on_unit
    )
    if replaced is not None and on_project is not None:
        moved = _retarget_orders(session, on_project, wanted, replaced, holder, now=now, actor=actor)
    scope = on_unit.name if on_unit else on_project.code  # type: ignore[union-attr]
    return Assigned(assignment, holder, scope, replaced, moved)


def _retarget_orders(
    session: Session,
    project: Project,
    role: Role,
    old: Person,
    new: Person,
    *,
    now: datetime,
    actor: Person | None,
) -> list[int]:
    """The project's open orders answered by ``old`` in ``role`` now go to ``new``."""
    orders = session.exec(
        select(RectificationOrder)
        .where(
            col(RectificationOrder.project_id) == project.id,
            col(RectificationOrder.status) != OrderStatus.CLOSED,
            col(RectificationOrder.responsible_person_id) == old.id,
            or_(
                col(RectificationOrder.responsible_role) == role.value,
                col(RectificationOrder.responsible_role).is_(None),
            ),
        )
        .order_by(col(RectificationOrder.id))
    ).all()
    for order in orders:
        reassign(
            session=session,
            order=order,
            to_person_id=new.id,  # type: ignore[arg-type]
            actor_id=actor.id if actor else None,
            now=now,
            reason=f"{role.value} of {project.code} is now {new.name} (was {old.name})",
        )
    return [order.id for order in orders]  # type: ignore[misc]


def revoke_role(
    *,
    session: Session,
    now: datetime,
    actor: Person,
    person: str,
    role: str,
    reason: str,
    unit: str | None = None,
    project: str | None = None,
) -> RoleAssignment:
    """Close a role assignment in force, with a reason; the last admin stays."""
    require_role(session=session, actor=actor, roles=ADMIN, doing="revoke roles")
    wanted = parse_role(role)
    holder = find_person(session=session, ref=person)
    why = clean(reason, field="reason", max_length=REASON, multiline=True, required=True)
    if unit is None and project is None and wanted not in PROJECT_ROLES:
        # Held on one unit: no need to name it.
        held = session.exec(
            select(RoleAssignment).where(
                col(RoleAssignment.person_id) == holder.id,
                col(RoleAssignment.role) == wanted,
                col(RoleAssignment.unit_id).is_not(None),
                col(RoleAssignment.revoked_at).is_(None),
            )
        ).all()
        if len(held) > 1:
            raise BadInput(f"{holder.name} holds {wanted.value} on {len(held)} units: give --unit")
        current = held[0] if held else None
    else:
        on_unit, on_project = _scope(session, wanted, unit, project)
        current = _active(session, role=wanted, unit=on_unit, project=on_project, person=holder)
    if current is None:
        raise NotFound(f"{holder.name} (id {holder.id}) holds no {wanted.value} role there now")
    if wanted == Role.ADMIN and len(admins(session=session)) <= 1:
        raise Refused("the last admin cannot be revoked: assign the role to someone else first")
    _close(session, current, now=now, by=actor, reason=why)
    return current


@dataclass(frozen=True)
class RoleRow:
    id: int
    person_id: int
    person: str
    phone: str | None
    role: str
    scope: str
    granted_at: datetime | None
    granted_by: str | None
    grant_reason: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


def list_roles(
    *,
    session: Session,
    person: str | None = None,
    project: str | None = None,
    history: bool = False,
    window: Window = Window(),
) -> Listing[RoleRow]:
    """Role assignments in force (with ``history``, closed ones too), oldest first."""
    granter, revoker = aliased(Person), aliased(Person)
    query = (
        sa_select(
            RoleAssignment,
            col(Person.name),
            col(Person.phone),
            func.coalesce(col(OrgUnit.name), col(Project.code), literal("?")),
            col(granter.name),
            col(revoker.name),
        )
        .join(Person, col(Person.id) == col(RoleAssignment.person_id))
        .outerjoin(OrgUnit, col(OrgUnit.id) == col(RoleAssignment.unit_id))
        .outerjoin(Project, col(Project.id) == col(RoleAssignment.project_id))
        .outerjoin(granter, col(granter.id) == col(RoleAssignment.granted_by_id))
        .outerjoin(revoker, col(revoker.id) == col(RoleAssignment.revoked_by_id))
        .order_by(col(RoleAssignment.id))
    )
    if person:
        query = query.where(col(RoleAssignment.person_id) == find_person(session=session, ref=person).id)
    if project:
        query = query.where(col(RoleAssignment.project_id) == find_project(session=session, ref=project).id)
    if not history:
        query = query.where(col(RoleAssignment.revoked_at).is_(None))

    def row(found: Any) -> RoleRow:
        a, name, phone, scope, granted_by, revoked_by = found
        return RoleRow(
            a.id,
            a.person_id,
            name,
            phone,
            Role(a.role).value,
            scope,
            a.granted_at,
            granted_by,
            a.grant_reason,
            a.revoked_at,
            revoked_by,
            a.revoke_reason,
        )

    return Listing.each(session, query, row, window)


# --- a staff register ----------------------------------------------------------------------------

STAFF_COLUMNS = ("name", "phone", "email", "unit", "role")
STAFF_ALIASES = {
    "姓名": "name",
    "电话": "phone",
    "手机": "phone",
    "邮箱": "email",
    "单位": "unit",
    "角色": "role",
}


@dataclass(frozen=True)
class StaffLine:
    row: int
    name: str
    phone: str
    email: str | None
    unit: str | None
    role: Role | None


def read_staff_register(path: Path) -> list[StaffLine]:
    """Read and check a staff register (CSV/XLSX: name, phone, email, unit, role), without the
    database; every bad row named."""
    header, rows = read_table(path)
    problems: list[str] = []
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = STAFF_ALIASES.get(raw, raw.lower())
        if name not in STAFF_COLUMNS:
            label = raw or f"#{index + 1}"
            problems.append(
                f"{path}: row 1, column {label!r}: unknown column (expected: {', '.join(STAFF_COLUMNS)})"
            )
        elif name in columns:
            problems.append(f"{path}: row 1, column {raw!r}: appears twice")
        else:
            columns[name] = index
    for name in ("name", "phone"):
        if name not in columns:
            problems.append(f"{path}: row 1, column {name!r}: missing column")
    if problems:
        raise ImportRejected(problems)
    lines: list[StaffLine] = []
    phones: dict[str, int] = {}
    for number, cells in rows:
        values = {
            name: normalised(cell_text(cells[index])) if index < len(cells) else ""
            for name, index in columns.items()
        }
        before = len(problems)

        def bad(field: str, message: str, number: int = number) -> None:
            problems.append(f"{path}: row {number}, field {field}: {message}")

        if not values.get("name"):
            bad("name", "is empty")
        else:
            wrong = text_problem(values["name"], max_length=64)
            if wrong:
                bad("name", wrong)
        phone = values.get("phone", "")
        if not phone:
            bad("phone", "is empty")
        elif not PHONE.match(phone):
            bad("phone", f"not a phone number: {phone!r}")
        elif phone in phones:
            bad("phone", f"{phone} is also on row {phones[phone]}")
        else:
            phones[phone] = number
        email = values.get("email") or None
        if email and (len(email) > 254 or not EMAIL.match(email)):
            bad("email", f"not an e-mail address: {email!r}")
        unit = values.get("unit") or None
        if unit:
            wrong = text_problem(unit, max_length=100)
            if wrong:
                bad("unit", wrong)
        role: Role | None = None
        if values.get("role"):
            try:
                role = parse_role(values["role"])
            except BadInput as exc:
                bad("role", str(exc))
            else:
                if role in PROJECT_ROLES:
                    bad("role", f"{role.value} is a project role: the project register assigns it")
                elif not unit and role != Role.ADMIN:
                    bad("role", f"{role.value} is held on a unit: give the unit")
        if len(problems) == before:
            lines.append(StaffLine(number, values["name"], phone, email, unit, role))
    if not problems and not lines:
        problems.append(f"{path}: no rows below the header")
    if problems:
        raise ImportRejected(problems)
    return lines


@dataclass(frozen=True)
class StaffImported:
    added: list[Person]
    known: list[Person]
    granted: list[Assigned]


def import_staff(
    *, session: Session, now: datetime, actor: Person, path: Path, lines: Iterable[StaffLine]
) -> StaffImported:
    """Add the people of a checked staff register and grant their unit roles, all or nothing.

    Someone already recorded with the same phone and name is kept as is (importing a file twice
    changes nothing); a phone recorded for someone else is a row error.
    """
    require_role(session=session, actor=actor, roles=ADMIN, doing="import staff")
    lines = list(lines)
    problems: list[str] = []
    units: dict[str, OrgUnit] = {}
    owners = {p.phone: p for p in _people_with_phones(session, [line.phone for line in lines])}
    for line in lines:
        if line.unit and line.unit not in units:
            found = session.exec(select(OrgUnit).where(col(OrgUnit.name) == line.unit)).first()
            if found is None:
                problems.append(
                    f"{path}: row {line.row}, field unit: no unit {line.unit!r} (ducha units add)"
                )
                continue
            units[line.unit] = found
        owner = owners.get(line.phone)
        if owner is not None and owner.name != line.name:
            problems.append(
                f"{path}: row {line.row}, field phone: {line.phone} already belongs to "
                f"{owner.name} (id {owner.id})"
            )
        if line.role and line.unit and line.unit in units:
            kind = units[line.unit].kind
            if line.role not in UNIT_ROLES[UnitKind(kind)]:
                problems.append(
                    f"{path}: row {line.row}, field role: {line.role.value} is not a role of a {kind} unit"
                )
    if problems:
        raise Problems(problems, summary=f"nothing imported ({len(problems)} problem(s))")
    added: list[Person] = []
    known: list[Person] = []
    granted: list[Assigned] = []
    for line in lines:
        unit = units.get(line.unit) if line.unit else None
        person = owners.get(line.phone)
        if person is None:
            person = Person(
                name=line.name, phone=line.phone, email=line.email, unit_id=unit.id if unit else None
            )
            session.add(person)
            session.flush()
            added.append(person)
        else:
            known.append(person)
        if line.role is not None:
            target = unit or admin_unit(session=session)
            if _active(session, role=line.role, unit=target, project=None, person=person) is None:
                granted.append(
                    assign_role(
                        session=session,
                        now=now,
                        actor=actor,
                        person=person,
                        role=line.role,
                        unit=target.name,
                        reason=f"staff register {path.name}, row {line.row}",
                    )
                )
    record_activity(
        session=session,
        now=now,
        actor=actor,
        action="staff imported",
        subject=path.name,
        added=len(added),
        known=len(known),
        granted=len(granted),
    )
    return StaffImported(added, known, granted)


def _people_with_phones(session: Session, phones: list[str]) -> Iterator[Person]:
    """The people holding any of ``phones``, a thousand phones per query (no parameter ceiling)."""
    for start in range(0, len(phones), 1000):
        yield from session.exec(
            select(Person).where(col(Person.phone).in_(phones[start : start + 1000]))
        ).all()
