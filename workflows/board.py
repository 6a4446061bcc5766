"""Read models: project rows and the programme board (挂图作战) with counts, budget and laggards.

Everything is counted in SQL (stages, towns, budgets, milestones reached) and the project lists
stream, so the board of 500,000 projects costs a few grouped queries, not a Python loop over rows.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, exists, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Deadline,
    DeadlineStatus,
    FundingSource,
    Place,
    Programme,
    ProgrammeMilestone,
    Project,
    ProjectFunding,
    Role,
    WorkflowEvent,
    holder_join,
)
from models.listing import Listing, Window
from models.localtime import local_date
from models.scope import EVERYTHING, Scope
from workflows.definition import WorkflowDefinition, get_definition
from workflows.programmes import funding_sources, milestones


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


class _StageLabels:
    """Stage labels by (definition key, version, stage), each definition read once per list."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._labels: dict[tuple[str, int, str], str] = {}
        self._definitions: dict[tuple[str, int], WorkflowDefinition] = {}

    def get(self, key: str, version: int, stage: str) -> str:
        label = self._labels.get((key, version, stage))
        if label is None:
            definition = self._definitions.get((key, version))
            if definition is None:
                definition = get_definition(session=self._session, key=key, version=version)
                self._definitions[(key, version)] = definition
            label = self._labels[(key, version, stage)] = definition.stage_label(stage)
        return label


@dataclass(frozen=True)
class _ProjectRows:
    """The SELECT of project rows without filters, and the SELECT that counts them, built once: a
    statement made of fresh aliases each time costs SQLAlchemy more than a page of rows costs the
    database. Statements are immutable; a read adds its filters to copies."""

    town: Any
    rows: Any
    counted: Any


@lru_cache(maxsize=1)
def _project_rows() -> _ProjectRows:
    village, town_place = aliased(Place), aliased(Place)
    leader, specialist = holder_join(Role.LEADER), holder_join(Role.SPECIALIST)
    # Columns, not the Project entity: a list of 500,000 rows must not build 500,000 ORM objects.
    query = (
        sa_select(
            col(Project.id),
            col(Project.code),
            col(Project.programme_id),
            col(Project.stage),
            col(Project.planned_start),
            col(Project.planned_finish),
            col(Project.actual_start),
            col(Project.actual_finish),
            col(Project.definition_key),
            col(Project.definition_version),
            col(Project.version),
            col(village.name),
            col(town_place.name),
            col(leader.person.id),
            col(leader.person.name),
            col(leader.person.phone),
            col(specialist.person.id),
            col(specialist.person.name),
            col(specialist.person.phone),
            _budget_lines(),
        )
        .join(village, col(village.id) == col(Project.village_id))
        .join(town_place, col(town_place.id) == col(village.parent_id))
    )
    query = specialist.onto(leader.onto(query, col(Project.id)), col(Project.id))
    query = query.order_by(col(Project.programme_id), col(Project.code))
    # The holders' outer joins find at most one row each (a partial unique index), so they cannot
    # change how many rows there are: the count joins only what a filter may need.
    counted = (
        sa_select(func.count())
        .select_from(Project)
        .join(village, col(village.id) == col(Project.village_id))
        .join(town_place, col(town_place.id) == col(village.parent_id))
    )
    return _ProjectRows(town_place, query, counted)


def list_projects(
    *,
    session: Session,
    programme_id: int | None = None,
    stage: str | None = None,
    town: str | None = None,
    project_id: int | None = None,
    not_started_by: list[str] | None = None,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
    overdue_at: datetime | None = None,
) -> Listing[ProjectRow]:
    """Projects with their place, people and budget, in code order.

    ``not_started_by`` keeps only projects that have not started construction and are not in one of
    the given (ended) stages; ``overdue_at`` only those with an open deadline due before then;
    ``scope`` only what a login may see.
    """
    built = _project_rows()
    town_place = built.town
    query, counted = built.rows, built.counted
    filters: list[Any] = []
    if programme_id is not None:
        filters.append(col(Project.programme_id) == programme_id)
    if stage is not None:
        filters.append(col(Project.stage) == stage)
    if town is not None:
        filters.append(col(town_place.name) == town)
    if project_id is not None:
        filters.append(col(Project.id) == project_id)
    if not_started_by is not None:
        filters += [col(Project.actual_start).is_(None), col(Project.stage).not_in(not_started_by)]
    if not scope.everything:
        filters.append(scope.projects(col(Project.id)))
    if overdue_at is not None:
        filters.append(overdue_projects(overdue_at))
    if filters:
        query, counted = query.where(*filters), counted.where(*filters)
    labels = _StageLabels(session)

    def row(found: Any) -> ProjectRow:
        (
            project_id, code, programme, stage_key, planned_start, planned_finish, actual_start,
            actual_finish, definition_key, definition_version, version, village_name, town_name,
            lead_id, lead, lead_phone, spec_id, spec, spec_phone, lines,
        ) = found  # fmt: skip
        budget = _budget(lines)
        return ProjectRow(
            id=project_id,
            code=code,
            programme_id=programme,
            town=town_name,
            village=village_name,
            stage=stage_key,
            stage_label=labels.get(definition_key, definition_version, stage_key),
            leader_id=lead_id,
            leader_name=lead,
            leader_phone=lead_phone,
            specialist_id=spec_id,
            specialist_name=spec,
            specialist_phone=spec_phone,
            budget_fen=budget,
            budget_total_fen=sum(budget.values()),
            planned_start=planned_start,
            planned_finish=planned_finish,
            actual_start=actual_start,
            actual_finish=actual_finish,
            definition_key=definition_key,
            definition_version=definition_version,
            version=version,
        )

    return Listing.each(session, query, row, window, counted)


