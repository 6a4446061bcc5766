"""Commands for the registers: programmes, project imports (台账) and workflow definitions."""

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col, select

from ducha.cli_base import (
    AtOption,
    BadInput,
    JsonOption,
    ProgrammeOption,
    console,
    keep_deadlines_in_step,
    open_session,
    reports_errors,
    state,
)
from ducha.output import emit_json
from models import WorkflowDefinitionRecord, format_yuan, parse_yuan
from models.localtime import local
from workflows.board import list_programmes
from workflows.definition import load_definition
from workflows.importer import import_projects
from workflows.service import FundingSourceSpec, create_programme, find_programme

programmes_app = typer.Typer(help="Programmes: list them, or create one.")
import_app = typer.Typer(no_args_is_help=True, help="Import registers (台账) from CSV or XLSX.")
workflows_app = typer.Typer(help="Workflow definitions: list the loaded ones, or load one.")


# --- programmes ----------------------------------------------------------------------------------


@programmes_app.callback(invoke_without_command=True)
@reports_errors
def programmes(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List programmes with their budget and project count."""
    if ctx.invoked_subcommand is not None:
        return
    with open_session(ctx) as session:
        rows = list_programmes(session=session)
    if as_json:
        emit_json({"data": rows})
        return
    table = Table(title="programmes", title_justify="left")
    for name in ("id", "name", "projects", "budget (yuan)", "milestones"):
        table.add_column(name, justify="right" if name in ("id", "projects", "budget (yuan)") else "left")
    for row in rows:
        due = ", ".join(f"{key} {day}" for key, day in row.milestones.items())
        table.add_row(str(row.id), row.name, str(row.projects), format_yuan(row.budget_total_fen), due)
    console.print(table)


@programmes_app.command("create")
@reports_errors
def programmes_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Programme name.")],
    district: Annotated[str, typer.Option(help="District the programme's villages belong to.")],
    budget: Annotated[
        list[str], typer.Option(help="Funding source as CODE=YUAN or CODE=YUAN=NAME; repeat per source.")
    ],
    milestone: Annotated[
        list[str] | None,
        typer.Option(help="Milestone date as KEY=YYYY-MM-DD, e.g. start_construction=2026-12-31."),
    ] = None,
    workflow: Annotated[str, typer.Option(help="Workflow definition key.")] = "village-venue",
    earmark: Annotated[str, typer.Option(help="What the money may be spent on (专款专用).")] = "",
    at: AtOption = None,
) -> None:
    """Create a programme with its budget per funding source and its milestone dates."""
    sources = []
    for spec in budget:
        code, _, rest = spec.partition("=")
        amount, _, label = rest.partition("=")
        try:
            fen = parse_yuan(amount)
        except ValueError as exc:
            raise BadInput(f"--budget {spec!r}: amount {exc}") from None
        if not code:
            raise BadInput(f"--budget {spec!r}: give CODE=YUAN")
        sources.append(FundingSourceSpec(code=code, name=label or code, amount_fen=fen))
    dates: dict[str, date] = {}
    for spec in milestone or []:
        key, _, day = spec.partition("=")
        try:
            dates[key] = date.fromisoformat(day)
        except ValueError:
            raise BadInput(f"--milestone {spec!r}: give KEY=YYYY-MM-DD") from None
    with open_session(ctx) as session:
        programme = create_programme(
            session=session,
            name=name,
            district=district,
            definition_key=workflow,
            sources=sources,
            milestones=dates,
            earmark=earmark,
            now=state(ctx).clock(at).now(),
        )
        session.commit()
    console.print(f"programme {programme.id} created: {programme.name}")


@import_app.command("projects")
@reports_errors
def import_projects_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX register.")],
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Import projects (town, village, leader, specialist, budget per source, dates), all or nothing."""
    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        target = find_programme(session=session, ref=programme)
        created = import_projects(session=session, path=file, programme=target, now=now)
        keep_deadlines_in_step(ctx, session, now, [p.id for p in created if p.id is not None])
        session.commit()
    codes = f"{created[0].code}…{created[-1].code}" if len(created) > 1 else created[0].code
    console.print(f"{file}: {len(created)} projects imported into {target.name} ({codes})")


# --- workflow definitions ------------------------------------------------------------------------


@workflows_app.callback(invoke_without_command=True)
@reports_errors
def workflows(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the loaded workflow definitions and their versions."""
    if ctx.invoked_subcommand is not None:
        return
    with open_session(ctx) as session:
        records = list(
            session.exec(
                select(WorkflowDefinitionRecord).order_by(
                    col(WorkflowDefinitionRecord.key), col(WorkflowDefinitionRecord.version)
                )
            ).all()
        )
    if as_json:
        emit_json({"data": [record.model_dump(exclude={"source_text"}) for record in records]})
        return
    table = Table(title="workflow definitions", title_justify="left")
    for name in ("key", "version", "title", "source", "loaded"):
        table.add_column(name)
    for record in records:
        table.add_row(
            record.key,
            str(record.version),
            record.title,
            record.source_name,
            f"{local(record.loaded_at):%Y-%m-%d %H:%M}",
        )
    console.print(table)


@workflows_app.command("load")
@reports_errors
def workflows_load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Workflow definition YAML.")],
    at: AtOption = None,
) -> None:
    """Validate and load a workflow definition; new projects use the newest version."""
    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    with open_session(ctx) as session:
        record = load_definition(
            session=session,
            text=file.read_text(encoding="utf-8"),
            source=str(file),
            now=state(ctx).clock(at).now(),
        )
        session.commit()
    console.print(f"{file}: workflow {record.key} version {record.version} loaded")
