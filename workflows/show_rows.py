"""One project in full (``ducha show``, the API's and the web's project detail), made without
SQLAlchemy: ``workflows.reads.project_detail`` (on a session) and ``workflows.lean_show`` (the same
statements compiled ahead, on a driver connection) read the same columns and make their rows here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.text import reference
from workflows.board_rows import ProjectRow
from workflows.next_steps import TransitionOption


def project_ref_parameters(ref: str, programme_id: int | None) -> dict[str, Any]:
    """The parameters of ``workflows.projects.project_ref_statement`` for a project reference someone
    typed: a code (P007, any case), a village name or an id; BadInput if no name can be it."""
    ref = reference(ref, field="project")
    parameters: dict[str, Any] = {
        "code": ref.upper(),
        "name": ref,
        "ref_id": int(ref) if ref.isdecimal() and len(ref) < 10 else -1,
    }
    if programme_id is not None:
        parameters["programme_id"] = programme_id
    return parameters


@dataclass(frozen=True)
class ShownProject:
    """What ``ducha show`` and ``ducha audit trail`` need of the project found (a row of
    ``project_ref_statement``)."""

    id: int
    code: str
    stage: str
    resume_stage: str | None
    definition_key: str
    definition_version: int
    programme_id: int
    name: str


@dataclass(frozen=True)
class HistoryLine:
    """One stage change of the project (``models.WorkflowEvent``): who, when, from, to, why."""

    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    from_stage: str | None
    to_stage: str
    reason: str


@dataclass(frozen=True)
class DocumentLine:
    """A document recorded for the project (``models.ProjectDocument``)."""

    id: int
    kind: str
    title: str
    recorded_at: datetime


@dataclass(frozen=True)
class ProjectDetail:
    """One project: its row, its history, its documents and what can happen next."""

    project: ProjectRow
    history: list[HistoryLine]
    documents: list[DocumentLine]
    next: list[TransitionOption]


def history_lines(rows: list[Any]) -> list[HistoryLine]:
    """The lines of ``workflows.projects.history_statement``'s rows."""
    return [HistoryLine(*row) for row in rows]


def document_lines(rows: list[Any]) -> list[DocumentLine]:
    """The lines of ``workflows.projects.documents_statement``'s rows."""
    return [DocumentLine(*row) for row in rows]