def _budget_lines() -> Any:
    """A project's budget lines in one text column, ``position:code:fen`` joined by commas.

    A correlated aggregate, so a list of any length carries its budgets in the one query that
    streams it (group_concat on SQLite, string_agg on PostgreSQL).
    """
    line = (
        cast(FundingSource.position, String)
        + literal(":")
        + col(FundingSource.code)
        + literal(":")
        + cast(ProjectFunding.amount_fen, String)
    )
    return (
        sa_select(func.aggregate_strings(line, ","))
        .select_from(ProjectFunding)
        .join(FundingSource, col(FundingSource.id) == col(ProjectFunding.source_id))
        .where(col(ProjectFunding.project_id) == col(Project.id))
        .scalar_subquery()
    )


def _budget(lines: str | None) -> dict[str, int]:
    """The budget by funding source code, in the sources' order, from ``_budget_lines``."""
    parts = sorted((line.split(":") for line in (lines or "").split(",") if line), key=lambda p: int(p[0]))
    return {code: int(fen) for _, code, fen in parts}


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


def list_programmes(
    *,
    session: Session,
    created_by: datetime | None = None,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
) -> Listing[ProgrammeRow]:
    """Programmes with their budget per source, project count and milestone dates (one query);
    ``created_by`` leaves out those created after it; the count is of the projects ``scope`` sees."""
    projects = (
        sa_select(func.count())
        .where(col(Project.programme_id) == col(Programme.id), scope.projects(col(Project.id)))
        .scalar_subquery()
    )
    sources = (
        sa_select(
            func.aggregate_strings(
                cast(FundingSource.position, String)
                + literal(":")
                + col(FundingSource.code)
                + literal(":")
                + cast(FundingSource.amount_fen, String),
                ",",
            )
        )
        .where(col(FundingSource.programme_id) == col(Programme.id))
        .scalar_subquery()
    )
    dates = (
        sa_select(
            func.aggregate_strings(
                col(ProgrammeMilestone.key) + literal(":") + cast(ProgrammeMilestone.due_date, String), ","
            )
        )
        .where(col(ProgrammeMilestone.programme_id) == col(Programme.id))
        .scalar_subquery()
    )
    query = sa_select(Programme, projects, sources, dates).order_by(col(Programme.id))
    if created_by is not None:
        query = query.where(col(Programme.created_at) <= created_by)

    def row(found: Any) -> ProgrammeRow:
        programme, count, budget_lines, milestone_lines = found
        budget = _budget(budget_lines)
        due = sorted(
            (date.fromisoformat(day), key)
            for key, day in (line.split(":") for line in (milestone_lines or "").split(",") if line)
        )
        return ProgrammeRow(
            id=programme.id,
            name=programme.name,
            definition_key=programme.definition_key,
            earmark=programme.earmark,
            illustrative=programme.illustrative,
            projects=int(count),
            budget_fen=budget,
            budget_total_fen=sum(budget.values()),
            milestones={key: day for day, key in due},
        )

    return Listing.each(session, query, row, window)


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
    """Everything the office needs on one page for one programme, as of one moment.

    ``projects`` and ``not_started`` stream: iterate each once, inside the session that read them.
    """

    programme: Programme
    as_of: datetime
    project_count: int
    projects: Listing[ProjectRow]
    stage_order: list[str]
    stage_labels: dict[str, str]
    by_stage: dict[str, int]
    by_town: dict[str, dict[str, int]]
    budget: list[BudgetLine]
    milestones: list[MilestoneLine]
    not_started: Listing[ProjectRow]
    not_started_count: int

    @property
    def budget_total_fen(self) -> int:
        return sum(line.programme_fen for line in self.budget)

    @property
    def allocated_total_fen(self) -> int:
        return sum(line.allocated_fen for line in self.budget)


