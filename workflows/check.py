"""``ducha check``: everything that keeps a programme from running as intended, each with what to do.

A *problem* makes the check fail (exit 1): an escalation rung that tells a role nobody holds, a
project without its leader or specialist, someone holding a role with no way to be told, a funding
source allocated beyond its budget, a year a deadline needs that no holiday file covers, no admin.
A *warning* is shown and does not fail it: a year whose working days come from a provisional file
(the State Council publishes each year's arrangement late in the year before; the law's own
holidays are there already).
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    SINGLE_HOLDER_ROLES,
    Deadline,
    DeadlineLevel,
    DeadlineStatus,
    FundingSource,
    Mode,
    Person,
    Programme,
    ProgrammeMilestone,
    Project,
    ProjectFunding,
    Role,
    RoleAssignment,
    format_yuan,
)
from models.calendar import WorkingCalendar
from models.errors import candidates
from models.localtime import local_date
from notifications.reach import projects_lacking, unit_roles_held
from notifications.recipients import roles_told
from workflows.definition import get_definition
from workflows.installation import recorded_mode
from workflows.programmes import find_programme
from workflows.staff import admins

SHOWN = 5


@dataclass(frozen=True)
class Finding:
    kind: str  # no_admin, rung_unheard, no_leader, no_specialist, unreachable_person, over_budget, calendar
    problem: bool  # False: a warning, which does not fail the check
    what: str
    fix: str


@dataclass(frozen=True)
class CheckReport:
    mode: Mode | None
    programmes: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.problem]


def check(
    *, session: Session, now: datetime, calendar: WorkingCalendar, programme: str | None = None
) -> CheckReport:
    """Look at the installation and at one programme (or every one) and say what is in the way."""
    if programme is not None:
        chosen = [find_programme(session=session, ref=programme)]
    else:
        chosen = list(session.exec(select(Programme).order_by(col(Programme.id))).all())
    findings: list[Finding] = []
    if not admins(session=session):
        findings.append(
            Finding(
                "no_admin",
                True,
                "nobody is an admin: nobody can add units, people or roles",
                "ducha init --admin NAME --phone P",
            )
        )
    held = unit_roles_held(session)
    findings += _rungs(session, chosen, held)
    for target in chosen:
        assert target.id is not None
        findings += _holders(session, target)
        findings += _budget(session, target)
        findings += _years(session, target, now, calendar)
    findings += _unreachable_people(session)
    return CheckReport(recorded_mode(session), [p.name for p in chosen], findings)


def _rungs(session: Session, programmes: list[Programme], held: set[Role]) -> list[Finding]:
    """Rungs of the ladders in use that tell a unit role nobody holds."""
    versions: set[tuple[str, int | None]] = set()
    for target in programmes:
        versions.add((target.definition_key, None))  # its newest: new projects and cadences
        for used in session.exec(
            select(Project.definition_version).where(col(Project.programme_id) == target.id).distinct()
        ).all():
            versions.add((target.definition_key, used))
    missing: dict[tuple[str, int, str], set[Role]] = {}
    for key, version in sorted(versions, key=lambda kv: (kv[0], kv[1] or 0)):
        definition = get_definition(session=session, key=key, version=version)
        if definition.escalation is None:
            continue
        for level in definition.escalation.levels:
            for on_project in (True, False):
                for role in roles_told(level.notify, on_project=on_project):
                    if role not in SINGLE_HOLDER_ROLES and role not in held:
                        missing.setdefault((key, definition.version, level.name), set()).add(role)
    findings = []
    for (key, version, level_name), roles in sorted(missing.items()):
        for role in sorted(roles):
            findings.append(
                Finding(
                    "rung_unheard",
                    True,
                    f"workflow {key} v{version}: rung {level_name} tells {role.value}, and nobody holds "
                    f"{role.value} on a unit: its alerts tell nobody",
                    f"ducha roles assign PERSON {role.value} --unit UNIT --as ADMIN",
                )
            )
    return findings


def _holders(session: Session, target: Programme) -> list[Finding]:
    findings = []
    for role in SINGLE_HOLDER_ROLES:
        total, first = projects_lacking(session, role, programme_id=target.id, limit=SHOWN)
        if not total:
            continue
        codes = session.exec(
            select(Project.code).where(col(Project.id).in_(first)).order_by(col(Project.code))
        ).all()
        findings.append(
            Finding(
                f"no_{role.value}",
                True,
                f"{target.name}: {total} project(s) without a {role.value}: {candidates(codes, total=total)}",
                f"ducha roles assign PERSON {role.value} --project CODE --as ADMIN",
            )
        )
    return findings


def _budget(session: Session, target: Programme) -> list[Finding]:
    allocated = (
        select(ProjectFunding.source_id, func.sum(ProjectFunding.amount_fen).label("fen"))
        .join(Project, col(Project.id) == col(ProjectFunding.project_id))
        .where(col(Project.programme_id) == target.id)
        .group_by(col(ProjectFunding.source_id))
        .subquery()
    )
    rows = session.exec(
        select(FundingSource.code, FundingSource.name, FundingSource.amount_fen, allocated.c.fen)
        .join(allocated, allocated.c.source_id == col(FundingSource.id))
        .where(col(FundingSource.programme_id) == target.id, allocated.c.fen > col(FundingSource.amount_fen))
        .order_by(col(FundingSource.position))
    ).all()
    return [
        Finding(
            "over_budget",
            True,
            f"{target.name}: funding source {code} ({name}) is allocated {format_yuan(int(fen))} yuan to "
            f"projects, over its budget of {format_yuan(budget)} yuan",
            "lower the projects' amounts, or correct the programme's budget for the source",
        )
        for code, name, budget, fen in rows
    ]


def _years(session: Session, target: Programme, now: datetime, calendar: WorkingCalendar) -> list[Finding]:
    """The years from now to the last date an open deadline or a milestone of the programme needs."""
    open_deadlines = (col(Deadline.programme_id) == target.id, col(Deadline.status) == DeadlineStatus.OPEN)
    last_due = session.exec(select(func.max(Deadline.due_at)).where(*open_deadlines)).one()
    last_level = session.exec(
        select(func.max(DeadlineLevel.at))
        .join(
            Deadline,
            (col(Deadline.id) == col(DeadlineLevel.deadline_id))
            & (col(Deadline.revision) == col(DeadlineLevel.revision)),
        )
        .where(*open_deadlines)
    ).one()
    last_milestone = session.exec(
        select(func.max(ProgrammeMilestone.due_date)).where(col(ProgrammeMilestone.programme_id) == target.id)
    ).one()
    days: list[date] = [local_date(now)]
    days += [local_date(moment) for moment in (last_due, last_level) if moment is not None]
    if last_milestone is not None:
        days.append(last_milestone)
    first, last = local_date(now).year, max(days).year
    findings = []
    for year in range(first, last + 1):
        if not calendar.covers(year):
            findings.append(
                Finding(
                    "calendar",
                    True,
                    f"{target.name}: deadlines need {year}'s working days, which no holiday file covers",
                    f"put {year}.yaml (the State Council's arrangement) in DUCHA_HOLIDAY_DIR; see DESIGN.md",
                )
            )
            continue
        for warning in calendar.warnings_for(date(year, 1, 1), date(year, 1, 1)):
            findings.append(
                Finding(
                    "calendar",
                    False,
                    f"{target.name}: {warning}",
                    f"when the {year} arrangement is published, put it in DUCHA_HOLIDAY_DIR "
                    "with provisional: false",
                )
            )
    return findings


def _unreachable_people(session: Session) -> list[Finding]:
    """People holding a role now with no e-mail and no notice channel: told in the inbox only.

    With no phone either nobody can reach them (a problem); a phone alone is no channel (nothing is
    sent to it without an ``sms:`` address), so they are named in a warning.
    """
    rows = session.exec(
        select(Person)
        .where(
            col(Person.id).in_(
                select(RoleAssignment.person_id).where(col(RoleAssignment.revoked_at).is_(None))
            ),
            func.coalesce(col(Person.email), "") == "",
        )
        .order_by(col(Person.id))
    ).all()
    silent = [person for person in rows if not person.notice_addresses]
    findings = []
    for problem, group, what, fix in (
        (
            True,
            [p for p in silent if not p.phone],
            "have no phone, e-mail or channel",
            "ducha people edit PERSON --email E (or --phone P) --as ADMIN",
        ),
        (
            False,
            [p for p in silent if p.phone],
            "have no e-mail or notice channel: notices reach them in the inbox only",
            "ducha people edit PERSON --email E --as ADMIN, or ducha people channels PERSON --add sms:NAME",
        ),
    ):
        if group:
            names = [f"{p.name} (id {p.id})" for p in group[:SHOWN]]
            findings.append(
                Finding(
                    "unreachable_person",
                    problem,
                    f"{len(group)} person(s) holding a role {what}: {candidates(names, total=len(group))}",
                    fix,
                )
            )
    return findings
