"""The ``ducha`` command line. Exit codes: 0 ok, 1 a finding, 2 bad input (with a message)."""

import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ducha.calendar_cli import calendar_app
from ducha.cli_base import (
    AppState,
    AtOption,
    JsonOption,
    ProgrammeOption,
    console,
    keep_deadlines_in_step,
    open_session,
    reports_errors,
    state,
)
from ducha.config import get_settings
from ducha.db import require_current_schema, session_scope, upgrade_to_head
from ducha.deadline_cli import alerts, deadlines_app, sweep_command
from ducha.demo import DEFAULT_DEMO_AT, load_demo
from ducha.inspect_cli import inspect_app, inspections, orders_app, spotcheck_app
from ducha.output import emit_json
from ducha.programme_cli import import_app, programmes_app, workflows_app
from ducha.render import as_of_line, print_board, projects_table
from models import format_yuan
from models.localtime import local
from workflows.board import list_projects, programme_board
from workflows.engine import apply_transition, available_transitions
from workflows.service import (
    documents,
    find_person,
    find_programme,
    find_project,
    history,
    record_document,
)
from workflows.setup import load_builtins

app = typer.Typer(no_args_is_help=True, add_completion=False, help="督查 ducha: supervise and inspect.")
document_app = typer.Typer(no_args_is_help=True, help="Record project documents.")
app.add_typer(programmes_app, name="programmes")
app.add_typer(import_app, name="import")
app.add_typer(document_app, name="document")
app.add_typer(workflows_app, name="workflows")
app.add_typer(calendar_app, name="calendar")
app.add_typer(inspect_app, name="inspect")
app.add_typer(orders_app, name="orders")
app.add_typer(spotcheck_app, name="spotcheck")
app.command("inspections")(reports_errors(inspections))
app.add_typer(deadlines_app, name="deadlines")
app.command("sweep")(reports_errors(sweep_command))
app.command("alerts")(reports_errors(alerts))


@app.command()
@reports_errors
def scheduler(
    ctx: typer.Context,
    sweep_minutes: Annotated[int, typer.Option(min=1, help="Minutes between sweeps.")] = 5,
    misfire_grace: Annotated[
        int, typer.Option(min=1, help="Seconds a missed run may still start late.")
    ] = 3600,
) -> None:
    """Run the embedded scheduler: the sweep every few minutes, the daily deadline job at 06:30."""
    import logging

    from apscheduler.schedulers.blocking import BlockingScheduler

    from ducha.scheduler import configure

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app_state = state(ctx)
    require_current_schema(app_state.engine())
    blocking = BlockingScheduler()
    configure(
        blocking,
        database_url=app_state.settings.database_url,
        sweep_minutes=sweep_minutes,
        misfire_grace_seconds=misfire_grace,
    )
    console.print(
        f"scheduler: sweep every {sweep_minutes} min, daily job at 06:30 Asia/Shanghai; Ctrl-C stops"
    )
    try:
        blocking.start()
    except (KeyboardInterrupt, SystemExit):
        blocking.shutdown(wait=False)


@app.callback()
def root(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Freeze 'now' for every command (ISO 8601). DUCHA_NOW does the same."),
    ] = None,
) -> None:
    """督查 ducha: lifecycle, inspections and deadlines of supervised construction programmes."""
    ctx.obj = AppState(settings=get_settings(), at=at)


# --- set-up --------------------------------------------------------------------------------------


def _initialise(ctx: typer.Context, now: datetime) -> tuple[str | None, str | None, list[str]]:
    engine = state(ctx).engine()
    before, after = upgrade_to_head(engine)
    with session_scope(engine) as session:
        loaded = load_builtins(session=session, now=now)
        session.commit()
    return before, after, loaded


@app.command()
@reports_errors
def init(ctx: typer.Context, at: AtOption = None) -> None:
    """Create or upgrade the database schema and load the built-in workflow definitions."""
    now = state(ctx).clock(at).now()
    before, after, loaded = _initialise(ctx, now)
    url = state(ctx).engine().url.render_as_string(hide_password=True)
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    console.print(f"database {url}: {change} revision {after}; workflows: {', '.join(loaded)}")


