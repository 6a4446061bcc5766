"""What the office does to a deadline by hand: record a cadence done, waive one, extend one.

Most deadlines settle by their own event (a project entering a stage, an order closing) and refuse
to be settled by hand. Cadences other than the quarterly inspection have no such event in the data:
the monthly summary is written and the yearly evaluation held outside ducha, so the office records
them done, and the record says who did and when.
"""

from datetime import datetime

from sqlmodel import Session

from models import (
    Cadence,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Person,
    Programme,
    Project,
    Role,
    holds_unit_role,
)
from models.calendar import WorkingCalendar
from workflows.deadlines import DeadlineRefused, extend_deadline, settle
from workflows.definition import Escalation, get_definition

# Who may settle, waive or extend a deadline by hand: the supervision office and district leadership.
OFFICE_ROLES = (Role.OFFICE, Role.LEADERSHIP)

SETTLED_BY_EVENT = {
    DeadlineKind.MILESTONE: "the project reaching the milestone's stage",
    DeadlineKind.STAGE_LIMIT: "the project leaving the stage",
    DeadlineKind.RECTIFICATION: "the order being closed",
}


def record_done(
    *, session: Session, deadline: Deadline, by: Person, at: datetime, note: str | None = None
) -> Deadline:
    """Record a cadence obligation fulfilled at ``at``: met if by the due time, missed if after."""
    _require_open(deadline)
    if deadline.kind != DeadlineKind.CADENCE:
        event = SETTLED_BY_EVENT[DeadlineKind(deadline.kind)]
        raise DeadlineRefused(f"deadline {deadline.id} ({deadline.kind}) is settled by {event}, not by hand")
    if deadline.cadence == Cadence.QUARTERLY_INSPECTION:
        raise DeadlineRefused(
            f"deadline {deadline.id} is met by the data, once every active project of the programme "
            "has a signed inspection in the quarter"
        )
    _require_office(session, by, "record a deadline done")
    settle(session=session, deadline=deadline, at=at, by=by.id, note=note or None)
    session.flush()
    return deadline


def waive(*, session: Session, deadline: Deadline, by: Person, at: datetime, reason: str) -> Deadline:
    """Lift an obligation (a cancelled project, a summary merged into another): nothing more is raised."""
    _require_open(deadline)
    if not reason.strip():
        raise DeadlineRefused(f"deadline {deadline.id}: a waiver needs a reason")
    _require_office(session, by, "waive a deadline")
    settle(session=session, deadline=deadline, at=at, waived=True, by=by.id, note=reason.strip())
    session.flush()
    return deadline


def extend(
    *,
    session: Session,
    deadline: Deadline,
    due_at: datetime,
    calendar: WorkingCalendar,
    now: datetime,
    approved_by: Person,
    reason: str,
) -> Deadline:
    """Record an approved extension with the escalation ladder the deadline was opened with."""
    return extend_deadline(
        session=session,
        deadline=deadline,
        due_at=due_at,
        escalation=escalation_for(session=session, deadline=deadline),
        calendar=calendar,
        now=now,
        approved_by_id=approved_by.id,  # type: ignore[arg-type]
        reason=reason,
    )


def escalation_for(*, session: Session, deadline: Deadline) -> Escalation:
    """The ladder of the workflow behind a deadline: its project's version, else its programme's newest."""
    project = session.get(Project, deadline.project_id) if deadline.project_id is not None else None
    if project is not None:
        definition = get_definition(
            session=session, key=project.definition_key, version=project.definition_version
        )
    else:
        programme = session.get(Programme, deadline.programme_id) if deadline.programme_id else None
        if programme is None:
            raise DeadlineRefused(f"deadline {deadline.id} has neither a project nor a programme")
        definition = get_definition(session=session, key=programme.definition_key)
    if definition.escalation is None:
        raise DeadlineRefused(f"workflow {definition.key} v{definition.version} declares no escalation")
    return definition.escalation


def _require_open(deadline: Deadline) -> None:
    if deadline.status != DeadlineStatus.OPEN:
        raise DeadlineRefused(
            f"deadline {deadline.id} is {deadline.status}: only an open deadline can change"
        )


def _require_office(session: Session, person: Person, action: str) -> None:
    if not holds_unit_role(session=session, person=person, roles=OFFICE_ROLES):
        raise DeadlineRefused(f"{person.name} is not in the supervision office: cannot {action}")
