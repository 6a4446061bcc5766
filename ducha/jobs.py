"""One runner for the scheduled jobs, used by the embedded scheduler and by the Prefect flows alike."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from models.localtime import LOCAL_TZ, local

if TYPE_CHECKING:
    from sqlmodel import Session

    from ducha.context import AppContext
    from funds.checkpoints import Signed
    from notifications.dispatch import DispatchResult
    from workflows.jobs import FundAuditResult, Job, JobResult

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
        result = job(session=tx.session, now=now, calendar=context.calendar, notices=context.notices)
    out.info("%s", result.describe())
    for warning in result.warnings:
        out.warning("calendar: %s", warning)
    return result


def run_checkpoints(
    context: AppContext,
    as_of: datetime | None = None,
    *,
    daily: bool = False,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> list[Signed]:
    """Sign a checkpoint of every ledger log that grew since its last (``daily``: of every log)."""
    from funds.checkpoints import sign_checkpoints

    out = logger or log
    now = instant(as_of, context)
    signers = context.signers()
    if not signers:
        out.warning(
            "ledger checkpoints wait: no signing key at %s (ducha audit keygen)", context.settings.audit_key
        )
        return []
    with context.transaction(now=now) as tx:
        signed = sign_checkpoints(
            session=tx.session, now=now, signers=signers, reason="daily" if daily else "interval"
        )
    for item in signed:
        out.info("%s: checkpoint of %d entries signed", item.origin, item.size)
    return signed


def run_fund_audit(
    context: AppContext,
    as_of: datetime | None = None,
    *,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> FundAuditResult:
    """Audit every programme's ledger with the rules in force (the office's file over the shipped
    one) and send the latest signed checkpoints to the auditors, in one transaction."""
    from workflows.jobs import fund_audit_job

    out = logger or log
    now = instant(as_of, context)
    rules = context.audit_rules()  # a bad rules file fails the run before anything is written
    with context.transaction(now=now) as tx:
        result = fund_audit_job(
            session=tx.session,
            now=now,
            calendar=context.calendar,
            notices=context.notices,
            rules=rules,
            deadline_days=context.deadline_days,
        )
    out.info("%s", result.describe())
    return result


def run_dispatch(
    context: AppContext,
    as_of: datetime | None = None,
    *,
    limit: int | None = None,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> DispatchRun:
    """Send the notices whose time has come: first the day's digests and the reminders of
    unacknowledged escalations (one transaction), then the dispatcher's claims and records."""
    from contextlib import contextmanager

    from ducha.lease import process_name
    from notifications.dispatch import dispatch
    from notifications.followups import digests, remind_unacknowledged

    out = logger or log
    now = instant(as_of, context)
    setup = context.notices
    with context.transaction(now=now) as tx:
        digested = digests(session=tx.session, now=now, calendar=context.calendar, setup=setup)
        reminded = remind_unacknowledged(
            session=tx.session,
            now=now,
            calendar=context.calendar,
            setup=setup,
            hours=context.settings.ack_working_hours,
        )

    @contextmanager
    def begin() -> Iterator[Session]:
        with context.transaction(now=now) as step:
            yield step.session

    sent = dispatch(
        begin=begin,
        now=now,
        system_now=context.system_clock.now,
        channels=context.channels(),
        dispatcher=process_name(),
        attempts=context.settings.notice_attempts,
        limit=limit,
        setup=setup,
        calendar=context.calendar,
    )
    run = DispatchRun(now, digested.notices, reminded.notices, sent)
    out.info("%s", run.describe())
    return run


@dataclass(frozen=True)
class DispatchRun:
    as_of: datetime
    digests: int
    reminders: int
    result: DispatchResult

    def describe(self) -> str:
        r = self.result
        return (
            f"dispatch as of {local(self.as_of):%Y-%m-%d %H:%M}: {r.claimed} claimed, {r.accepted} accepted, "
            f"{r.retried} to retry, {r.failed} failed ({r.fallbacks} fallback(s)), {r.in_doubt} in doubt; "
            f"{self.digests} digest(s), {self.reminders} reminder(s) of unacknowledged escalations"
        )

    def plain(self) -> dict[str, Any]:
        r = self.result
        return {
            "as_of": self.as_of.isoformat(),
            "claimed": r.claimed,
            "accepted": r.accepted,
            "retried": r.retried,
            "failed": r.failed,
            "fallbacks": r.fallbacks,
            "in_doubt": r.in_doubt,
            "digests": self.digests,
            "reminders": self.reminders,
            "by_channel": r.by_channel,
        }
