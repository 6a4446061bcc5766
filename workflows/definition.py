"""Workflow definitions: the YAML format, its validation, and where definitions are kept.

Every error names the file, the line and the field.
"""

import json
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session

from models import InspectionKind, Role, WorkflowDefinitionRecord
from models.errors import NotFound, Refused
from models.localtime import days
from models.versioned import SourceVersionConflict, keep_source, newest_source, newest_text
from models.yaml_source import Loc, SourceError, SourceProblem, YamlDocument
from workflows.guards import GUARDS, GuardParams

BUILTIN_DIR = Path(__file__).parent / "definitions"
KEY_PATTERN = r"^[a-z][a-z0-9_-]*$"


class Phase(StrEnum):
    BEFORE = "before"  # 事前
    DURING = "during"  # 事中
    AFTER = "after"  # 事后
    ENDED = "ended"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeLimit(_Strict):
    """How long a project may stay in a stage, in working or calendar days."""

    working_days: int | None = Field(default=None, gt=0)
    calendar_days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> "TimeLimit":
        if (self.working_days is None) == (self.calendar_days is None):
            raise ValueError("give exactly one of working_days or calendar_days")
        return self

    def describe(self) -> str:
        if self.working_days is not None:
            return days(self.working_days, "working day")
        return days(self.calendar_days or 0, "calendar day")


