"""The embedded scheduler (APScheduler 3): the sweep every few minutes, the daily job at 06:30, notices
every minute, ledger checkpoints every five minutes (of logs that grew) and at 23:55, and the fund
audit at 07:00 (which also sends the night's checkpoints to the auditors).

Several ``ducha scheduler`` processes may run on one database (two machines, for availability): a
lease in the database (ducha.lease) says which one runs the jobs. The others wait as hot standbys
and take over within a minute of the holder dying; the new holder sweeps at once.

Jobs live in a persistent SQLAlchemy job store in ducha's own database, with coalescing and a
misfire grace time: a restart neither loses a run (a missed one runs once on start, within the
grace time) nor repeats one (missed runs collapse into one). The same jobs run under Prefect in the
distributed mode (ducha.flows), through the same runner (ducha.jobs.run_job).
"""

import logging
import threading
from collections.abc import Callable

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ducha.context import AppContext
from ducha.jobs import run_job
from ducha.lease import Lease
from models.localtime import LOCAL_TZ
from workflows.jobs import daily_job, sweep_job

log = logging.getLogger("ducha.scheduler")
JOB_TABLE = "apscheduler_jobs"
SWEEP_JOB, DAILY_JOB, DISPATCH_JOB = "ducha-deadline-sweep", "ducha-daily-deadlines", "ducha-dispatch"
CHECKPOINT_JOB, DAY_END_CHECKPOINT_JOB = "ducha-ledger-checkpoint", "ducha-ledger-day-end"
FUND_AUDIT_JOB = "ducha-fund-audit"
# A new ledger entry is signed within this many minutes (at most every 64 entries it is at once).
CHECKPOINT_MINUTES = 5


# The lease this process runs the jobs under (None: no lease, as in a test calling a job directly).
_lease: Lease | None = None
# Makes the context of one job run: the settings as they are now. ``ducha serve --at`` replaces it
# with one whose clock runs from the simulated time it was given.
make_context: Callable[[], AppContext] = AppContext


def _run(job: object) -> None:
    # A job fires only in the lease holder; checked again here in case the lease was lost meanwhile.
    if _lease is not None and not _lease.held():
        log.warning("%s skipped: this scheduler no longer holds the lease", getattr(job, "__name__", job))
        return
    # A context per run: the settings are read as they are now; the schema check is once per process.
    context = make_context()
    try:
        run_job(job, context, logger=log)  # type: ignore[arg-type]
    finally:
        context.dispose()


def run_sweep() -> None:
    """One sweep on the configured database (a module-level function, so the job store can keep it)."""
    _run(sweep_job)


def run_dispatch_job() -> None:
    """Send the notices whose time has come, the digests and the reminders (every minute)."""
    from ducha.jobs import run_dispatch

    if _lease is not None and not _lease.held():
        log.warning("dispatch skipped: this scheduler no longer holds the lease")
        return
    context = make_context()
    try:
        run_dispatch(context, logger=log)
    finally:
        context.dispose()


def _checkpoints(daily: bool) -> None:
    from ducha.jobs import run_checkpoints

    if _lease is not None and not _lease.held():
        log.warning("ledger checkpoints skipped: this scheduler no longer holds the lease")
        return
    context = AppContext()
    try:
        run_checkpoints(context, daily=daily, logger=log)
    finally:
        context.dispose()


def run_checkpoint_job() -> None:
    """Sign a checkpoint of every ledger log that grew (every few minutes: within ten of any entry)."""
    _checkpoints(daily=False)


def run_day_end_checkpoints() -> None:
    """Sign a checkpoint of every ledger log at the end of the day."""
    _checkpoints(daily=True)


def run_fund_audit_job() -> None:
    """Run the fund audit rules over every ledger and send the checkpoints to the auditors (daily)."""
    from ducha.jobs import run_fund_audit

    if _lease is not None and not _lease.held():
        log.warning("fund audit skipped: this scheduler no longer holds the lease")
        return
    context = make_context()
    try:
        run_fund_audit(context, logger=log)
    finally:
        context.dispose()


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
        run_dispatch_job,
        IntervalTrigger(minutes=1, timezone=LOCAL_TZ),
        id=DISPATCH_JOB,
        name="dispatch notices",
        replace_existing=True,
    )
    scheduler.add_job(
        run_checkpoint_job,
        IntervalTrigger(minutes=CHECKPOINT_MINUTES, timezone=LOCAL_TZ),
        id=CHECKPOINT_JOB,
        name="ledger checkpoints",
        replace_existing=True,
    )
    scheduler.add_job(
        run_day_end_checkpoints,
        CronTrigger(hour=23, minute=55, timezone=LOCAL_TZ),
        id=DAY_END_CHECKPOINT_JOB,
        name="ledger checkpoints at the end of the day",
        replace_existing=True,
    )
    scheduler.add_job(
        run_fund_audit_job,
        CronTrigger(hour=7, minute=0, timezone=LOCAL_TZ),
        id=FUND_AUDIT_JOB,
        name="fund audit and checkpoints to the auditors",
        replace_existing=True,
    )
    scheduler.add_job(
        run_daily,
        CronTrigger(hour=6, minute=30, timezone=LOCAL_TZ),
        id=DAILY_JOB,
        name="daily deadlines and cadences",
        replace_existing=True,
    )


def serve(
    *,
    lease: Lease,
    database_url: str,
    sweep_minutes: int,
    misfire_grace_seconds: int,
    stop: threading.Event,
) -> None:
    """Run the jobs while holding ``lease``; wait as a hot standby while another process holds it.

    Tries to take the lease every quarter of its length, renews it every third while holding it, and
    stops the jobs at once if a renewal fails. Returns when ``stop`` is set, giving the lease up.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    global _lease
    _lease = lease
    retry, renew = lease.seconds / 4, lease.seconds / 3
    waiting_said = False
    try:
        while not stop.is_set():
            if not lease.acquire():
                if not waiting_said:
                    held = lease.holder_now()
                    log.info("standby: the lease is held by %s", held[0] if held else "another scheduler")
                    waiting_said = True
                stop.wait(retry)
                continue
            waiting_said = False
            log.info("lease taken by %s: running the jobs", lease.holder)
            background = BackgroundScheduler()
            configure(
                background,
                database_url=database_url,
                sweep_minutes=sweep_minutes,
                misfire_grace_seconds=misfire_grace_seconds,
            )
            background.start()
            try:
                run_sweep()  # a scheduler taking over catches up at once, not after an interval
                while not stop.wait(renew):
                    if not lease.acquire():
                        log.warning("lease lost: stopping the jobs, waiting as a standby")
                        break
            finally:
                background.shutdown(wait=True)
    finally:
        lease.release()
        _lease = None
