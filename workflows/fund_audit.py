"""A fund audit (资金审计): the audit rules in force run over a programme's ledger; what they find
becomes findings, inspections of kind fund_audit and rectification orders, with their notices.

Run as of a day (``now``): each rule's version in force that day (funds/audit_rules.py) finds what
had happened by then (funds/audit_facts.py). A finding is recorded once per (rule, subject) while it
stands: an audit run again, as of the same or a later day, records nothing it recorded before, so no
open finding or order is made twice. A standing finding that an audit with its rule in force no
longer finds is cleared as of that audit (put right: an overspend reversed or covered, idle money
spent); found again later, it is a new occurrence, with its own inspection and order, for a problem
that came back is a new problem to put right. For each project with new findings, one signed
inspection of kind fund_audit fails the checklist items of those rules
(funds/fund_audit_checklist.yaml); each failed item is a rectification order (origin: the audit) to
the project's specialist (its leader when it has none), due after the working days its severity
gives, and its notice goes to the outbox in the same transaction. A finding about the whole
programme answers to the office and has no order.

Who may: an auditor or the supervision office; the scheduled job runs as the system.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from funds.audit_rules import CHECKLIST, Finding, RuleBook, RuleVersion
from funds.audit_timing import find
from inspections.loaded_templates import load_template
from inspections.orders import DEFAULT_DEADLINE_DAYS, issue_order
from models import (
    FundAuditFinding,
    Inspection,
    InspectionInspector,
    InspectionItemResult,
    InspectionKind,
    OrderOrigin,
    Outcome,
    Person,
    Programme,
    Project,
    RectificationOrder,
    Role,
    Verdict,
    role_holders,
)
from models.calendar import WorkingCalendar
from models.compiled import Compiled
from models.ledger import LedgerLog
from models.localtime import local_date
from models.types import table_of
from notifications.inspection_notices import inspection_drafts
from notifications.outbox import Enqueued, NoticeSetup, enqueue
from workflows.authority import require_role
from workflows.finding_rows import FindingRow as FindingRow
from workflows.finding_rows import finding_row
from workflows.programmes import find_programme

AUDITORS = (Role.AUDITOR, Role.OFFICE)


@dataclass(frozen=True)
class Found:
    """A finding of this run: the rule version that found it, and whether it is new."""

    rule: RuleVersion
    finding: Finding
    new: bool
    record_id: int
    order_id: int | None


@dataclass
class AuditRun:
    """What one audit of one programme found and did."""

    programme: str
    as_of: datetime
    rules: list[RuleVersion]
    found: list[Found] = field(default_factory=list)
    inspections: list[int] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)
    notices: Enqueued = field(default_factory=Enqueued)
    cleared: list[int] = field(default_factory=list)  # the standing findings this run no longer found

    @property
    def new(self) -> list[Found]:
        return [item for item in self.found if item.new]


def run_fund_audit(
    *,
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    rules: RuleBook,
    actor: Person | None,
    programme: str | None = None,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
    notices: NoticeSetup | None = None,
) -> list[AuditRun]:
    """Audit one programme (or, with none named and no actor, every programme with a ledger)."""
    if actor is not None:
        require_role(session=session, actor=actor, roles=AUDITORS, doing="run a fund audit")
    if programme is not None or actor is not None:
        targets = [find_programme(session=session, ref=programme)]
    else:
        targets = list(
            session.exec(
                select(Programme)
                .join(LedgerLog, col(LedgerLog.programme_id) == col(Programme.id))
                .order_by(col(Programme.id))
            ).all()
        )
    return [
        _audit(session, now, calendar, rules, actor, target, deadline_days, notices or NoticeSetup())
        for target in targets
    ]


def _audit(
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    rules: RuleBook,
    actor: Person | None,
    programme: Programme,
    deadline_days: Mapping[str, int],
    notices: NoticeSetup,
) -> AuditRun:
    assert programme.id is not None
    # The programme's log row, locked as an append locks it: two audits at once (the daily job and
    # an auditor) take turns, and the second finds what the first recorded (SQLite: one writer anyway).
    session.execute(
        sa_select(col(LedgerLog.programme_id))
        .where(col(LedgerLog.programme_id) == programme.id)
        .with_for_update()
    ).all()
    in_force = rules.in_force(local_date(now))
    run = AuditRun(programme.name, now, in_force)
    # The latest occurrence of each (rule, subject) recorded in the programme.
    known: dict[tuple[str, str], FundAuditFinding] = {}
    for recorded in session.exec(
        select(FundAuditFinding)
        .where(col(FundAuditFinding.programme_id) == programme.id)
        .order_by(col(FundAuditFinding.occurrence))
    ).all():
        known[(recorded.rule, recorded.subject)] = recorded
    fresh: list[tuple[RuleVersion, Finding, FundAuditFinding]] = []
    seen: set[tuple[str, str]] = set()
    for rule, finding in find(session=session, programme=programme, rules=in_force, as_of=now):
        seen.add((rule.key, finding.subject))
        row = known.get((rule.key, finding.subject))
        if row is None or _cleared_by(row, now):
            row = FundAuditFinding(
                programme_id=programme.id,
                rule=rule.key,
                rule_effective=rule.effective,
                regulation=rule.regulation,
                subject=finding.subject,
                occurrence=1 if row is None else row.occurrence + 1,
                project_id=finding.project_id,
                fund=finding.fund,
                severity=rule.severity,
                amount_fen=finding.amount_fen,
                evidence=list(finding.evidence),
                description=finding.description,
                detail=finding.detail,
                as_of=now,
                recorded_at=now,
                recorded_by_id=actor.id if actor else None,
            )
            session.add(row)
            known[(rule.key, finding.subject)] = row
            fresh.append((rule, finding, row))
        else:
            assert row.id is not None
            run.found.append(Found(rule, finding, False, row.id, row.order_id))
    # Standing findings of the rules in force that this run did not find are cleared as of now; one
    # recorded as of a later day than this run stands (the run looks at a time before it was found).
    checked = {rule.key for rule in in_force}
    for key, row in known.items():
        if row.cleared_at is None and row.id is not None and key[0] in checked and key not in seen:
            if row.as_of <= now:
                row.cleared_at = now
                session.add(row)
                run.cleared.append(row.id)
    session.flush()
    if fresh:
        _inspect(session, now, calendar, actor, programme, fresh, deadline_days, notices, run)
    for rule, finding, row in fresh:
        assert row.id is not None
        run.found.append(Found(rule, finding, True, row.id, row.order_id))
    return run


def _cleared_by(row: FundAuditFinding, now: datetime) -> bool:
    """Whether the finding had cleared by ``now``: found at ``now``, the problem came back. Cleared
    only later, it still stood at ``now`` (a run as of an earlier day finds what was recorded)."""
    return row.cleared_at is not None and row.cleared_at <= now


def _inspect(
    session: Session,
    now: datetime,
    calendar: WorkingCalendar,
    actor: Person | None,
    programme: Programme,
    fresh: Sequence[tuple[RuleVersion, Finding, FundAuditFinding]],
    deadline_days: Mapping[str, int],
    notices: NoticeSetup,
    run: AuditRun,
) -> None:
    """An inspection of kind fund_audit per project with new findings, an order per rule it failed."""
    template = load_template(
        session=session,
        text=CHECKLIST.read_text(encoding="utf-8"),
        source="funds/fund_audit_checklist.yaml",
        now=now,
    )
    assert template.id is not None
    weights = _weights(template.source_text)
    # Who answers, for the projects with new findings: one query over a subquery, no ids bound.
    with_findings: Select[tuple[int]] = sa_select(col(FundAuditFinding.project_id)).where(  # type: ignore[assignment]
        col(FundAuditFinding.programme_id) == programme.id,
        col(FundAuditFinding.recorded_at) == now,
        col(FundAuditFinding.project_id).is_not(None),
    )
    people: dict[int, dict[Role, int]] = {}
    for holder in role_holders(session=session, projects=with_findings, roles=(Role.SPECIALIST, Role.LEADER)):
        if holder.project_id is not None:
            people.setdefault(holder.project_id, {})[holder.role] = holder.person_id
    by_project: dict[int, dict[str, list[tuple[RuleVersion, Finding, FundAuditFinding]]]] = {}
    for rule, finding, row in fresh:
        if finding.project_id is not None:
            by_project.setdefault(finding.project_id, {}).setdefault(rule.key, []).append(
                (rule, finding, row)
            )
    for project_id, failed in sorted(by_project.items()):
        lost = sum(weights.get(key, 0) for key in failed)
        inspection = Inspection(
            project_id=project_id,
            template_id=template.id,
            kind=InspectionKind.FUND_AUDIT,
            announced=True,
            inspected_at=now,
            recorded_at=now,
            score_tenths=max(0, 1000 - 10 * lost),
            outcome=Outcome.FAIL,
            notes=f"资金审计 fund audit as of {local_date(now)}",
        )
        session.add(inspection)
        session.flush()
        assert inspection.id is not None
        run.inspections.append(inspection.id)
        if actor is not None and actor.id is not None:
            session.add(InspectionInspector(inspection_id=inspection.id, person_id=actor.id))
        texts = {
            key: "；".join(finding.description for _, finding, _ in items) for key, items in failed.items()
        }
        for key, text in texts.items():
            session.add(
                InspectionItemResult(
                    inspection_id=inspection.id,
                    item_key=key,
                    verdict=Verdict.FAILED,
                    passed=False,
                    notes=text,
                )
            )
        session.flush()
        # Signed once its results are in (a signed inspection takes no more: the triggers see to it).
        inspection.signed_at, inspection.signed_by_id = now, actor.id if actor else None
        session.add(inspection)
        session.flush()
        holders = people.get(project_id, {})
        role = Role.SPECIALIST if Role.SPECIALIST in holders else Role.LEADER
        issued: list[RectificationOrder] = []
        for key, items in failed.items():
            rule, text = items[0][0], texts[key]
            if role not in holders:
                continue  # nobody to answer: the finding stands without an order (audit findings shows it)
            order = issue_order(
                session=session,
                project_id=project_id,
                inspection_id=inspection.id,
                item_key=key,
                severity=rule.severity,
                description=f"{rule.title}：{text}（依据：{rule.regulation}）",
                responsible_person_id=holders[role],
                responsible_role=role.value,
                due_at=calendar.deadline_after_working_days(now, deadline_days[rule.severity]),
                now=now,
                actor_id=actor.id if actor else None,
                origin=OrderOrigin.FUND_AUDIT,
            )
            issued.append(order)
            assert order.id is not None
            run.orders.append(order.id)
            for _, _, row in items:
                row.inspection_id, row.order_id = inspection.id, order.id
                session.add(row)
        session.flush()
        drafts = inspection_drafts(
            session=session, now=now, calendar=calendar, inspection=inspection, issued=issued
        )
        written = enqueue(
            session=session,
            now=now,
            drafts=drafts,
            templates=notices.templates,
            calendar=calendar,
            quiet=notices.quiet,
        )
        run.notices.notices += written.notices
        run.notices.passed += written.passed
        run.notices.held += written.held


def _weights(text: str) -> dict[str, int]:
    from inspections.templates import parse_template

    template = parse_template(text, "funds/fund_audit_checklist.yaml")
    return {item.key: item.weight for _, item in template.iter_items()}


@cache
def _findings_statement() -> Compiled:
    """A programme's (``programme``) recorded findings, oldest first, with their project's code and
    their order's state; kept, and compiled ahead for ``ducha audit findings`` (workflows.ahead)."""
    finding, project, order = table_of(FundAuditFinding), table_of(Project), table_of(RectificationOrder)
    f = finding.c
    return Compiled(
        sa_select(
            f.id,
            f.rule,
            f.rule_effective,
            f.regulation,
            f.subject,
            project.c.code,
            f.fund,
            f.severity,
            f.amount_fen,
            f.evidence,
            f.description,
            f.detail,
            f.as_of,
            f.order_id,
            order.c.status,
            order.c.due_at,
            f.occurrence,
            f.cleared_at,
        )
        .select_from(finding)
        .outerjoin(project, project.c.id == f.project_id)
        .outerjoin(order, order.c.id == f.order_id)
        .where(f.programme_id == bindparam("programme"))
        .order_by(f.id)
    )


def audit_findings(*, session: Session, programme: str | None = None) -> list[FindingRow]:
    """Every recorded finding of the programme, oldest first: one query."""
    found = find_programme(session=session, ref=programme)
    return [finding_row(row) for row in _findings_statement().all(session, {"programme": found.id})]
