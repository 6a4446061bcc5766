"""Cadence deadlines: monthly summary, quarterly inspection, yearly evaluation.

一月一总结、一季度一督查、一年一考评.

Each programme gets one deadline per period: the monthly summary is due at 17:30 on the 5th
working day of the month (for the month before); the quarterly inspection by 17:30 on the last
working day of the quarter; the yearly evaluation by 17:30 on the last working day of the year.
The quarterly inspection is met by the data itself, once every active project of the programme has
a signed inspection in the quarter; the others are recorded done by the office. Each deadline keeps
its cadence and period in columns. Set-based: one INSERT … SELECT per period and workflow, one
UPDATE per open quarter, whatever the number of programmes.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache, partial

from sqlalchemy import String, and_, bindparam, case, cast, exists, func, literal, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import Cadence, Deadline, DeadlineKind, DeadlineStatus, Inspection, Programme, Project
from models.calendar import CalendarNotCovered, WorkingCalendar
from models.compiled import Compiled, holds
from models.localtime import CLOSE_OF_BUSINESS, LOCAL_TZ, local_date
from models.types import UTCDateTime, table_of
from workflows.deadlines import (
    LevelTime,
    insert_ignoring_duplicates_on,
    level_rows,
    level_times,
    next_level,
    write_levels,
)
from workflows.definition import WorkflowDefinition, get_definition

MONTHLY_SUMMARY_WORKING_DAY = 5


@dataclass(frozen=True)
class CadenceResult:
    opened: int
    settled: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    """One cadence's period: what it covers, its subject and title parts, and when it is due."""

    cadence: Cadence
    label: str  # 2026-11, 2026Q4, 2026
    title: str
    start: date
    end: date
    due_at: datetime

    @property
    def suffix(self) -> str:
        return f"{self.cadence.value}:{self.label}"


def _at(day: date) -> datetime:
    return datetime.combine(day, CLOSE_OF_BUSINESS, LOCAL_TZ)


