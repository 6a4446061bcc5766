"""What an OC4IDS package says about a programme, read in a few set-based queries (workflows/oc4ids.py
builds the package from these facts; nothing here knows the standard).

Money is integer fen throughout. A project's *cash* is its bank account and its reservations (a
reserved payment is still in the bank): an entry that takes cash out of the project towards a vendor
is a payment to that vendor, one that brings cash in from the project's allocation is a disbursement.
What an entry adds to all of a project's accounts together is what it allocated to the project. An
entry corrected by a reversal and the reversal are left out: together they moved nothing.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from funds.accounts import Kind
from funds.reads import summary
from models import (
    Deadline,
    DeadlineKind,
    DeadlineRevision,
    DeadlineStatus,
    FundingSource,
    OrgUnit,
    Place,
    Programme,
    Project,
    ProjectFunding,
    RectificationOrder,
    WorkflowEvent,
)
from models.ledger import JournalEntry, JournalLine, LedgerAccount, Vendor
from models.localtime import local_date
from models.types import UTCDateTime, table_of
from workflows.definition import get_definition

ENTRY, LINE, ACCOUNT = table_of(JournalEntry), table_of(JournalLine), table_of(LedgerAccount)
PROJECT, FUND, VENDOR = table_of(Project), table_of(FundingSource), table_of(Vendor)
CASH = (Kind.BANK.value, Kind.RESERVED.value)


@dataclass(frozen=True)
class Movement:
    """One entry's effect on one project: cash in (+) or out (−), and allocation added (±)."""

    seq: int
    kind: str
    fund: str
    occurred_at: datetime
    vendor_id: int | None
    vendor: str | None
    category: str | None
    cash_fen: int
    allocated_fen: int


@dataclass(frozen=True)
class DeadlineFact:
    id: int
    kind: DeadlineKind
    title: str
    due_at: datetime
    status: DeadlineStatus
    settled_at: datetime | None


@dataclass
class ProjectFacts:
    id: int
    code: str
    name: str
    village_id: int
    village: str
    town: str | None
    stage: str
    resume_stage: str | None
    definition_key: str
    definition_version: int
    planned_start: date
    planned_finish: date
    actual_start: date | None
    actual_finish: date | None
    budget_fen: dict[str, int] = field(default_factory=dict)  # by fund code
    movements: list[Movement] = field(default_factory=list)
    deadlines: list[DeadlineFact] = field(default_factory=list)
    accepted_at: datetime | None = None
    spent_fen: int = 0


@dataclass(frozen=True)
class ProgrammeFacts:
    programme: Programme
    district: str
    office: str | None  # the supervision office (publicAuthority)
    auditor: str | None  # the audit bureau (reviewBody), when there is one
    funds: list[FundingSource]
    projects: list[ProjectFacts]


def programme_facts(*, session: Session, programme: Programme, at: datetime | None) -> ProgrammeFacts:
    """Everything the package tells about ``programme``, as of ``at`` (None: all there is)."""
    assert programme.id is not None
    district = session.get(Place, programme.district_id)
    units = dict(
        session.execute(
            select(table_of(OrgUnit).c.kind, func.min(table_of(OrgUnit).c.name))
            .where(table_of(OrgUnit).c.kind.in_(("office", "audit")))
            .group_by(table_of(OrgUnit).c.kind)
        ).all()
    )
    funds = list(
        session.execute(
            select(FundingSource).where(FUND.c.programme_id == programme.id).order_by(FUND.c.position)
        ).scalars()
    )
    projects = _projects(session, programme)
    if at is not None:
        projects = _as_of(session, programme, projects, at)
    by_id = {p.id: p for p in projects}
    code_of = {fund.id: fund.code for fund in funds}
    funding = table_of(ProjectFunding)
    for project_id, source_id, amount in session.execute(
        select(funding.c.project_id, funding.c.source_id, funding.c.amount_fen)
        .join(PROJECT, PROJECT.c.id == funding.c.project_id)
        .where(PROJECT.c.programme_id == programme.id)
    ):
        if project_id in by_id:
            by_id[project_id].budget_fen[code_of[source_id]] = int(amount)
    for project_id, movement in _movements(session, programme, at):
        if project_id in by_id:
            by_id[project_id].movements.append(movement)
    for project_id, fact in _deadlines(session, programme, at):
        if project_id in by_id:
            by_id[project_id].deadlines.append(fact)
    events = table_of(WorkflowEvent)
    accepted = (
        select(events.c.project_id, func.max(events.c.occurred_at))
        .join(PROJECT, PROJECT.c.id == events.c.project_id)
        .where(PROJECT.c.programme_id == programme.id, events.c.to_stage == "accepted")
        .group_by(events.c.project_id)
    )
    if at is not None:
        accepted = accepted.where(events.c.occurred_at <= at)
    for project_id, when in session.execute(accepted):
        if project_id in by_id:
            by_id[project_id].accepted_at = when
    by_code = {p.code: p for p in projects}
    for row in summary(session=session, programme=programme, at=at).projects:
        if row.project in by_code:
            by_code[row.project].spent_fen += row.position.spent_fen
    return ProgrammeFacts(
        programme,
        district.name if district else "",
        units.get("office"),
        units.get("audit"),
        funds,
        projects,
    )


