"""Read models: project rows and the programme board (挂图作战) with counts, budget and laggards.

Everything is counted in SQL (stages, towns, budgets, milestones reached) and the project lists
stream, so the board of 500,000 projects costs a few grouped queries, not a Python loop over rows.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, and_, bindparam, case, cast, exists, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from models import (
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
from models.compiled import Compiled
from models.listing import Listing, Window
from models.scope import EVERYTHING, Scope
from models.types import table_of
from models.window import Streamed
from workflows.board_rows import Board as Board  # the board's rows, where their readers import them
from workflows.board_rows import ProgrammeRow as ProgrammeRow
from workflows.board_rows import ProjectRow as ProjectRow
from workflows.board_rows import make_board, programme_row, project_rows, tally_towns
from workflows.definition import WorkflowDefinition, get_definition
from workflows.read_cache import ReadCache


class _StageLabels:
    """Stage labels by (definition key, version, stage), each definition read once per list."""

    def __init__(self, session: Session, known: WorkflowDefinition | None = None) -> None:
        self._session = session
        self._labels: dict[tuple[str, int, str], str] = {}
        self._definitions: dict[tuple[str, int], WorkflowDefinition] = {}
        if known is not None:
            self._definitions[(known.key, known.version)] = known

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
class _Rows:
    """The project list's query on the tables themselves (Core: each row a plain tuple), every filter
    open, and the columns the filters name."""

    query: Any
    project: Any  # the project table's columns
    town_name: Any
    # Counts the same rows joining only what a filter may name: the holders' outer joins find at most
    # one row each (a partial unique index), so they cannot change how many rows there are.
    counted: Any


@cache
def _rows() -> _Rows:
    """Built once per process, on first use: building this query costs more than running it on 50
    projects, and a statement built once also keeps its compiled form in SQLAlchemy's cache."""
    project, place = table_of(Project), table_of(Place)
    village, town_place = place.alias("village"), place.alias("town")
    leader, specialist = holder_join(Role.LEADER, core=True), holder_join(Role.SPECIALIST, core=True)
    p = project.c
    query = sa_select(
        p.id,
        p.code,
        p.programme_id,
        p.stage,
        p.planned_start,
        p.planned_finish,
        p.actual_start,
        p.actual_finish,
        p.definition_key,
        p.definition_version,
        p.version,
        village.c.name,
        town_place.c.name,
        leader.person.id,
        leader.person.name,
        leader.person.phone,
        specialist.person.id,
        specialist.person.name,
        specialist.person.phone,
        _budget_lines(p.id),
    ).select_from(
        project.join(village, village.c.id == p.village_id).join(
            town_place, town_place.c.id == village.c.parent_id
        )
    )
    query = specialist.onto(leader.onto(query, p.id), p.id)
    counted = sa_select(func.count()).select_from(
        project.join(village, village.c.id == p.village_id).join(
            town_place, town_place.c.id == village.c.parent_id
        )
    )
    return _Rows(query.order_by(p.programme_id, p.code), p, town_place.c.name, counted)


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
    definition: WorkflowDefinition | None = None,
    cached: bool = False,
) -> Listing[ProjectRow]:
    """Projects with their place, people and budget, in code order.

    ``not_started_by`` keeps only projects that have not started construction and are not in one of
    the given (ended) stages; ``overdue_at`` only those with an open deadline due before then;
    ``scope`` only what a login may see; ``definition``, one read already (its stage labels).
    ``cached`` (a session that has written nothing): the total count is kept in this process while
    the data generation stays (``workflows.read_cache``), except with ``overdue_at``, which moves
    with the clock; the page itself is always read.
    """
    given = {
        "programme_id": programme_id,
        "stage": stage,
        "town": town,
        "project_id": project_id,
        "ended": not_started_by,
        "overdue_at": overdue_at,
    }
    parameters = {name: value for name, value in given.items() if value is not None}
    query, counted = _filtered_rows(frozenset(parameters), scope)
    labels = _StageLabels(session, definition)

    row = project_rows(labels.get)

    counter = None
    if cached and overdue_at is None:
        key = (
            "projects",
            scope,
            tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in parameters.items())),
        )

        def count() -> int:
            return PROJECT_COUNTS.answer(session, key, lambda: (_count(session, counted, parameters), None))

        counter = count
    return Listing.each(session, query, row, window, parameters, counted, counter)


