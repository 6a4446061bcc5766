"""Named guard predicates for transitions, registered in one place.

A guard returns the unmet conditions in words; an empty list means it holds.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from models import Project, ProjectDocument


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


GUARDS: dict[str, Guard] = {
    guard.name: guard
    for guard in [
        Guard(
            name="documents_recorded",
            description="every listed document kind has been recorded for the project",
            params=DocumentsRecorded,
            check=_documents_recorded,
        ),
    ]
}
