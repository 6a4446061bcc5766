"""``ducha show`` without SQLAlchemy, SQLModel or pydantic: one project in full.

The statements ``workflows.reads.project_detail`` runs (compiled ahead: ``workflows.ahead``), on a
driver connection (``models.raw``), making the same rows (``workflows.show_rows``); what can happen
next is worked out by the same code (``workflows.next_steps``), its guards decided by the same rules
on the same facts read by the same statements (``workflows.guard_rules``). Whatever this module
cannot do exactly as the full path would (a project not found, or not once; a stored definition
whose transitions or guard parameters are not plainly what validating it gives) raises ``NotAhead``
before anything is printed, and the command takes the full path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from models.kinds import InspectionKind, Role
from models.raw import NotAhead, RawReader
from workflows import lean_reads
from workflows.board_rows import project_rows
from workflows.guard_rules import GuardFacts, Reads, unmet_guards
from workflows.lean_reads import statement
from workflows.next_steps import Step, next_steps, transition_options
from workflows.show_rows import (
    ProjectDetail,
    document_lines,
    history_lines,
)

GuardUses = tuple[tuple[str, Mapping[str, Any]], ...]


@dataclass(frozen=True)
class _Leaving:
    """A stored definition's transition, as ``workflows.definition.Transition`` validates it."""

    from_: str
    to: str
    roles: list[Role]
    reason_required: bool
    guards: GuardUses


@dataclass(frozen=True)
class _Suspending:
    """A stored definition's suspension, as ``workflows.definition.Suspension`` validates it."""

    stage: str
    from_: list[str]
    roles: list[Role]


def reads(reader: RawReader) -> Reads:
    """Statements compiled ahead, by name, run on ``reader`` (an aware time bound as ``UTCDateTime``
    binds it: every time the show statements take is compared with such a column)."""

    def read(name: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        bound = {
            key: reader.utc(value) if isinstance(value, datetime) else value
            for key, value in parameters.items()
        }
        return reader.all(statement(reader, name, parameters), bound)

    return read


def project_detail(reader: RawReader, *, now: datetime, project: str, programme: str | None) -> ProjectDetail:
    """As ``workflows.reads.project_detail``, when it finds exactly one project."""
    read = reads(reader)
    programme_id = lean_reads.find_programme(reader, programme).id if programme else None
    shown = lean_reads.find_project(reader, project, programme_id)
    by_id = {"project_id": shown.id}
    rows = read("show_project", by_id)
    if len(rows) != 1:  # removed in between: the full path says so
        raise NotAhead("the project is gone")

    def label(key: str, version: int, stage: str) -> str:
        return lean_reads.get_definition(reader, key, version).stage_label(stage)

    [row] = [project_rows(label)(found_row) for found_row in rows]
    history = history_lines(read("show_history", by_id))
    documents = document_lines(read("show_documents", by_id))
    definition = lean_reads.get_definition(reader, shown.definition_key, shown.definition_version)
    versioned = {"key": shown.definition_key, "version": shown.definition_version}
    text = reader.first(statement(reader, "definition_version", versioned), versioned)
    if text is None:
        raise NotAhead("the definition is gone")
    transitions, suspension = _moves(text[0])
    facts = GuardFacts(read, shown.id, now)

    def unmet(step: Step) -> list[str]:
        return [] if step.transition is None else unmet_guards(facts, step.transition.guards)

    steps = next_steps(transitions, suspension, shown.stage, shown.resume_stage)
    return ProjectDetail(
        project=row,
        history=history,
        documents=documents,
        next=transition_options(steps, definition.stage_label, unmet),
    )


@cache
def _moves(text: str) -> tuple[list[_Leaving], _Suspending | None]:
    """A stored definition's transitions and suspension (checked in full when it was loaded, read with
    the C parser as ``workflows.definition`` reads a stored one); NotAhead where a value is not
    plainly what validating it would give (a ``reason_required: 1``, say)."""
    import yaml

    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    if not isinstance(data, dict) or not isinstance(data.get("transitions"), list):
        raise NotAhead("no transitions")
    transitions = [_leaving(transition) for transition in data["transitions"]]
    suspension = data.get("suspension")
    return transitions, None if suspension is None else _suspending(suspension)


def _leaving(transition: Any) -> _Leaving:
    if not isinstance(transition, dict):
        raise NotAhead("a transition is not a mapping")
    reason_required = transition.get("reason_required", False)
    guards = transition.get("guards", [])
    if type(reason_required) is not bool or not isinstance(guards, list):
        raise NotAhead("a transition's reason_required or guards")
    uses = []
    for use in guards:
        if not isinstance(use, dict) or not isinstance(use.get("guard"), str):
            raise NotAhead("a guard use")
        name = use["guard"]
        uses.append((name, plain_params(name, {key: value for key, value in use.items() if key != "guard"})))
    return _Leaving(
        from_=_text(transition.get("from")),
        to=_text(transition.get("to")),
        roles=_roles(transition.get("roles")),
        reason_required=reason_required,
        guards=tuple(uses),
    )


def _suspending(suspension: Any) -> _Suspending:
    if not isinstance(suspension, dict) or not isinstance(suspension.get("from"), list):
        raise NotAhead("the suspension")
    return _Suspending(
        stage=_text(suspension.get("stage")),
        from_=[_text(stage) for stage in suspension["from"]],
        roles=_roles(suspension.get("roles")),
    )


def _text(value: Any) -> str:
    if type(value) is not str:
        raise NotAhead(f"{value!r} is not plainly text")
    return value


def _roles(values: Any) -> list[Role]:
    if not isinstance(values, list) or not values:
        raise NotAhead("roles")
    return [_member(Role, value) for value in values]


def _member(kind: type[Role] | type[InspectionKind], value: Any) -> Any:
    if type(value) is not str or value not in kind._value2member_map_:
        raise NotAhead(f"{value!r} is not a {kind.__name__}")
    return kind(value)


def plain_params(name: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """A guard use's parameters, as its pydantic model (``workflows.guards``) validates them, when
    they are plainly that already: a stored definition was validated when it was loaded."""
    if name == "documents_recorded" and set(params) == {"documents"}:
        documents = params["documents"]
        if isinstance(documents, list) and documents and all(type(kind) is str for kind in documents):
            return {"documents": list(documents)}
    elif name == "inspection_passed" and set(params) == {"kind"}:
        return {"kind": _member(InspectionKind, params["kind"])}
    elif name == "no_open_orders" and not params:
        return {}
    raise NotAhead(f"guard {name} with {sorted(params)}")
