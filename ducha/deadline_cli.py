"""Commands for deadlines and alerts: sweep, list, sync, extend, done, waive (the office's "what is late")."""

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from ducha.cli_base import (
    EXIT_FINDING,
    AtOption,
    BadInput,
    JsonOption,
    console,
    open_session,
    reports_errors,
    state,
)
from ducha.output import emit_json
from models import Deadline
from models.calendar import WorkingCalendar
from models.localtime import local
from workflows.alerts import list_alerts, list_deadlines
from workflows.deadline_actions import extend, record_done, waive
from workflows.jobs import daily_job
from workflows.service import find_person, find_project
from workflows.sweep import sweep

deadlines_app = typer.Typer(
    help="Deadlines: list, keep in step with the data, extend, record a cadence done, waive."
)
ActorOption = Annotated[
    str, typer.Option("--as", help="Who does it (the supervision office): name, phone or id.")
]
ProjectFilter = Annotated[
    str | None, typer.Option("--project", help="Only this project (code, village or id).")
]


def sweep_command(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """Raise every escalation level that has come (idempotent: sweeping again adds nothing)."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        result = sweep(session=session, now=now)
        session.commit()
    if as_json:
        emit_json(result)
        return
    levels = ", ".join(f"{name} {count}" for name, count in result.by_level.items()) or "nothing new"
    console.print(f"sweep as of {local(now):%Y-%m-%d %H:%M}: {result.raised} alert(s) raised ({levels})")


@deadlines_app.callback(invoke_without_command=True)
@reports_errors
def deadlines(
    ctx: typer.Context,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only deadlines not yet met, missed or waived.")
    ] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open deadlines past due (exit 1 if any).")
    ] = False,
    project: ProjectFilter = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """List deadlines with their due time, revision and status."""
    if ctx.invoked_subcommand is not None:
        return
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        project_id = find_project(session=session, ref=project).id if project else None
        rows = list_deadlines(
            session=session, now=now, open_only=open_only, overdue_only=overdue, project_id=project_id
        )
    if as_json:
        emit_json({"data": rows, "count": len(rows), "as_of": now})
    else:
        table = Table(title=f"{len(rows)} deadlines, as of {local(now):%Y-%m-%d %H:%M}", title_justify="left")
        for name in ("id", "kind", "title", "due", "rev", "status", ""):
            table.add_column(name)
        for row in rows:
            table.add_row(
                str(row.id),
                row.kind,
                escape(row.title),
                f"{local(row.due_at):%Y-%m-%d %H:%M}",
                str(row.revision),
                row.status,
                "[red]OVERDUE[/red]" if row.overdue else "",
            )
        console.print(table)
    if overdue and rows:
        raise typer.Exit(EXIT_FINDING)


@deadlines_app.command("sync")
@reports_errors
def deadlines_sync(ctx: typer.Context, at: AtOption = None) -> None:
    """Do the daily job now: open the deadlines the data implies, settle those whose event happened,
    and open this period's cadence deadlines (idempotent)."""
    with open_session(ctx) as session:
        result = daily_job(session=session, now=state(ctx).clock(at).now(), calendar=state(ctx).calendar())
    console.print(
        f"deadlines: {result.opened} opened, {result.settled} settled; "
        f"cadences: {result.cadences_opened} opened, {result.cadences_settled} settled"
    )
    for warning in result.warnings:
        console.print(f"[yellow]calendar warning:[/yellow] {escape(warning)}")


@deadlines_app.command("extend")
@reports_errors
def deadlines_extend(
    ctx: typer.Context,
    deadline_id: Annotated[int, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help="New due date (YYYY-MM-DD, end of that day local).")],
    at: AtOption = None,
) -> None:
    """Record an approved extension: a new revision; alerts of the old revision stop."""
    try:
        day = date.fromisoformat(to)
    except ValueError:
        raise BadInput(f"--to {to!r}: give a date as YYYY-MM-DD") from None
    with open_session(ctx) as session:
        deadline = extend(
            session=session,
            deadline=_deadline(session, deadline_id),
            due_at=WorkingCalendar.end_of_day(day),
            calendar=state(ctx).calendar(),
            now=state(ctx).clock(at).now(),
        )
        session.commit()
        revision = deadline.revision
    console.print(f"deadline {deadline_id} extended to {day} (revision {revision})")


@deadlines_app.command("done")
@reports_errors
def deadlines_done(
    ctx: typer.Context,
    deadline_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: ActorOption,
    note: Annotated[
        str | None, typer.Option("--note", help="What was done (kept with the deadline).")
    ] = None,
    at: AtOption = None,
) -> None:
    """Record a cadence done now (the monthly summary sent, the yearly evaluation held): met or missed."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        deadline = record_done(
            session=session,
            deadline=_deadline(session, deadline_id),
            by=find_person(session=session, ref=actor),
            at=now,
            note=note,
        )
        session.commit()
        status = deadline.status
    console.print(f"deadline {deadline_id} {status} at {local(now):%Y-%m-%d %H:%M}")


@deadlines_app.command("waive")
@reports_errors
def deadlines_waive(
    ctx: typer.Context,
    deadline_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the obligation is lifted (required).")],
    at: AtOption = None,
) -> None:
    """Lift an obligation: the deadline is waived and raises nothing more."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        waive(
            session=session,
            deadline=_deadline(session, deadline_id),
            by=find_person(session=session, ref=actor),
            at=now,
            reason=reason,
        )
        session.commit()
    console.print(f"deadline {deadline_id} waived at {local(now):%Y-%m-%d %H:%M}")


def _deadline(session: Session, deadline_id: int) -> Deadline:
    deadline = session.get(Deadline, deadline_id)
    if deadline is None:
        raise BadInput(f"no deadline {deadline_id}")
    return deadline


def alerts(
    ctx: typer.Context,
    level: Annotated[
        str | None, typer.Option(help="Only this level: upcoming, due, overdue, escalated_1…")
    ] = None,
    project: ProjectFilter = None,
    as_json: JsonOption = False,
) -> None:
    """List raised alerts with the people each one tells."""
    with open_session(ctx) as session:
        project_id = find_project(session=session, ref=project).id if project else None
        rows = list_alerts(session=session, level=level, project_id=project_id)
    if as_json:
        emit_json({"data": rows, "count": len(rows)})
        return
    table = Table(title=f"{len(rows)} alerts", title_justify="left")
    for name in ("id", "level", "title", "due", "tells"):
        table.add_column(name)
    for row in rows:
        tells = ", ".join(f"{r.name} ({r.role})" for r in row.recipients) or "—"
        table.add_row(str(row.id), row.level, escape(row.title), f"{local(row.due_at):%Y-%m-%d %H:%M}", tells)
    console.print(table)
