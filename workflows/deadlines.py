"""Deadlines kept in step with the data: milestones, stage time limits and rectification orders.

Every deadline carries its escalation levels, computed once per revision on the working-day
calendar, so the sweep (workflows.sweep) is plain SQL. A deadline is met or missed by the event
itself (the project entering the stage, the order closing), at the time that event happened.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from models import (
    Deadline,
    DeadlineKind,
    DeadlineLevel,
    DeadlineStatus,
    OrderStatus,
    ProgrammeMilestone,
    Project,
    RectificationOrder,
    WorkflowEvent,
)
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ
from workflows.definition import Escalation, WorkflowDefinition, get_definition

MORNING = time(9, 0)
# "Within N working days" of a stage ends at this local time on the last day.
STAGE_CUTOFF = time(17, 30)


@dataclass(frozen=True)
class LevelTime:
    level: int
    name: str
    at: datetime
    notify: str


def level_times(
    *, due_at: datetime, kind: DeadlineKind, escalation: Escalation, calendar: WorkingCalendar
) -> list[LevelTime]:
    """When each level of the ladder falls due for a deadline due at ``due_at``."""
    local_due = due_at.astimezone(LOCAL_TZ)
    out = []
    for index, level in enumerate(escalation.levels):
        offset = escalation.offset(DeadlineKind(kind).value, level)
        day = local_due.date() if offset == 0 else calendar.add_working_days(local_due.date(), offset)
        wall = MORNING if level.at == "morning" else local_due.timetz().replace(tzinfo=None)
        moment = datetime.combine(day, wall, LOCAL_TZ).astimezone(due_at.tzinfo)
        out.append(LevelTime(index, level.name, moment, ",".join(role.value for role in level.notify)))
    return sorted(out, key=lambda lt: (lt.at, lt.level))


def _write_levels(session: Session, deadline: Deadline, levels: list[LevelTime], now: datetime) -> None:
    assert deadline.id is not None
    for lt in levels:
        session.add(
            DeadlineLevel(
                deadline_id=deadline.id,
                revision=deadline.revision,
                level=lt.level,
                name=lt.name,
                at=lt.at,
                notify=lt.notify,
            )
        )
    upcoming = [lt for lt in levels if lt.at > now] if deadline.revision > 1 else levels
    deadline.next_level = upcoming[0].level if upcoming else None
    deadline.next_level_at = upcoming[0].at if upcoming else None
    session.add(deadline)
    session.flush()


def open_deadline(
    *,
    session: Session,
    kind: DeadlineKind,
    subject: str,
    title: str,
    due_at: datetime,
    escalation: Escalation,
    calendar: WorkingCalendar,
    now: datetime,
    programme_id: int | None = None,
    project_id: int | None = None,
    order_id: int | None = None,
) -> Deadline:
    """Open a deadline (once per subject) with its escalation levels."""
    existing = session.exec(select(Deadline).where(col(Deadline.subject) == subject)).first()
    if existing is not None:
        return existing
    # Levels first: a calendar error must leave no half-made deadline behind.
    levels = level_times(due_at=due_at, kind=kind, escalation=escalation, calendar=calendar)
    deadline = Deadline(
        kind=kind,
        subject=subject,
        title=title,
        due_at=due_at,
        status=DeadlineStatus.OPEN,
        programme_id=programme_id,
        project_id=project_id,
        order_id=order_id,
    )
    session.add(deadline)
    session.flush()
    _write_levels(session, deadline, levels, now)
    return deadline


def extend_deadline(
    *,
    session: Session,
    deadline: Deadline,
    due_at: datetime,
    escalation: Escalation,
    calendar: WorkingCalendar,
    now: datetime,
) -> Deadline:
    """An approved extension: a new revision with its own levels; the old revision's alerts stop."""
    if deadline.status != DeadlineStatus.OPEN:
        raise ValueError(
            f"deadline {deadline.id} is {deadline.status}: only an open deadline can be extended"
        )
    if due_at <= deadline.due_at:
        raise ValueError(f"deadline {deadline.id}: an extension must move the due time later")
    levels = level_times(
        due_at=due_at, kind=DeadlineKind(deadline.kind), escalation=escalation, calendar=calendar
    )
    deadline.revision += 1
    deadline.due_at = due_at
    _write_levels(session, deadline, levels, now)
    return deadline


def settle(
    *,
    session: Session,
    deadline: Deadline,
    at: datetime,
    waived: bool = False,
    by: int | None = None,
    note: str | None = None,
) -> None:
    """Met if the event came by the due time, missed if after (or waived); nothing more is raised.

    ``by`` and ``note`` record who settled it by hand, and why; an event that settles it leaves them empty.
    """
    if waived:
        deadline.status = DeadlineStatus.WAIVED
    else:
        deadline.status = DeadlineStatus.MET if at <= deadline.due_at else DeadlineStatus.MISSED
    deadline.settled_at = at
    deadline.settled_by_id = by
    deadline.settle_note = note
    deadline.next_level = None
    deadline.next_level_at = None
    session.add(deadline)


@dataclass(frozen=True)
class SyncResult:
    opened: int
    settled: int


