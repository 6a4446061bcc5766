"""Named guard predicates for transitions, registered in one place: their parameters (validated
when a definition is loaded) and the facts they read on a session.

What each guard decides is ``workflows.guard_rules``: ``ducha show`` without SQLAlchemy
(``workflows.lean_show``) feeds the same rules the same facts, from the same statements compiled ahead.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import import_module
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from models import InspectionKind, ProjectDocument
from models.compiled import Compiled
from models.types import table_of
from workflows.guard_rules import RULES, GuardFacts


class GuardParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Guard:
    name: str
    description: str
    params: type[GuardParams]
    # The rule (workflows.guard_rules.RULES): the facts, then the parameters' fields by name.
    check: Callable[..., list[str]]


class DocumentsRecorded(GuardParams):
    documents: list[str] = Field(min_length=1)


class InspectionPassed(GuardParams):
    kind: InspectionKind


class NoParams(GuardParams):
    pass


GUARDS: dict[str, Guard] = {
    guard.name: guard
    for guard in [
        Guard(
            name="documents_recorded",
            description="every listed document kind has been recorded for the project",
            params=DocumentsRecorded,
            check=RULES["documents_recorded"],
        ),
        Guard(
            name="inspection_passed",
            description="the current signed inspection of the given kind passed",
            params=InspectionPassed,
            check=RULES["inspection_passed"],
        ),
        Guard(
            name="no_open_orders",
            description="the project has no open rectification orders",
            params=NoParams,
            check=RULES["no_open_orders"],
        ),
    ]
}


@cache
def document_kinds_statement() -> Compiled:
    """The kinds of document recorded for the project ``project_id``."""
    document = table_of(ProjectDocument).c
    return Compiled(sa_select(document.kind).where(document.project_id == bindparam("project_id")))


# The statements the guards' facts come from (workflows.guard_rules.GuardFacts), by name: where each is
# built (imported when a guard first runs: a definition is read far more often than a guard runs).
# Compiled ahead under the same names for ``ducha show`` (workflows.ahead).
FACT_STATEMENTS: dict[str, tuple[str, str]] = {
    "guard_document_kinds": ("workflows.guards", "document_kinds_statement"),
    "guard_current_signed": ("inspections.queries", "current_signed_statement"),
    "guard_open_orders": ("inspections.orders", "open_order_ids_statement"),
}


def fact_statement(name: str) -> Compiled:
    module, function = FACT_STATEMENTS[name]
    built: Compiled = getattr(import_module(module), function)()
    return built


def session_facts(session: Session, project_id: int, now: datetime) -> GuardFacts:
    """The guards' facts about a project, read in ``session`` (seeing what it has not committed)."""

    def read(name: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return fact_statement(name).all(session, parameters)

    return GuardFacts(read, project_id, now)