class Stage(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    phase: Phase
    # Kept for definitions written before ``phase: ended`` said it: must agree with the phase.
    terminal: bool | None = None
    time_limit: TimeLimit | None = None

    @model_validator(mode="after")
    def _terminal_is_the_phase(self) -> "Stage":
        if self.terminal is not None and self.terminal != (self.phase == Phase.ENDED):
            raise ValueError("terminal: true goes with phase: ended, and only with it (leave terminal out)")
        return self

    @property
    def ends_project(self) -> bool:
        """Whether a project in this stage is over (closed, rejected): declared as ``phase: ended``."""
        return self.phase == Phase.ENDED


class GuardUse(BaseModel):
    """A guard named in a transition, with its parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    guard: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Transition(_Strict):
    from_: str = Field(alias="from")
    to: str
    roles: list[Role] = Field(min_length=1)
    guards: list[GuardUse] = Field(default_factory=list)
    reason_required: bool = False
    # A project date the transition records: entering construction sets actual_start.
    sets: Literal["actual_start", "actual_finish"] | None = None
    # Signing a failed inspection of this kind, while the project is in ``from``, takes this
    # transition by itself in the signer's name (a failed acceptance sends the project back).
    on_failed_inspection: InspectionKind | None = None


class Suspension(_Strict):
    """暂停: leave any listed stage for ``stage``; resuming returns to the stage left."""

    stage: str = Field(pattern=KEY_PATTERN)
    label: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    from_: list[str] = Field(alias="from", min_length=1)
    roles: list[Role] = Field(min_length=1)


class Milestone(_Strict):
    """A programme milestone, met when a project enters ``stage``; programmes give the date."""

    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    stage: str


class EscalationLevel(_Strict):
    """One rung of the ladder: when, relative to the due time, and who is told."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    # Working days from the due date (negative: before it).
    offset_working_days: int
    # "morning": 09:00 local on that day; "due": the deadline's own time of day on that day.
    at: Literal["morning", "due"] = "due"
    notify: list[Role] = Field(min_length=1)


class Escalation(_Strict):
    """Escalation levels for every deadline of this workflow, with lead times per deadline kind."""

    levels: list[EscalationLevel] = Field(min_length=1)
    # Per deadline kind, a different offset for some levels: {rectification: {upcoming: -1}}.
    lead_times: dict[str, dict[str, int]] = Field(default_factory=dict)

    def offset(self, kind: str, level: EscalationLevel) -> int:
        return self.lead_times.get(kind, {}).get(level.name, level.offset_working_days)


DEADLINE_KINDS = ("milestone", "stage_limit", "rectification", "cadence")


class WorkflowDefinition(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    initial: str
    stages: list[Stage] = Field(min_length=2)
    suspension: Suspension | None = None
    transitions: list[Transition] = Field(min_length=1)
    milestones: list[Milestone] = Field(default_factory=list)
    escalation: Escalation | None = None

    def stage(self, key: str) -> Stage | None:
        return next((stage for stage in self.stages if stage.key == key), None)

    def stage_label(self, key: str) -> str:
        """Chinese label first, English after: 在建 in construction."""
        return self._labels.get(key, key)

    @cached_property
    def _labels(self) -> dict[str, str]:
        """Every stage's label, worked out once per definition (a list labels each of its rows)."""
        labels = {stage.key: f"{stage.label} {stage.label_en}" for stage in self.stages}
        if self.suspension:
            labels[self.suspension.stage] = f"{self.suspension.label} {self.suspension.label_en}"
        return labels

    def stage_keys(self) -> list[str]:
        keys = [stage.key for stage in self.stages]
        return keys + ([self.suspension.stage] if self.suspension else [])

    def transitions_from(self, stage: str) -> Iterator[Transition]:
        return (transition for transition in self.transitions if transition.from_ == stage)

    def milestone(self, key: str) -> Milestone | None:
        return next((milestone for milestone in self.milestones if milestone.key == key), None)

    def ended_stages(self) -> list[str]:
        """The stages that end a project (``phase: ended``)."""
        return [stage.key for stage in self.stages if stage.ends_project]

    def inactive_stages(self) -> list[str]:
        """Stages in which nothing happens on site: the ended ones and the suspension."""
        return self.ended_stages() + ([self.suspension.stage] if self.suspension else [])

    def on_failed_inspection(self, stage: str, kind: InspectionKind) -> Transition | None:
        """The transition a failed inspection of ``kind`` takes from ``stage``, if one is declared."""
        return next((t for t in self.transitions_from(stage) if t.on_failed_inspection == kind), None)


def parse_definition(text: str, source: str, *, stored: bool = False) -> WorkflowDefinition:
    """Parse and validate a definition; raise SourceError listing every problem.

    ``stored``: a definition's kept text, checked in full when it was loaded (read with the faster parser).
    """
    document = YamlDocument(text, source, stored=stored)
    definition = document.validate(WorkflowDefinition)
    problems = list(_semantic_problems(definition, document))
    if problems:
        raise SourceError(source, problems)
    return definition


def _semantic_problems(definition: WorkflowDefinition, doc: YamlDocument) -> Iterator[SourceProblem]:
    seen: set[str] = set()
    for index, stage in enumerate(definition.stages):
        if stage.key in seen:
            yield doc.problem(("stages", index, "key"), f"duplicate stage {stage.key!r}")
        seen.add(stage.key)
    stages = {stage.key: stage for stage in definition.stages}

    def unknown(loc: Loc, key: str) -> SourceProblem:
        return doc.problem(loc, f"unknown stage {key!r} (stages: {', '.join(stages)})")

    if definition.initial not in stages:
        yield unknown(("initial",), definition.initial)
    suspension = definition.suspension
    if suspension is not None:
        if suspension.stage in stages:
            yield doc.problem(
                ("suspension", "stage"), f"{suspension.stage!r} is already a stage; name it apart"
            )
        for index, key in enumerate(suspension.from_):
            if key not in stages:
                yield unknown(("suspension", "from", index), key)
            elif stages[key].ends_project:
                yield doc.problem(("suspension", "from", index), f"{key!r} is terminal")

    pairs: set[tuple[str, str]] = set()
    failing: dict[tuple[str, InspectionKind], int] = {}
    for index, transition in enumerate(definition.transitions):
        loc: Loc = ("transitions", index)
        if transition.from_ not in stages:
            yield unknown((*loc, "from"), transition.from_)
        elif stages[transition.from_].ends_project:
            yield doc.problem((*loc, "from"), f"{transition.from_!r} is terminal: nothing leaves it")
        if transition.to not in stages:
            yield unknown((*loc, "to"), transition.to)
        if transition.from_ == transition.to:
            yield doc.problem((*loc, "to"), "a transition must change the stage")
        pair = (transition.from_, transition.to)
        if pair in pairs:
            yield doc.problem(loc, f"duplicate transition {transition.from_} → {transition.to}")
        pairs.add(pair)
        if transition.on_failed_inspection is not None:
            kind = transition.on_failed_inspection
            if (transition.from_, kind) in failing:
                yield doc.problem(
                    (*loc, "on_failed_inspection"),
                    f"a failed {kind.value} inspection already leaves {transition.from_!r} "
                    f"(transitions[{failing[(transition.from_, kind)]}])",
                )
            failing.setdefault((transition.from_, kind), index)
        for guard_index, use in enumerate(transition.guards):
            yield from _guard_problems(use, (*loc, "guards", guard_index), doc)

    for index, milestone in enumerate(definition.milestones):
        if milestone.stage not in stages:
            yield unknown(("milestones", index, "stage"), milestone.stage)

    if definition.escalation is not None:
        yield from _escalation_problems(definition.escalation, doc)

    if definition.initial in stages:
        reachable = _reachable(definition)
        for index, stage in enumerate(definition.stages):
            if stage.key not in reachable:
                yield doc.problem(
                    ("stages", index, "key"),
                    f"stage {stage.key!r} cannot be reached from {definition.initial!r}",
                )


def _escalation_problems(escalation: Escalation, doc: YamlDocument) -> Iterator[SourceProblem]:
    names: set[str] = set()
    for index, level in enumerate(escalation.levels):
        if level.name in names:
            yield doc.problem(("escalation", "levels", index, "name"), f"duplicate level {level.name!r}")
        names.add(level.name)
    for kind, offsets in escalation.lead_times.items():
        if kind not in DEADLINE_KINDS:
            yield doc.problem(
                ("escalation", "lead_times", kind),
                f"unknown deadline kind {kind!r} (kinds: {', '.join(DEADLINE_KINDS)})",
            )
        for name in offsets:
            if name not in names:
                yield doc.problem(("escalation", "lead_times", kind, name), f"unknown level {name!r}")


def _guard_problems(use: GuardUse, loc: Loc, doc: YamlDocument) -> Iterator[SourceProblem]:
    guard = GUARDS.get(use.guard)
    if guard is None:
        yield doc.problem(
            (*loc, "guard"), f"unknown guard {use.guard!r} (known: {', '.join(sorted(GUARDS))})"
        )
        return
    try:
        guard.params.model_validate(use.params())
    except ValidationError as exc:
        for error in exc.errors():
            sub = tuple(p for p in error["loc"] if isinstance(p, str | int))
            yield doc.problem((*loc, *sub), error["msg"])


def _reachable(definition: WorkflowDefinition) -> set[str]:
    reached = {definition.initial}
    frontier = [definition.initial]
    while frontier:
        current = frontier.pop()
        for transition in definition.transitions_from(current):
            if transition.to not in reached:
                reached.add(transition.to)
                frontier.append(transition.to)
    return reached


def guard_params(use: GuardUse) -> GuardParams:
    """The validated parameters of a guard use (validated once at load time)."""
    return GUARDS[use.guard].params.model_validate(use.params())


def builtin_definition_files() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.yaml"))


DefinitionConflict = SourceVersionConflict


def weakened(before: WorkflowDefinition, after: WorkflowDefinition) -> list[str]:
    """Where ``after`` asks less than ``before``: a guard dropped on a transition both have (or its
    parameters changed, other than a list that only grew: more documents asked for), more roles
    allowed to take it, or a new way into a stage that skips a guard every old way into it had."""
    found: list[str] = []

    def uses(transition: Transition) -> set[str]:
        return {json.dumps({"guard": g.guard, **g.params()}, sort_keys=True) for g in transition.guards}

    def kept(guard: GuardUse, now: list[GuardUse]) -> bool:
        """The guard is still asked for, as much: the same, or a list parameter that only grew."""
        for candidate in now:
            if candidate.guard != guard.guard:
                continue
            old_params, new_params = guard.params(), candidate.params()
            if set(old_params) == set(new_params) and all(
                value == new_params[key]
                or (
                    isinstance(value, list)
                    and isinstance(new_params[key], list)
                    and set(map(str, value)) <= set(map(str, new_params[key]))
                )
                for key, value in old_params.items()
            ):
                return True
        return False

    old = {(t.from_, t.to): t for t in before.transitions}
    for transition in after.transitions:
        step = f"{transition.from_} -> {transition.to}"
        previous = old.get((transition.from_, transition.to))
        if previous is not None:
            for guard in previous.guards:
                if not kept(guard, transition.guards):
                    dropped = json.dumps(
                        {"guard": guard.guard, **guard.params()}, sort_keys=True, ensure_ascii=False
                    )
                    found.append(f"{step}: guard {dropped} of version {before.version} is gone or asks less")
            wider = set(transition.roles) - set(previous.roles)
            if wider:
                found.append(f"{step}: {', '.join(sorted(wider))} may now take it")
            continue
        into = [uses(t) for t in before.transitions if t.to == transition.to]
        common = set.intersection(*into) if into else set()
        for skipped in sorted(common - uses(transition)):
            found.append(f"{step} (new): skips guard {skipped}, which every way into {transition.to} had")
    return found


class WeakerGuards(Refused):
    """A new definition version asks less than the one before it, and nobody said why."""


def load_definition(
    *,
    session: Session,
    text: str,
    source: str,
    now: datetime,
    allow_weaker: bool = False,
) -> WorkflowDefinitionRecord:
    """Validate a definition and keep it; loading the same text again changes nothing.

    A changed definition needs a new version: projects keep the version they started with. A new
    version weaker than the newest one before it (see ``weakened``) is refused unless
    ``allow_weaker`` (the front end records who allowed it, and why).
    """
    definition = parse_definition(text, source)
    if not allow_weaker:
        previous = newest_source(session=session, record_type=WorkflowDefinitionRecord, key=definition.key)
        if previous is not None and previous.version < definition.version:
            weaker = weakened(_parse_cached(previous.source_text, previous.source_name), definition)
            if weaker:
                raise WeakerGuards(
                    f"{source}: version {definition.version} of {definition.key} asks less than version "
                    f"{previous.version}: "
                    + "; ".join(weaker)
                    + " (load it with --allow-weaker-guards --reason R if that is meant)"
                )
    return keep_source(
        session=session,
        record_type=WorkflowDefinitionRecord,
        key=definition.key,
        version=definition.version,
        text=text,
        source=source,
        now=now,
        title=definition.title,
    )


def load_builtin_definitions(*, session: Session, now: datetime) -> list[WorkflowDefinitionRecord]:
    return [
        load_definition(session=session, text=path.read_text(encoding="utf-8"), source=path.name, now=now)
        for path in builtin_definition_files()
    ]


class UnknownDefinition(NotFound):
    """No loaded workflow definition has this key (and version)."""


@lru_cache(maxsize=64)
def _parse_cached(text: str, source: str) -> WorkflowDefinition:
    return parse_definition(text, source, stored=True)


def get_definition(*, session: Session, key: str, version: int | None = None) -> WorkflowDefinition:
    """A loaded definition: the given version, or the newest one."""
    found = newest_text(session=session, record_type=WorkflowDefinitionRecord, key=key, version=version)
    if found is None:
        wanted = f"{key} version {version}" if version is not None else key
        raise UnknownDefinition(f"workflow definition {wanted} is not loaded (run `ducha init`)")
    return _parse_cached(*found)
