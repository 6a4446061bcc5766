"""The embedded scheduler (APScheduler 3): the sweep every few minutes and the daily job at 06:30.

Jobs live in a persistent SQLAlchemy job store in ducha's own database, with coalescing and a
misfire grace time: a restart neither loses a run (a missed one runs once on start, within the
grace time) nor repeats one (missed runs collapse into one). The same job functions run under
Prefect in the distributed mode (workflows.flows).
"""

import logging
from dataclasses import asdict

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ducha.clock import LOCAL_TZ, clock_from
from ducha.config import get_settings
from ducha.db import make_engine, require_current_schema, session_scope
from models.calendar import WorkingCalendar
from workflows.jobs import daily_job, sweep_job

log = logging.getLogger("ducha.scheduler")
JOB_TABLE = "apscheduler_jobs"
SWEEP_JOB, DAILY_JOB = "ducha-deadline-sweep", "ducha-daily-deadlines"


def run_sweep() -> None:
    """One sweep on the configured database (a module-level function, so the job store can keep it)."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        require_current_schema(engine)
        now = clock_from(settings.now).now()
        with session_scope(engine) as session:
            result = sweep_job(session=session, now=now)
        log.info(
            "sweep as of %s: %d alert(s) raised %s %s",
            now.isoformat(),
            result.raised,
            result.by_level,
            result.by_kind,
        )
    finally:
        engine.dispose()


def run_daily() -> None:
    """Keep deadlines in step and open cadence deadlines on the configured database."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        require_current_schema(engine)
        now = clock_from(settings.now).now()
        with session_scope(engine) as session:
            result = daily_job(session=session, now=now, calendar=WorkingCalendar.load(settings.holiday_dir))
        log.info("daily deadlines as of %s: %s", now.isoformat(), asdict(result))
        for warning in result.warnings:
            log.warning("calendar: %s", warning)
    finally:
        engine.dispose()


def configure(
    scheduler: BaseScheduler, *, database_url: str, sweep_minutes: int, misfire_grace_seconds: int
) -> None:
    """Register the job store and the two jobs (idempotent: ids are stable, replace_existing)."""
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(url=database_url, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace_seconds},
        timezone=LOCAL_TZ,
    )
    scheduler.add_job(
        run_sweep,
        IntervalTrigger(minutes=sweep_minutes, timezone=LOCAL_TZ),
        id=SWEEP_JOB,
        name="deadline sweep",
        replace_existing=True,
    )
    scheduler.add_job(
        run_daily,
        CronTrigger(hour=6, minute=30, timezone=LOCAL_TZ),
        id=DAILY_JOB,
        name="daily deadlines and cadences",
        replace_existing=True,
    )
