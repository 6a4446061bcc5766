"""Cadence deadlines: monthly summary, quarterly inspection, yearly evaluation.

一月一总结、一季度一督查、一年一考评.

Each programme gets one deadline per period: the monthly summary is due at 17:30 on the 5th
working day of the month (for the month before); the quarterly inspection by 17:30 on the last
working day of the quarter; the yearly evaluation by 17:30 on the last working day of the year.
The quarterly inspection is met by the data itself, once every active project of the programme has
a signed inspection in the quarter; the others are marked done by the office.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import Deadline, DeadlineKind, DeadlineStatus, Inspection, Programme, Project
from models.calendar import CalendarNotCovered, WorkingCalendar
from models.localtime import LOCAL_TZ, local_date
from workflows.deadlines import open_deadline, settle
from workflows.definition import get_definition

CUTOFF = time(17, 30)
# Subjects of the quarterly inspections, which the data settles (_settle_quarterly_inspections).
QUARTERLY_INSPECTION_SUBJECT = "cadence:quarterly_inspection:"
MONTHLY_SUMMARY_WORKING_DAY = 5


@dataclass(frozen=True)
class CadenceResult:
    opened: int
    settled: int
    warnings: list[str] = field(default_factory=list)


def _at(day: date) -> datetime:
    return datetime.combine(day, CUTOFF, LOCAL_TZ)


def _month_start(day: date, months_ahead: int = 0) -> date:
    month = day.month - 1 + months_ahead
    return date(day.year + month // 12, month % 12 + 1, 1)


def _last_working_day(calendar: WorkingCalendar, last: date) -> date:
    day = last
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _periods(today: date, calendar: WorkingCalendar) -> tuple[list[tuple[str, str, datetime]], list[str]]:
    """(subject suffix, title, due) of this period's cadences and next month's summary; plus warnings.

    A period whose dates fall past the covered calendar is left out with a warning, never guessed.
    """
    periods: list[tuple[str, str, datetime]] = []
    warnings: list[str] = []

    def add(suffix: str, title: str, due: Callable[[], date]) -> None:
        try:
            periods.append((suffix, title, _at(due())))
        except CalendarNotCovered as exc:
            warnings.append(f"{suffix}: {exc}")

    for ahead in (0, 1):
        start, previous = _month_start(today, ahead), _month_start(today, ahead - 1)
        add(
            f"monthly_summary:{previous:%Y-%m}",
            f"一月一总结 monthly summary for {previous:%Y-%m}",
            partial(calendar.add_working_days, start - timedelta(days=1), MONTHLY_SUMMARY_WORKING_DAY),
        )
    quarter = (today.month - 1) // 3
    quarter_end = _month_start(date(today.year, quarter * 3 + 1, 1), 3) - timedelta(days=1)
    add(
        f"quarterly_inspection:{today.year}Q{quarter + 1}",
        f"一季度一督查 quarterly inspection {today.year} Q{quarter + 1}",
        partial(_last_working_day, calendar, quarter_end),
    )
    add(
        f"yearly_evaluation:{today.year}",
        f"一年一考评 yearly evaluation {today.year}",
        partial(_last_working_day, calendar, date(today.year, 12, 31)),
    )
    return periods, warnings


def generate_cadence_deadlines(
    *, session: Session, now: datetime, calendar: WorkingCalendar
) -> CadenceResult:
    """Open this period's cadence deadlines for every programme and settle what the data settles."""
    today = local_date(now)
    opened = settled = 0
    periods, warnings = _periods(today, calendar)
    for programme in session.exec(select(Programme)).all():
        assert programme.id is not None
        escalation = get_definition(session=session, key=programme.definition_key).escalation
        if escalation is None:
            continue
        for suffix, title, due in periods:
            subject = f"cadence:{suffix}:programme:{programme.id}"
            if session.exec(select(Deadline.id).where(col(Deadline.subject) == subject)).first() is not None:
                continue
            try:
                open_deadline(
                    session=session,
                    kind=DeadlineKind.CADENCE,
                    subject=subject,
                    title=f"{programme.name} {title}",
                    due_at=due,
                    escalation=escalation,
                    calendar=calendar,
                    now=now,
                    programme_id=programme.id,
                )
            except CalendarNotCovered as exc:  # its escalation days run past the covered years
                warnings.append(f"{subject}: {exc}")
                continue
            opened += 1
        settled += _settle_quarterly_inspections(session, programme.id)
    session.flush()
    return CadenceResult(opened, settled, warnings)


def _settle_quarterly_inspections(session: Session, programme_id: int) -> int:
    """A quarter's inspection is met once every active project has a signed inspection in it."""
    settled = 0
    open_quarters = session.exec(
        select(Deadline).where(
            col(Deadline.programme_id) == programme_id,
            col(Deadline.kind) == DeadlineKind.CADENCE,
            col(Deadline.status) == DeadlineStatus.OPEN,
            col(Deadline.subject).startswith(QUARTERLY_INSPECTION_SUBJECT),
        )
    ).all()
    for deadline in open_quarters:
        period = deadline.subject.split(":")[2]  # 2026Q4
        year, quarter = int(period[:4]), int(period[-1])
        start = datetime.combine(date(year, quarter * 3 - 2, 1), time(0), LOCAL_TZ)
        end = datetime.combine(_month_start(start.date(), 3), time(0), LOCAL_TZ)
        active = session.exec(
            select(func.count())
            .select_from(Project)
            .where(
                col(Project.programme_id) == programme_id, col(Project.stage).not_in(["closed", "rejected"])
            )
        ).one()
        inspected = session.exec(
            select(func.count(func.distinct(Inspection.project_id)), func.max(Inspection.signed_at))
            .join(Project, col(Project.id) == col(Inspection.project_id))
            .where(
                col(Project.programme_id) == programme_id,
                col(Project.stage).not_in(["closed", "rejected"]),
                col(Inspection.signed_at).is_not(None),
                col(Inspection.inspected_at) >= start,
                col(Inspection.inspected_at) < end,
            )
        ).one()
        count, last = inspected
        if active and count == active and last is not None:
            settle(session=session, deadline=deadline, at=last)
            settled += 1
    return settled
