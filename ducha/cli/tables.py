"""Rich tables for people at a terminal; ``--json`` output lives in ducha.cli.json_output.

Data is never read as markup: every value from the database goes through ``cell`` (a village named
``[/]`` must print as itself, not break the table).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from models import format_yuan
from models.listing import Listing
from models.localtime import local
from workflows.board import Board, ProjectRow, days_left


def cell(value: object) -> str | Text:
    """A value from the data, made safe to print in a rich table (a Text is already safe)."""
    if isinstance(value, Text):
        return value
    return escape("" if value is None else str(value))


def late(overdue: bool) -> Text:
    """The marker of an overdue row."""
    return Text("OVERDUE", style="red") if overdue else Text("")


def when(moment: datetime | None) -> str:
    return "—" if moment is None else f"{local(moment):%Y-%m-%d %H:%M}"


def as_of_line(now: datetime) -> str:
    return f"as of {local(now):%Y-%m-%d %H:%M} (Asia/Shanghai)"


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], **justify: str) -> Table:
    """A table whose cells are data (escaped); ``justify`` maps a column to right/left."""
    out = Table(title=escape(title), title_justify="left")
    for name in columns:
        out.add_column(name, justify=justify.get(name, "left"))  # type: ignore[arg-type]
    for row in rows:
        out.add_row(*[cell(value) for value in row])
    return out


def page_note(listing: Listing[Any], shown: int) -> str | None:
    """What a page of a longer list says under the table: which rows, of how many, and how to go on."""
    window = listing.window
    if window.limit is None or (shown < window.limit and window.offset == 0):
        return None
    total = listing.count()
    if total <= shown and window.offset == 0:
        return None
    first, last = window.offset + 1, window.offset + shown
    more = f"; --offset {last} for the next page" if last < total else ""
    return f"rows {first}–{last} of {total}{more} (--limit 0 shows every row)"


def print_page(
    console: Console, listing: Listing[Any], title: str, columns: Sequence[str], row: Any, **justify: str
) -> int:
    """Print one page of a listing as a table, with the note saying which page; return the rows shown."""
    rows = [row(item) for item in listing]
    console.print(table(title, columns, rows, **justify))
    note = page_note(listing, len(rows))
    if note:
        console.print(note, highlight=False)
    return len(rows)


def project_cells(row: ProjectRow) -> list[object]:
    return [
        row.code,
        row.town,
        row.village,
        row.stage_label,
        row.leader_name or "—",
        row.specialist_name or "—",
        row.planned_start.isoformat(),
        row.actual_start.isoformat() if row.actual_start else "—",
        format_yuan(row.budget_total_fen),
    ]


PROJECT_COLUMNS = (
    "code",
    "town",
    "village",
    "stage",
    "leader",
    "specialist",
    "planned start",
    "started",
    "budget (yuan)",
)


def print_projects(console: Console, listing: Listing[ProjectRow], title: str) -> None:
    print_page(console, listing, title, PROJECT_COLUMNS, project_cells, **{"budget (yuan)": "right"})


def print_board(console: Console, board: Board) -> None:
    programme = board.programme
    label = "  (illustrative data: invented names, places and progress)" if programme.illustrative else ""
    console.print(f"[bold]{escape(programme.name)}[/bold]  —  {as_of_line(board.as_of)}{escape(label)}")
    console.print(f"earmark: {escape(programme.earmark)}", highlight=False)
    print_projects(console, board.projects, f"{board.project_count} projects")

    stages = [s for s in board.stage_order if board.by_stage.get(s)]
    console.print(
        table(
            "projects per stage",
            ("stage", "projects"),
            [*((board.stage_labels[s], board.by_stage[s]) for s in stages), ("total", board.project_count)],
            projects="right",
        )
    )
    console.print(
        table(
            "projects per town and stage",
            ("town", *(board.stage_labels[s] for s in stages), "total"),
            [
                (town, *(counts[s] for s in stages), sum(counts.values()))
                for town, counts in board.by_town.items()
            ],
            **{board.stage_labels[s]: "right" for s in stages},
            total="right",
        )
    )
    console.print(
        table(
            "budget by funding source (yuan)",
            ("source", "programme", "allocated to projects", "unallocated"),
            [
                *(
                    (
                        line.name,
                        format_yuan(line.programme_fen),
                        format_yuan(line.allocated_fen),
                        format_yuan(line.unallocated_fen),
                    )
                    for line in board.budget
                ),
                (
                    "total",
                    format_yuan(board.budget_total_fen),
                    format_yuan(board.allocated_total_fen),
                    format_yuan(board.budget_total_fen - board.allocated_total_fen),
                ),
            ],
            programme="right",
            **{"allocated to projects": "right", "unallocated": "right"},
        )
    )
    for milestone in board.milestones:
        left = days_left(due=milestone.due_date, now=board.as_of)
        due = f"{left} days left" if left >= 0 else f"{-left} days overdue"
        console.print(
            f"milestone {escape(milestone.title)} ({escape(milestone.title_en)}) by {milestone.due_date}: "
            f"{milestone.reached} reached, {milestone.not_reached} not yet — {due}",
            highlight=False,
        )
    if board.not_started_count:
        print_projects(
            console, board.not_started, f"{board.not_started_count} projects have not started construction"
        )
    else:
        console.print("every project has started construction")
