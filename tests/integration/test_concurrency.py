"""Writers at the same time: imports into one programme, daily jobs, sweeps. Each is safe to run twice
at once, and the sweep test shows the two sweeps really overlapped."""

import csv
import multiprocessing
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from ducha.config import Settings
from ducha.context import AppContext
from ducha.db import make_engine
from ducha.jobs import run_job
from models import Alert, Deadline, DeadlineKind, Project
from tests import builders
from tests.integration.conftest import OFFICE
from workflows.actions import import_register
from workflows.jobs import daily_job
from workflows.people import find_person
from workflows.sweep import sweep

HEADER = [
    "town", "village", "leader", "leader_phone", "leader_email", "specialist", "specialist_phone",
    "specialist_email", "budget_upper", "budget_district", "planned_start", "planned_finish",
]  # fmt: skip


def register(path: Path, town: str, count: int, phones: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(count):
            writer.writerow(
                [town, f"{town}{n}村", f"{town}领导", f"1350000{phones:04d}", "", f"{town}专干{n}",
                 f"1360000{phones + n:04d}", "", "100", "10", "2026-12-01", "2027-05-31"]
            )  # fmt: skip
    return path


def at_once(*steps: Callable[[], Any]) -> list[Any]:
    """Run each step in its own thread, all released at the same moment; re-raise any failure."""
    barrier = threading.Barrier(len(steps))
    results: list[Any] = [None] * len(steps)
    failures: list[BaseException] = []

    def run(index: int, step: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = step()
        except BaseException as exc:  # noqa: BLE001  (reported below, in the test's thread)
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i, step)) for i, step in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


def context(url: str, tmp_path: Path) -> AppContext:
    return AppContext(_settings=Settings(database_url=url, evidence_dir=tmp_path / "evidence"))


def test_two_imports_into_one_programme_at_once_get_their_own_codes(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    prog = builders.programme(session)
    session.commit()
    files = [register(tmp_path / "east.csv", "东镇", 20, 0), register(tmp_path / "west.csv", "西镇", 20, 100)]
    now = datetime(2026, 11, 3, 1, tzinfo=UTC)

    def importing(path: Path) -> Callable[[], int]:
        def step() -> int:
            app = context(database_url, tmp_path)
            try:
                with app.transaction(now=now) as tx:
                    done = import_register(
                        session=tx.session,
                        now=now,
                        calendar=app.calendar,
                        actor=find_person(session=tx.session, ref=OFFICE),
                        path=path,
                        programme=prog.name,
                    )
                return len(done.projects)
            finally:
                app.dispose()

        return step

    assert at_once(*(importing(path) for path in files)) == [20, 20]
    codes = session.exec(select(Project.code).order_by(col(Project.code))).all()
    assert codes == [f"P{n:03d}" for n in range(1, 41)]


def test_two_daily_jobs_at_once_open_each_deadline_once(demo: str, tmp_path: Path) -> None:
    engine = make_engine(demo)

    def cadences() -> int:
        with Session(engine) as fresh:
            return fresh.exec(
                select(func.count()).select_from(Deadline).where(col(Deadline.kind) == DeadlineKind.CADENCE)
            ).one()

    # A month apart, so each round has new cadence deadlines to open (and their levels to write).
    for month in range(1, 7):
        as_of = datetime(2027, month, 4, 1, tzinfo=UTC)
        before = cadences()
        apps = [context(demo, tmp_path), context(demo, tmp_path)]
        results = at_once(*(lambda app=app, as_of=as_of: run_job(daily_job, app, as_of) for app in apps))
        for app in apps:
            app.dispose()
        opened = sorted(result.cadences_opened for result in results)
        assert opened[0] == 0 and cadences() - before == opened[1] > 0, (month, opened)
    engine.dispose()


def _sweep_and_commit(url: str, at: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        result = sweep(session=session, now=datetime.fromisoformat(at))
        session.commit()
    engine.dispose()
    return result.raised


def test_a_sweep_that_overlaps_another_waits_for_it_and_adds_nothing(postgres_demo: str) -> None:
    """The first sweep holds its alerts uncommitted while a second, in another process, runs: the
    second is seen waiting on the first's rows, then, once the first commits, raises nothing."""
    at = "2027-01-04T01:00:00+00:00"
    engine = make_engine(postgres_demo)
    with Session(engine) as first:
        raised = sweep(session=first, now=datetime.fromisoformat(at)).raised
        assert raised > 0
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            second = pool.apply_async(_sweep_and_commit, (postgres_demo, at))
            with engine.connect() as watcher:
                waiting = _wait_for_a_lock_wait(watcher)
            assert waiting, "the second sweep never waited for the first"
            assert not second.ready()
            first.commit()
            assert second.get(timeout=60) == 0
    with Session(engine) as fresh:
        keys = [(a.deadline_id, a.revision, a.level) for a in fresh.exec(select(Alert)).all()]
    assert len(keys) == len(set(keys)) == raised
    engine.dispose()


def _wait_for_a_lock_wait(watcher: Any, seconds: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = watcher.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO alert%'"
            )
        ).scalar()
        watcher.rollback()
        if found:
            return True
        time.sleep(0.05)
    return False