def _projects(session: Session, programme: Programme) -> list[ProjectFacts]:
    village, town = table_of(Place).alias("village"), table_of(Place).alias("town")
    rows = session.execute(
        select(
            PROJECT.c.id,
            PROJECT.c.code,
            PROJECT.c.name,
            PROJECT.c.village_id,
            village.c.name,
            town.c.name,
            PROJECT.c.stage,
            PROJECT.c.resume_stage,
            PROJECT.c.definition_key,
            PROJECT.c.definition_version,
            PROJECT.c.planned_start,
            PROJECT.c.planned_finish,
            PROJECT.c.actual_start,
            PROJECT.c.actual_finish,
        )
        .join(village, village.c.id == PROJECT.c.village_id)
        .outerjoin(town, town.c.id == village.c.parent_id)
        .where(PROJECT.c.programme_id == programme.id)
        .order_by(PROJECT.c.code)
    )
    return [ProjectFacts(*row) for row in rows]


def _as_of(
    session: Session, programme: Programme, projects: list[ProjectFacts], at: datetime
) -> list[ProjectFacts]:
    """The projects as they stood at ``at``: their stage then (from their workflow events), the dates
    set by then; a project not yet made by then is left out."""
    events = table_of(WorkflowEvent)
    latest = (
        select(
            events.c.project_id,
            events.c.from_stage,
            events.c.to_stage,
            func.row_number()
            .over(
                partition_by=events.c.project_id, order_by=(events.c.occurred_at.desc(), events.c.id.desc())
            )
            .label("newest"),
        )
        .join(PROJECT, PROJECT.c.id == events.c.project_id)
        .where(PROJECT.c.programme_id == programme.id, events.c.occurred_at <= at)
        .subquery()
    )
    stages = {
        int(project_id): (from_stage, to_stage)
        for project_id, from_stage, to_stage in session.execute(
            select(latest.c.project_id, latest.c.from_stage, latest.c.to_stage).where(latest.c.newest == 1)
        )
    }
    suspensions: dict[tuple[str, int], str | None] = {}
    day = local_date(at)
    kept = []
    for project in projects:
        if project.id not in stages:
            continue
        key = (project.definition_key, project.definition_version)
        if key not in suspensions:
            suspension = get_definition(session=session, key=key[0], version=key[1]).suspension
            suspensions[key] = suspension.stage if suspension else None
        left, project.stage = stages[project.id]
        project.resume_stage = left if project.stage == suspensions[key] else None
        if project.actual_start is not None and project.actual_start > day:
            project.actual_start = None
        if project.actual_finish is not None and project.actual_finish > day:
            project.actual_finish = None
        kept.append(project)
    return kept


