"""Commands for the registers: programmes, project imports (台账) and workflow definitions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ducha.cli.common import (
    ActorOption,
    AtOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    ProgrammeOption,
    actor,
    console,
    context,
    lean_read,
    window,
)
from models.errors import BadInput

if TYPE_CHECKING:
    from workflows.board_rows import ProgrammeRow
    from workflows.programmes import FundingSourceSpec

programmes_app = typer.Typer(help="Programmes: list them, or create one.")
import_app = typer.Typer(no_args_is_help=True, help="Import registers (台账) from CSV or XLSX.")
workflows_app = typer.Typer(help="Workflow definitions: list the loaded ones, or load one.")


@programmes_app.callback(invoke_without_command=True)
def programmes(
    ctx: typer.Context,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List programmes with their budget and project count."""
    if ctx.invoked_subcommand is not None:
        return
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page
    from models.money import format_yuan
    from models.window import Streamed

    app = context(ctx)
    now = app.now(at)
    created_by = app.as_of(at)
    shown = window(limit, offset, as_json=as_json)

    def emit(listing: Streamed[ProgrammeRow]) -> None:
        if as_json:
            emit_list(listing, as_of=now)
            return

        def cells(row: ProgrammeRow) -> list[object]:
            due = ", ".join(f"{key} {day}" for key, day in row.milestones.items())
            return [row.id, row.name, row.projects, format_yuan(row.budget_total_fen), due]

        print_page(
            console(),
            listing,
            "programmes",
            ("id", "name", "projects", "budget\n(yuan)", "milestones"),
            cells,
            id="right",
            projects="right",
            **{"budget\n(yuan)": "right"},
        )

    from workflows import lean_reads

    with lean_read(
        app, lambda reader: lean_reads.list_programmes(reader, created_by=created_by, window=shown)
    ) as lean:
        if lean is not None:
            emit(lean)
            return
    from workflows.board import list_programmes

    with app.reading() as session:
        emit(list_programmes(session=session, created_by=created_by, window=shown))


def _sources(budget: list[str]) -> list[FundingSourceSpec]:
    from models import parse_yuan
    from workflows.programmes import FundingSourceSpec

    sources: list[FundingSourceSpec] = []
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
    return sources


def _milestones(milestone: list[str]) -> dict[str, date]:
    dates: dict[str, date] = {}
    for spec in milestone:
        key, _, day = spec.partition("=")
        try:
            dates[key] = date.fromisoformat(day)
        except ValueError:
            raise BadInput(f"--milestone {spec!r}: give KEY=YYYY-MM-DD") from None
    return dates


@programmes_app.command("create")
def programmes_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Programme name.")],
    district: Annotated[str, typer.Option(help="District the programme's villages belong to.")],
    budget: Annotated[
        list[str], typer.Option(help="Funding source as CODE=YUAN or CODE=YUAN=NAME; repeat per source.")
    ],
    actor_ref: ActorOption,
    milestone: Annotated[
        list[str] | None,
        typer.Option(help="Milestone date as KEY=YYYY-MM-DD, e.g. start_construction=2026-12-31."),
    ] = None,
    workflow: Annotated[str, typer.Option(help="Workflow definition key.")] = "village-venue",
    earmark: Annotated[str, typer.Option(help="What the money may be spent on (专款专用).")] = "",
    at: AtOption = None,
) -> None:
    """Create a programme with its budget per funding source and its milestone dates (admin or office)."""
    from workflows.actions import start_programme

    sources = _sources(budget)
    dates = _milestones(milestone or [])
    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        programme = start_programme(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            name=name,
            district=district,
            workflow=workflow,
            sources=sources,
            milestones=dates,
            earmark=earmark,
        )
    console().print(f"programme {programme.id} created: {programme.name}", markup=False)


@import_app.command("projects")
def import_projects_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX register.")],
    actor_ref: ActorOption,
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Import projects (town, village, leader, specialist, budget per source, dates), all or nothing
    (admin or office)."""
    from workflows.actions import import_register, read_register_file

    app = context(ctx)
    now = app.now(at)
    with app.reading() as session:  # read and check the file first, holding no lock
        register = read_register_file(session=session, path=file, programme=programme)
    with app.transaction(now=now) as tx:
        imported = import_register(
            session=tx.session,
            now=now,
            calendar=app.calendar,
            actor=actor(tx.session, actor_ref),
            path=file,
            register=register,
        )
    created = imported.projects
    codes = f"{created[0].code}…{created[-1].code}" if len(created) > 1 else created[0].code
    console().print(
        f"{file}: {len(created)} projects imported into {imported.programme.name} ({codes})", markup=False
    )


@workflows_app.callback(invoke_without_command=True)
def workflows(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """List the loaded workflow definitions and their versions."""
    if ctx.invoked_subcommand is not None:
        return
    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import table, when
    from workflows import lean_reads

    app = context(ctx)
    loaded_by = app.as_of(at)
    with lean_read(app, lambda reader: lean_reads.workflow_definitions(reader, loaded_by=loaded_by)) as lean:
        rows = lean
    if rows is None:
        from workflows.reads import workflow_definitions

        with app.reading() as session:
            rows = workflow_definitions(session=session, loaded_by=loaded_by)
    if as_json:
        emit_json({"data": rows, "count": len(rows)})
        return
    console().print(
        table(
            "workflow definitions",
            ("key", "version", "title", "source", "loaded"),
            [(r.key, r.version, r.title, r.source_name, when(r.loaded_at)) for r in rows],
        )
    )


@workflows_app.command("load")
def workflows_load(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Workflow definition YAML.")],
    actor_ref: ActorOption,
    allow_weaker_guards: Annotated[
        bool,
        typer.Option(
            "--allow-weaker-guards",
            help="Load a version that drops a guard of the one before (needs --reason).",
        ),
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    at: AtOption = None,
) -> None:
    """Validate and load a workflow definition; new projects use the newest version (admin or office)."""
    from workflows.actions import load_workflow

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        record = load_workflow(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            path=file,
            allow_weaker_guards=allow_weaker_guards,
            reason=reason,
        )
    console().print(f"{file}: workflow {record.key} version {record.version} loaded", markup=False)
