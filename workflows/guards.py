"""Named guard predicates for transitions, registered in one place.

A guard returns the unmet conditions in words; an empty list means it holds.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from models import InspectionKind, Project, ProjectDocument


@dataclass(frozen=True)
class GuardContext:
    """What a guard may look at."""

    session: Session
    project: Project
    now: datetime


class GuardParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Guard:
    name: str
    description: str
    params: type[GuardParams]
    check: Callable[[GuardContext, Any], list[str]]


class DocumentsRecorded(GuardParams):
    documents: list[str] = Field(min_length=1)


def _documents_recorded(context: GuardContext, params: DocumentsRecorded) -> list[str]:
    recorded = set(
        context.session.exec(
            select(ProjectDocument.kind).where(col(ProjectDocument.project_id) == context.project.id)
        ).all()
    )
    missing = [kind for kind in params.documents if kind not in recorded]
    if not missing:
        return []
    return [f"required document not recorded: {', '.join(missing)}"]


class InspectionPassed(GuardParams):
    kind: InspectionKind


def _inspection_passed(context: GuardContext, params: InspectionPassed) -> list[str]:
    # Imported here: a definition is read (a list's stage labels) far more often than a guard runs.
    from inspections.queries import current_signed, passed

    assert context.project.id is not None
    latest = current_signed(
        session=context.session, project_id=context.project.id, kind=params.kind, as_of=context.now
    )
    if passed(latest):
        return []
    label = params.kind.value.replace("_", "-")
    if latest is None:
        return [f"no signed {label} inspection"]
    return [f"the latest {label} inspection (#{latest.id}) did not pass: {latest.outcome}"]


class NoParams(GuardParams):
    pass


def _no_open_orders(context: GuardContext, params: NoParams) -> list[str]:
    from inspections.orders import open_orders

    assert context.project.id is not None
    orders = open_orders(session=context.session, project_id=context.project.id)
    if not orders:
        return []
    ids = ", ".join(f"#{order.id}" for order in orders)
    return [f"{len(orders)} rectification order(s) still open: {ids}"]


GUARDS: dict[str, Guard] = {
    guard.name: guard
    for guard in [
        Guard(
            name="documents_recorded",
            description="every listed document kind has been recorded for the project",
            params=DocumentsRecorded,
            check=_documents_recorded,
        ),
        Guard(
            name="inspection_passed",
            description="the current signed inspection of the given kind passed",
            params=InspectionPassed,
            check=_inspection_passed,
        ),
        Guard(
            name="no_open_orders",
            description="the project has no open rectification orders",
            params=NoParams,
            check=_no_open_orders,
        ),
    ]
}
