"""One runner for the scheduled jobs, used by the embedded scheduler and by the Prefect flows alike."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from models.localtime import LOCAL_TZ

if TYPE_CHECKING:
    from ducha.context import AppContext
    from workflows.jobs import Job, JobResult

R = TypeVar("R", bound="JobResult")
log = logging.getLogger("ducha.jobs")


def instant(as_of: datetime | None, context: AppContext) -> datetime:
    """The time a run is for: ``as_of`` (naive means Shanghai time), else the context's clock."""
    if as_of is None:
        return context.now()
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=LOCAL_TZ)
    return as_of.astimezone(UTC)


def run_job(
    job: Job[R],
    context: AppContext,
    as_of: datetime | None = None,
    *,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> R:
    """Run ``job`` in one transaction on a database with the current schema, commit, and log it."""
    out = logger or log
    now = instant(as_of, context)
    with context.transaction(now=now) as tx:
        result = job(session=tx.session, now=now, calendar=context.calendar)
    out.info("%s", result.describe())
    for warning in result.warnings:
        out.warning("calendar: %s", warning)
    return result
