"""The embedded scheduler: persistent jobs, a real run, and a missed run that runs once on restart."""

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from ducha.cli import app
from ducha.clock import SystemClock
from ducha.db import make_engine
from ducha.scheduler import (
    CHECKPOINT_JOB,
    DAILY_JOB,
    DAY_END_CHECKPOINT_JOB,
    DISPATCH_JOB,
    FUND_AUDIT_JOB,
    JOB_TABLE,
    SWEEP_JOB,
    configure,
)
from models import Alert

AS_OF = "2027-01-04T09:00+08:00"


def _scheduler(url: str) -> BackgroundScheduler:
    scheduler = BackgroundScheduler()
    configure(scheduler, database_url=url, sweep_minutes=5, misfire_grace_seconds=3600)
    return scheduler


def _wait_for(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the scheduler")
        time.sleep(0.1)


@pytest.fixture
def demo(demo: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo, as the scheduler's environment names it, on 4 January 2027."""
    monkeypatch.setenv("DUCHA_DATABASE_URL", demo)
    monkeypatch.setenv("DUCHA_NOW", AS_OF)
    return demo


def _alerts(url: str) -> list[tuple[int, int, int]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = [(a.deadline_id, a.revision, a.level) for a in session.exec(select(Alert)).all()]
    engine.dispose()
    return sorted(rows)


JOBS = [SWEEP_JOB, DAILY_JOB, DISPATCH_JOB, CHECKPOINT_JOB, DAY_END_CHECKPOINT_JOB, FUND_AUDIT_JOB]


def test_jobs_persist_in_the_database_and_a_restart_adds_no_duplicates(demo: str) -> None:
    for _ in range(2):
        scheduler = _scheduler(demo)
        scheduler.start(paused=True)
        assert {job.id for job in scheduler.get_jobs()} == set(JOBS)
        scheduler.shutdown(wait=False)
    engine = make_engine(demo)
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT id FROM {JOB_TABLE} ORDER BY id")).scalars().all() == sorted(
            JOBS
        )
    engine.dispose()


def test_a_run_raises_the_alerts_and_a_missed_run_runs_once(
    demo: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ducha.scheduler")
    scheduler = _scheduler(demo)
    scheduler.start(paused=True)
    # The sweep was due two hours ago, while ducha was down: on start it runs once, not 24 times.
    scheduler.modify_job(SWEEP_JOB, next_run_time=SystemClock().now() - timedelta(hours=2))
    scheduler.resume()
    _wait_for(lambda: any("sweep as of" in r.message for r in caplog.records))
    time.sleep(0.5)
    scheduler.shutdown(wait=True)
    runs = [r.message for r in caplog.records if "sweep as of" in r.message]
    assert len(runs) == 1 and runs[0].startswith("sweep as of 2027-01-04 09:00 CST")
    after_scheduler = _alerts(demo)
    assert after_scheduler  # overdue start-by alerts, orders, stage limits
    # The same sweep from the CLI finds nothing new: the scheduler raised exactly what it raises.
    result = CliRunner().invoke(
        app, ["sweep", "--json"], env={"DUCHA_DATABASE_URL": demo, "DUCHA_NOW": AS_OF}
    )
    assert result.exit_code == 0 and '"raised": 0' in result.output
    assert _alerts(demo) == after_scheduler


def _scheduler_process(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DUCHA_DATABASE_URL": url, "DUCHA_NOW": AS_OF}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "ducha"), "scheduler", "--lease-seconds", "3"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _said(log: Path, text: str) -> int:
    return log.read_text(encoding="utf-8", errors="replace").count(text) if log.exists() else 0


def test_two_schedulers_one_runs_the_jobs_and_the_standby_takes_over_when_it_dies(
    demo: str, tmp_path: Path
) -> None:
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = _scheduler_process(demo, logs[0])
    try:
        _wait_for(lambda: _said(logs[0], "lease taken") == 1, seconds=60)
        second = _scheduler_process(demo, logs[1])
        try:
            _wait_for(lambda: _said(logs[1], "standby: the lease is held by") == 1, seconds=60)
            time.sleep(4)  # longer than the lease: the holder renews it, the standby keeps waiting
            assert _said(logs[1], "lease taken") == 0 and _said(logs[1], "sweep as of") == 0
            assert _said(logs[0], "sweep as of") == 1
            first.kill()  # no clean stop: the lease is left to expire
            first.wait(timeout=10)
            started = time.monotonic()
            _wait_for(lambda: _said(logs[1], "sweep as of") == 1, seconds=60)
            # Taken over within the lease (3 s) and a quarter of it, plus start-up slack on a busy machine.
            assert time.monotonic() - started < 30
            assert _said(logs[1], "lease taken") == 1
            engine = make_engine(demo)
            with engine.connect() as connection:
                holder = connection.execute(text("SELECT holder FROM scheduler_lease")).scalar_one()
            engine.dispose()
            assert f":{second.pid}:" in holder
        finally:
            second.terminate()
            second.wait(timeout=30)
        # A clean stop gives the lease up at once.
        engine = make_engine(demo)
        with engine.connect() as connection:
            expired = connection.execute(text("SELECT expires_at FROM scheduler_lease")).scalar_one()
        engine.dispose()
        assert expired is not None
    finally:
        if first.poll() is None:
            first.kill()
        for log in logs:
            print(log.name, log.read_text(encoding="utf-8", errors="replace") if log.exists() else "")
