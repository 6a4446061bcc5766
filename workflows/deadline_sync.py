"""Keep project deadlines in step with the data: milestones, stage time limits, rectification orders.

Set-based, so it runs the same at 50 projects and at 500,000: each kind is one query for what is
missing (an anti-join) and one UPDATE for what its event has settled, per workflow definition in
use; nothing binds one parameter per project. Only the deadlines that are new are computed in
Python (their levels on the working-day calendar, cached per due time) and written with one
executemany. Inserts skip a subject another writer has just taken, so two runs at once make each
deadline once; settling UPDATEs re-check ``status = 'open'``, so a deadline is settled once.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    OrderStatus,
    ProgrammeMilestone,
    Project,
    RectificationOrder,
    WorkflowEvent,
)
from models.bulk import insert_new
from models.calendar import WorkingCalendar
from models.compiled import Compiled, holds
from models.localtime import CLOSE_OF_BUSINESS, LOCAL_TZ
from models.types import table_of
from workflows.deadlines import (
    LevelTime,
    level_rows,
    level_times,
    next_level,
    write_levels,
)
from workflows.definition import Escalation, WorkflowDefinition, get_definition


@dataclass(frozen=True)
class SyncResult:
    opened: int
    settled: int


@dataclass(frozen=True)
class Scope:
    """Which projects a sync looks at: one, one programme's, or all of them."""

    project_id: int | None = None
    programme_id: int | None = None

    @property
    def kind(self) -> str:
        return (
            "project"
            if self.project_id is not None
            else "programme"
            if self.programme_id is not None
            else "all"
        )

    @property
    def parameters(self) -> dict[str, Any]:
        """The value of ``:scope`` in the statements of this scope's kind."""
        chosen = self.project_id if self.project_id is not None else self.programme_id
        return {} if chosen is None else {"scope": chosen}


# Every statement below is built and compiled once per process (per scope kind and definition) and
# run on the driver's cursor (models/compiled.py): through the session, building each, working out
# its cache key and executing it cost several times more than the database's work on 50 projects.
# What changes from run to run is bound (:scope).
KEPT = 64
JIT_OFF = Compiled(text("SET LOCAL jit = off"))


