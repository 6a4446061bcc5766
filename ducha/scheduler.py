"""The embedded scheduler (APScheduler 3): the sweep every few minutes and the daily job at 06:30.

Jobs live in a persistent SQLAlchemy job store in ducha's own database, with coalescing and a
misfire grace time: a restart neither loses a run (a missed one runs once on start, within the
grace time) nor repeats one (missed runs collapse into one). The same jobs run under Prefect in the
distributed mode (ducha.flows), through the same runner (ducha.jobs.run_job).
"""

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ducha.context import AppContext
from ducha.jobs import run_job
from models.localtime import LOCAL_TZ
from workflows.jobs import daily_job, sweep_job

log = logging.getLogger("ducha.scheduler")
JOB_TABLE = "apscheduler_jobs"
SWEEP_JOB, DAILY_JOB = "ducha-deadline-sweep", "ducha-daily-deadlines"


def _run(job: object) -> None:
    # A context per run: the settings are read as they are now; the schema check is once per process.
    context = AppContext()
    try:
        run_job(job, context, logger=log)  # type: ignore[arg-type]
    finally:
        context.dispose()


def run_sweep() -> None:
    """One sweep on the configured database (a module-level function, so the job store can keep it)."""
    _run(sweep_job)


def run_daily() -> None:
    """Keep deadlines in step and open cadence deadlines on the configured database."""
    _run(daily_job)


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
