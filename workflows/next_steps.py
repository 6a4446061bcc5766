"""Where a project may go next from its stage, without SQLAlchemy or pydantic: the lifecycle engine
(``workflows.engine``, over a validated definition) and ``ducha show`` without SQLAlchemy
(``workflows.lean_show``, over the stored definition read as it is) work the steps out here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.kinds import Role


@dataclass(frozen=True)
class TransitionOption:
    """A stage the project could move to now, and what stands in the way."""

    to: str
    label: str
    roles: list[Role]
    reason_required: bool
    unmet: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.unmet


class Leaving(Protocol):
    """A definition's transition, as far as the steps need it."""

    @property
    def from_(self) -> str: ...
    @property
    def to(self) -> str: ...
    @property
    def roles(self) -> list[Role]: ...
    @property
    def reason_required(self) -> bool: ...


class Suspending(Protocol):
    """A definition's suspension, as far as the steps need it."""

    @property
    def stage(self) -> str: ...
    @property
    def from_(self) -> Sequence[str]: ...
    @property
    def roles(self) -> list[Role]: ...


@dataclass(frozen=True)
class Step:
    """A resolved move: an ordinary transition (``transition``: the definition's own), a suspension
    or a resume (no transition)."""

    to: str
    roles: list[Role]
    reason_required: bool
    transition: Any | None


def next_steps(
    transitions: Iterable[Leaving], suspension: Suspending | None, stage: str, resume_stage: str | None
) -> list[Step]:
    """The moves out of ``stage``: its transitions in the definition's order, then suspending (from a
    stage that may be suspended) or resuming (a suspended project, to the stage it left)."""
    steps = [Step(t.to, t.roles, t.reason_required, t) for t in transitions if t.from_ == stage]
    if suspension is not None:
        if stage in suspension.from_:
            steps.append(Step(suspension.stage, suspension.roles, True, None))
        elif stage == suspension.stage and resume_stage:
            steps.append(Step(resume_stage, suspension.roles, False, None))
    return steps


def transition_options(
    steps: Iterable[Step], label: Callable[[str], str], unmet: Callable[[Step], list[str]]
) -> list[TransitionOption]:
    """Each step as the option a person sees: the stage's label, who may take it, what is in the way."""
    return [
        TransitionOption(
            to=step.to,
            label=label(step.to),
            roles=step.roles,
            reason_required=step.reason_required,
            unmet=unmet(step),
        )
        for step in steps
    ]