def programme_board(
    *,
    session: Session,
    programme: Programme,
    now: datetime,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
) -> Board:
    """Build the board of one programme as of ``now``; ``window`` pages its two project lists;
    ``scope`` keeps what a login may not see out of the lists and the counts."""
    assert programme.id is not None
    definition = get_definition(session=session, key=programme.definition_key)
    stage_order = definition.stage_keys()
    of_programme = col(Project.programme_id) == programme.id
    if not scope.everything:
        of_programme = and_(of_programme, scope.projects(col(Project.id)))
    village, town_place = aliased(Place), aliased(Place)
    by_town: dict[str, dict[str, int]] = {}
    by_stage = dict.fromkeys(stage_order, 0)
    for town, stage, count in session.exec(
        select(town_place.name, Project.stage, func.count())
        .join(village, col(village.id) == col(Project.village_id))
        .join(town_place, col(town_place.id) == col(village.parent_id))
        .where(of_programme)
        .group_by(col(town_place.name), col(Project.stage))
    ).all():
        by_town.setdefault(town, dict.fromkeys(stage_order, 0))[stage] = count
        by_stage[stage] = by_stage.get(stage, 0) + count
    total = sum(by_stage.values())
    allocated = dict(
        session.exec(
            select(FundingSource.code, func.coalesce(func.sum(ProjectFunding.amount_fen), 0))
            .join(
                ProjectFunding,
                and_(
                    col(ProjectFunding.source_id) == col(FundingSource.id),
                    scope.projects(col(ProjectFunding.project_id)),
                ),
                isouter=True,
            )
            .where(col(FundingSource.programme_id) == programme.id)
            .group_by(col(FundingSource.code))
        ).all()
    )
    budget = [
        BudgetLine(source.code, source.name, source.amount_fen, int(allocated.get(source.code, 0)))
        for source in funding_sources(session=session, programme_id=programme.id)
    ]
    milestone_lines = []
    for milestone in milestones(session=session, programme_id=programme.id):
        declared = definition.milestone(milestone.key)
        if declared is None:
            continue
        reached = _projects_entered(session, of_programme, declared.stage)
        milestone_lines.append(
            MilestoneLine(
                key=milestone.key,
                title=declared.title,
                title_en=declared.title_en,
                stage=declared.stage,
                due_date=milestone.due_date,
                reached=reached,
                not_reached=total - reached,
            )
        )
    ended = definition.ended_stages()
    not_started_count = session.exec(
        select(func.count())
        .select_from(Project)
        .where(of_programme, col(Project.actual_start).is_(None), col(Project.stage).not_in(ended))
    ).one()
    return Board(
        programme=programme,
        as_of=now,
        project_count=total,
        projects=list_projects(session=session, programme_id=programme.id, window=window, scope=scope),
        stage_order=stage_order,
        stage_labels={stage: definition.stage_label(stage) for stage in stage_order},
        by_stage=by_stage,
        by_town=dict(sorted(by_town.items())),
        budget=budget,
        milestones=milestone_lines,
        not_started=list_projects(
            session=session, programme_id=programme.id, not_started_by=ended, window=window, scope=scope
        ),
        not_started_count=not_started_count,
    )


def _projects_entered(session: Session, of_programme: ColumnElement[bool], stage: str) -> int:
    """How many projects' history shows them entering ``stage`` at least once."""
    return session.exec(
        select(func.count(func.distinct(WorkflowEvent.project_id)))
        .join(Project, and_(col(Project.id) == col(WorkflowEvent.project_id), of_programme))
        .where(col(WorkflowEvent.to_stage) == stage)
    ).one()


def overdue_projects(now: datetime, project_id: Any = None) -> ColumnElement[bool]:
    """The condition "the project has an open deadline that was due before ``now``" (an EXISTS)."""
    return exists().where(
        col(Deadline.project_id) == (project_id if project_id is not None else col(Project.id)),
        col(Deadline.status) == DeadlineStatus.OPEN,
        col(Deadline.due_at) < now,
    )


def days_left(*, due: date, now: datetime) -> int:
    """Calendar days from today (local) to a due date; negative once it has passed."""
    return (due - local_date(now)).days
