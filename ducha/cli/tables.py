"""Rich tables for people at a terminal; ``--json`` output lives in ducha.cli.json_output.

Data is never read as markup: every value from the database goes through ``cell`` (a village named
``[/]`` must print as itself, not break the table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.markup import escape

from ducha.cli import text_table
from models.localtime import days, local
from models.money import format_yuan
from models.window import Streamed
from workflows.board_rows import Board, ProjectRow, days_left

if TYPE_CHECKING:  # rich's table and text only when a table needs rich to lay it out
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text


def cell(value: object) -> str | Text:
    """A value from the data, made safe to print in a rich table (a Text is already safe)."""
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return escape("" if value is None else str(value))


def late(overdue: bool) -> Text:
    """The marker of an overdue row."""
    from rich.text import Text

    return Text("OVERDUE", style="red") if overdue else Text("")


def when(moment: datetime | None) -> str:
    return "—" if moment is None else f"{local(moment):%Y-%m-%d %H:%M}"


def as_of_line(now: datetime) -> str:
    return f"as of {local(now):%Y-%m-%d %H:%M} (Asia/Shanghai)"


# Money, dates, times, ids and codes: a column of these is never wrapped or cut, even at 80 columns.
_WHOLE = re.compile(r"^[0-9A-Z,.:+\-–— ]*$")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], **justify: str) -> Table:
    """A table whose cells are data (escaped); ``justify`` maps a column to right/left.

    On a narrow terminal the text columns wrap; a column of numbers keeps its width.
    """
    from rich.table import Table

    out = Table(title=escape(title), title_justify="left")
    cells = [[cell(value) for value in row] for row in rows]
    for index, name in enumerate(columns):
        texts = [str(row[index]) for row in cells if index < len(row)]
        whole = bool(texts) and all(_WHOLE.match(text) for text in texts)
        width = max(cell_len(text) for text in texts) if whole else None  # the heading may wrap
        out.add_column(
            name,
            justify=justify.get(name, "left"),  # type: ignore[arg-type]
            no_wrap=whole,
            min_width=width,
            overflow="fold",
        )
    for row in cells:
        out.add_row(*row)
    return out


def print_table(
    console: Console, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], **justify: str
) -> None:
    """Print ``table(title, columns, rows, **justify)``: written directly when it is plain text that
    fits (the same text rich would write; see ducha.cli.text_table), else laid out by rich."""
    rows = list(rows)
    text = text_table.render(console, title, columns, rows, justify)
    if text is None:
        console.print(table(title, columns, rows, **justify))
    else:
        # Through the console (not its file), so that a capture or a recording sees it too.
        console.out(text, end="", highlight=False)


def page_note(listing: Streamed[Any], shown: int) -> str | None:
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
    console: Console, listing: Streamed[Any], title: str, columns: Sequence[str], row: Any, **justify: str
) -> int:
    """Print one page of a listing as a table, with the note saying which page; return the rows shown."""
    rows = [row(item) for item in listing]
    print_table(console, title, columns, rows, **justify)
    note = page_note(listing, len(rows))
    if note:
        console.print(note, highlight=False)
    return len(rows)


def project_cells(row: ProjectRow, shared: AbstractSet[str] = frozenset()) -> list[object]:
    """A project's cells; a name two people share on the page is shown with the person's phone."""

    def who(name: str | None, phone: str | None) -> str:
        if name is None:
            return "—"
        return f"{name} ({phone})" if name in shared and phone else name

    return [
        row.code,
        row.town,
        row.village,
        row.stage_label,
        who(row.leader_name, row.leader_phone),
        who(row.specialist_name, row.specialist_phone),
        row.planned_start.isoformat(),
        row.actual_start.isoformat() if row.actual_start else "—",
        format_yuan(row.budget_total_fen),
    ]


# Two-line headings, so that a narrow terminal keeps its width for the names.
PROJECT_COLUMNS = (
    "code",
    "town",
    "village",
    "stage",
    "leader",
    "specialist",
    "planned\nstart",
    "started",
    "budget\n(yuan)",
)


def shared_names(rows: Sequence[ProjectRow]) -> set[str]:
    """Names held by more than one person among these rows' leaders and specialists."""
    people: dict[str, set[int]] = {}
    for row in rows:
        for name, person in ((row.leader_name, row.leader_id), (row.specialist_name, row.specialist_id)):
            if name is not None and person is not None:
                people.setdefault(name, set()).add(person)
    return {name for name, ids in people.items() if len(ids) > 1}


def print_projects(console: Console, listing: Streamed[ProjectRow], title: str) -> None:
    rows = list(listing)
    shared = shared_names(rows)
    print_table(
        console,
        title,
        PROJECT_COLUMNS,
        [project_cells(r, shared) for r in rows],
        **{"budget\n(yuan)": "right"},
    )
    note = page_note(listing, len(rows))
    if note:
        console.print(note, highlight=False)


def print_board(console: Console, board: Board) -> None:
    programme = board.programme
    label = "  (illustrative data: invented names, places and progress)" if programme.illustrative else ""
    console.print(f"[bold]{escape(programme.name)}[/bold]  —  {as_of_line(board.as_of)}{escape(label)}")
    console.print(f"earmark: {escape(programme.earmark)}", highlight=False)
    print_projects(console, board.projects, f"{board.project_count} projects")

    stages = [s for s in board.stage_order if board.by_stage.get(s)]
    print_table(
        console,
        "projects per stage",
        ("stage", "projects"),
        [*((board.stage_labels[s], board.by_stage[s]) for s in stages), ("total", board.project_count)],
        projects="right",
    )
    print_table(
        console,
        "projects per town and stage",
        ("town", *(board.stage_labels[s] for s in stages), "total"),
        [
            (town, *(counts[s] for s in stages), sum(counts.values()))
            for town, counts in board.by_town.items()
        ],
        **{board.stage_labels[s]: "right" for s in stages},
        total="right",
    )
    print_table(
        console,
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
    for milestone in board.milestones:
        left = days_left(due=milestone.due_date, now=board.as_of)
        due = f"{days(left)} left" if left >= 0 else f"{days(-left)} overdue"
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
