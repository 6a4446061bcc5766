"""Rich tables for people at a terminal; ``--json`` output lives in ducha.output."""

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models import format_yuan
from models.localtime import local
from workflows.board import Board, ProjectRow, days_left


def as_of_line(now: datetime) -> str:
    return f"as of {local(now):%Y-%m-%d %H:%M} (Asia/Shanghai)"


def projects_table(rows: Sequence[ProjectRow], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("code", "town", "village", "stage", "leader", "specialist", "planned start", "started"):
        table.add_column(name, no_wrap=name in ("code", "planned start", "started"))
    table.add_column("budget (yuan)", justify="right")
    for row in rows:
        table.add_row(
            row.code,
            row.town,
            row.village,
            row.stage_label,
            row.leader_name or "—",
            row.specialist_name or "—",
            row.planned_start.isoformat(),
            row.actual_start.isoformat() if row.actual_start else "—",
            format_yuan(row.budget_total_fen),
        )
    return table


def print_board(console: Console, board: Board) -> None:
    programme = board.programme
    label = "  (illustrative data: invented names, places and progress)" if programme.illustrative else ""
    console.print(f"[bold]{escape(programme.name)}[/bold]  —  {as_of_line(board.as_of)}{escape(label)}")
    console.print(f"earmark: {escape(programme.earmark)}", highlight=False)
    console.print(projects_table(board.projects, f"{len(board.projects)} projects"))

    stages = [s for s in board.stage_order if board.by_stage.get(s)]
    by_stage = Table(title="projects per stage", title_justify="left")
    by_stage.add_column("stage")
    by_stage.add_column("projects", justify="right")
    for stage in stages:
        by_stage.add_row(board.stage_labels[stage], str(board.by_stage[stage]))
    by_stage.add_row("[bold]total[/bold]", f"[bold]{len(board.projects)}[/bold]")
    console.print(by_stage)

    by_town = Table(title="projects per town and stage", title_justify="left")
    by_town.add_column("town")
    for stage in stages:
        by_town.add_column(board.stage_labels[stage], justify="right")
    by_town.add_column("total", justify="right")
    for town, counts in board.by_town.items():
        by_town.add_row(town, *[str(counts[s]) for s in stages], str(sum(counts.values())))
    console.print(by_town)

    budget = Table(title="budget by funding source (yuan)", title_justify="left")
    for name in ("source", "programme", "allocated to projects", "unallocated"):
        budget.add_column(name, justify="left" if name == "source" else "right")
    for line in board.budget:
        budget.add_row(
            line.name,
            format_yuan(line.programme_fen),
            format_yuan(line.allocated_fen),
            format_yuan(line.unallocated_fen),
        )
    budget.add_row(
        "[bold]total[/bold]",
        f"[bold]{format_yuan(board.budget_total_fen)}[/bold]",
        f"[bold]{format_yuan(board.allocated_total_fen)}[/bold]",
        format_yuan(board.budget_total_fen - board.allocated_total_fen),
    )
    console.print(budget)

    for milestone in board.milestones:
        left = days_left(due=milestone.due_date, now=board.as_of)
        when = f"{left} days left" if left >= 0 else f"{-left} days overdue"
        console.print(
            f"milestone {milestone.title} ({milestone.title_en}) by {milestone.due_date}: "
            f"{milestone.reached} reached, {milestone.not_reached} not yet — {when}"
        )
    if board.not_started:
        console.print(
            projects_table(
                board.not_started, f"{len(board.not_started)} projects have not started construction"
            )
        )
    else:
        console.print("every project has started construction")