def _count(session: Session, counted: Compiled, parameters: dict[str, Any]) -> int:
    found = counted.first(session, parameters)
    assert found is not None
    return int(found[0])


# Exact counts of project lists kept per process (scope, filters, data generation).
PROJECT_COUNTS: ReadCache[int] = ReadCache(1024)


# Project-list statements kept, one per combination of filters and scope asked for.
LISTS_KEPT = 64


@lru_cache(maxsize=LISTS_KEPT)
def _filtered_rows(filters: frozenset[str], scope: Scope) -> tuple[Compiled, Compiled]:
    """The project list with ``filters`` (bound parameters of those names) and ``scope``, and the
    statement that counts it, built and compiled once and kept: the next read of the same list only
    binds the values."""
    rows = _rows()
    p = rows.project
    where: list[Any] = []
    if "programme_id" in filters:
        where.append(p.programme_id == bindparam("programme_id"))
    if "stage" in filters:
        where.append(p.stage == bindparam("stage"))
    if "town" in filters:
        where.append(rows.town_name == bindparam("town"))
    if "project_id" in filters:
        where.append(p.id == bindparam("project_id"))
    if "ended" in filters:
        where += [p.actual_start.is_(None), p.stage.not_in(bindparam("ended", expanding=True))]
    if not scope.everything:
        where.append(scope.projects(p.id))
    if "overdue_at" in filters:
        where.append(overdue_projects(bindparam("overdue_at"), p.id))
    if not where:
        return Compiled(rows.query), Compiled(rows.counted)
    return Compiled(rows.query.where(*where)), Compiled(rows.counted.where(*where))


def _budget_lines(project_id: Any) -> Any:
    """A project's budget lines in one text column, ``position:code:fen`` joined by commas.

    A correlated aggregate, so a list of any length carries its budgets in the one query that
    streams it (group_concat on SQLite, string_agg on PostgreSQL).
    """
    source, funding = table_of(FundingSource).c, table_of(ProjectFunding)
    line = (
        _sortable(source.position)
        + literal(":")
        + source.code
        + literal(":")
        + cast(funding.c.amount_fen, String)
    )
    return (
        sa_select(func.aggregate_strings(line, ","))
        .select_from(funding.join(table_of(FundingSource), source.id == funding.c.source_id))
        .where(funding.c.project_id == project_id)
        .scalar_subquery()
    )


# Added to a funding source's position so that every position is written with the same number of
# digits: the lines of a budget then sort as text, without parsing each position (a list of 500,000
# projects parses a budget per row).
_POSITION_BASE = 1_000_000


def _sortable(position: Any) -> Any:
    return cast(position + _POSITION_BASE, String)


@lru_cache(maxsize=4)
def _programmes_statement(created_by: bool, scope: Scope) -> Compiled:
    """The programme list (one query, kept): each programme's columns the list shows, its project
    count in ``scope``, its budget lines and milestone dates; with ``created_by``, only those created
    by the bound ``created_by``. Compiled ahead too (``workflows.ahead``) for ``ducha programmes``."""
    programme, project = table_of(Programme).c, table_of(Project).c
    source, milestone = table_of(FundingSource).c, table_of(ProgrammeMilestone).c
    projects = (
        sa_select(func.count())
        .where(project.programme_id == programme.id, scope.projects(project.id))
        .scalar_subquery()
    )
    sources = (
        sa_select(
            func.aggregate_strings(
                _sortable(source.position)
                + literal(":")
                + source.code
                + literal(":")
                + cast(source.amount_fen, String),
                ",",
            )
        )
        .where(source.programme_id == programme.id)
        .scalar_subquery()
    )
    dates = (
        sa_select(
            func.aggregate_strings(milestone.key + literal(":") + cast(milestone.due_date, String), ",")
        )
        .where(milestone.programme_id == programme.id)
        .scalar_subquery()
    )
    query = sa_select(
        programme.id,
        programme.name,
        programme.definition_key,
        programme.earmark,
        programme.illustrative,
        projects,
        sources,
        dates,
    ).order_by(programme.id)
    if created_by:
        query = query.where(programme.created_at <= bindparam("created_by"))
    return Compiled(query)


