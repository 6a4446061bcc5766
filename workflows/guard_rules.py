"""What each guard decides, over the facts it needs, without SQLAlchemy or pydantic.

Both read paths feed the same facts through the same statements: the lifecycle engine
(``workflows.guards``: compiled statements on its session) and ``ducha show`` without SQLAlchemy
(``workflows.lean_show``: the same statements compiled ahead, on a driver connection). A guard's
rule is written once, here, and returns the unmet conditions in words; an empty list means it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from models.kinds import InspectionKind, Outcome

# Runs the statement of this name (``workflows.guards.FACT_STATEMENTS``) with these parameters.
Reads = Callable[[str, Mapping[str, Any]], list[tuple[Any, ...]]]

# Passing counts with or without rectification; the orders are a separate guard.
PASSING = frozenset({Outcome.PASS, Outcome.PASS_WITH_RECTIFICATION})


class GuardFacts:
    """What the guards look at for one project at one moment; each fact read when first asked."""

    def __init__(self, read: Reads, project_id: int, now: datetime) -> None:
        self._read = read
        self.project_id = project_id
        self.now = now
        self._kinds: set[str] | None = None
        self._signed: dict[InspectionKind, tuple[int, str] | None] = {}
        self._orders: list[int] | None = None

    def document_kinds(self) -> set[str]:
        """The kinds of document recorded for the project."""
        if self._kinds is None:
            rows = self._read("guard_document_kinds", {"project_id": self.project_id})
            self._kinds = {kind for (kind,) in rows}
        return self._kinds

    def current_signed(self, kind: InspectionKind) -> tuple[int, str] | None:
        """The id and outcome of the latest inspection of ``kind`` signed by now that no correction
        signed by now supersedes (``inspections.queries.current_signed``)."""
        if kind not in self._signed:
            parameters = {"project_id": self.project_id, "kind": kind.value, "as_of": self.now}
            rows = self._read("guard_current_signed", parameters)
            self._signed[kind] = (rows[0][0], rows[0][1]) if rows else None
        return self._signed[kind]

    def open_order_ids(self) -> list[int]:
        """The project's rectification orders not closed, in due order."""
        if self._orders is None:
            self._orders = [
                order_id for (order_id,) in self._read("guard_open_orders", {"project_id": self.project_id})
            ]
        return self._orders


def documents_recorded(facts: GuardFacts, *, documents: Sequence[str]) -> list[str]:
    recorded = facts.document_kinds()
    missing = [kind for kind in documents if kind not in recorded]
    if not missing:
        return []
    return [f"required document not recorded: {', '.join(missing)}"]


def inspection_passed(facts: GuardFacts, *, kind: InspectionKind) -> list[str]:
    latest = facts.current_signed(kind)
    if latest is not None and latest[1] in PASSING:
        return []
    label = kind.value.replace("_", "-")
    if latest is None:
        return [f"no signed {label} inspection"]
    return [f"the latest {label} inspection (#{latest[0]}) did not pass: {latest[1]}"]


def no_open_orders(facts: GuardFacts) -> list[str]:
    orders = facts.open_order_ids()
    if not orders:
        return []
    ids = ", ".join(f"#{order_id}" for order_id in orders)
    return [f"{len(orders)} rectification order(s) still open: {ids}"]


# Each guard's rule, by the name a definition gives it; its keyword arguments are the guard's
# parameters (``workflows.guards``: their pydantic models, validated when a definition is loaded).
RULES: dict[str, Callable[..., list[str]]] = {
    "documents_recorded": documents_recorded,
    "inspection_passed": inspection_passed,
    "no_open_orders": no_open_orders,
}


def unmet_guards(facts: GuardFacts, uses: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Every unmet condition of the guards ``uses`` names (each with its validated parameters)."""
    unmet: list[str] = []
    for name, parameters in uses:
        unmet.extend(RULES[name](facts, **parameters))
    return unmet
