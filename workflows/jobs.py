"""The scheduled jobs, as plain functions: the embedded scheduler and the Prefect flows both run these.

A job takes the session, the time it runs for and the working-day calendar, does its work in the
caller's transaction and returns a result that says what it did in one line and as plain values.
The runner (``ducha.jobs.run_job``) owns the session, the schema check and the commit.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from funds.audit_rules import RuleBook
from inspections.orders import DEFAULT_DEADLINE_DAYS
from models.calendar import WorkingCalendar
from models.localtime import local
from notifications.alert_notices import alert_drafts
from notifications.checkpoint_notices import checkpoint_drafts
from notifications.outbox import Enqueued, NoticeSetup, enqueue
from notifications.reach import unreachable
from workflows.cadences import generate_cadence_deadlines
from workflows.deadline_sync import sync_deadlines
from workflows.fund_audit import run_fund_audit
from workflows.sweep import SweepResult, sweep


def _shown(moment: datetime) -> str:
    """An instant as the office reads it in a log: 2027-01-04 09:00 CST."""
    return f"{local(moment):%Y-%m-%d %H:%M %Z}"


class JobResult(Protocol):
    def describe(self) -> str: ...

    def plain(self) -> dict[str, Any]: ...

    @property
    def warnings(self) -> list[str]: ...


R_co = TypeVar("R_co", bound=JobResult, covariant=True)


class Job(Protocol[R_co]):
    """A scheduled job: ``job(session=…, now=…, calendar=…, notices=…)``."""

    __name__: str

    def __call__(
        self, *, session: Session, now: datetime, calendar: WorkingCalendar, notices: NoticeSetup
    ) -> R_co: ...


@dataclass(frozen=True)
class SweepJobResult:
    """What a sweep raised."""

    sweep: SweepResult
    # How many of the alerts raised tell nobody (their roles are held by no one): ``ducha check``.
    unreachable: int = 0
    # The notices the alerts caused, written in the sweep's transaction.
    notices: Enqueued = field(default_factory=Enqueued)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        s = self.sweep
        nobody = f"; {self.unreachable} with no recipient (run ducha check)" if self.unreachable else ""
        return (
            f"sweep as of {_shown(s.as_of)}: {s.raised} alert(s) raised, "
            f"by level {s.by_level}, by kind {s.by_kind}{nobody}; {self.notices.notices} notice(s) written"
        )

    def plain(self) -> dict[str, Any]:
        s = self.sweep
        return {
            "as_of": s.as_of.isoformat(),
            "raised": s.raised,
            "by_level": s.by_level,
            "by_kind": s.by_kind,
            "no_recipient": self.unreachable,
            "notices": self.notices.notices,
            "notices_passed": self.notices.passed,
        }


@dataclass(frozen=True)
class DailyResult:
    """What the daily job did: deadlines kept in step with the data, cadence deadlines opened."""

    as_of: datetime
    opened: int
    settled: int
    cadences_opened: int
    cadences_settled: int
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"daily deadlines as of {_shown(self.as_of)}: {self.opened} opened, {self.settled} settled; "
            f"cadences {self.cadences_opened} opened, {self.cadences_settled} settled"
        )

    def plain(self) -> dict[str, Any]:
        values = asdict(self)
        values["as_of"] = self.as_of.isoformat()
        return values


def sweep_job(
    *, session: Session, now: datetime, calendar: WorkingCalendar, notices: NoticeSetup | None = None
) -> SweepJobResult:
    """Raise every escalation level that has come, and write the notices they cause in the same
    transaction; count the alerts that tell nobody."""
    result = sweep(session=session, now=now)
    written = Enqueued()
    if result.alert_ids:
        setup = notices or NoticeSetup()
        drafts = alert_drafts(
            session=session,
            now=now,
            calendar=calendar,
            first_id=min(result.alert_ids),
            last_id=max(result.alert_ids),
        )
        written = enqueue(
            session=session,
            now=now,
            drafts=drafts,
            templates=setup.templates,
            calendar=calendar,
            quiet=setup.quiet,
        )
    return SweepJobResult(result, unreachable=unreachable(session, result.told), notices=written)


def daily_job(
    *, session: Session, now: datetime, calendar: WorkingCalendar, notices: NoticeSetup | None = None
) -> DailyResult:
    """Keep every deadline in step with the data and open this period's cadence deadlines."""
    synced = sync_deadlines(session=session, now=now, calendar=calendar)
    cadences = generate_cadence_deadlines(session=session, now=now, calendar=calendar)
    return DailyResult(
        now, synced.opened, synced.settled, cadences.opened, cadences.settled, cadences.warnings
    )


@dataclass(frozen=True)
class FundAuditResult:
    """What the daily fund audit found and did, and the checkpoints it sent to the auditors."""

    as_of: datetime
    programmes: int
    findings: int
    new: int
    orders: int
    notices: int
    checkpoint_notices: int
    cleared: int
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"fund audit as of {_shown(self.as_of)}: {self.programmes} programme(s), {self.findings} "
            f"finding(s), {self.new} new, {self.cleared} cleared, {self.orders} order(s) issued, "
            f"{self.notices} notice(s) written; "
            f"{self.checkpoint_notices} checkpoint notice(s) to the auditors"
        )

    def plain(self) -> dict[str, Any]:
        values = asdict(self)
        values["as_of"] = self.as_of.isoformat()
        return values


def fund_audit_job(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    notices: NoticeSetup | None = None,
    rules: RuleBook,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
) -> FundAuditResult:
    """Audit every programme with a ledger as the system (new findings become orders, their notices
    written), and send each log's latest signed checkpoint to the auditors (once per checkpoint)."""
    setup = notices or NoticeSetup()
    runs = run_fund_audit(
        session=session,
        now=now,
        calendar=calendar,
        rules=rules,
        actor=None,
        deadline_days=deadline_days,
        notices=setup,
    )
    sent = enqueue(
        session=session,
        now=now,
        drafts=checkpoint_drafts(session=session, now=now),
        templates=setup.templates,
        calendar=calendar,
        quiet=setup.quiet,
    )
    return FundAuditResult(
        now,
        len(runs),
        sum(len(run.found) for run in runs),
        sum(len(run.new) for run in runs),
        sum(len(run.orders) for run in runs),
        sum(run.notices.notices for run in runs),
        sent.notices,
        sum(len(run.cleared) for run in runs),
    )