def list_programmes(
    *,
    session: Session,
    created_by: datetime | None = None,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
) -> Listing[ProgrammeRow]:
    """Programmes with their budget per source, project count and milestone dates (one query);
    ``created_by`` leaves out those created after it; the count is of the projects ``scope`` sees."""
    query = _programmes_statement(created_by is not None, scope)
    parameters = {} if created_by is None else {"created_by": created_by}
    return Listing.each(session, query, programme_row, window, parameters)


@dataclass(frozen=True)
class ProgrammeChoice:
    id: int
    name: str


def programme_choices(*, session: Session) -> list[ProgrammeChoice]:
    """Every programme's id and name, in id order (a page's programme selector): no counts, which
    ``list_programmes`` works out over every project."""
    rows: Any = session.connection().execute(
        sa_select(col(Programme.id), col(Programme.name)).order_by(col(Programme.id))
    )
    return [ProgrammeChoice(programme_id, name) for programme_id, name in rows]


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
    ended = definition.ended_stages()
    statements = _board_statements()
    parameters = {"programme": programme.id}
    tally = tally_towns(statements.by_town(scope).all(session, parameters), stage_order, ended)
    declared = [
        (key, milestone.title, milestone.title_en, milestone.stage, due_date)
        for key, due_date in statements.milestones.all(session, parameters)
        if (milestone := definition.milestone(key)) is not None
    ]
    reached: dict[str, int] = {}
    if declared:
        stages = sorted({stage for _, _, _, stage, _ in declared})
        reached = dict(statements.reached(scope).all(session, {**parameters, "stages": stages}))
    projects: Streamed[ProjectRow] = list_projects(
        session=session, programme_id=programme.id, window=window, scope=scope, definition=definition
    )
    not_started: Streamed[ProjectRow]
    if window.everything and tally.total <= SHARED_ROWS:
        # Both lists whole, of a programme this size: its projects read once, and those not started
        # taken from them in the same order (what the second query would read), not read again.
        shared = _SharedRows(projects)
        ended_stages = frozenset(ended)
        projects = _RowsOf(shared)
        not_started = _RowsOf(shared, lambda row: row.actual_start is None and row.stage not in ended_stages)
    else:
        not_started = list_projects(
            session=session,
            programme_id=programme.id,
            not_started_by=ended,
            window=window,
            scope=scope,
            definition=definition,
        )
    return make_board(
        programme=programme,
        now=now,
        tally=tally,
        stage_order=stage_order,
        stage_label=definition.stage_label,
        budget_rows=statements.budget(scope).all(session, parameters),
        declared=declared,
        reached=reached,
        projects=projects,
        not_started=not_started,
    )


# A board's two lists read whole (--json, the jobs) from a programme of at most this many projects
# come from one read of its projects (a list of a few hundred rows in memory, never 500,000).
SHARED_ROWS = 1000


class _SharedRows:
    """The rows of one project list, read once, on first use, for the lists made of them."""

    def __init__(self, listing: Streamed[ProjectRow]) -> None:
        self._listing = listing
        self._rows: list[ProjectRow] | None = None

    def rows(self) -> list[ProjectRow]:
        if self._rows is None:
            self._rows = list(self._listing)
        return self._rows