@dataclass(frozen=True)
class _Run:
    """One sync's session and scope, and whether its settling UPDATEs go through the ORM."""

    session: Session
    scope: Scope
    # Deadlines loaded in the session (an action's): the UPDATEs go through it, to keep them current.
    orm: bool

    def rows(self, statement: Compiled) -> list[Any]:
        return statement.all(self.session, self.scope.parameters)

    def settle(self, statement: Compiled) -> int:
        if not self.orm:
            return statement.run(self.session, self.scope.parameters)
        result = self.session.execute(
            statement.statement, self.scope.parameters, execution_options={"synchronize_session": "fetch"}
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _projects_in(kind: str) -> ColumnElement[bool]:
    if kind == "project":
        return col(Project.id) == bindparam("scope")
    if kind == "programme":
        return col(Project.programme_id) == bindparam("scope")
    return literal(True)


def _deadlines_in(kind: str) -> ColumnElement[bool]:
    if kind == "project":
        return col(Deadline.project_id) == bindparam("scope")
    if kind == "programme":
        return col(Deadline.programme_id) == bindparam("scope")
    return col(Deadline.project_id).is_not(None)


def _of_definition(kind: str, key: str, version: int) -> ColumnElement[bool]:
    return and_(
        _projects_in(kind),
        col(Project.definition_key) == key,
        col(Project.definition_version) == version,
    )


def sync_deadlines(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    project_id: int | None = None,
    programme_id: int | None = None,
) -> SyncResult:
    """Open the deadlines the data implies and settle those whose event has happened (idempotent)."""
    run = _Run(session, Scope(project_id, programme_id), holds(session, Deadline))
    levels = _Levels(calendar)
    if session.get_bind().dialect.name == "postgresql":
        # As the sweep does: these statements are short, JIT-compiling them costs more than it saves.
        JIT_OFF.run(session)
    opened = settled = 0
    for definition in _definitions_in_use(run):
        escalation = definition.escalation
        if escalation is None:
            continue
        opened += _open_milestones(run, definition, escalation, levels, now)
        settled += _settle_milestones(run, definition)
        opened += _open_stage_limits(run, definition, escalation, levels, now)
        opened += _open_orders(run, definition, escalation, levels, now)
    settled += run.settle(_settle_stage_limits(run.scope.kind))
    settled += run.settle(_settle_orders(run.scope.kind))
    return SyncResult(opened, settled)


@lru_cache(maxsize=KEPT)
def _in_use(kind: str) -> Compiled:
    return Compiled(
        sa_select(col(Project.definition_key), col(Project.definition_version))
        .where(_projects_in(kind))
        .distinct()
    )


def _definitions_in_use(run: _Run) -> list[WorkflowDefinition]:
    pairs = run.rows(_in_use(run.scope.kind))
    return [get_definition(session=run.session, key=key, version=version) for key, version in sorted(pairs)]


class _Levels:
    """Level times per (due time, kind, ladder), computed once per sync: most deadlines share a due time."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._known: dict[tuple[datetime, DeadlineKind, int], tuple[LevelTime, ...]] = {}

    def of(self, due_at: datetime, kind: DeadlineKind, escalation: Escalation) -> tuple[LevelTime, ...]:
        key = (due_at, kind, id(escalation))
        if key not in self._known:
            self._known[key] = tuple(
                level_times(due_at=due_at, kind=kind, escalation=escalation, calendar=self.calendar)
            )
        return self._known[key]


def _write(
    session: Session,
    rows: list[dict[str, Any]],
    levels_of: list[tuple[LevelTime, ...]],
    now: datetime,
) -> int:
    """Insert new deadlines (skipping subjects taken meanwhile) and the levels of those inserted."""
    if not rows:
        return 0
    for row, levels in zip(rows, levels_of, strict=True):
        upcoming = next_level(levels, revision=1, now=now)
        row.update(
            status=DeadlineStatus.OPEN.value,
            revision=1,
            next_level=upcoming.level if upcoming else None,
            next_level_at=upcoming.at if upcoming else None,
        )
    made = insert_new(session, table_of(Deadline), rows, key=["subject"], skip_taken=["subject"])
    inserted = {subject: deadline_id for (subject,), deadline_id in made.items()}
    by_subject = {row["subject"]: levels for row, levels in zip(rows, levels_of, strict=True)}
    write_levels(
        session,
        [
            level
            for subject, deadline_id in inserted.items()
            for level in level_rows(deadline_id, 1, by_subject[subject])
        ],
    )
    return len(inserted)


# --- milestones ----------------------------------------------------------------------------------


def _open_milestones(
    run: _Run,
    definition: WorkflowDefinition,
    escalation: Escalation,
    levels: _Levels,
    now: datetime,
) -> int:
    declared = {m.key: m for m in definition.milestones}
    if not declared:
        return 0
    statement = _missing_milestones(
        run.scope.kind,
        definition.key,
        definition.version,
        tuple((key, m.stage) for key, m in declared.items()),
        tuple(definition.ended_stages()),
    )
    rows, levels_of = [], []
    for project_id, code, programme_id, key, due_date in run.rows(statement):
        due_at = WorkingCalendar.end_of_day(due_date)
        milestone = declared[key]
        rows.append(
            {
                "kind": DeadlineKind.MILESTONE.value,
                "subject": f"milestone:{key}:project:{project_id}",
                "title": f"{code} {milestone.title} by {due_date}",
                "due_at": due_at,
                "programme_id": programme_id,
                "project_id": project_id,
                "milestone_key": key,
            }
        )
        levels_of.append(levels.of(due_at, DeadlineKind.MILESTONE, escalation))
    return _write(run.session, rows, levels_of, now)


@lru_cache(maxsize=KEPT)
def _missing_milestones(
    kind: str, key: str, version: int, declared: tuple[tuple[str, str], ...], ended: tuple[str, ...]
) -> Compiled:
    """The declared milestones (key, stage) a project of the definition has no deadline for, has
    not reached and can still reach."""
    reached_stage = case(dict(declared), value=col(ProgrammeMilestone.key))
    already = exists().where(
        col(Deadline.project_id) == col(Project.id),
        col(Deadline.kind) == DeadlineKind.MILESTONE,
        col(Deadline.milestone_key) == col(ProgrammeMilestone.key),
    )
    reached = exists().where(
        col(WorkflowEvent.project_id) == col(Project.id), col(WorkflowEvent.to_stage) == reached_stage
    )
    return Compiled(
        sa_select(
            col(Project.id),
            col(Project.code),
            col(Project.programme_id),
            col(ProgrammeMilestone.key),
            col(ProgrammeMilestone.due_date),
        )
        .join(ProgrammeMilestone, col(ProgrammeMilestone.programme_id) == col(Project.programme_id))
        .where(
            _of_definition(kind, key, version),
            col(ProgrammeMilestone.key).in_([key for key, _ in declared]),
            col(Project.stage).not_in(list(ended)),
            ~already,
            ~reached,
        )
    )


def _settle_milestones(run: _Run, definition: WorkflowDefinition) -> int:
    """A milestone is met (or missed) when its project first entered the milestone's stage."""
    settled = 0
    for milestone in definition.milestones:
        statement = _settle_milestone(
            run.scope.kind, definition.key, definition.version, milestone.key, milestone.stage
        )
        settled += run.settle(statement)
    return settled


@lru_cache(maxsize=KEPT)
def _settle_milestone(kind: str, key: str, version: int, milestone: str, stage: str) -> Compiled:
    entered = (
        select(func.min(WorkflowEvent.occurred_at))
        .where(
            col(WorkflowEvent.project_id) == col(Deadline.project_id),
            col(WorkflowEvent.to_stage) == stage,
        )
        .scalar_subquery()
    )
    of_definition = select(Project.id).where(
        col(Project.definition_key) == key,
        col(Project.definition_version) == version,
    )
    return _settling(
        and_(
            _deadlines_in(kind),
            col(Deadline.kind) == DeadlineKind.MILESTONE,
            col(Deadline.milestone_key) == milestone,
            col(Deadline.project_id).in_(of_definition),
            exists().where(
                col(WorkflowEvent.project_id) == col(Deadline.project_id),
                col(WorkflowEvent.to_stage) == stage,
            ),
        ),
        entered,
    )


def _settling(where: ColumnElement[bool], at: Any) -> Compiled:
    """The UPDATE that settles the open deadlines ``where`` at the instant ``at`` (an SQL
    expression): met or missed."""
    return Compiled(
        update(Deadline)
        .where(col(Deadline.status) == DeadlineStatus.OPEN, where)
        .values(
            status=case(
                (at <= col(Deadline.due_at), DeadlineStatus.MET.value), else_=DeadlineStatus.MISSED.value
            ),
            settled_at=at,
            next_level=None,
            next_level_at=None,
        )
    )


# --- stage time limits ---------------------------------------------------------------------------


def _open_stage_limits(
    run: _Run,
    definition: WorkflowDefinition,
    escalation: Escalation,
    levels: _Levels,
    now: datetime,
) -> int:
    limited = {stage.key: stage for stage in definition.stages if stage.time_limit is not None}
    if not limited:
        return 0
    statement = _missing_stage_limits(run.scope.kind, definition.key, definition.version, tuple(limited))
    rows, levels_of = [], []
    for project_id, code, programme_id, stage_key, entered in run.rows(statement):
        stage = limited[stage_key]
        limit = stage.time_limit
        assert limit is not None
        due = _stage_due(levels.calendar, entered, limit.working_days, limit.calendar_days)
        rows.append(
            {
                "kind": DeadlineKind.STAGE_LIMIT.value,
                "subject": f"stage:{stage_key}:project:{project_id}:{entered.isoformat()}",
                "title": f"{code} leaves {stage.label} {stage.label_en} within {limit.describe()}",
                "due_at": due,
                "programme_id": programme_id,
                "project_id": project_id,
                "stage": stage_key,
                "stage_entered_at": entered,
            }
        )
        levels_of.append(levels.of(due, DeadlineKind.STAGE_LIMIT, escalation))
    return _write(run.session, rows, levels_of, now)


@lru_cache(maxsize=KEPT)
def _missing_stage_limits(kind: str, key: str, version: int, limited: tuple[str, ...]) -> Compiled:
    """The projects of the definition in a limited stage with no deadline for their stay in it."""
    already = exists().where(
        col(Deadline.project_id) == col(Project.id),
        col(Deadline.kind) == DeadlineKind.STAGE_LIMIT,
        col(Deadline.stage) == col(Project.stage),
        col(Deadline.stage_entered_at) == col(Project.stage_entered_at),
    )
    return Compiled(
        sa_select(
            col(Project.id),
            col(Project.code),
            col(Project.programme_id),
            col(Project.stage),
            col(Project.stage_entered_at),
        ).where(_of_definition(kind, key, version), col(Project.stage).in_(list(limited)), ~already)
    )


def _stage_due(
    calendar: WorkingCalendar, entered: datetime, working_days: int | None, calendar_days: int | None
) -> datetime:
    """When "within N days" of entering a stage ends: close of business on the last day."""
    if working_days is not None:
        return calendar.deadline_after_working_days(entered, working_days, CLOSE_OF_BUSINESS)
    day: date = entered.astimezone(LOCAL_TZ).date() + timedelta(days=calendar_days or 0)
    return datetime.combine(day, CLOSE_OF_BUSINESS, LOCAL_TZ)


@lru_cache(maxsize=KEPT)
def _settle_stage_limits(kind: str) -> Compiled:
    """A stage limit is met (or missed) when its project left the stage: the first event out of it."""
    project = aliased(Project)
    moved_on = exists().where(
        col(project.id) == col(Deadline.project_id),
        or_(
            col(project.stage) != col(Deadline.stage),
            col(project.stage_entered_at) != col(Deadline.stage_entered_at),
        ),
    )
    left = (
        select(func.min(WorkflowEvent.occurred_at))
        .where(
            col(WorkflowEvent.project_id) == col(Deadline.project_id),
            col(WorkflowEvent.from_stage) == col(Deadline.stage),
            col(WorkflowEvent.occurred_at) >= col(Deadline.stage_entered_at),
        )
        .scalar_subquery()
    )
    # No event out of the stage would mean history was lost; the project's last move stands in.
    last_move = (
        select(project.stage_entered_at).where(col(project.id) == col(Deadline.project_id)).scalar_subquery()
    )
    return _settling(
        and_(_deadlines_in(kind), col(Deadline.kind) == DeadlineKind.STAGE_LIMIT, moved_on),
        func.coalesce(left, last_move),
    )


# --- rectification orders ------------------------------------------------------------------------


def _open_orders(
    run: _Run,
    definition: WorkflowDefinition,
    escalation: Escalation,
    levels: _Levels,
    now: datetime,
) -> int:
    statement = _missing_orders(run.scope.kind, definition.key, definition.version)
    rows, levels_of = [], []
    for order_id, item_key, severity, due_at, project_id, code, programme_id in run.rows(statement):
        rows.append(
            {
                "kind": DeadlineKind.RECTIFICATION.value,
                "subject": f"order:{order_id}",
                "title": f"{code} rectify {item_key} ({severity})",
                "due_at": due_at,
                "programme_id": programme_id,
                "project_id": project_id,
                "order_id": order_id,
            }
        )
        levels_of.append(levels.of(due_at, DeadlineKind.RECTIFICATION, escalation))
    return _write(run.session, rows, levels_of, now)


@lru_cache(maxsize=KEPT)
def _missing_orders(kind: str, key: str, version: int) -> Compiled:
    """The open orders on projects of the definition that have no deadline."""
    # By subject (unique, indexed): deadline.order_id has no index, and SQLite would scan every
    # deadline once per open order.
    already = exists().where(col(Deadline.subject) == literal("order:") + cast(RectificationOrder.id, String))
    return Compiled(
        sa_select(
            col(RectificationOrder.id),
            col(RectificationOrder.item_key),
            col(RectificationOrder.severity),
            col(RectificationOrder.due_at),
            col(Project.id),
            col(Project.code),
            col(Project.programme_id),
        )
        .join(Project, col(Project.id) == col(RectificationOrder.project_id))
        .where(
            _of_definition(kind, key, version),
            col(RectificationOrder.status) != OrderStatus.CLOSED,
            ~already,
        )
    )


@lru_cache(maxsize=KEPT)
def _settle_orders(kind: str) -> Compiled:
    """An order's deadline is met (or missed) when the order was closed."""
    closed = (
        select(RectificationOrder.closed_at)
        .where(col(RectificationOrder.id) == col(Deadline.order_id))
        .scalar_subquery()
    )
    return _settling(
        and_(
            _deadlines_in(kind),
            col(Deadline.kind) == DeadlineKind.RECTIFICATION,
            exists().where(
                col(RectificationOrder.id) == col(Deadline.order_id),
                col(RectificationOrder.closed_at).is_not(None),
            ),
        ),
        closed,
    )
