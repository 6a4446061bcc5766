"""Set-up and running: ``init`` (schema and built-ins), ``demo`` (the 50 villages), ``scheduler``."""

from typing import Annotated

import typer

from ducha.cli.common import AtOption, JsonOption, ProgrammeOption, console, context


def init(
    ctx: typer.Context,
    admin: Annotated[
        str | None, typer.Option("--admin", help="Name of the first admin (keeps units, people, roles).")
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The admin's phone.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="The admin's e-mail.")] = None,
    simulation: Annotated[
        bool,
        typer.Option(
            "--simulation", help="An empty simulation: any time is accepted (training, playing ahead)."
        ),
    ] = False,
    at: AtOption = None,
) -> None:
    """Create or upgrade the database schema and load the built-in workflow definitions.

    A new database is live (writes may not be dated after the system clock) unless --simulation.
    """
    from ducha.db import display_url, upgrade_to_head
    from models.errors import BadInput
    from models.installation import Mode
    from workflows.built_ins import load_builtins
    from workflows.staff import admins, init_admin

    if admin is not None and not phone:
        raise BadInput("--admin needs --phone (the admin's phone number)")
    if admin is None and (phone or email):
        raise BadInput("--phone and --email go with --admin NAME")
    app = context(ctx)
    now = app.now(at)
    before, after = upgrade_to_head(app.engine)
    wanted = Mode.SIMULATION if simulation else None
    with app.transaction(now=now, settle=True, wanted=wanted) as tx:
        loaded = load_builtins(session=tx.session, now=now)
        granted = None
        if admin is not None:
            person, made = init_admin(session=tx.session, now=now, name=admin, phone=phone or "", email=email)
            granted = (person.name, person.phone, made)
        anyone = bool(admins(session=tx.session))
        mode = tx.mode
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    out = console()
    out.print(
        f"database {display_url(app.engine)}: {change} revision {after}; {mode.value}; "
        f"workflows: {', '.join(loaded)}",
        markup=False,
        highlight=False,
    )
    if granted is not None:
        name, phone_number, made = granted
        state = "is now" if made else "is already"
        out.print(
            f"{name} ({phone_number}) {state} an admin: ducha units add, people add, roles assign",
            markup=False,
        )
    elif not anyone:
        out.print("no admin yet: ducha init --admin NAME --phone P makes the first one", markup=False)


def demo(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """Load the 50-village demo programme (idempotent) and show its board. Illustrative data."""
    from rich.markup import escape

    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import as_of_line, print_board
    from ducha.db import upgrade_to_head
    from ducha.demo import DEFAULT_DEMO_AT, PROGRAMME_NAME, demo_key, load_demo
    from models.installation import Mode
    from models.localtime import local
    from workflows.board import programme_board
    from workflows.built_ins import load_builtins
    from workflows.programmes import programme_named

    app = context(ctx)
    now = app.now(at, default=DEFAULT_DEMO_AT)
    upgrade_to_head(app.engine)
    signers = app.signers()
    made_key = None
    with app.transaction(now=now, settle=True, wanted=Mode.SIMULATION) as tx:
        load_builtins(session=tx.session, now=now)
        if not signers and programme_named(session=tx.session, name=PROGRAMME_NAME) is None:
            made_key = demo_key(app.settings.audit_key)  # a simulation signs its checkpoints too
            signers = [made_key]
        result = load_demo(
            session=tx.session,
            now=now,
            evidence=tx.evidence,
            calendar=app.calendar,
            deadline_days=app.deadline_days,
            signers=signers,
        )
    out = console()
    if made_key is not None:
        app.note(
            f"demo: made a checkpoint signing key at {app.settings.audit_key} (DUCHA_AUDIT_KEY); "
            f"verifier key: {made_key.verifier().text()}"
        )
    with app.reading() as session:
        board = programme_board(session=session, programme=result.programme, now=now)
        if as_json:
            emit_json(board)
            return
        if result.created:
            out.print(f"demo loaded: {escape(result.programme.name)}, {as_of_line(now)}")
        else:
            out.print("demo already loaded: nothing changed")
        print_board(out, board)
    today = local(now).date()
    last_due = max((m.due_date for m in board.milestones), default=today)
    for warning in app.calendar.warnings_for(today, last_due):
        out.print(f"[yellow]calendar warning:[/yellow] {escape(warning)}")
    out.print(
        "\nThe demo lives in simulated time: keep following it with "
        "DUCHA_NOW=2026-12-10T09:00+08:00 ducha projects (or --at 2026-12-10)."
    )


def check(
    ctx: typer.Context,
    programme: ProgrammeOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Say what keeps a programme from running as intended, each with what to do (exit 1 if anything).

    Escalation rungs that tell nobody, projects without a leader or specialist, people with no way to
    be told, funding sources allocated over budget, years a deadline needs without working days, no admin.
    """
    from dataclasses import asdict

    from ducha.cli.common import EXIT_FINDING
    from ducha.cli.json_output import emit_json
    from workflows.check import check as run_check

    app = context(ctx)
    now = app.now(at)
    with app.reading() as session:
        report = run_check(session=session, now=now, calendar=app.calendar, programme=programme)
    mode = report.mode.value if report.mode is not None else "not initialised (run ducha init)"
    if as_json:
        emit_json(
            {
                "mode": report.mode.value if report.mode is not None else None,
                "programmes": report.programmes,
                "problems": len(report.problems),
                "data": [asdict(finding) for finding in report.findings],
                "count": len(report.findings),
            }
        )
    else:
        out = console()
        out.print(f"database: {mode}; programmes: {', '.join(report.programmes) or 'none'}", markup=False)
        for finding in report.findings:
            label = "problem" if finding.problem else "warning"
            out.print(f"{label}: {finding.what}\n  → {finding.fix}", markup=False, highlight=False)
        warnings = len(report.findings) - len(report.problems)
        verdict = "nothing in the way" if not report.problems else f"{len(report.problems)} problem(s)"
        out.print(f"check: {verdict}" + (f", {warnings} warning(s)" if warnings else ""), markup=False)
    if report.problems:
        raise typer.Exit(EXIT_FINDING)


def scheduler(
    ctx: typer.Context,
    sweep_minutes: Annotated[int, typer.Option(min=1, help="Minutes between sweeps.")] = 5,
    misfire_grace: Annotated[
        int, typer.Option(min=1, help="Seconds a missed run may still start late.")
    ] = 3600,
    lease_seconds: Annotated[
        float,
        typer.Option(
            min=2,
            max=3600,
            help="How long the lease lasts without renewal: a standby takes over this long after the "
            "holder dies (plus a quarter of it).",
        ),
    ] = 45,
) -> None:
    """Run the embedded scheduler: the sweep every few minutes, the daily job at 06:30.

    Start it on two machines for availability: one runs the jobs (a lease in the database), the
    other waits and takes over within a minute if the first dies.
    """
    import logging
    import signal
    import threading

    from ducha.lease import Lease
    from ducha.scheduler import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = context(ctx)
    app.checked_engine()
    lease = Lease(app.engine, seconds=lease_seconds)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    console().print(
        f"scheduler {lease.holder}: sweep every {sweep_minutes} min, daily job at 06:30 Asia/Shanghai, "
        f"while it holds the lease ({lease_seconds:g} s); Ctrl-C stops",
        markup=False,
    )
    try:
        serve(
            lease=lease,
            database_url=app.settings.database_url,
            sweep_minutes=sweep_minutes,
            misfire_grace_seconds=misfire_grace,
            stop=stop,
        )
    except KeyboardInterrupt:
        stop.set()
