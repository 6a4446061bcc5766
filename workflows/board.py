"""Read models: project rows and the programme board (挂图作战) with counts, budget and laggards."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    FundingSource,
    Person,
    Place,
    Programme,
    Project,
    ProjectFunding,
    Role,
    RoleAssignment,
    WorkflowEvent,
)
from models.localtime import local_date
from workflows.definition import WorkflowDefinition, get_definition
from workflows.service import funding_sources, milestones


@dataclass(frozen=True)
class ProjectRow:
    id: int
    code: str
    programme_id: int
    town: str
    village: str
    stage: str
    stage_label: str
    leader_id: int | None
    leader_name: str | None
    leader_phone: str | None
    specialist_id: int | None
    specialist_name: str | None
    specialist_phone: str | None
    budget_fen: dict[str, int]
    budget_total_fen: int
    planned_start: date
    planned_finish: date
    actual_start: date | None
    actual_finish: date | None
    definition_key: str
    definition_version: int
    version: int


class _Definitions:
    """Definitions by (key, version), parsed once per read."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cache: dict[tuple[str, int], WorkflowDefinition] = {}

    def get(self, key: str, version: int) -> WorkflowDefinition:
        if (key, version) not in self._cache:
            self._cache[(key, version)] = get_definition(session=self._session, key=key, version=version)
        return self._cache[(key, version)]


def list_projects(
    *,
    session: Session,
    programme_id: int | None = None,
    stage: str | None = None,
    town: str | None = None,
) -> list[ProjectRow]:
    """Projects with their place, people and budget, in code order."""
    village, town_place = aliased(Place), aliased(Place)
    leader_role, specialist_role = aliased(RoleAssignment), aliased(RoleAssignment)
    leader, specialist = aliased(Person), aliased(Person)
    # Five selected entities is past sqlmodel's typed overloads: use SQLAlchemy's select directly.
    query = (
        sa_select(Project, col(village.name), col(town_place.name), leader, specialist)
        .join(village, col(village.id) == col(Project.village_id))
        .join(town_place, col(town_place.id) == col(village.parent_id))
        .outerjoin(
            leader_role,
            and_(col(leader_role.project_id) == col(Project.id), col(leader_role.role) == Role.LEADER),
        )
        .outerjoin(leader, col(leader.id) == col(leader_role.person_id))
        .outerjoin(
            specialist_role,
            and_(
                col(specialist_role.project_id) == col(Project.id),
                col(specialist_role.role) == Role.SPECIALIST,
            ),
        )
        .outerjoin(specialist, col(specialist.id) == col(specialist_role.person_id))
        .order_by(col(Project.programme_id), col(Project.code))
    )
    if programme_id is not None:
        query = query.where(col(Project.programme_id) == programme_id)
    if stage is not None:
        query = query.where(col(Project.stage) == stage)
    if town is not None:
        query = query.where(col(town_place.name) == town)
    rows = session.execute(query).all()
    budgets = _budgets(session=session, project_ids=[row[0].id for row in rows if row[0].id is not None])
    definitions = _Definitions(session)
    out = []
    for project, village_name, town_name, lead, spec in rows:
        budget = budgets.get(project.id, {})
        definition = definitions.get(project.definition_key, project.definition_version)
        out.append(
            ProjectRow(
                id=project.id,
                code=project.code,
                programme_id=project.programme_id,
                town=town_name,
                village=village_name,
                stage=project.stage,
                stage_label=definition.stage_label(project.stage),
                leader_id=lead.id if lead else None,
                leader_name=lead.name if lead else None,
                leader_phone=lead.phone if lead else None,
                specialist_id=spec.id if spec else None,
                specialist_name=spec.name if spec else None,
                specialist_phone=spec.phone if spec else None,
                budget_fen=budget,
                budget_total_fen=sum(budget.values()),
                planned_start=project.planned_start,
                planned_finish=project.planned_finish,
                actual_start=project.actual_start,
                actual_finish=project.actual_finish,
                definition_key=project.definition_key,
                definition_version=project.definition_version,
                version=project.version,
            )
        )
    return out


def _budgets(*, session: Session, project_ids: list[int]) -> dict[int, dict[str, int]]:
    budgets: dict[int, dict[str, int]] = defaultdict(dict)
    if not project_ids:
        return budgets
    rows = session.exec(
        select(ProjectFunding.project_id, FundingSource.code, ProjectFunding.amount_fen)
        .join(FundingSource, col(FundingSource.id) == col(ProjectFunding.source_id))
        .where(col(ProjectFunding.project_id).in_(project_ids))
        .order_by(col(FundingSource.position))
    ).all()
    for project_id, code, amount in rows:
        budgets[project_id][code] = amount
    return budgets


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    name: str
    definition_key: str
    earmark: str
    illustrative: bool
    projects: int
    budget_fen: dict[str, int]
    budget_total_fen: int
    milestones: dict[str, date]


