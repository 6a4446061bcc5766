"""Apply lifecycle transitions: guards, roles, optimistic locking and the append-only history."""

from datetime import datetime

from sqlmodel import Session, col, or_, select

from models import Person, Project, Role, RoleAssignment, WorkflowEvent
from models.errors import Conflict, Refused
from models.localtime import local_date
from models.optimistic import update_if_unchanged
from workflows.definition import WorkflowDefinition, get_definition, guard_params
from workflows.guard_rules import unmet_guards
from workflows.guards import session_facts
from workflows.next_steps import Step as _Step
from workflows.next_steps import TransitionOption as TransitionOption
from workflows.next_steps import next_steps, transition_options

RESUME = "resume"


class TransitionRefused(Refused):
    """A transition was refused; ``reasons`` says every unmet condition in words."""

    def __init__(self, project: Project, to: str, reasons: list[str]) -> None:
        self.project_code = project.code
        self.from_stage = project.stage
        self.to_stage = to
        self.reasons = reasons
        super().__init__(f"{project.code}: {project.stage} → {to} refused: " + "; ".join(reasons))


class VersionConflict(Conflict):
    """Someone else changed the project since it was read; nothing was written."""

    def __init__(self, project: Project) -> None:
        self.project_code = project.code
        super().__init__(
            f"{project.code} was changed by someone else since it was read (version {project.version}); "
            "nothing was written: read it again and retry"
        )


def definition_for(session: Session, project: Project) -> WorkflowDefinition:
    """The definition version the project started with."""
    return get_definition(session=session, key=project.definition_key, version=project.definition_version)


def _steps(definition: WorkflowDefinition, project: Project) -> list[_Step]:
    return next_steps(definition.transitions, definition.suspension, project.stage, project.resume_stage)


def actor_roles(session: Session, project: Project, actor: Person) -> set[Role]:
    """Roles the actor holds on this project or on any unit (office, auditor…)."""
    rows = session.exec(
        select(RoleAssignment.role).where(
            col(RoleAssignment.person_id) == actor.id,
            or_(col(RoleAssignment.project_id) == project.id, col(RoleAssignment.unit_id).is_not(None)),
            col(RoleAssignment.revoked_at).is_(None),
        )
    ).all()
    return {Role(role) for role in rows}


def _unmet(
    session: Session, project: Project, step: _Step, now: datetime, actor: Person | None, reason: str | None
) -> list[str]:
    """Every condition in the way; ``actor`` or ``reason`` None means "not known yet": not checked."""
    unmet: list[str] = []
    if actor is not None:
        held = actor_roles(session, project, actor)
        if not held.intersection(step.roles):
            allowed = " or ".join(role.value for role in step.roles)
            unmet.append(f"{actor.name} is not {allowed} for {project.code}")
    if step.reason_required and reason is not None and not reason.strip():
        unmet.append("a reason is required")
    if step.transition is not None and step.transition.guards:
        assert project.id is not None
        uses = [(use.guard, dict(guard_params(use))) for use in step.transition.guards]
        unmet.extend(unmet_guards(session_facts(session, project.id, now), uses))
    return unmet


def available_transitions(
    *, session: Session, project: Project, now: datetime, actor: Person | None = None
) -> list[TransitionOption]:
    """Every stage the project may move to next, each with its unmet conditions listed."""
    definition = definition_for(session, project)
    return transition_options(
        _steps(definition, project),
        definition.stage_label,
        lambda step: _unmet(session, project, step, now, actor, reason=None),
    )


def apply_transition(
    *, session: Session, project: Project, to: str, actor: Person, now: datetime, reason: str = ""
) -> WorkflowEvent:
    """Move the project to ``to`` and append the event, in the caller's transaction.

    Raises TransitionRefused (listing every unmet condition) or VersionConflict; either way the
    caller rolls back and nothing is written. ``to`` may be ``resume`` for a suspended project.
    """
    definition = definition_for(session, project)
    steps = _steps(definition, project)
    if to == RESUME:
        if not (definition.suspension and project.stage == definition.suspension.stage):
            raise TransitionRefused(project, to, [f"{project.code} is not suspended"])
        to = project.resume_stage or ""
    step = next((s for s in steps if s.to == to), None)
    if step is None:
        if to not in definition.stage_keys():
            known = ", ".join(definition.stage_keys())
            raise TransitionRefused(project, to, [f"unknown stage {to!r} (stages: {known})"])
        nexts = ", ".join(s.to for s in steps) or "none: the stage is terminal"
        raise TransitionRefused(
            project, to, [f"no transition from {project.stage} to {to} (allowed next: {nexts})"]
        )
    unmet = _unmet(session, project, step, now, actor, reason)
    last = _last_event_time(session, project)
    if last is not None and now < last:
        unmet.append(
            f"the time given ({now.isoformat()}) is before the last recorded event ({last.isoformat()})"
        )
    if unmet:
        raise TransitionRefused(project, to, unmet)

    values: dict[str, object] = {"stage": to, "stage_entered_at": now, "version": project.version + 1}
    suspension = definition.suspension
    if suspension is not None and to == suspension.stage:
        values["resume_stage"] = project.stage
    elif suspension is not None and project.stage == suspension.stage:
        values["resume_stage"] = None
    if step.transition is not None and step.transition.sets is not None:
        values[step.transition.sets] = local_date(now)

    before = project.stage
    if not update_if_unchanged(
        session=session, row=project, unchanged={"version": project.version}, values=values
    ):
        raise VersionConflict(project)
    event = WorkflowEvent(
        project_id=project.id,  # type: ignore[arg-type]
        occurred_at=now,
        actor_id=actor.id,
        actor_name=actor.name,
        from_stage=before,
        to_stage=to,
        reason=reason.strip(),
        definition_version=project.definition_version,
    )
    session.add(event)
    session.flush()
    return event


def _last_event_time(session: Session, project: Project) -> datetime | None:
    return session.exec(
        select(WorkflowEvent.occurred_at)
        .where(col(WorkflowEvent.project_id) == project.id)
        .order_by(col(WorkflowEvent.occurred_at).desc())
        .limit(1)
    ).first()
