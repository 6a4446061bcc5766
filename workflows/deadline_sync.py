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
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, literal, or_, text, update
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

    def projects(self) -> ColumnElement[bool]:
        if self.project_id is not None:
            return col(Project.id) == self.project_id
        if self.programme_id is not None:
            return col(Project.programme_id) == self.programme_id
        return literal(True)

    def deadlines(self) -> ColumnElement[bool]:
        if self.project_id is not None:
            return col(Deadline.project_id) == self.project_id
        if self.programme_id is not None:
            return col(Deadline.programme_id) == self.programme_id
        return col(Deadline.project_id).is_not(None)


def sync_deadlines(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    project_id: int | None = None,
    programme_id: int | None = None,
) -> SyncResult:
    """Open the deadlines the data implies and settle those whose event has happened (idempotent)."""
    scope = Scope(project_id, programme_id)
    levels = _Levels(calendar)
    if session.get_bind().dialect.name == "postgresql":
        # As the sweep does: these statements are short, JIT-compiling them costs more than it saves.
        session.execute(text("SET LOCAL jit = off"))
    opened = settled = 0
    for definition in _definitions_in_use(session, scope):
        escalation = definition.escalation
        if escalation is None:
            continue
        of_definition = and_(
            scope.projects(),
            col(Project.definition_key) == definition.key,
            col(Project.definition_version) == definition.version,
        )
        opened += _open_milestones(session, of_definition, definition, escalation, levels, now)
        settled += _settle_milestones(session, scope, definition)
        opened += _open_stage_limits(session, of_definition, definition, escalation, levels, now)
        opened += _open_orders(session, of_definition, escalation, levels, now)
    settled += _settle_stage_limits(session, scope)
    settled += _settle_orders(session, scope)
    session.flush()
    return SyncResult(opened, settled)


def _definitions_in_use(session: Session, scope: Scope) -> list[WorkflowDefinition]:
    pairs = session.exec(
        select(Project.definition_key, Project.definition_version).where(scope.projects()).distinct()
    ).all()
    return [get_definition(session=session, key=key, version=version) for key, version in sorted(pairs)]


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
    session: Session,
    of_definition: ColumnElement[bool],
    definition: WorkflowDefinition,
    escalation: Escalation,
    levels: _Levels,
    now: datetime,
) -> int:
    declared = {m.key: m for m in definition.milestones}
    if not declared:
        return 0
    reached_stage = case({key: m.stage for key, m in declared.items()}, value=col(ProgrammeMilestone.key))
    already = exists().where(
        col(Deadline.project_id) == col(Project.id),
        col(Deadline.kind) == DeadlineKind.MILESTONE,
        col(Deadline.milestone_key) == col(ProgrammeMilestone.key),
    )
    reached = exists().where(
        col(WorkflowEvent.project_id) == col(Project.id), col(WorkflowEvent.to_stage) == reached_stage
    )
    missing = session.execute(
        sa_select(
            col(Project.id),
            col(Project.code),
            col(Project.programme_id),
            col(ProgrammeMilestone.key),
            col(ProgrammeMilestone.due_date),
        )
        .join(ProgrammeMilestone, col(ProgrammeMilestone.programme_id) == col(Project.programme_id))
        .where(
            of_definition,
            col(ProgrammeMilestone.key).in_(list(declared)),
            col(Project.stage).not_in(definition.ended_stages()),
            ~already,
            ~reached,
        )
    ).all()
    rows, levels_of = [], []
    for project_id, code, programme_id, key, due_date in missing:
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
    return _write(session, rows, levels_of, now)


