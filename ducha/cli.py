"""The ``ducha`` command line. Exit codes: 0 ok, 1 a finding, 2 bad input (with a message)."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from ducha.clock import Clock, clock_from
from ducha.config import Settings, get_settings
from ducha.db import SchemaBehind, make_engine, require_current_schema, session_scope, upgrade_to_head
from ducha.demo import DEFAULT_DEMO_AT, load_demo
from ducha.output import emit_json
from ducha.render import as_of_line, print_board, projects_table
from models import WorkflowDefinitionRecord, format_yuan, parse_yuan
from models.localtime import local
from models.yaml_source import SourceError
from workflows.board import list_programmes, list_projects, programme_board
from workflows.definition import (
    DefinitionConflict,
    UnknownDefinition,
    load_builtin_definitions,
    load_definition,
)
from workflows.engine import TransitionRefused, VersionConflict, apply_transition, available_transitions
from workflows.importer import ImportRejected, import_projects
from workflows.service import (
    Conflict,
    FundingSourceSpec,
    NotFound,
    create_programme,
    documents,
    find_person,
    find_programme,
    find_project,
    history,
    record_document,
)

EXIT_OK, EXIT_FINDING, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(no_args_is_help=True, add_completion=False, help="督查 ducha: supervise and inspect.")
programmes_app = typer.Typer(help="Programmes: list them, or create one.")
import_app = typer.Typer(no_args_is_help=True, help="Import registers (台账) from CSV or XLSX.")
document_app = typer.Typer(no_args_is_help=True, help="Record project documents.")
workflows_app = typer.Typer(help="Workflow definitions: list the loaded ones, or load one.")
app.add_typer(programmes_app, name="programmes")
app.add_typer(import_app, name="import")
app.add_typer(document_app, name="document")
app.add_typer(workflows_app, name="workflows")

# Piped output (CI logs, `| less`) gets a wide page instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Freeze 'now' (ISO 8601; a bare date means 09:00 Asia/Shanghai)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ProgrammeOption = Annotated[str | None, typer.Option("--programme", help="Programme name or id.")]


@dataclass
class AppState:
    """What every command shares: settings, the global --at, and one engine built on demand."""

    settings: Settings
    at: str | None
    _engine: Engine | None = field(default=None, repr=False)

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def clock(self, at: str | None = None, default: str | None = None) -> Clock:
        return clock_from(at or self.at or self.settings.now or default)


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(settings=get_settings(), at=None)
    return root.obj


class BadInput(Exception):
    """A user error with a message ready to print (exit 2)."""


P = ParamSpec("P")
R = TypeVar("R")
BAD_INPUT_ERRORS = (
    BadInput,
    NotFound,
    Conflict,
    SchemaBehind,
    TransitionRefused,
    VersionConflict,
    UnknownDefinition,
    DefinitionConflict,
)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one clear message and exit code 2; nothing is half-written."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ImportRejected as exc:
            for line in exc.lines:
                errors.print(line, markup=False, highlight=False)
            errors.print(f"nothing imported ({len(exc.lines)} problem(s))", markup=False)
        except SourceError as exc:
            for line in exc.lines():
                errors.print(line, markup=False, highlight=False)
        except BAD_INPUT_ERRORS as exc:
            errors.print(f"error: {exc}", markup=False, highlight=False)
        except ValueError as exc:  # bad --at and other malformed values
            errors.print(f"error: {exc}", markup=False, highlight=False)
        except OperationalError as exc:
            errors.print(f"error: database unavailable: {exc.orig}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)

    return wrapper


@contextmanager
def open_session(ctx: typer.Context) -> Iterator[Session]:
    """A session on a database whose schema is current (else a clear refusal)."""
    engine = state(ctx).engine()
    require_current_schema(engine)
    with session_scope(engine) as session:
        yield session


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
        loaded = load_builtin_definitions(session=session, now=now)
        session.commit()
    return before, after, [f"{record.key} v{record.version}" for record in loaded]


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
        result = load_demo(session=session, now=now)
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
    console.print(
        "\nThe demo lives in simulated time: keep following it with "
        "DUCHA_NOW=2026-12-10T09:00+08:00 ducha projects (or --at 2026-12-10)."
    )


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


def main() -> Any:
    """Console-script entry point."""
    return app(prog_name="ducha")


if __name__ == "__main__":
    sys.exit(main())
