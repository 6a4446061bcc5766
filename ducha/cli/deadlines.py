"""Deadlines and alerts: sweep, list, sync, extend, done, waive (the office's "what is late")."""

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ducha.cli.common import (
    EXIT_FINDING,
    AtOption,
    IdArgument,
    JsonOption,
    LimitOption,
    OffsetOption,
    actor,
    console,
    context,
    lean_read,
    warn_provisional,
    window,
)
from models.errors import BadInput

if TYPE_CHECKING:
    from workflows.alert_rows import AlertRow, DeadlineRow

deadlines_app = typer.Typer(
    help="Deadlines: list, keep in step with the data, extend, record a cadence done, waive."
)
OfficeOption = Annotated[
    str, typer.Option("--as", help="Who does it (the supervision office): name, phone or id.")
]
ProjectFilter = Annotated[
    str | None, typer.Option("--project", help="Only this project (code, village or id).")
]
DeadlineArgument = IdArgument


def sweep_command(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """Raise every escalation level that has come (idempotent: sweeping again adds nothing)."""
    from ducha.cli.json_output import emit_json
    from ducha.jobs import run_job
    from models.localtime import local
    from workflows.jobs import sweep_job

    app = context(ctx)
    job = run_job(sweep_job, app, app.now(at))
    result = job.sweep
    warn_provisional(app, [local(result.as_of).year])
    if as_json:
        emit_json(
            {
                "as_of": result.as_of,
                "raised": result.raised,
                "by_level": result.by_level,
                "by_kind": result.by_kind,
                "no_recipient": job.unreachable,
                "notices": job.notices.notices,
                "notices_passed": job.notices.passed,
            }
        )
        return
    levels = ", ".join(f"{name} {count}" for name, count in result.by_level.items()) or "nothing new"
    console().print(
        f"sweep as of {local(result.as_of):%Y-%m-%d %H:%M}: {result.raised} alert(s) raised ({levels})",
        markup=False,
    )
    if job.notices.notices:
        passed = (
            f", {job.notices.passed} passed (a higher level told the same person)"
            if job.notices.passed
            else ""
        )
        # A sweep in its own time (--at) is dispatched in the same time: a plain ``ducha dispatch``
        # runs as of now and would find these notices not yet due.
        dispatch = "ducha dispatch"
        if at or app.at:
            dispatch += f" --at {local(result.as_of).isoformat(timespec='minutes')}"
        console().print(
            f"{job.notices.notices} notice(s) written{passed}: {dispatch} sends them", markup=False
        )
    if job.unreachable:
        console().print(
            f"{job.unreachable} of them tell nobody (nobody holds the roles they tell): see ducha check",
            markup=False,
        )


@deadlines_app.callback(invoke_without_command=True)
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
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List deadlines with their due time, revision and status."""
    if ctx.invoked_subcommand is not None:
        return
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import late, print_page, when
    from models.localtime import local

    app = context(ctx)
    now = app.now(at)
    shown = window(limit, offset, as_json=as_json)
    years: set[int] = set()

    def seen(row: "DeadlineRow") -> "DeadlineRow":
        years.add(local(row.due_at).year)
        return row

    def emit(listing: Any) -> int:  # a Listing or a lean_reads.LeanRows of DeadlineRow
        if as_json:
            emit_list(listing.map(seen), as_of=now)
            return int(listing.count())

        def cells(row: "DeadlineRow") -> list[object]:
            seen(row)
            return [
                row.id,
                row.kind,
                row.title,
                when(row.due_at),
                row.revision,
                row.status,
                late(row.overdue),
            ]

        return print_page(
            console(),
            listing,
            f"{listing.count()} deadlines, as of {when(now)}",
            ("id", "kind", "title", "due", "rev", "status", ""),
            cells,
        )

    from workflows import lean_reads

    found: int | None = None
    with lean_read(
        app,
        lambda reader: lean_reads.list_deadlines(
            reader,
            now=now,
            open_only=open_only,
            overdue_only=overdue,
            project_id=lean_reads.find_project(reader, project).id if project else None,
            window=shown,
        ),
    ) as lean:
        if lean is not None:
            found = emit(lean)
    if found is None:
        from workflows.alerts import list_deadlines
        from workflows.projects import find_project

        with app.reading() as session:
            project_id = find_project(session=session, ref=project).id if project else None
            found = emit(
                list_deadlines(
                    session=session,
                    now=now,
                    open_only=open_only,
                    overdue_only=overdue,
                    project_id=project_id,
                    window=shown,
                )
            )
    warn_provisional(app, {*years, local(now).year})
    if overdue and found:
        raise typer.Exit(EXIT_FINDING)


@deadlines_app.command("sync")
def deadlines_sync(ctx: typer.Context, at: AtOption = None) -> None:
    """Do the daily job now: open the deadlines the data implies, settle those whose event happened,
    and open this period's cadence deadlines (idempotent)."""
    from rich.markup import escape

    from ducha.jobs import run_job
    from models.localtime import local
    from workflows.jobs import daily_job

    app = context(ctx)
    result = run_job(daily_job, app, app.now(at))
    warn_provisional(app, [local(result.as_of).year])
    out = console()
    out.print(
        f"deadlines: {result.opened} opened, {result.settled} settled; "
        f"cadences: {result.cadences_opened} opened, {result.cadences_settled} settled"
    )
    for warning in result.warnings:
        out.print(f"[yellow]calendar warning:[/yellow] {escape(warning)}")
    if result.warnings:  # a period left out: the cron job running this must notice
        raise typer.Exit(EXIT_FINDING)


@deadlines_app.command("extend")
def deadlines_extend(
    ctx: typer.Context,
    deadline_id: DeadlineArgument,
    to: Annotated[str, typer.Option("--to", help="New due date (YYYY-MM-DD, end of that day local).")],
    actor_ref: Annotated[
        str, typer.Option("--as", help="Who approves it (the office or leadership): name, phone or id.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the extension was approved (required).")],
    at: AtOption = None,
) -> None:
    """Record an approved extension: a new revision with who approved it and why; alerts of the old
    revision stop, and the order behind it is due then too."""
    from workflows.actions import extend_deadline

    try:
        day = date.fromisoformat(to)
    except ValueError:
        raise BadInput(f"--to {to!r}: give a date as YYYY-MM-DD") from None
    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        deadline = extend_deadline(
            session=tx.session,
            now=now,
            calendar=app.calendar,
            actor=actor(tx.session, actor_ref),
            deadline_id=deadline_id,
            to=day,
            reason=reason,
        )
        revision = deadline.revision
    console().print(f"deadline {deadline_id} extended to {day} (revision {revision})")


@deadlines_app.command("done")
def deadlines_done(
    ctx: typer.Context,
    deadline_id: DeadlineArgument,
    actor_ref: OfficeOption,
    note: Annotated[
        str | None, typer.Option("--note", help="What was done (kept with the deadline).")
    ] = None,
    at: AtOption = None,
) -> None:
    """Record a cadence done now (the monthly summary sent, the yearly evaluation held): met or missed."""
    from models.localtime import local
    from workflows.actions import record_deadline_done

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        deadline = record_deadline_done(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            deadline_id=deadline_id,
            note=note,
        )
        status = deadline.status
    console().print(f"deadline {deadline_id} {status} at {local(now):%Y-%m-%d %H:%M}")


@deadlines_app.command("waive")
def deadlines_waive(
    ctx: typer.Context,
    deadline_id: DeadlineArgument,
    actor_ref: OfficeOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the obligation is lifted (required).")],
    at: AtOption = None,
) -> None:
    """Lift an obligation: the deadline is waived and raises nothing more."""
    from models.localtime import local
    from workflows.actions import waive_deadline

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        waive_deadline(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            deadline_id=deadline_id,
            reason=reason,
        )
    console().print(f"deadline {deadline_id} waived at {local(now):%Y-%m-%d %H:%M}")


def alerts(
    ctx: typer.Context,
    level: Annotated[
        str | None, typer.Option(help="Only this level: upcoming, due, overdue, escalated_1…")
    ] = None,
    project: ProjectFilter = None,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List raised alerts with the people each one tells (those raised by --at, when given)."""
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page, when
    from models.localtime import local

    app = context(ctx)
    now = app.now(at)
    until = app.as_of(at)
    shown = window(limit, offset, as_json=as_json)
    years: set[int] = set()

    def seen(row: "AlertRow") -> "AlertRow":
        years.add(local(row.level_at).year)
        return row

    def emit(listing: Any) -> None:  # a Listing or a lean_reads.LeanRows of AlertRow
        if as_json:
            emit_list(listing.map(seen), as_of=now)
            return

        def cells(row: "AlertRow") -> list[object]:
            seen(row)
            tells = ", ".join(f"{r.name} ({r.role})" for r in row.recipients) or "—"
            return [row.id, row.level, row.title, when(row.due_at), tells]

        print_page(
            console(),
            listing,
            f"{listing.count()} alerts",
            ("id", "level", "title", "due", "tells"),
            cells,
        )

    from workflows import lean_reads

    done = False
    with lean_read(
        app,
        lambda reader: lean_reads.list_alerts(
            reader,
            level=level,
            project_id=lean_reads.find_project(reader, project).id if project else None,
            until=until,
            window=shown,
        ),
    ) as lean:
        if lean is not None:
            emit(lean)
            done = True
    if not done:
        from workflows.alerts import list_alerts
        from workflows.projects import find_project

        with app.reading() as session:
            project_id = find_project(session=session, ref=project).id if project else None
            emit(list_alerts(session=session, level=level, project_id=project_id, until=until, window=shown))
    warn_provisional(app, {*years, local(now).year})