def sync_deadlines(
    *, session: Session, now: datetime, calendar: WorkingCalendar, project_ids: list[int] | None = None
) -> SyncResult:
    """Open the deadlines the data implies and settle those whose event has happened (idempotent)."""
    opened = settled = 0
    query = select(Project)
    if project_ids is not None:
        query = query.where(col(Project.id).in_(project_ids))
    projects = list(session.exec(query).all())
    by_id: dict[int, Project] = {p.id: p for p in projects if p.id is not None}
    existing = {
        d.subject: d
        for d in session.exec(select(Deadline).where(col(Deadline.project_id).in_(list(by_id)))).all()
    }
    stage_limits: dict[int, list[Deadline]] = {}
    for deadline in existing.values():
        if deadline.kind == DeadlineKind.STAGE_LIMIT and deadline.project_id is not None:
            stage_limits.setdefault(deadline.project_id, []).append(deadline)
    milestones: dict[int, list[ProgrammeMilestone]] = {}
    for milestone in session.exec(select(ProgrammeMilestone)).all():
        milestones.setdefault(milestone.programme_id, []).append(milestone)
    entered = _first_entries(session, list(by_id))
    definitions: dict[tuple[str, int], WorkflowDefinition] = {}
    for project in projects:
        assert project.id is not None
        key = (project.definition_key, project.definition_version)
        definition = definitions.setdefault(key, get_definition(session=session, key=key[0], version=key[1]))
        escalation = definition.escalation
        if escalation is None:
            continue
        terminal = {s.key for s in definition.stages if s.terminal}
        for milestone in milestones.get(project.programme_id, []):
            declared = definition.milestone(milestone.key)
            if declared is None:
                continue
            subject = f"milestone:{milestone.key}:project:{project.id}"
            milestone_deadline = existing.get(subject)
            reached = entered.get((project.id, declared.stage))
            if milestone_deadline is None and (reached is None and project.stage not in terminal):
                milestone_deadline = open_deadline(
                    session=session,
                    kind=DeadlineKind.MILESTONE,
                    subject=subject,
                    title=f"{project.code} {declared.title} by {milestone.due_date}",
                    due_at=WorkingCalendar.end_of_day(milestone.due_date),
                    escalation=escalation,
                    calendar=calendar,
                    now=now,
                    programme_id=project.programme_id,
                    project_id=project.id,
                )
                opened += 1
            if (
                milestone_deadline is not None
                and milestone_deadline.status == DeadlineStatus.OPEN
                and reached is not None
            ):
                settle(session=session, deadline=milestone_deadline, at=reached)
                settled += 1
        stage = definition.stage(project.stage)
        if stage is not None and stage.time_limit is not None:
            subject = f"stage:{project.stage}:project:{project.id}:{project.stage_entered_at.isoformat()}"
            if subject not in existing:
                limit = stage.time_limit
                if limit.working_days is not None:
                    due = calendar.deadline_after_working_days(
                        project.stage_entered_at, limit.working_days, STAGE_CUTOFF
                    )
                else:
                    day = project.stage_entered_at.astimezone(LOCAL_TZ).date() + timedelta(
                        days=limit.calendar_days or 0
                    )
                    due = datetime.combine(day, STAGE_CUTOFF, LOCAL_TZ)
                open_deadline(
                    session=session,
                    kind=DeadlineKind.STAGE_LIMIT,
                    subject=subject,
                    title=f"{project.code} leaves {stage.label} {stage.label_en} within {limit.describe()}",
                    due_at=due,
                    escalation=escalation,
                    calendar=calendar,
                    now=now,
                    programme_id=project.programme_id,
                    project_id=project.id,
                )
                opened += 1
        for deadline in stage_limits.get(project.id, []):
            if deadline.status == DeadlineStatus.OPEN and not deadline.subject.endswith(
                project.stage_entered_at.isoformat()
            ):
                settle(session=session, deadline=deadline, at=project.stage_entered_at)
                settled += 1
    orders_opened, orders_settled = _sync_orders(session, list(by_id), now, calendar, definitions)
    session.flush()
    return SyncResult(opened + orders_opened, settled + orders_settled)


def _first_entries(session: Session, project_ids: list[int]) -> dict[tuple[int, str], datetime]:
    """When each project first entered each stage."""
    rows = session.exec(
        select(WorkflowEvent.project_id, WorkflowEvent.to_stage, func.min(WorkflowEvent.occurred_at))
        .where(col(WorkflowEvent.project_id).in_(project_ids))
        .group_by(col(WorkflowEvent.project_id), col(WorkflowEvent.to_stage))
    ).all()
    return {(pid, stage): at for pid, stage, at in rows}


def _sync_orders(
    session: Session,
    project_ids: list[int],
    now: datetime,
    calendar: WorkingCalendar,
    definitions: dict[tuple[str, int], WorkflowDefinition],
) -> tuple[int, int]:
    opened = settled = 0
    rows = session.exec(
        select(RectificationOrder, Deadline, Project)
        .join(Project, col(Project.id) == col(RectificationOrder.project_id))
        .outerjoin(Deadline, and_(col(Deadline.order_id) == col(RectificationOrder.id)))
        .where(col(RectificationOrder.project_id).in_(project_ids))
    ).all()
    for order, deadline, project in rows:
        definition = definitions.get((project.definition_key, project.definition_version)) or get_definition(
            session=session, key=project.definition_key, version=project.definition_version
        )
        if deadline is None and order.status != OrderStatus.CLOSED and definition.escalation is not None:
            open_deadline(
                session=session,
                kind=DeadlineKind.RECTIFICATION,
                subject=f"order:{order.id}",
                title=f"{project.code} rectify {order.item_key} ({order.severity})",
                due_at=order.due_at,
                escalation=definition.escalation,
                calendar=calendar,
                now=now,
                programme_id=project.programme_id,
                project_id=project.id,
                order_id=order.id,
            )
            opened += 1
        elif deadline is not None and deadline.status == DeadlineStatus.OPEN and order.closed_at is not None:
            settle(session=session, deadline=deadline, at=order.closed_at)
            settled += 1
    return opened, settled
