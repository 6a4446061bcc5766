"""The scheduled jobs, as plain functions: the embedded scheduler and the Prefect flows both call these."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from models.calendar import WorkingCalendar
from workflows.cadences import generate_cadence_deadlines
from workflows.deadlines import sync_deadlines
from workflows.sweep import SweepResult, sweep


@dataclass(frozen=True)
class DailyResult:
    """What the daily job did: deadlines kept in step with the data, cadence deadlines opened."""

    opened: int
    settled: int
    cadences_opened: int
    cadences_settled: int
    warnings: list[str] = field(default_factory=list)


def sweep_job(*, session: Session, now: datetime) -> SweepResult:
    """Raise every escalation level that has come, in one transaction."""
    result = sweep(session=session, now=now)
    session.commit()
    return result


def daily_job(*, session: Session, now: datetime, calendar: WorkingCalendar) -> DailyResult:
    """Keep every deadline in step with the data and open this period's cadence deadlines."""
    synced = sync_deadlines(session=session, now=now, calendar=calendar)
    cadences = generate_cadence_deadlines(session=session, now=now, calendar=calendar)
    session.commit()
    return DailyResult(synced.opened, synced.settled, cadences.opened, cadences.settled, cadences.warnings)
