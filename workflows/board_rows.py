"""The board's and the project list's rows, without SQLAlchemy: the CLI's read commands that run
without it (``workflows.lean_reads``) make the same rows as ``workflows.board``, and print them with
the same code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from models.localtime import local_date
from models.window import Streamed

if TYPE_CHECKING:
    from models import Programme


@dataclass(frozen=True)
class ProjectRow:
    # list_projects makes these with their fields set by name, at once: a field added here goes there.
    id: int
    code: str
    programme_id: int
    town: str
    village: str
    stage: str
    stage_label: str
    leader_id: int | None
    leader_name: str | None
    leader_phone: str | None
    specialist_id: int | None
    specialist_name: str | None
    specialist_phone: str | None
    budget_fen: dict[str, int]
    budget_total_fen: int
    planned_start: date
    planned_finish: date
    actual_start: date | None
    actual_finish: date | None
    definition_key: str
    definition_version: int
    version: int


def _budget(lines: str | None) -> tuple[dict[str, int], int]:
    """The budget by funding source code, in the sources' order, and its total, from ``_budget_lines``."""
    if not lines:
        return {}, 0
    parts = lines.split(",")
    if len(parts) > 1:
        parts.sort()
    budget, total = {}, 0
    for part in parts:
        _, code, text = part.split(":")
        budget[code] = fen = int(text)
        total += fen
    return budget, total


@dataclass(frozen=True)
class BudgetLine:
    code: str
    name: str
    programme_fen: int
    allocated_fen: int

    @property
    def unallocated_fen(self) -> int:
        return self.programme_fen - self.allocated_fen


@dataclass(frozen=True)
class MilestoneLine:
    key: str
    title: str
    title_en: str
    stage: str
    due_date: date
    reached: int
    not_reached: int


@dataclass(frozen=True)
class Board:
    """Everything the office needs on one page for one programme, as of one moment.

    ``projects`` and ``not_started`` stream: iterate each once, inside the session that read them.
    """

    programme: Programme | Any  # a table row, or workflows.lean_reads.ProgrammeInfo (the CLI's lean reads)
    as_of: datetime
    project_count: int
    projects: Streamed[ProjectRow]
    stage_order: list[str]
    stage_labels: dict[str, str]
    by_stage: dict[str, int]
    by_town: dict[str, dict[str, int]]
    budget: list[BudgetLine]
    milestones: list[MilestoneLine]
    not_started: Streamed[ProjectRow]
    not_started_count: int

    @property
    def budget_total_fen(self) -> int:
        return sum(line.programme_fen for line in self.budget)

    @property
    def allocated_total_fen(self) -> int:
        return sum(line.allocated_fen for line in self.budget)


def days_left(*, due: date, now: datetime) -> int:
    """Calendar days from today (local) to a due date; negative once it has passed."""
    return (due - local_date(now)).days