def list_programmes(*, session: Session) -> list[ProgrammeRow]:
    """Every programme with its budget per source, project count and milestone dates."""
    counts = dict(
        session.exec(select(Project.programme_id, func.count()).group_by(col(Project.programme_id))).all()
    )
    rows = []
    for programme in session.exec(select(Programme).order_by(col(Programme.id))).all():
        assert programme.id is not None
        budget = {s.code: s.amount_fen for s in funding_sources(session=session, programme_id=programme.id)}
        rows.append(
            ProgrammeRow(
                id=programme.id,
                name=programme.name,
                definition_key=programme.definition_key,
                earmark=programme.earmark,
                illustrative=programme.illustrative,
                projects=counts.get(programme.id, 0),
                budget_fen=budget,
                budget_total_fen=sum(budget.values()),
                milestones={
                    m.key: m.due_date for m in milestones(session=session, programme_id=programme.id)
                },
            )
        )
    return rows


@dataclass(frozen=True)
class BudgetLine:
    code: str
    name: str
    programme_fen: int
    allocated_fen: int

    @property
    def unallocated_fen(self) -> int:
        return self.programme_fen - self.allocated_fen


@dataclass(frozen=True)
class MilestoneLine:
    key: str
    title: str
    title_en: str
    stage: str
    due_date: date
    reached: int
    not_reached: int


@dataclass(frozen=True)
class Board:
    """Everything the office needs on one page for one programme, as of one moment."""

    programme: Programme
    as_of: datetime
    projects: list[ProjectRow]
    stage_order: list[str]
    stage_labels: dict[str, str]
    by_stage: dict[str, int]
    by_town: dict[str, dict[str, int]]
    budget: list[BudgetLine]
    milestones: list[MilestoneLine]
    not_started: list[ProjectRow] = field(default_factory=list)

    @property
    def budget_total_fen(self) -> int:
        return sum(line.programme_fen for line in self.budget)

    @property
    def allocated_total_fen(self) -> int:
        return sum(line.allocated_fen for line in self.budget)


def programme_board(*, session: Session, programme: Programme, now: datetime) -> Board:
    """Build the board of one programme as of ``now``."""
    assert programme.id is not None
    definition = get_definition(session=session, key=programme.definition_key)
    rows = list_projects(session=session, programme_id=programme.id)
    stage_order = definition.stage_keys()
    by_stage_counter = Counter(row.stage for row in rows)
    by_stage = {stage: by_stage_counter.get(stage, 0) for stage in stage_order}
    by_town: dict[str, dict[str, int]] = {}
    for row in rows:
        by_town.setdefault(row.town, dict.fromkeys(stage_order, 0))[row.stage] += 1
    allocated = dict(
        session.exec(
            select(FundingSource.code, func.coalesce(func.sum(ProjectFunding.amount_fen), 0))
            .join(ProjectFunding, col(ProjectFunding.source_id) == col(FundingSource.id), isouter=True)
            .where(col(FundingSource.programme_id) == programme.id)
            .group_by(col(FundingSource.code))
        ).all()
    )
    budget = [
        BudgetLine(source.code, source.name, source.amount_fen, int(allocated.get(source.code, 0)))
        for source in funding_sources(session=session, programme_id=programme.id)
    ]
    milestone_lines = []
    entered: dict[str, set[int]] = {}
    for milestone in milestones(session=session, programme_id=programme.id):
        declared = definition.milestone(milestone.key)
        if declared is None:
            continue
        reached = len(
            entered.setdefault(declared.stage, _projects_entered(session, programme.id, declared.stage))
        )
        milestone_lines.append(
            MilestoneLine(
                key=milestone.key,
                title=declared.title,
                title_en=declared.title_en,
                stage=declared.stage,
                due_date=milestone.due_date,
                reached=reached,
                not_reached=len(rows) - reached,
            )
        )
    terminal = {stage.key for stage in definition.stages if stage.terminal}
    not_started = [row for row in rows if row.actual_start is None and row.stage not in terminal]
    return Board(
        programme=programme,
        as_of=now,
        projects=rows,
        stage_order=stage_order,
        stage_labels={stage: definition.stage_label(stage) for stage in stage_order},
        by_stage=by_stage,
        by_town=dict(sorted(by_town.items())),
        budget=budget,
        milestones=milestone_lines,
        not_started=not_started,
    )


def _projects_entered(session: Session, programme_id: int, stage: str) -> set[int]:
    """Projects whose history shows them entering ``stage`` at least once."""
    return set(
        session.exec(
            select(WorkflowEvent.project_id)
            .join(Project, col(Project.id) == col(WorkflowEvent.project_id))
            .where(col(Project.programme_id) == programme_id, col(WorkflowEvent.to_stage) == stage)
            .distinct()
        ).all()
    )


def days_left(*, due: date, now: datetime) -> int:
    """Calendar days from today (local) to a due date; negative once it has passed."""
    return (due - local_date(now)).days