def _month_start(day: date, months_ahead: int = 0) -> date:
    month = day.month - 1 + months_ahead
    return date(day.year + month // 12, month % 12 + 1, 1)


def _last_working_day(calendar: WorkingCalendar, last: date) -> date:
    day = last
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def periods(today: date, calendar: WorkingCalendar) -> tuple[list[Period], list[str]]:
    """This period's cadences and next month's summary; plus warnings.

    A period whose dates fall past the covered calendar is left out with a warning, never guessed.
    """
    found: list[Period] = []
    warnings: list[str] = []

    def add(
        cadence: Cadence, label: str, title: str, start: date, end: date, due: Callable[[], date]
    ) -> None:
        try:
            found.append(Period(cadence, label, title, start, end, _at(due())))
        except CalendarNotCovered as exc:
            warnings.append(f"{cadence.value}:{label}: {exc}")

    for ahead in (0, 1):
        start, previous = _month_start(today, ahead), _month_start(today, ahead - 1)
        add(
            Cadence.MONTHLY_SUMMARY,
            f"{previous:%Y-%m}",
            f"一月一总结 monthly summary for {previous:%Y-%m}",
            previous,
            start - timedelta(days=1),
            partial(calendar.add_working_days, start - timedelta(days=1), MONTHLY_SUMMARY_WORKING_DAY),
        )
    quarter = (today.month - 1) // 3
    quarter_start = date(today.year, quarter * 3 + 1, 1)
    quarter_end = _month_start(quarter_start, 3) - timedelta(days=1)
    add(
        Cadence.QUARTERLY_INSPECTION,
        f"{today.year}Q{quarter + 1}",
        f"一季度一督查 quarterly inspection {today.year} Q{quarter + 1}",
        quarter_start,
        quarter_end,
        partial(_last_working_day, calendar, quarter_end),
    )
    add(
        Cadence.YEARLY_EVALUATION,
        f"{today.year}",
        f"一年一考评 yearly evaluation {today.year}",
        date(today.year, 1, 1),
        date(today.year, 12, 31),
        partial(_last_working_day, calendar, date(today.year, 12, 31)),
    )
    return found, warnings


def generate_cadence_deadlines(
    *, session: Session, now: datetime, calendar: WorkingCalendar
) -> CadenceResult:
    """Open this period's cadence deadlines for every programme and settle what the data settles."""
    found, warnings = periods(local_date(now), calendar)
    opened = 0
    # Statements compiled once and run on the driver's cursor, as in workflows/deadline_sync.py.
    keys = [key for (key,) in _keys_in_use().all(session)]
    definitions = [get_definition(session=session, key=key) for key in sorted(keys)]
    for definition in definitions:
        escalation = definition.escalation
        if escalation is None:
            continue
        for period in found:
            try:
                levels = level_times(
                    due_at=period.due_at, kind=DeadlineKind.CADENCE, escalation=escalation, calendar=calendar
                )
            except CalendarNotCovered as exc:  # its escalation days run past the covered years
                warnings.append(f"cadence:{period.suffix}: {exc}")
                continue
            opened += _open(session, definition, period, levels, now)
    settled = _settle_quarterly_inspections(session, definitions)
    return CadenceResult(opened, settled, warnings)


@lru_cache(maxsize=1)
def _keys_in_use() -> Compiled:
    """The programmes' workflows, for their escalation ladders."""
    return Compiled(select(Programme.definition_key).distinct())


def _open(
    session: Session,
    definition: WorkflowDefinition,
    period: Period,
    levels: list[LevelTime],
    now: datetime,
) -> int:
    """One INSERT … SELECT of the period's deadline for every programme of the workflow that lacks it."""
    upcoming = next_level(levels, revision=1, now=now)
    returned = _opening(session.get_bind().dialect.name).all(
        session,
        {
            "definition_key": definition.key,
            "subject_prefix": f"cadence:{period.suffix}:programme:",
            "title_suffix": f" {period.title}",
            "cadence": period.cadence.value,
            "period_start": period.start,
            "period_end": period.end,
            "due_at": period.due_at,
            "next_level": upcoming.level if upcoming else None,
            "next_level_at": upcoming.at if upcoming else None,
        },
    )
    write_levels(session, [row for (deadline_id,) in returned for row in level_rows(deadline_id, 1, levels)])
    return len(returned)


@lru_cache(maxsize=4)
def _opening(dialect: str) -> Compiled:
    """The INSERT … SELECT of one period's deadline (its values bound), built once per process: built
    anew for each of the four periods of every daily run, it cost more than running it on 50 projects."""
    from sqlalchemy import Date, Integer

    # On the tables (Core): an ORM INSERT would take the bound values for rows to insert.
    programme, deadline = table_of(Programme).c, table_of(Deadline)
    subject = bindparam("subject_prefix", type_=String()) + cast(programme.id, String)
    rows = sa_select(
        literal(DeadlineKind.CADENCE.value),
        subject,
        programme.name + bindparam("title_suffix", type_=String()),
        programme.id,
        bindparam("cadence", type_=String()),
        bindparam("period_start", type_=Date()),
        bindparam("period_end", type_=Date()),
        bindparam("due_at", type_=UTCDateTime()),
        literal(1),
        literal(DeadlineStatus.OPEN.value),
        bindparam("next_level", type_=Integer()),
        bindparam("next_level_at", type_=UTCDateTime()),
    ).where(
        programme.definition_key == bindparam("definition_key"),
        ~exists().where(deadline.c.subject == subject),
    )
    columns = [
        "kind",
        "subject",
        "title",
        "programme_id",
        "cadence",
        "period_start",
        "period_end",
        "due_at",
        "revision",
        "status",
        "next_level",
        "next_level_at",
    ]
    return Compiled(
        insert_ignoring_duplicates_on(dialect, deadline, ["subject"])
        .from_select(columns, rows)
        .returning(deadline.c.id)
    )


def _settle_quarterly_inspections(session: Session, definitions: list[WorkflowDefinition]) -> int:
    """A quarter's inspection is met once every active project has a signed inspection in it."""
    ended = tuple(sorted({stage for definition in definitions for stage in definition.ended_stages()}))
    settling = _settling_quarter(ended)
    through_orm = holds(session, Deadline)  # deadlines loaded: the ORM keeps them current
    settled = 0
    for start, end in _open_quarters().all(session):
        if start is None or end is None:
            continue
        since = datetime.combine(start, time(0), LOCAL_TZ)
        until = datetime.combine(end + timedelta(days=1), time(0), LOCAL_TZ)
        values = {"since": since, "until": until, "start": start}
        if not through_orm:
            settled += settling.run(session, values)
            continue
        result = session.execute(
            settling.statement, values, execution_options={"synchronize_session": "fetch"}
        )
        settled += int(result.rowcount)  # type: ignore[attr-defined]
    return settled


@lru_cache(maxsize=1)
def _open_quarters() -> Compiled:
    return Compiled(
        sa_select(col(Deadline.period_start), col(Deadline.period_end))
        .where(
            col(Deadline.cadence) == Cadence.QUARTERLY_INSPECTION,
            col(Deadline.status) == DeadlineStatus.OPEN,
        )
        .distinct()
    )


@lru_cache(maxsize=4)
def _settling_quarter(ended: tuple[str, ...]) -> Compiled:
    """The UPDATE that settles the quarter starting :start (:since, :until its instants) of every
    programme whose active projects (not in the ``ended`` stages) all have a signed inspection in it."""
    in_quarter = and_(
        col(Inspection.signed_at).is_not(None),
        col(Inspection.inspected_at) >= bindparam("since", type_=UTCDateTime()),
        col(Inspection.inspected_at) < bindparam("until", type_=UTCDateTime()),
    )
    active = and_(
        col(Project.programme_id) == col(Deadline.programme_id),
        col(Project.stage).not_in(list(ended)),
    )
    uninspected = exists().where(
        active, ~exists().where(col(Inspection.project_id) == col(Project.id), in_quarter)
    )
    last_signed = (
        select(func.max(Inspection.signed_at))
        .join(Project, col(Project.id) == col(Inspection.project_id))
        .where(active, in_quarter)
        .scalar_subquery()
    )
    return Compiled(
        update(Deadline)
        .where(
            col(Deadline.cadence) == Cadence.QUARTERLY_INSPECTION,
            col(Deadline.status) == DeadlineStatus.OPEN,
            col(Deadline.period_start) == bindparam("start"),
            exists().where(active),
            ~uninspected,
        )
        .values(
            status=case(
                (last_signed <= col(Deadline.due_at), DeadlineStatus.MET.value),
                else_=DeadlineStatus.MISSED.value,
            ),
            settled_at=last_signed,
            next_level=None,
            next_level_at=None,
        )
    )