def _movements(session: Session, programme: Programme, at: datetime | None) -> list[tuple[int, Movement]]:
    """Per entry and project: its cash and allocation effect (entries that move neither are left out)."""
    cash = func.sum(case((ACCOUNT.c.kind.in_(CASH), LINE.c.amount_fen), else_=0))
    allocated = func.sum(LINE.c.amount_fen)
    query = (
        select(
            ACCOUNT.c.project_id,
            ENTRY.c.seq,
            ENTRY.c.kind,
            FUND.c.code,
            ENTRY.c.occurred_at,
            ENTRY.c.vendor_id,
            VENDOR.c.name,
            ENTRY.c.category,
            ENTRY.c.reverses_seq,
            cash,
            allocated,
        )
        .select_from(LINE)
        .join(ENTRY, and_(ENTRY.c.programme_id == LINE.c.programme_id, ENTRY.c.seq == LINE.c.entry_seq))
        .join(ACCOUNT, ACCOUNT.c.id == LINE.c.account_id)
        .join(FUND, FUND.c.id == ENTRY.c.fund_id)
        .outerjoin(VENDOR, VENDOR.c.id == ENTRY.c.vendor_id)
        .where(LINE.c.programme_id == programme.id, ACCOUNT.c.project_id.is_not(None))
        .group_by(
            ACCOUNT.c.project_id,
            ENTRY.c.seq,
            ENTRY.c.kind,
            FUND.c.code,
            ENTRY.c.occurred_at,
            ENTRY.c.vendor_id,
            VENDOR.c.name,
            ENTRY.c.category,
            ENTRY.c.reverses_seq,
        )
        .order_by(ENTRY.c.seq)
    )
    if at is not None:
        query = query.where(ENTRY.c.occurred_at <= at)
    found = []
    reversed_: set[int] = set()
    for project_id, *rest in session.execute(query):
        seq, kind, fund, when, vendor_id, vendor, category, reverses, cash_fen, allocated_fen = rest
        if reverses is not None:
            reversed_.add(int(reverses))
        elif cash_fen or allocated_fen:
            movement = Movement(
                seq, kind, fund, when, vendor_id, vendor, category, int(cash_fen), int(allocated_fen)
            )
            found.append((int(project_id), movement))
    # A corrected entry and its reversal cancel out, to the fen: neither happened.
    return [(project_id, m) for project_id, m in found if m.seq not in reversed_]


def _deadlines(session: Session, programme: Programme, at: datetime | None) -> list[tuple[int, DeadlineFact]]:
    """The projects' deadlines; as of ``at``, only those there were by then (an order issued by then, a
    stage entered by then), each due when it was then: an extension recorded after ``at`` had not moved
    it yet, so it was due at the ``previous_due_at`` of the first such extension."""
    deadline, order = table_of(Deadline), table_of(RectificationOrder)
    due: Any = deadline.c.due_at
    if at is not None:
        revision = table_of(DeadlineRevision)
        later = (
            select(revision.c.deadline_id, func.min(revision.c.revision).label("revision"))
            .where(revision.c.recorded_at > at)
            .group_by(revision.c.deadline_id)
            .subquery("later")
        )
        first = revision.alias("first_later")
        due = func.coalesce(first.c.previous_due_at, deadline.c.due_at, type_=UTCDateTime())
    query = (
        select(
            deadline.c.project_id,
            deadline.c.id,
            deadline.c.kind,
            deadline.c.title,
            due.label("due_at"),
            deadline.c.status,
            deadline.c.settled_at,
        )
        .join(PROJECT, PROJECT.c.id == deadline.c.project_id)
        .outerjoin(order, order.c.id == deadline.c.order_id)
        .where(PROJECT.c.programme_id == programme.id)
        .order_by(due, deadline.c.id)
    )
    if at is not None:
        query = (
            query.outerjoin(later, later.c.deadline_id == deadline.c.id)
            .outerjoin(
                first, (first.c.deadline_id == later.c.deadline_id) & (first.c.revision == later.c.revision)
            )
            .where(
                or_(order.c.issued_at.is_(None), order.c.issued_at <= at),
                or_(deadline.c.stage_entered_at.is_(None), deadline.c.stage_entered_at <= at),
            )
        )
    return [
        (int(project_id), DeadlineFact(id_, DeadlineKind(kind), title, due, DeadlineStatus(status), settled))
        for project_id, id_, kind, title, due, status, settled in session.execute(query)
    ]