@app.command()
@reports_errors
def demo(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """Load the 50-village demo programme (idempotent) and show its board. Illustrative data."""
    now = state(ctx).clock(at, default=DEFAULT_DEMO_AT).now()
    _initialise(ctx, now)
    with open_session(ctx) as session:
        result = load_demo(
            session=session, now=now, store=state(ctx).evidence_store(), calendar=state(ctx).calendar()
        )
        if result.created:
            keep_deadlines_in_step(ctx, session, now, None)
        session.commit()
        board = programme_board(session=session, programme=result.programme, now=now)
    if as_json:
        emit_json(board)
        return
    if result.created:
        console.print(f"demo loaded: {result.programme.name}, {as_of_line(now)}")
    else:
        console.print("demo already loaded: nothing changed")
    print_board(console, board)
    today = local(now).date()
    last_due = max((m.due_date for m in board.milestones), default=today)
    for warning in state(ctx).calendar().warnings_for(today, last_due):
        console.print(f"[yellow]calendar warning:[/yellow] {escape(warning)}")
    console.print(
        "\nThe demo lives in simulated time: keep following it with "
        "DUCHA_NOW=2026-12-10T09:00+08:00 ducha projects (or --at 2026-12-10)."
    )


# --- projects ------------------------------------------------------------------------------------


@app.command()
@reports_errors
def projects(
    ctx: typer.Context,
    programme: ProgrammeOption = None,
    stage: Annotated[str | None, typer.Option(help="Only projects at this stage (e.g. approved).")] = None,
    town: Annotated[str | None, typer.Option(help="Only projects in this town.")] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """List projects with town, village, stage, leader, specialist and budget."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        programme_id = find_programme(session=session, ref=programme).id if programme else None
        rows = list_projects(session=session, programme_id=programme_id, stage=stage, town=town)
    if as_json:
        emit_json({"data": rows, "count": len(rows), "as_of": now})
        return
    console.print(projects_table(rows, f"{len(rows)} projects, {as_of_line(now)}"))


@app.command()
@reports_errors
def board(
    ctx: typer.Context, programme: ProgrammeOption = None, at: AtOption = None, as_json: JsonOption = False
) -> None:
    """The programme board (挂图作战): every project, counts, budget, milestones and laggards."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        result = programme_board(
            session=session, programme=find_programme(session=session, ref=programme), now=now
        )
    if as_json:
        emit_json(result)
    else:
        print_board(console, result)


@app.command()
@reports_errors
def show(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code (P007), village name or id.")],
    programme: ProgrammeOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """One project: stage, history, leader, specialist, budget, documents and what can happen next."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        programme_id = find_programme(session=session, ref=programme).id if programme else None
        found = find_project(session=session, ref=project, programme_id=programme_id)
        assert found.id is not None
        row = list_projects(session=session, programme_id=found.programme_id)
        summary = next(r for r in row if r.id == found.id)
        events = history(session=session, project_id=found.id)
        docs = documents(session=session, project_id=found.id)
        options = available_transitions(session=session, project=found, now=now)
    if as_json:
        emit_json(
            {
                "project": summary,
                "history": [
                    {
                        "id": e.id,
                        "occurred_at": e.occurred_at,
                        "actor_id": e.actor_id,
                        "actor_name": e.actor_name,
                        "from_stage": e.from_stage,
                        "to_stage": e.to_stage,
                        "reason": e.reason,
                    }
                    for e in events
                ],
                "documents": [
                    {"id": d.id, "kind": d.kind, "title": d.title, "recorded_at": d.recorded_at} for d in docs
                ],
                "next": [
                    {
                        "to": o.to,
                        "roles": o.roles,
                        "ready": o.ready,
                        "unmet": o.unmet,
                        "reason_required": o.reason_required,
                    }
                    for o in options
                ],
                "as_of": now,
            }
        )
        return
    console.print(
        f"[bold]{summary.code} {summary.town} {summary.village}[/bold] — {summary.stage_label}"
        f" — {as_of_line(now)}"
    )
    console.print(
        f"leader: {summary.leader_name} {summary.leader_phone or ''}   "
        f"specialist: {summary.specialist_name} {summary.specialist_phone or ''}"
    )
    budget = ", ".join(f"{code} {format_yuan(fen)}" for code, fen in summary.budget_fen.items())
    console.print(f"budget: {budget} = {format_yuan(summary.budget_total_fen)} yuan")
    console.print(
        f"planned {summary.planned_start} → {summary.planned_finish}; started "
        f"{summary.actual_start or '—'}; finished {summary.actual_finish or '—'}; "
        f"workflow {summary.definition_key} v{summary.definition_version}"
    )
    table = Table(title="history", title_justify="left")
    for name in ("when", "who", "from", "to", "reason"):
        table.add_column(name)
    for event in events:
        table.add_row(
            f"{local(event.occurred_at):%Y-%m-%d %H:%M}",
            event.actor_name,
            event.from_stage or "—",
            event.to_stage,
            event.reason,
        )
    console.print(table)
    if docs:
        console.print("documents: " + ", ".join(f"{d.kind} ({d.title})" for d in docs))
    for option in options:
        status = "ready" if option.ready else "blocked: " + "; ".join(option.unmet)
        if option.reason_required:
            status += " (needs --reason)"
        roles = "/".join(role.value for role in option.roles)
        console.print(f"next → {option.label} (by {roles}): {status}")


@app.command()
@reports_errors
def advance(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code (P007), village name or id.")],
    stage: Annotated[str, typer.Argument(help="Stage to move to, or 'resume' for a suspended project.")],
    actor: Annotated[str, typer.Option("--as", help="Who does it: name, phone or id.")],
    reason: Annotated[
        str, typer.Option(help="Why (required for rejection, suspension, failed acceptance).")
    ] = "",
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Move a project to another stage; refused with every unmet condition listed."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        programme_id = find_programme(session=session, ref=programme).id if programme else None
        found = find_project(session=session, ref=project, programme_id=programme_id)
        person = find_person(session=session, ref=actor)
        before = found.stage
        event = apply_transition(
            session=session, project=found, to=stage, actor=person, now=now, reason=reason
        )
        keep_deadlines_in_step(ctx, session, now, [event.project_id])
        session.commit()
    console.print(
        f"{found.code}: {before} → {event.to_stage} by {person.name} at {local(now):%Y-%m-%d %H:%M}"
    )


@document_app.command("add")
@reports_errors
def document_add(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code (P007), village name or id.")],
    kind: Annotated[str, typer.Argument(help="Document kind, e.g. site_plan, land_approval, design.")],
    actor: Annotated[str, typer.Option("--as", help="Who records it: name, phone or id.")],
    title: Annotated[str, typer.Option(help="Title of the document.")] = "",
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Record that a project document exists (guards such as documents_recorded look for it)."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        programme_id = find_programme(session=session, ref=programme).id if programme else None
        found = find_project(session=session, ref=project, programme_id=programme_id)
        person = find_person(session=session, ref=actor)
        record_document(session=session, project=found, kind=kind, title=title, actor=person, now=now)
        session.commit()
    console.print(f"{found.code}: document {kind} recorded by {person.name}")


def main() -> Any:
    """Console-script entry point."""
    return app(prog_name="ducha")


if __name__ == "__main__":
    sys.exit(main())
