"""Small builders for test data; each makes one thing with sensible defaults."""

from datetime import UTC, date, datetime

from sqlmodel import Session

from ducha.demo.inspections import inspect
from inspections.evidence import EvidenceStore
from models import OrgUnit, Person, Programme, Project, Role
from models.calendar import WorkingCalendar
from workflows.people import assign_role, ensure_person, ensure_unit
from workflows.programmes import FundingSourceSpec, create_programme
from workflows.projects import create_project, record_document

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def programme(
    session: Session, name: str = "测试项目批次", *, start_by: date = date(2026, 12, 31)
) -> Programme:
    return create_programme(
        session=session,
        name=name,
        district="测试区",
        definition_key="village-venue",
        sources=[
            FundingSourceSpec("upper", "上级资金", 3_369_200 * 2),
            FundingSourceSpec("district", "区级资金", 324_800 * 2),
        ],
        milestones={"start_construction": start_by},
        earmark="建设和办公用品配置",
        now=T0,
    )


_phones = iter(range(13800000000, 13899999999))


def person(session: Session, name: str, phone: str | None = None) -> Person:
    return ensure_person(session=session, name=name, phone=phone or str(next(_phones)), email=None)


def office_member(session: Session, name: str = "督查员甲") -> Person:
    unit: OrgUnit = ensure_unit(session=session, name="督查室", kind="office")
    member = person(session, name)
    assign_role(session=session, person=member, role=Role.OFFICE, unit=unit)
    return member


def project(
    session: Session,
    prog: Programme,
    village: str = "和平村",
    *,
    town: str = "城关镇",
    leader: Person | None = None,
    specialist: Person | None = None,
) -> Project:
    return create_project(
        session=session,
        programme=prog,
        town=town,
        village=village,
        leader=leader or person(session, f"{village}领导"),
        specialist=specialist or person(session, f"{village}专干"),
        budget_fen={"upper": 3_369_200, "district": 324_800},
        planned_start=date(2026, 12, 1),
        planned_finish=date(2027, 5, 31),
        now=T0,
        created_by="test",
    )


def documents(session: Session, proj: Project, *kinds: str, at: datetime = T0) -> None:
    for kind in kinds:
        record_document(session=session, project=proj, kind=kind, title=kind, actor=None, now=at)


def inspectors(session: Session, count: int = 2) -> list[Person]:
    unit = ensure_unit(session=session, name="督查室", kind="office")
    people = []
    for n in range(count):
        inspector = person(session, f"督查员{n + 1}")
        assign_role(session=session, person=inspector, role=Role.INSPECTOR, unit=unit)
        people.append(inspector)
    return people


def signed_inspection(
    session: Session,
    proj: Project,
    template_key: str,
    by: list[Person],
    *,
    at: datetime,
    store: EvidenceStore,
    failing: tuple[str, ...] = (),
) -> None:
    """Record and sign an inspection through the real services; every item passes but ``failing``."""
    inspect(
        session=session,
        project=proj,
        template_key=template_key,
        inspectors=by,
        at=at,
        failing=failing,
        evidence=store,
        calendar=WorkingCalendar.load(),
    )
