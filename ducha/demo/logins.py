"""Logins for the demo: one person for each role, all with one known password (a simulation only),
and the town staff and auditor the demo needs to show what each role sees."""

from datetime import datetime

from sqlmodel import Session, col, select

from models import Person, Programme, Role, UserAccount
from models.kinds import VIEWER
from workflows.accounts import password_hasher
from workflows.people import assign_role, ensure_person, ensure_unit

# Printed by `ducha serve` and the README: the demo is illustrative and lives in a simulation.
DEMO_PASSWORD = "ducha-demo-2026"
# (role the login acts in, phone, what to say about it)
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("office", "13900000001", "督查室主任 the supervision office"),
    ("admin", "13900000008", "系统管理员 keeps units, people, roles, logins"),
    ("leadership", "13900000009", "区领导 district leadership"),
    ("inspector", "13900000002", "督查员 records inspections"),
    ("auditor", "13900000007", "审计 reads everything, writes audit findings"),
    ("leader", "13910000001", "责任领导 of P001–P005"),
    ("specialist", "13920000001", "专干 of P001 only"),
    (VIEWER, "13900000006", "乡镇干部 a town's staff: that town only"),
]


def add_demo_logins(*, session: Session, now: datetime, programme: Programme, first_town: str) -> None:
    """The demo's auditor, admin and town staff, and a login for each role (idempotent)."""
    office = ensure_unit(session=session, name="区委督查室", kind="office")
    audit = ensure_unit(session=session, name="区审计局", kind="audit", place_id=programme.district_id)
    town = ensure_unit(session=session, name=f"{first_town}人民政府", kind="town")
    if town.town is None:
        town.town = first_town
        session.add(town)
    admin = ensure_person(
        session=session, name="系统管理员", phone="13900000008", email="admin@example.org", unit_id=office.id
    )
    auditor = ensure_person(
        session=session, name="审计员", phone="13900000007", email="audit@example.org", unit_id=audit.id
    )
    ensure_person(
        session=session, name="乡镇干部", phone="13900000006", email="town@example.org", unit_id=town.id
    )
    assign_role(session=session, person=admin, role=Role.ADMIN, unit=office, now=now)
    assign_role(session=session, person=auditor, role=Role.AUDITOR, unit=audit, now=now)
    hashed = password_hasher().hash(DEMO_PASSWORD)
    for role, phone, _ in DEMO_LOGINS:
        person = session.exec(select(Person).where(col(Person.phone) == phone)).one()
        if session.exec(select(UserAccount.id).where(col(UserAccount.person_id) == person.id)).first():
            continue
        session.add(
            UserAccount(
                person_id=person.id,  # type: ignore[arg-type]
                role=role,
                password_hash=hashed,
                created_at=now,
                password_changed_at=now,
            )
        )
    session.flush()