class _RowsOf(Streamed[ProjectRow]):
    """The shared rows, or those of them ``keep`` keeps, in their order: a whole list (no window)."""

    def __init__(self, shared: _SharedRows, keep: Callable[[ProjectRow], bool] | None = None) -> None:
        self.window = Window()
        self._shared = shared
        self._keep = keep

    def _rows(self) -> list[ProjectRow]:
        rows, keep = self._shared.rows(), self._keep
        return rows if keep is None else [row for row in rows if keep(row)]

    def __iter__(self) -> Iterator[ProjectRow]:
        return iter(self._rows())

    def count(self) -> int:
        return len(self._rows())


@dataclass(frozen=True)
class _BoardStatements:
    """The board's grouped reads of one programme (``:programme``), on the tables themselves.

    Those that count projects are functions of the login's scope, each statement built once per
    scope (the CLI's and the jobs': one) and kept.
    """

    by_town: Callable[[Scope], Compiled]  # town, stage, projects, of them not started
    budget: Callable[[Scope], Compiled]  # code, name, programme fen, allocated fen; in the sources' order
    milestones: Compiled  # key, due date; by due date
    reached: Callable[[Scope], Compiled]  # stage, projects whose history entered it (:stages)


# Scopes whose board statements are kept (a login's scope is one per person or town).
SCOPES_KEPT = 64


@cache
def _board_statements() -> _BoardStatements:
    """Built once per process, on first use (see ``_rows``)."""
    project, place = table_of(Project), table_of(Place)
    source, funding = table_of(FundingSource), table_of(ProjectFunding)
    milestone, event = table_of(ProgrammeMilestone), table_of(WorkflowEvent)
    village, town_place = place.alias("village"), place.alias("town")
    p = project.c
    programme: Any = bindparam("programme")

    @lru_cache(maxsize=SCOPES_KEPT)
    def by_town(scope: Scope) -> Compiled:
        return Compiled(
            sa_select(
                town_place.c.name,
                p.stage,
                func.count(),
                func.coalesce(func.sum(case((p.actual_start.is_(None), 1), else_=0)), 0),
            )
            .select_from(
                project.join(village, village.c.id == p.village_id).join(
                    town_place, town_place.c.id == village.c.parent_id
                )
            )
            .where(p.programme_id == programme, scope.projects(p.id))
            .group_by(town_place.c.name, p.stage)
        )

    @lru_cache(maxsize=SCOPES_KEPT)
    def budget(scope: Scope) -> Compiled:
        s, f = source.c, funding.c
        return Compiled(
            sa_select(s.code, s.name, s.amount_fen, func.coalesce(func.sum(f.amount_fen), 0))
            .select_from(source.outerjoin(funding, and_(f.source_id == s.id, scope.projects(f.project_id))))
            .where(s.programme_id == programme)
            .group_by(s.id, s.code, s.name, s.amount_fen, s.position)
            .order_by(s.position, s.id)
        )

    m = milestone.c
    milestones = Compiled(
        sa_select(m.key, m.due_date).where(m.programme_id == programme).order_by(m.due_date)
    )

    @lru_cache(maxsize=SCOPES_KEPT)
    def reached(scope: Scope) -> Compiled:
        e = event.c
        return Compiled(
            sa_select(e.to_stage, func.count(func.distinct(e.project_id)))
            .select_from(
                event.join(
                    project, and_(p.id == e.project_id, p.programme_id == programme, scope.projects(p.id))
                )
            )
            .where(e.to_stage.in_(bindparam("stages", expanding=True)))
            .group_by(e.to_stage)
        )

    return _BoardStatements(by_town, budget, milestones, reached)


def overdue_projects(now: datetime | Any, project_id: Any = None) -> ColumnElement[bool]:
    """The condition "the project has an open deadline that was due before ``now``" (an EXISTS;
    ``now`` a time, or a bound parameter)."""
    from models import Deadline, DeadlineStatus  # the deadline tables only for the lists that ask

    return exists().where(
        col(Deadline.project_id) == (project_id if project_id is not None else col(Project.id)),
        col(Deadline.status) == DeadlineStatus.OPEN,
        col(Deadline.due_at) < now,
    )
