"""The 50-village demo: 村级组织活动场所建设(第一批), from the source figures. Illustrative data.

Budgets are the source documents' figures to the fen; names, places and progress are invented.
Progress is laid out relative to the demo date, so ``--at`` moves the whole story.
"""

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session

from ducha.demo.funds import Member, record_demo_funds
from ducha.demo.inspections import inspect
from ducha.demo.logins import add_demo_logins
from funds.note import Signer
from inspections.evidence import EvidenceWriter
from models import Person, Programme, Project, Role
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ, local_date
from workflows.actions import keep_deadlines_in_step
from workflows.engine import apply_transition
from workflows.people import assign_role, ensure_person, ensure_unit
from workflows.programmes import FundingSourceSpec, create_programme, programme_named
from workflows.projects import create_project, record_document, reserve_project_codes

PROGRAMME_NAME = "村级组织活动场所建设(第一批)"
DISTRICT = "示范区"
DEFAULT_DEMO_AT = "2026-12-10"
EARMARK = "专款专用: 仅用于村级组织活动场所建设和办公用品配置 (construction and office furnishing only)"
UPPER = FundingSourceSpec(
    "upper", "中央、自治区、市级资金及党费 (central, region and city funds, party dues)", 168_460_000
)
DISTRICT_FUNDS = FundingSourceSpec("district", "区级资金及党费 (district funds and party dues)", 16_240_000)
PER_PROJECT_FEN = {"upper": 3_369_200, "district": 324_800}  # 33,692.00 + 3,248.00 = 36,940.00 yuan
START_BY = date(2026, 12, 31)
FINISH_BY = date(2027, 6, 30)

TOWNS = ["城关镇", "河西镇", "新华乡", "东风镇", "红旗乡", "青山镇", "白水乡"]
VILLAGES = (
    "和平 团结 胜利 光明 幸福 新民 永丰 长青 红星 建设 前进 向阳 双河 三合 五星 联合 民主 先锋 曙光 东风 "
    "富民 兴隆 太平 安乐 金山 银河 石桥 柳林 杨庄 李家 王家 张湾 黄土 青龙 白马 清泉 桃园 梨花 松树 枣林 "
    "新庄 高岭 南沟 北坡 西岔 东岗 丰收 富强 振兴 和谐"
).split()
SURNAMES = "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 胡 朱 高 林 何 郭 马 罗".split()
GIVEN = "建国 志强 丽华 海燕 明 伟 芳 秀英 军 磊 洋 静 涛 敏 勇 艳 杰 娟 超 霞".split()

# Stage spread at the demo date: mostly approved or building, some approved but not started, a few
# still in pre-review, one still proposed and one suspended.
SPREAD = {"in_construction": 24, "approved": 18, "pre_review": 6, "proposed": 1, "suspended": 1}
DEMO_ACTOR = "demo"


def demo_key(path: Path) -> Signer:
    """Make the office's signing key for the simulation at ``path`` (readable by its owner only)."""
    import os

    signer = Signer.generate("ducha-demo-office")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(signer.text() + "\n")
    return signer


@dataclass(frozen=True)
class DemoResult:
    programme: Programme
    created: bool


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), LOCAL_TZ)


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


# In-progress checks (事中检查) of the earliest starters: one critical finding (fund use outside the
# earmark, due in 5 working days and already late at the demo date), a few lesser ones, and clean passes.
IN_PROGRESS_FINDINGS: list[tuple[str, ...]] = [
    ("earmark",),
    ("safety_protection",),
    ("site_log", "warning_signs"),
    ("wall_verticality",),
    (),
    (),
]


@dataclass(frozen=True)
class _Office:
    head: Person
    inspectors: list[Person]
    evidence: EvidenceWriter
    calendar: WorkingCalendar
    deadline_days: Mapping[str, int]


