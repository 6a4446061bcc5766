"""Projects: the board (挂图作战), the list, one project in full, moving a project on, its documents."""

from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from datetime import datetime

    from models.raw import RawReader
    from workflows.show_rows import ProjectDetail

ProjectArgument = Annotated[str, typer.Argument(help="Project code (P007), village name or id.")]
document_app = typer.Typer(no_args_is_help=True, help="Record project documents.")


def projects(
    ctx: typer.Context,
    programme: ProgrammeOption = None,
    stage: Annotated[str | None, typer.Option(help="Only projects at this stage (e.g. approved).")] = None,
    town: Annotated[str | None, typer.Option(help="Only projects in this town.")] = None,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List projects with town, village, stage, leader, specialist and budget."""
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import as_of_line, print_projects

    app = context(ctx)
    now = app.now(at)
    shown = window(limit, offset, as_json=as_json)
    from workflows import lean_reads

    def lean_list(reader: "RawReader") -> Any:
        programme_id = lean_reads.find_programme(reader, programme).id if programme else None
        return lean_reads.list_projects(
            reader, programme_id=programme_id, stage=stage, town=town, window=shown
        )

    with lean_read(app, lean_list) as lean:
        if lean is not None:
            if as_json:
                emit_list(lean, as_of=now)
            else:
                print_projects(console(), lean, f"{lean.count()} projects, {as_of_line(now)}")
            return
    from workflows.board import list_projects
    from workflows.programmes import find_programme

    with app.reading() as session:
        programme_id = find_programme(session=session, ref=programme).id if programme else None
        listing = list_projects(
            session=session,
            programme_id=programme_id,
            stage=stage,
            town=town,
            window=shown,
        )
        if as_json:
            emit_list(listing, as_of=now)
        else:
            print_projects(console(), listing, f"{listing.count()} projects, {as_of_line(now)}")


def board(
    ctx: typer.Context,
    programme: ProgrammeOption = None,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """The programme board (挂图作战): every project, counts, budget, milestones and laggards."""
    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import print_board

    app = context(ctx)
    now = app.now(at)
    shown = window(limit, offset, as_json=as_json)
    # Without SQLAlchemy (workflows.lean_reads), unless it cannot; the JSON holds the programme's
    # table row whole.
    from workflows import lean_reads

    def lean_board(reader: "RawReader") -> Any:
        found = lean_reads.find_programme(reader, programme)
        whole = lean_reads.whole_programme(reader, found) if as_json else found
        return lean_reads.programme_board(reader, programme=whole, now=now, window=shown)

    with lean_read(app, lean_board) as lean:
        if lean is not None:
            if as_json:
                emit_json(lean)
            else:
                print_board(console(), lean)
            return
    from workflows.board import programme_board
    from workflows.programmes import find_programme

    with app.reading() as session:
        result = programme_board(
            session=session,
            programme=find_programme(session=session, ref=programme),
            now=now,
            window=shown,
        )
        if as_json:
            emit_json(result)
        else:
            print_board(console(), result)


def show(
    ctx: typer.Context,
    project: ProjectArgument,
    programme: ProgrammeOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """One project: stage, history, leader, specialist, budget, documents and what can happen next."""
    app = context(ctx)
    now = app.now(at)
    # Without SQLAlchemy (workflows.lean_show), unless it cannot.
    from workflows import lean_show

    def lean_detail(reader: "RawReader") -> "ProjectDetail":
        return lean_show.project_detail(reader, now=now, project=project, programme=programme)

    with lean_read(app, lean_detail) as lean:
        if lean is not None:
            _print_detail(lean, now, as_json=as_json)
            return
    from workflows.reads import project_detail

    with app.reading() as session:
        detail = project_detail(session=session, now=now, project=project, programme=programme)
    _print_detail(detail, now, as_json=as_json)


def _print_detail(detail: "ProjectDetail", now: "datetime", *, as_json: bool) -> None:
    from rich.markup import escape

    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import as_of_line, table
    from models import format_yuan
    from models.localtime import local

    summary = detail.project
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
                    for e in detail.history
                ],
                "documents": [
                    {"id": d.id, "kind": d.kind, "title": d.title, "recorded_at": d.recorded_at}
                    for d in detail.documents
                ],
                "next": [
                    {
                        "to": o.to,
                        "roles": o.roles,
                        "ready": o.ready,
                        "unmet": o.unmet,
                        "reason_required": o.reason_required,
                    }
                    for o in detail.next
                ],
                "as_of": now,
            }
        )
        return
    out = console()
    out.print(
        f"[bold]{escape(f'{summary.code} {summary.town} {summary.village}')}[/bold] — "
        f"{escape(summary.stage_label)} — {as_of_line(now)}"
    )
    out.print(
        f"leader: {summary.leader_name} {summary.leader_phone or ''}   "
        f"specialist: {summary.specialist_name} {summary.specialist_phone or ''}",
        markup=False,
        highlight=False,
    )
    budget = ", ".join(f"{code} {format_yuan(fen)}" for code, fen in summary.budget_fen.items())
    out.print(f"budget: {budget} = {format_yuan(summary.budget_total_fen)} yuan", markup=False)
    out.print(
        f"planned {summary.planned_start} → {summary.planned_finish}; started "
        f"{summary.actual_start or '—'}; finished {summary.actual_finish or '—'}; "
        f"workflow {summary.definition_key} v{summary.definition_version}",
        markup=False,
    )
    out.print(
        table(
            "history",
            ("when", "who", "from", "to", "reason"),
            [
                (
                    f"{local(e.occurred_at):%Y-%m-%d %H:%M}",
                    e.actor_name,
                    e.from_stage or "—",
                    e.to_stage,
                    e.reason,
                )
                for e in detail.history
            ],
        )
    )
    if detail.documents:
        out.print("documents: " + ", ".join(f"{d.kind} ({d.title})" for d in detail.documents), markup=False)
    for option in detail.next:
        status = "ready" if option.ready else "blocked: " + "; ".join(option.unmet)
        if option.reason_required:
            status += " (needs --reason)"
        roles = "/".join(role.value for role in option.roles)
        out.print(f"next → {option.label} (by {roles}): {status}", markup=False)


def advance(
    ctx: typer.Context,
    project: ProjectArgument,
    stage: Annotated[str, typer.Argument(help="Stage to move to, or 'resume' for a suspended project.")],
    actor_ref: ActorOption,
    reason: Annotated[
        str, typer.Option(help="Why (required for rejection, suspension, failed acceptance).")
    ] = "",
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Move a project to another stage; refused with every unmet condition listed."""
    from models.localtime import local
    from workflows.actions import advance_project

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        person = actor(tx.session, actor_ref)
        done = advance_project(
            session=tx.session,
            now=now,
            calendar=app.calendar,
            actor=person,
            project=project,
            to=stage,
            reason=reason,
            programme=programme,
        )
    console().print(
        f"{done.project.code}: {done.from_stage} → {done.event.to_stage} by {person.name} "
        f"at {local(now):%Y-%m-%d %H:%M}",
        markup=False,
    )


@document_app.command("add")
def document_add(
    ctx: typer.Context,
    project: ProjectArgument,
    kind: Annotated[str, typer.Argument(help="Document kind, e.g. site_plan, land_approval, design.")],
    actor_ref: ActorOption,
    title: Annotated[str, typer.Option(help="Title of the document.")] = "",
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Record that a project document exists (guards such as documents_recorded look for it)."""
    from workflows.actions import add_document

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        person = actor(tx.session, actor_ref)
        added = add_document(
            session=tx.session,
            now=now,
            actor=person,
            project=project,
            kind=kind,
            title=title,
            programme=programme,
        )
    console().print(f"{added.project.code}: document {kind} recorded by {person.name}", markup=False)
