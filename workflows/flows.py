"""Prefect flows of the distributed mode: thin wrappers over the scheduled jobs (workflows.jobs).

Deployed from deploy/prefect.yaml. Each run builds its engine from the settings (``DUCHA_*``), does
its work in one transaction and returns plain counts. ``as_of`` replays a run for any instant (a
naive value is Asia/Shanghai time); None means now, from ducha.clock, so ``DUCHA_NOW`` is honoured.
This module is an entrypoint like the CLI, which is why it may import ``ducha`` (pyproject.toml).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from sqlmodel import Session

from ducha.clock import clock_from
from ducha.config import Settings, get_settings
from ducha.db import make_engine, require_current_schema, session_scope
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ, local
from workflows.jobs import daily_job, sweep_job

# The daily job is idempotent and runs once a day, so a run that met a database hiccup runs again;
# the sweep does not retry: the next one is at most 15 minutes away.
DAILY_RETRIES, DAILY_RETRY_DELAY_SECONDS = 2, 60


def _instant(as_of: datetime | None, settings: Settings) -> datetime:
    if as_of is None:
        return clock_from(settings.now).now()
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=LOCAL_TZ)
    return as_of.astimezone(UTC)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        require_current_schema(engine)
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


@flow(name="deadline-sweep")
def deadline_sweep(as_of: datetime | None = None) -> dict[str, object]:
    """Raise every escalation level that has come (idempotent: a second run adds nothing)."""
    settings = get_settings()
    now = _instant(as_of, settings)
    with _session(settings) as session:
        result = sweep_job(session=session, now=now)
    get_run_logger().info(
        "sweep as of %s: %d alert(s) raised, by level %s, by kind %s",
        f"{local(now):%Y-%m-%d %H:%M %Z}",
        result.raised,
        result.by_level,
        result.by_kind,
    )
    return {
        "as_of": now.isoformat(),
        "raised": result.raised,
        "by_level": result.by_level,
        "by_kind": result.by_kind,
    }


@flow(name="generate-cadence-deadlines", retries=DAILY_RETRIES, retry_delay_seconds=DAILY_RETRY_DELAY_SECONDS)
def generate_cadence_deadlines(as_of: datetime | None = None) -> dict[str, object]:
    """Keep every project's deadlines in step with the data, then open this period's cadence deadlines."""
    settings = get_settings()
    now = _instant(as_of, settings)
    calendar = WorkingCalendar.load(settings.holiday_dir)
    with _session(settings) as session:
        result = daily_job(session=session, now=now, calendar=calendar)
    logger = get_run_logger()
    logger.info(
        "daily deadlines as of %s: %d opened, %d settled; cadences %d opened, %d settled",
        f"{local(now):%Y-%m-%d %H:%M %Z}",
        result.opened,
        result.settled,
        result.cadences_opened,
        result.cadences_settled,
    )
    for warning in result.warnings:
        logger.warning("calendar: %s", warning)
    return {"as_of": now.isoformat(), **asdict(result)}