def load_demo(
    *,
    session: Session,
    now: datetime,
    evidence: EvidenceWriter,
    calendar: WorkingCalendar,
    deadline_days: Mapping[str, int],
    signers: Sequence[Signer] = (),
) -> DemoResult:
    """Create the demo programme as of ``now`` (its date), its deadlines in step; if it exists, change
    nothing. Orders are due after ``deadline_days`` working days by severity, as the office set them.
    Its money is recorded in the ledger, whose checkpoints ``signers`` sign."""
    existing = programme_named(session=session, name=PROGRAMME_NAME)
    if existing is not None:
        return DemoResult(existing, created=False)
    demo_date = local_date(now)
    rng = random.Random(20261210)

    def day(offset: int) -> date:
        return demo_date + timedelta(days=offset)

    programme = create_programme(
        session=session,
        name=PROGRAMME_NAME,
        district=DISTRICT,
        definition_key="village-venue",
        sources=[UPPER, DISTRICT_FUNDS],
        milestones={"start_construction": START_BY, "complete_construction": FINISH_BY},
        earmark=EARMARK,
        now=_at(day(-38), 9),
        illustrative=True,
    )
    office = ensure_unit(session=session, name="区委督查室", kind="office", place_id=programme.district_id)
    taken: set[str] = set()
    head_name, *inspector_names = _names(rng, 3, taken)
    inspectors = []
    head = ensure_person(
        session=session, name=head_name, phone="13900000001", email="ducha@example.org", unit_id=office.id
    )
    assign_role(session=session, person=head, role=Role.OFFICE, unit=office, now=_at(day(-38), 9))
    # The office head keeps the office's staff and roles too (ducha units add, people add, roles assign).
    assign_role(session=session, person=head, role=Role.ADMIN, unit=office, now=_at(day(-38), 9))
    for n, name in enumerate(inspector_names, start=2):
        inspector = ensure_person(
            session=session,
            name=name,
            phone=f"1390000000{n}",
            email=f"inspector{n}@example.org",
            unit_id=office.id,
        )
        assign_role(session=session, person=inspector, role=Role.INSPECTOR, unit=office, now=_at(day(-38), 9))
        inspectors.append(inspector)
    staff = _Office(head, inspectors, evidence, calendar, deadline_days)

    leaders = [
        ensure_person(session=session, name=name, phone=f"1391000{n:04d}", email=f"leader{n:02d}@example.org")
        for n, name in enumerate(_names(rng, 10, taken), start=1)
    ]
    specialists = [
        ensure_person(
            session=session, name=name, phone=f"1392000{n:04d}", email=f"zhuangan{n:02d}@example.org"
        )
        for n, name in enumerate(_names(rng, 50, taken), start=1)
    ]
    stages = [stage for stage, count in SPREAD.items() for _ in range(count)]
    rng.shuffle(stages)
    building = []
    members = []
    codes = reserve_project_codes(session=session, programme=programme, count=len(VILLAGES))
    for index, village in enumerate(VILLAGES):
        town = TOWNS[index * len(TOWNS) // len(VILLAGES)]
        project = create_project(
            session=session,
            programme=programme,
            town=town,
            village=f"{village}村",
            leader=leaders[index // 5],
            specialist=specialists[index],
            budget_fen=PER_PROJECT_FEN,
            planned_start=date(2026, 12, 1) + timedelta(days=rng.randrange(0, 25)),
            planned_finish=date(2027, 5, 31) + timedelta(days=rng.randrange(0, 30)),
            now=_at(day(-38), 9),
            created_by=DEMO_ACTOR,
            code=codes[index],
        )
        _advance_to(session, project, stages[index], specialists[index], staff, rng, day)
        members.append(Member(project, leaders[index // 5], specialists[index]))
        if project.stage == "in_construction":
            building.append(project)
    earliest = sorted(building, key=lambda p: (p.actual_start, p.code))
    for project, failing in zip(earliest, IN_PROGRESS_FINDINGS, strict=False):
        assert project.actual_start is not None
        inspect(
            session=session,
            project=project,
            template_key="in-progress",
            inspectors=inspectors[:1],
            at=_at(project.actual_start + timedelta(days=1), 14),
            failing=failing,
            evidence=evidence,
            calendar=calendar,
            deadline_days=deadline_days,
        )
    # The last rung of escalation (escalated_2): district leadership. Drawn last so that the
    # rest of the demo stays as the README describes it.
    leadership = ensure_unit(
        session=session, name="区委办公室", kind="leadership", place_id=programme.district_id
    )
    (chief_name,) = _names(rng, 1, taken)
    chief = ensure_person(
        session=session,
        name=chief_name,
        phone="13900000009",
        email="quwei@example.org",
        unit_id=leadership.id,
    )
    assign_role(session=session, person=chief, role=Role.LEADERSHIP, unit=leadership, now=_at(day(-38), 9))
    # Logins for the web, one per role (a simulation's known password), with the auditor, the admin
    # and a town's staff they need.
    add_demo_logins(session=session, now=_at(day(-38), 9), programme=programme, first_town=TOWNS[0])
    record_demo_funds(
        session=session,
        programme=programme,
        head=head,
        members=members,
        now=now,
        start=day(-38),
        signers=list(signers),
    )
    keep_deadlines_in_step(session=session, now=now, calendar=calendar, programme=programme)
    return DemoResult(programme, created=True)


def _advance_to(
    session: Session,
    project: Project,
    target: str,
    specialist: Person,
    office: _Office,
    rng: random.Random,
    day: Callable[[int], date],
) -> None:
    """Walk one project through the real engine, documents first, to its demo stage."""
    if target == "proposed":
        return
    submitted = day(-31 + rng.randrange(0, 5))
    for kind, title in (("site_plan", "选址红线图"), ("land_approval", "用地审批")):
        record_document(
            session=session, project=project, kind=kind, title=title, actor=specialist, now=_at(submitted, 9)
        )
    apply_transition(
        session=session,
        project=project,
        to="pre_review",
        actor=specialist,
        now=_at(submitted),
        reason="提交事前审查",
    )
    if target == "pre_review":
        return
    approved = day(-20 + rng.randrange(0, 10))
    inspect(
        session=session,
        project=project,
        template_key="pre-review",
        inspectors=office.inspectors,
        at=_at(approved, 10),
        failing=(),
        evidence=office.evidence,
        calendar=office.calendar,
        deadline_days=office.deadline_days,
    )
    for kind, title in (("design", "施工设计图"), ("budget", "工程预算书")):
        record_document(
            session=session, project=project, kind=kind, title=title, actor=specialist, now=_at(approved, 9)
        )
    apply_transition(
        session=session,
        project=project,
        to="approved",
        actor=office.head,
        now=_at(approved, 15),
        reason="事前审查通过",
    )
    if target == "suspended":
        apply_transition(
            session=session,
            project=project,
            to="suspended",
            actor=office.head,
            now=_at(day(-3)),
            reason="选址存在土地纠纷, 暂停待协调 (land dispute under mediation)",
        )
        return
    if target == "approved":
        return
    started = day(-9 + rng.randrange(0, 9))
    record_document(
        session=session,
        project=project,
        kind="construction_contract",
        title="施工合同",
        actor=specialist,
        now=_at(started, 9),
    )
    apply_transition(
        session=session,
        project=project,
        to="in_construction",
        actor=specialist,
        now=_at(started),
        reason="开工",
    )
