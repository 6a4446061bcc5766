"""Set-up and running: ``init`` (schema and built-ins), ``demo`` (the 50 villages), ``scheduler``."""

from typing import Annotated

import typer

from ducha.cli.common import AtOption, JsonOption, console, context


def init(ctx: typer.Context, at: AtOption = None) -> None:
    """Create or upgrade the database schema and load the built-in workflow definitions."""
    from ducha.db import display_url, upgrade_to_head
    from workflows.built_ins import load_builtins

    app = context(ctx)
    now = app.now(at)
    before, after = upgrade_to_head(app.engine)
    with app.transaction() as tx:
        loaded = load_builtins(session=tx.session, now=now)
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    console().print(
        f"database {display_url(app.engine)}: {change} revision {after}; workflows: {', '.join(loaded)}",
        markup=False,
        highlight=False,
    )


def demo(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """Load the 50-village demo programme (idempotent) and show its board. Illustrative data."""
    from rich.markup import escape

    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import as_of_line, print_board
    from ducha.db import upgrade_to_head
    from ducha.demo import DEFAULT_DEMO_AT, load_demo
    from models.localtime import local
    from workflows.board import programme_board
    from workflows.built_ins import load_builtins

    app = context(ctx)
    now = app.now(at, default=DEFAULT_DEMO_AT)
    upgrade_to_head(app.engine)
    with app.transaction() as tx:
        load_builtins(session=tx.session, now=now)
        result = load_demo(
            session=tx.session,
            now=now,
            evidence=tx.evidence,
            calendar=app.calendar,
            deadline_days=app.deadline_days,
        )
    out = console()
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
    app = context(ctx)
    app.checked_engine()
    blocking = BlockingScheduler()
    configure(
        blocking,
        database_url=app.settings.database_url,
        sweep_minutes=sweep_minutes,
        misfire_grace_seconds=misfire_grace,
    )
    console().print(
        f"scheduler: sweep every {sweep_minutes} min, daily job at 06:30 Asia/Shanghai; Ctrl-C stops"
    )
    try:
        blocking.start()
    except (KeyboardInterrupt, SystemExit):
        blocking.shutdown(wait=False)
