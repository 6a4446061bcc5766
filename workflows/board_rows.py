"""The board's and the project list's rows, without SQLAlchemy: the CLI's read commands that run
without it (``workflows.lean_reads``) make the same rows as ``workflows.board``, and print them with
the same code."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


# Budgets kept per list while they repeat: a programme's projects mostly get the same standard
# allocation, and a budget's text parsed once is copied for the next row that has it (a 500,000-row
# list keeps at most this many, so it still streams in the memory of a batch).
BUDGETS_KEPT = 256


def project_rows(label: Callable[[str, int, str], str]) -> Callable[[Any], ProjectRow]:
    """What makes a ``ProjectRow`` of one row of ``workflows.board``'s project list; ``label`` gives
    a stage's label by (definition key, version, stage), each worked out once per list."""
    labels: dict[tuple[str, int, str], str] = {}
    budgets: dict[str, tuple[dict[str, int], int]] = {}
    new, set_ = object.__new__, object.__setattr__

    def row(found: Any) -> ProjectRow:
        (
            project_id, code, programme, stage_key, planned_start, planned_finish, actual_start,
            actual_finish, definition_key, definition_version, version, village_name, town_name,
            lead_id, lead, lead_phone, spec_id, spec, spec_phone, lines,
        ) = found  # fmt: skip
        parsed = budgets.get(lines)
        if parsed is None:
            parsed = _budget(lines)
            if len(budgets) < BUDGETS_KEPT:
                budgets[lines] = parsed
        stage_label = labels.get((definition_key, definition_version, stage_key))
        if stage_label is None:
            stage_label = labels[(definition_key, definition_version, stage_key)] = label(
                definition_key, definition_version, stage_key
            )
        # A frozen dataclass's __init__ sets each of its 22 fields through object.__setattr__: a
        # third of the time of a list of 500,000 projects. Its attributes are set at once instead.
        made = new(ProjectRow)
        set_(made, "__dict__", {
            "id": project_id, "code": code, "programme_id": programme, "town": town_name,
            "village": village_name, "stage": stage_key, "stage_label": stage_label,
            "leader_id": lead_id, "leader_name": lead, "leader_phone": lead_phone,
            "specialist_id": spec_id, "specialist_name": spec, "specialist_phone": spec_phone,
            "budget_fen": parsed[0].copy(), "budget_total_fen": parsed[1],
            "planned_start": planned_start, "planned_finish": planned_finish,
            "actual_start": actual_start, "actual_finish": actual_finish,
            "definition_key": definition_key, "definition_version": definition_version, "version": version,
        })  # fmt: skip
        return made

    return row


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


@dataclass(frozen=True)
class TownTally:
    """A board's counts from its rows of (town, stage, projects, of them not started)."""

    by_town: dict[str, dict[str, int]]
    by_stage: dict[str, int]
    not_started_count: int
    total: int


def tally_towns(rows: Iterable[Any], stage_order: list[str], ended: Iterable[str]) -> TownTally:
    """Counts per town and stage, per stage, not started (outside the ended stages), and in all."""
    ended_stages = frozenset(ended)
    by_town: dict[str, dict[str, int]] = {}
    by_stage = dict.fromkeys(stage_order, 0)
    not_started_count = 0
    for town, stage, count, not_started_here in rows:
        by_town.setdefault(town, dict.fromkeys(stage_order, 0))[stage] = count
        by_stage[stage] = by_stage.get(stage, 0) + count
        if stage not in ended_stages:
            not_started_count += not_started_here
    return TownTally(dict(sorted(by_town.items())), by_stage, not_started_count, sum(by_stage.values()))


def make_board(
    *,
    programme: Any,
    now: datetime,
    tally: TownTally,
    stage_order: list[str],
    stage_label: Callable[[str], str],
    budget_rows: Iterable[Any],
    declared: Iterable[tuple[str, str, str, str, date]],
    reached: Mapping[str, int],
    projects: Streamed[ProjectRow],
    not_started: Streamed[ProjectRow],
) -> Board:
    """The board from what its reads found, whichever path read them (``workflows.board`` through
    SQLAlchemy, ``workflows.lean_reads`` without): ``declared`` milestones as (key, title, title_en,
    stage, due date), ``reached`` the projects whose history entered each stage."""
    return Board(
        programme=programme,
        as_of=now,
        project_count=tally.total,
        projects=projects,
        stage_order=stage_order,
        stage_labels={stage: stage_label(stage) for stage in stage_order},
        by_stage=tally.by_stage,
        by_town=tally.by_town,
        budget=[
            BudgetLine(code, name, amount, int(allocated)) for code, name, amount, allocated in budget_rows
        ],
        milestones=[
            MilestoneLine(
                key=key,
                title=title,
                title_en=title_en,
                stage=stage,
                due_date=due_date,
                reached=reached.get(stage, 0),
                not_reached=tally.total - reached.get(stage, 0),
            )
            for key, title, title_en, stage, due_date in declared
        ],
        not_started=not_started,
        not_started_count=tally.not_started_count,
    )


def days_left(*, due: date, now: datetime) -> int:
    """Calendar days from today (local) to a due date; negative once it has passed."""
    return (due - local_date(now)).days


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    name: str
    definition_key: str
    earmark: str
    illustrative: bool
    projects: int
    budget_fen: dict[str, int]
    budget_total_fen: int
    milestones: dict[str, date]


def programme_row(found: Any) -> ProgrammeRow:
    """A programme's row of the list from ``workflows.board._programmes_statement``'s columns (both
    paths: SQLAlchemy's and ``workflows.lean_reads``)."""
    programme_id, name, definition_key, earmark, illustrative, count, budget_lines, milestone_lines = found
    budget, total = _budget(budget_lines)
    due = sorted(
        (date.fromisoformat(day), key)
        for key, day in (line.split(":") for line in (milestone_lines or "").split(",") if line)
    )
    return ProgrammeRow(
        id=programme_id,
        name=name,
        definition_key=definition_key,
        earmark=earmark,
        illustrative=illustrative,
        projects=int(count),
        budget_fen=budget,
        budget_total_fen=total,
        milestones={key: day for day, key in due},
    )
