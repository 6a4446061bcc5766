"""``ducha serve``: the API, the pages and the embedded scheduler in one process."""

from __future__ import annotations

import gc
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from ducha.cli.common import AtOption, console, context

if TYPE_CHECKING:
    from sqlmodel import Session

    from ducha.clock import Clock
    from ducha.context import AppContext


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Serve only (more replicas beside one with the scheduler).")
    ] = False,
    sweep_minutes: Annotated[int, typer.Option(min=1, help="Minutes between sweeps.")] = 5,
    at: AtOption = None,
) -> None:
    """Serve the web pages and the REST API, with the embedded scheduler (sweep, dispatch, daily job).

    On a simulation, --at (or DUCHA_NOW) starts its clock at that time, and the clock runs on from
    there while it serves; a live database is served in real time.
    """
    import logging

    import uvicorn

    from ducha.api import create_app
    from ducha.clock import RunningClock, parse_instant
    from models.errors import Refused
    from models.installation import Mode
    from models.localtime import local
    from workflows.installation import mode_of

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = context(ctx)
    app.checked_engine()
    start = at or app.at or app.settings.now
    with app.reading() as session:
        mode = mode_of(session)
        demo = _demo_logins(session)
    if start:
        if mode != Mode.SIMULATION:
            raise Refused("--at: a live database is served in real time; a simulation takes a start time")
        app.clock(start)  # checks the time is one the working-day calendar can work in
        app.running_clock = RunningClock(parse_instant(start))
        app.at = None
    clock = app.running_clock
    out = console()
    address = f"http://{host}:{port}/"
    now = app.now()
    out.print(
        f"ducha serves {address} ({mode.value if mode else 'not initialised'}, "
        f"now {local(now):%Y-%m-%d %H:%M} Asia/Shanghai); the API is described at {address}api/openapi.json",
        markup=False,
        highlight=False,
    )
    if demo:
        from ducha.demo.logins import DEMO_LOGINS, DEMO_PASSWORD

        out.print(f"demo logins (password {DEMO_PASSWORD}):", markup=False)
        for role, phone, what in DEMO_LOGINS:
            out.print(f"  {role:<11} {phone}  {what}", markup=False, highlight=False)
    stop = threading.Event()
    worker = None
    if not no_scheduler:
        worker = _start_scheduler(app, clock, sweep_minutes, stop)
    served = create_app(app)
    # What start-up made lives as long as the server: moved out of the cyclic collector's way, so a
    # full collection (0.2 s over the app's objects on 2 busy cores) does not stall every request.
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(served, host=host, port=port, log_level="info", access_log=False)
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=30)


def _demo_logins(session: Session) -> bool:
    from sqlmodel import col, select

    from models import Programme

    return (
        session.exec(select(Programme.id).where(col(Programme.illustrative).is_(True)).limit(1)).first()
        is not None
    )


def _start_scheduler(
    app: AppContext, clock: Clock | None, sweep_minutes: int, stop: threading.Event
) -> threading.Thread:
    """The embedded scheduler in a thread of this process; its jobs run on the served clock."""
    from ducha import scheduler
    from ducha.context import AppContext
    from ducha.lease import Lease

    scheduler.make_context = lambda: AppContext(running_clock=clock)
    lease = Lease(app.engine, seconds=45)
    worker = threading.Thread(
        target=scheduler.serve,
        kwargs={
            "lease": lease,
            "database_url": app.settings.database_url,
            "sweep_minutes": sweep_minutes,
            "misfire_grace_seconds": 3600,
            "stop": stop,
        },
        name="ducha-scheduler",
        daemon=True,
    )
    worker.start()
    return worker