def _settle_milestones(session: Session, scope: Scope, definition: WorkflowDefinition) -> int:
    """A milestone is met (or missed) when its project first entered the milestone's stage."""
    settled = 0
    for milestone in definition.milestones:
        entered = (
            select(func.min(WorkflowEvent.occurred_at))
            .where(
                col(WorkflowEvent.project_id) == col(Deadline.project_id),
                col(WorkflowEvent.to_stage) == milestone.stage,
            )
            .scalar_subquery()
        )
        of_definition = select(Project.id).where(
            col(Project.definition_key) == definition.key,
            col(Project.definition_version) == definition.version,
        )
        settled += _settle(
            session,
            and_(
                scope.deadlines(),
                col(Deadline.kind) == DeadlineKind.MILESTONE,
                col(Deadline.milestone_key) == milestone.key,
                col(Deadline.project_id).in_(of_definition),
                exists().where(
                    col(WorkflowEvent.project_id) == col(Deadline.project_id),
                    col(WorkflowEvent.to_stage) == milestone.stage,
                ),
            ),
            entered,
        )
    return settled


def _settle(session: Session, where: ColumnElement[bool], at: Any) -> int:
    """Settle the open deadlines ``where`` at the instant ``at`` (an SQL expression): met or missed."""
    result = session.execute(
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
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- stage time limits ---------------------------------------------------------------------------


def _open_stage_limits(
    session: Session,
    of_definition: ColumnElement[bool],
    definition: WorkflowDefinition,
    escalation: Escalation,
    levels: _Levels,
    now: datetime,
) -> int:
    limited = {stage.key: stage for stage in definition.stages if stage.time_limit is not None}
    if not limited:
        return 0
    already = exists().where(
        col(Deadline.project_id) == col(Project.id),
        col(Deadline.kind) == DeadlineKind.STAGE_LIMIT,
        col(Deadline.stage) == col(Project.stage),
        col(Deadline.stage_entered_at) == col(Project.stage_entered_at),
    )
    missing = session.execute(
        sa_select(
            col(Project.id),
            col(Project.code),
            col(Project.programme_id),
            col(Project.stage),
            col(Project.stage_entered_at),
        ).where(of_definition, col(Project.stage).in_(list(limited)), ~already)
    ).all()
    rows, levels_of = [], []
    for project_id, code, programme_id, stage_key, entered in missing:
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
    return _write(session, rows, levels_of, now)


def _stage_due(
    calendar: WorkingCalendar, entered: datetime, working_days: int | None, calendar_days: int | None
) -> datetime:
    """When "within N days" of entering a stage ends: close of business on the last day."""
    if working_days is not None:
        return calendar.deadline_after_working_days(entered, working_days, CLOSE_OF_BUSINESS)
    day: date = entered.astimezone(LOCAL_TZ).date() + timedelta(days=calendar_days or 0)
    return datetime.combine(day, CLOSE_OF_BUSINESS, LOCAL_TZ)


def _settle_stage_limits(session: Session, scope: Scope) -> int:
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
    return _settle(
        session,
        and_(scope.deadlines(), col(Deadline.kind) == DeadlineKind.STAGE_LIMIT, moved_on),
        func.coalesce(left, last_move),
    )


# --- rectification orders ------------------------------------------------------------------------


def _open_orders(
    session: Session,
    of_definition: ColumnElement[bool],
    escalation: Escalation,
    levels: _Levels,
    now: datetime,
) -> int:
    # By subject (unique, indexed): deadline.order_id has no index, and SQLite would scan every
    # deadline once per open order.
    already = exists().where(col(Deadline.subject) == literal("order:") + cast(RectificationOrder.id, String))
    missing = session.execute(
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
        .where(of_definition, col(RectificationOrder.status) != OrderStatus.CLOSED, ~already)
    ).all()
    rows, levels_of = [], []
    for order_id, item_key, severity, due_at, project_id, code, programme_id in missing:
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
    return _write(session, rows, levels_of, now)


def _settle_orders(session: Session, scope: Scope) -> int:
    """An order's deadline is met (or missed) when the order was closed."""
    closed = (
        select(RectificationOrder.closed_at)
        .where(col(RectificationOrder.id) == col(Deadline.order_id))
        .scalar_subquery()
    )
    return _settle(
        session,
        and_(
            scope.deadlines(),
            col(Deadline.kind) == DeadlineKind.RECTIFICATION,
            exists().where(
                col(RectificationOrder.id) == col(Deadline.order_id),
                col(RectificationOrder.closed_at).is_not(None),
            ),
        ),
        closed,
    )
