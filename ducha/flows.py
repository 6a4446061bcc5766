"""Prefect flows of the distributed mode: thin entrypoints over the scheduled jobs (workflows.jobs).

Deployed from deploy/prefect.yaml by module path (``ducha.flows:deadline_sweep``): like the CLI, this
module is an entry point of the shell. Each run builds its context from the settings (``DUCHA_*``),
runs its job through the same runner as the embedded scheduler (one transaction, the schema checked
once per process) and returns plain values. ``as_of`` replays a run for any instant (a naive value
is Asia/Shanghai time); None means now, from ducha.clock, so ``DUCHA_NOW`` is honoured.
"""

from datetime import datetime
from typing import Any

from prefect import flow, get_run_logger

from ducha.context import AppContext
from ducha.jobs import run_dispatch, run_fund_audit, run_job
from workflows.jobs import Job, JobResult, daily_job, sweep_job

# The daily job is idempotent and runs once a day, so a run that met a database hiccup runs again;
# the sweep does not retry: the next one is at most 15 minutes away.
DAILY_RETRIES, DAILY_RETRY_DELAY_SECONDS = 2, 60


def _run(job: Job[JobResult], as_of: datetime | None) -> dict[str, Any]:
    context = AppContext()
    try:
        return run_job(job, context, as_of, logger=get_run_logger()).plain()
    finally:
        context.dispose()


@flow(name="deadline-sweep")
def deadline_sweep(as_of: datetime | None = None) -> dict[str, Any]:
    """Raise every escalation level that has come (idempotent: a second run adds nothing)."""
    return _run(sweep_job, as_of)


@flow(name="daily-deadlines", retries=DAILY_RETRIES, retry_delay_seconds=DAILY_RETRY_DELAY_SECONDS)
def daily_deadlines(as_of: datetime | None = None) -> dict[str, Any]:
    """Keep every project's deadlines in step with the data, then open this period's cadence deadlines."""
    return _run(daily_job, as_of)


@flow(name="dispatch-notices")
def dispatch_notices(as_of: datetime | None = None) -> dict[str, Any]:
    """Send the notices whose time has come (claims with FOR UPDATE SKIP LOCKED: ten workers at once
    never send one twice), the day's digests and the reminders of unacknowledged escalations."""
    context = AppContext()
    try:
        return run_dispatch(context, as_of, logger=get_run_logger()).plain()
    finally:
        context.dispose()


@flow(name="audit-funds", retries=DAILY_RETRIES, retry_delay_seconds=DAILY_RETRY_DELAY_SECONDS)
def audit_funds(as_of: datetime | None = None) -> dict[str, Any]:
    """Run the fund audit rules in force over every programme's ledger (new findings become
    rectification orders; a rerun adds nothing) and send the latest signed checkpoints to the auditors."""
    context = AppContext()
    try:
        return run_fund_audit(context, as_of, logger=get_run_logger()).plain()
    finally:
        context.dispose()
