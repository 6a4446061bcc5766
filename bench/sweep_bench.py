"""Deadline-sweep benchmark: the sweep against a hand-written SQL floor measured in the same run.

For each backend and size it times, on identical data (a copy of a cached generated database):
the product's ``sweep()``, the floor (the same INSERT … SELECT … ON CONFLICT DO NOTHING of the same
alert rows and the same UPDATE of next_level/next_level_at, as raw SQL through the DBAPI), a second
``sweep()`` right after the first (nothing new), and a naive baseline (a Python loop over ORM rows).
Every measured transaction is rolled back, so each repetition starts from the same rows.

    .venv/bin/python bench/sweep_bench.py                 # everything (both backends, 3 sizes)
    .venv/bin/python bench/sweep_bench.py --sizes 50,5000 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench_db import replace_section
from generate import GENERATOR_VERSION, NOW, Generated, generate
from sqlalchemy import Engine, bindparam, create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from ducha.clock import SystemClock
from ducha.db import head_revision, make_engine
from models import Alert, Deadline, DeadlineLevel, DeadlineStatus
from models.types import UTCDateTime
from workflows.sweep import sweep, sweep_statements

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (50, 5_000, 500_000)
DEFAULT_BACKENDS = ("sqlite", "postgresql")
ADMIN_URL = os.environ.get("DUCHA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# A cached database is reused only if the same generator made it on the same schema.
CACHE_VERSION = f"{GENERATOR_VERSION} schema {head_revision(ADMIN_URL)}"
NAIVE_CHUNK = 2_000  # deadlines per ORM batch in the naive loop (bounds its memory, not its work)

# The floor: the least SQL that does the sweep's job, written by hand. Same filters, same rows
# inserted, the same ON CONFLICT; the UPDATE takes the next level and its time from one ordered
# subquery. On PostgreSQL it gets the plan choices a careful hand would make (and the sweep makes):
# levels through a LATERAL index lookup rather than a hash of every level, and no JIT.
FLOOR_INSERT = """
INSERT INTO alert (deadline_id, revision, level, name, notify, level_at, raised_at)
SELECT l.deadline_id, l.revision, l.level, l.name, l.notify, l.at, {now}
FROM deadline d {levels}
WHERE d.next_level_at <= {now} AND d.status = 'open'
{conflict}"""
FLOOR_LEVELS = (
    "l.deadline_id = d.id AND l.revision = d.revision AND l.at >= d.next_level_at AND l.at <= {now}"
)
FLOOR_UPDATE = """
UPDATE deadline SET (next_level, next_level_at) = (
  SELECT l.level, l.at FROM deadline_level l
  WHERE l.deadline_id = deadline.id AND l.revision = deadline.revision AND l.at > {now}
  ORDER BY l.at, l.level LIMIT 1)
WHERE next_level_at <= {now} AND status = 'open'"""


def floor_sql(dialect: str) -> tuple[str | None, str, str]:
    """(setting, insert, update) in the dialect's parameter style."""
    if dialect == "sqlite":
        now, setting = "?", None
        levels = "JOIN deadline_level l ON " + FLOOR_LEVELS
        conflict = "ON CONFLICT DO NOTHING"
    else:
        now, setting = "%(now)s", "SET LOCAL jit = off"
        levels = f"CROSS JOIN LATERAL (SELECT * FROM deadline_level l WHERE {FLOOR_LEVELS} OFFSET 0) l"
        conflict = "ON CONFLICT ON CONSTRAINT uq_alert_level DO NOTHING"
    insert = FLOOR_INSERT.format(levels=levels.format(now=now), now=now, conflict=conflict)
    return setting, insert, FLOOR_UPDATE.format(now=now)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- databases: cached generated templates and working copies -----------------------------------


class Databases:
    """Generated templates (cached between runs) and the working copies the measurements use."""

    def __init__(self, backend: str, cache_dir: Path, keep: bool) -> None:
        self.backend = backend
        self.cache_dir = cache_dir
        self.keep = keep
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.admin: Engine | None = None
        if backend == "postgresql":
            self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")

    def _pg_url(self, name: str) -> str:
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def _pg(self, sql: str, **params: Any) -> list[Any]:
        assert self.admin is not None
        with self.admin.connect() as connection:
            result = connection.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []

    def template(self, projects: int) -> Generated:
        """The generated database for ``projects``, generated now unless a current one is cached."""
        if self.backend == "sqlite":
            path = self.cache_dir / f"sqlite_{projects}.db"
            meta = path.with_suffix(".json")
            if path.exists() and meta.exists():
                stored = json.loads(meta.read_text())
                if stored.pop("version", None) == CACHE_VERSION:
                    return Generated(**stored)
            for stale in (path, meta, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
            log(f"generating sqlite {projects:,} projects …")
            generated = generate(f"sqlite:///{path}", projects, log=log)
            meta.write_text(json.dumps({"version": CACHE_VERSION, **asdict(generated)}))
            return generated
        name = f"ducha_bench_tpl_{projects}"
        rows = self._pg(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name", name=name
        )
        if rows and rows[0][0]:
            stored = json.loads(rows[0][0])
            if stored.pop("version", None) == CACHE_VERSION:
                return Generated(**stored)
        self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._pg(f'CREATE DATABASE "{name}"')
        log(f"generating postgresql {projects:,} projects …")
        generated = generate(self._pg_url(name), projects, log=log)
        comment = json.dumps({"version": CACHE_VERSION, **asdict(generated)})
        self._pg(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'")
        return generated

    @contextmanager
    def working_copy(self, projects: int) -> Iterator[str]:
        """A fresh copy of the template for ``projects``; removed afterwards."""
        if self.backend == "sqlite":
            source = self.cache_dir / f"sqlite_{projects}.db"
            path = self.cache_dir / f"work_{projects}.db"
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
            shutil.copyfile(source, path)
            try:
                yield f"sqlite:///{path}"
            finally:
                for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    stale.unlink(missing_ok=True)
            return
        name = f"ducha_bench_{projects}"
        self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # FILE_COPY: a plain file copy (and a checkpoint), much faster than WAL-logging gigabytes.
        self._pg(f'CREATE DATABASE "{name}" TEMPLATE "ducha_bench_tpl_{projects}" STRATEGY FILE_COPY')
        try:
            yield self._pg_url(name)
        finally:
            self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self.backend == "sqlite":
            if not self.keep:
                for path in self.cache_dir.glob("sqlite_*"):
                    path.unlink()
        elif self.admin is not None:
            if not self.keep:
                for (name,) in self._pg("SELECT datname FROM pg_database WHERE datname LIKE 'ducha_bench_%'"):
                    self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.admin.dispose()


# -- the measured operations -----------------------------------------------------------------------

Fingerprint = tuple[tuple[Any, ...], ...]


def fingerprint(session: Session) -> tuple[Fingerprint, Fingerprint, int]:
    """The alerts raised at NOW, the new state of the deadlines they belong to, and what is still due."""
    connection = session.connection()
    now = bindparam("now", NOW, type_=UTCDateTime())
    alerts = connection.execute(
        text(
            "SELECT deadline_id, revision, level, name, notify, level_at, raised_at FROM alert "
            "WHERE raised_at = :now ORDER BY deadline_id, revision, level"
        ).bindparams(now)
    ).all()
    deadlines = connection.execute(
        text(
            "SELECT id, revision, next_level, next_level_at FROM deadline WHERE id IN "
            "(SELECT deadline_id FROM alert WHERE raised_at = :now) ORDER BY id"
        ).bindparams(now)
    ).all()
    still_due = connection.execute(
        text("SELECT count(*) FROM deadline WHERE status = 'open' AND next_level_at <= :now").bindparams(now)
    ).scalar_one()
    return tuple(map(tuple, alerts)), tuple(map(tuple, deadlines)), int(still_due)


def run_sweep(session: Session) -> int:
    return sweep(session=session, now=NOW).raised


def run_floor(session: Session) -> int:
    """The floor through the raw DBAPI connection of the session's transaction."""
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    setting, insert, update = floor_sql(session.get_bind().dialect.name)
    cursor = dbapi.cursor()
    if isinstance(dbapi, sqlite3.Connection):
        now: Any = NOW.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        cursor.execute(insert, (now, now, now))
        raised = cursor.rowcount
        cursor.execute(update, (now, now))
    else:
        assert setting is not None
        cursor.execute(setting)
        cursor.execute(insert, {"now": NOW})
        raised = cursor.rowcount
        cursor.execute(update, {"now": NOW})
    cursor.close()
    return int(raised)


@dataclass
class NaiveOutcome:
    raised: int = 0
    processed: int = 0  # open deadlines looked at
    total: int = 0  # open deadlines there are
    complete: bool = True


def run_naive(session: Session, budget: float, outcome: NaiveOutcome) -> int:
    """Load every open deadline and its levels as ORM objects and decide in Python what to raise.

    Batches of NAIVE_CHUNK deadlines by id keep memory bounded (three queries per batch: deadlines,
    their levels, their existing alerts). Stops after ``budget`` seconds; the caller extrapolates.
    """
    started = time.perf_counter()
    low, high = session.exec(select(func.min(Deadline.id), func.max(Deadline.id))).one()
    outcome.total = session.exec(
        select(func.count()).select_from(Deadline).where(col(Deadline.status) == DeadlineStatus.OPEN)
    ).one()
    if low is None:
        return 0
    for first in range(low, high + 1, NAIVE_CHUNK):
        last = first + NAIVE_CHUNK - 1
        deadlines = session.exec(
            select(Deadline).where(
                col(Deadline.id).between(first, last), col(Deadline.status) == DeadlineStatus.OPEN
            )
        ).all()
        ladders: dict[tuple[int, int], list[DeadlineLevel]] = defaultdict(list)
        for level in session.exec(
            select(DeadlineLevel).where(col(DeadlineLevel.deadline_id).between(first, last))
        ).all():
            ladders[(level.deadline_id, level.revision)].append(level)
        raised_before = set(
            session.exec(
                select(Alert.deadline_id, Alert.revision, Alert.level).where(
                    col(Alert.deadline_id).between(first, last)
                )
            ).all()
        )
        for deadline in deadlines:
            assert deadline.id is not None
            since = deadline.next_level_at
            if since is None or since > NOW:
                continue
            ladder = sorted(ladders[(deadline.id, deadline.revision)], key=lambda lv: (lv.at, lv.level))
            for level in ladder:
                key = (deadline.id, deadline.revision, level.level)
                if since <= level.at <= NOW and key not in raised_before:
                    session.add(
                        Alert(
                            deadline_id=deadline.id,
                            revision=deadline.revision,
                            level=level.level,
                            name=level.name,
                            notify=level.notify,
                            level_at=level.at,
                            raised_at=NOW,
                        )
                    )
                    outcome.raised += 1
            later = [level for level in ladder if level.at > NOW]
            deadline.next_level = later[0].level if later else None
            deadline.next_level_at = later[0].at if later else None
            session.add(deadline)
        session.flush()
        session.expunge_all()
        outcome.processed += len(deadlines)
        if time.perf_counter() - started > budget and last < high:
            outcome.complete = False
            break
    return outcome.raised


@dataclass
class Timed:
    seconds: float
    raised: int
    fingerprint: tuple[Fingerprint, Fingerprint, int] | None = None


class Bench:
    """Runs the operations on one working database, each in a transaction that is rolled back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.backend = self.engine.dialect.name
        self.vacuum_engine = (
            create_engine(url, isolation_level="AUTOCOMMIT") if self.backend == "postgresql" else None
        )

    def close(self) -> None:
        self.engine.dispose()
        if self.vacuum_engine is not None:
            self.vacuum_engine.dispose()

    def vacuum(self, analyse: bool = False) -> None:
        """Clear the dead rows a rolled-back run leaves on PostgreSQL, so every run sees the same heap.

        Then a CHECKPOINT, so that no run pays for writing out the pages of the run before it.
        """
        if self.vacuum_engine is not None:
            with self.vacuum_engine.connect() as connection:
                connection.execute(text(f"VACUUM {'(ANALYZE) ' if analyse else ''}deadline, alert"))
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write out every dirty page now (PostgreSQL), outside the timings."""
        if self.vacuum_engine is not None:
            with self.vacuum_engine.connect() as connection:
                connection.execute(text("CHECKPOINT"))

    def once(
        self,
        operation: Callable[[Session], int],
        *,
        check: bool = False,
        commit: bool = False,
        vacuum: bool = True,
    ) -> Timed:
        with Session(self.engine) as session:
            session.connection()  # check out the connection and begin, outside the timing
            started = time.perf_counter()
            raised = operation(session)
            seconds = time.perf_counter() - started
            print_ = fingerprint(session) if check else None
            if commit:
                session.commit()
            else:
                session.rollback()
        if vacuum and not commit:
            self.vacuum()
        return Timed(seconds, raised, print_)

    def explain(self, *, analyse: bool, vacuum: bool = True) -> list[tuple[str, str]]:
        """The sweep's statements as it sends them, with their plans (EXPLAIN QUERY PLAN / ANALYZE).

        As in the sweep, a probe that finds nothing due ends it: the later statements are not sent.
        """
        plans = []
        with Session(self.engine) as session:
            dbapi = session.connection().connection.dbapi_connection
            assert dbapi is not None
            for statement, parameters in sweep_statements(self.engine.dialect, NOW):
                cursor = dbapi.cursor()
                if parameters is None:
                    cursor.execute(statement)  # a setting the sweep makes: the plans must see it too
                    cursor.close()
                    plans.append((_short(statement), "(a setting, no plan)"))
                    continue
                if self.backend == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                    lines = [f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in cursor.fetchall()]
                else:
                    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyse else "EXPLAIN "
                    cursor.execute(prefix + statement, parameters)
                    lines = [_fold_array(row[0]) for row in cursor.fetchall()]
                plans.append((_short(statement), "\n".join(lines)))
                if statement.lstrip().upper().startswith("SELECT"):
                    cursor.execute(statement, parameters)
                    if cursor.fetchone() is None:
                        cursor.close()
                        break
                cursor.close()
            session.rollback()
        if vacuum:
            self.vacuum()
        return plans


def _short(statement: str) -> str:
    """The statement on one line, with a long IN list of placeholders folded."""
    flat = " ".join(statement.split())
    return re.sub(
        r"\((?:(?:\?|%\(\w+\)s)(?:::\w+)?, ){8,}(?:\?|%\(\w+\)s)(?:::\w+)?\)",
        lambda m: f"({m.group(0).count(',') + 1:,} placeholders)",
        flat,
    )


def _fold_array(line: str) -> str:
    """A plan line with a long literal array (the ids of an IN list) folded."""
    return re.sub(r"'\{[0-9,]{200,}\}'", lambda m: f"'{{{m.group(0).count(',') + 1:,} ids}}'", line)


# -- one configuration -----------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    projects: int
    deadlines: int
    due_deadlines: int
    due_levels: int
    sweep: float
    floor: float
    no_change: float
    no_change_first: float
    naive: float | None
    naive_extrapolated: bool
    naive_note: str
    sweep_runs: list[float] = field(default_factory=list)
    floor_runs: list[float] = field(default_factory=list)
    no_change_runs: list[float] = field(default_factory=list)
    plans_due: list[tuple[str, str]] = field(default_factory=list)
    plans_no_change: list[tuple[str, str]] = field(default_factory=list)
    # PostgreSQL only: the no-change sweep once VACUUM (ANALYZE) has run, as autovacuum would.
    vacuumed_runs: list[float] = field(default_factory=list)
    plans_vacuumed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sweep_over_floor(self) -> float:
        return self.sweep / self.floor

    @property
    def naive_over_sweep(self) -> float | None:
        return None if self.naive is None else self.naive / self.sweep


def measure(
    url: str, generated: Generated, *, repeats: int, no_change_repeats: int, naive_budget: float,
    explain: bool,
) -> Result:  # fmt: skip
    bench = Bench(url)
    try:
        # Warm-up and equivalence: the floor must insert exactly the sweep's alerts and leave the
        # deadlines as the sweep leaves them.
        swept = bench.once(run_sweep, check=True)
        floored = bench.once(run_floor, check=True)
        assert swept.fingerprint and floored.fingerprint
        if swept.raised != floored.raised or swept.fingerprint != floored.fingerprint:
            raise AssertionError(
                f"the floor is not the sweep: sweep raised {swept.raised}, floor {floored.raised}; "
                f"same alerts: {swept.fingerprint[0] == floored.fingerprint[0]}, "
                f"same deadline state: {swept.fingerprint[1] == floored.fingerprint[1]}"
            )
        assert swept.fingerprint[2] == 0, "something is still due after the sweep"
        sweep_runs: list[float] = []
        floor_runs: list[float] = []
        for repeat in range(repeats):
            order = [(run_sweep, sweep_runs), (run_floor, floor_runs)]
            for operation, runs in order if repeat % 2 == 0 else reversed(order):
                timed = bench.once(operation)
                assert timed.raised == swept.raised, (operation.__name__, timed.raised, swept.raised)
                runs.append(timed.seconds)
        plans_due = bench.explain(analyse=True) if explain else []

        outcome = NaiveOutcome()
        naive = bench.once(lambda session: run_naive(session, naive_budget, outcome), check=True)
        if outcome.complete:
            assert naive.fingerprint == swept.fingerprint, "the naive loop raised different alerts"
            naive_seconds, note = naive.seconds, ""
        else:
            naive_seconds = naive.seconds * outcome.total / outcome.processed
            note = (
                f"extrapolated: {outcome.processed:,} of {outcome.total:,} open deadlines in "
                f"{naive.seconds:.0f} s (budget {naive_budget:.0f} s), scaled linearly"
            )

        # The first sweep, committed; every sweep after it finds nothing new.
        bench.once(run_sweep, commit=True)
        bench.checkpoint()
        # No VACUUM between these runs: on PostgreSQL they see the dead row versions and the
        # statistics the committed sweep left behind, as the scheduler's next sweep would. The
        # first of them is reported on its own too: on PostgreSQL it marks those dead index
        # entries (see workflows/sweep.py), so it does work the later ones do not.
        no_change_runs = []
        for _ in range(no_change_repeats):
            timed = bench.once(run_sweep, vacuum=False)
            assert timed.raised == 0
            no_change_runs.append(timed.seconds)
        plans_no_change = bench.explain(analyse=True, vacuum=False) if explain else []
        vacuumed_runs: list[float] = []
        plans_vacuumed: list[tuple[str, str]] = []
        if bench.backend == "postgresql":
            bench.vacuum(analyse=True)
            vacuumed_runs = [bench.once(run_sweep).seconds for _ in range(no_change_repeats)]
            plans_vacuumed = bench.explain(analyse=True) if explain else []
    finally:
        bench.close()
    return Result(
        backend=bench.backend,
        projects=generated.projects,
        deadlines=generated.deadlines,
        due_deadlines=generated.due_deadlines,
        due_levels=swept.raised,
        sweep=statistics.median(sweep_runs),
        floor=statistics.median(floor_runs),
        no_change=statistics.median(no_change_runs),
        no_change_first=no_change_runs[0],
        naive=naive_seconds,
        naive_extrapolated=not outcome.complete,
        naive_note=note,
        sweep_runs=sweep_runs,
        floor_runs=floor_runs,
        no_change_runs=no_change_runs,
        plans_due=plans_due,
        plans_no_change=plans_no_change,
        vacuumed_runs=vacuumed_runs,
        plans_vacuumed=plans_vacuumed,
    )


# -- report ----------------------------------------------------------------------------------------

HEADER = (
    "| backend | projects | deadlines | due levels | sweep s | floor s | sweep/floor "
    "| no-change s | first no-change s | naive s | naive/sweep |"
)


def seconds(value: float) -> str:
    """Three significant digits below 10 s (a 50-project sweep takes a tenth of a millisecond)."""
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}" if value >= 0.001 else f"{value:.6f}"


def table(results: Sequence[Result]) -> list[str]:
    lines = [HEADER, "|" + "---|" * 11]
    for r in results:
        mark = "~" if r.naive_extrapolated else ""
        naive = "–" if r.naive is None else f"{mark}{seconds(r.naive)}"
        ratio = "–" if r.naive_over_sweep is None else f"{mark}{r.naive_over_sweep:,.0f}×"
        lines.append(
            f"| {r.backend} | {r.projects:,} | {r.deadlines:,} | {r.due_levels:,} | {seconds(r.sweep)} "
            f"| {seconds(r.floor)} | {r.sweep_over_floor:.2f}× | {seconds(r.no_change)} "
            f"| {seconds(r.no_change_first)} | {naive} | {ratio} |"
        )
    return lines


def checks(results: Sequence[Result]) -> list[str]:
    lines = []
    by = {(r.backend, r.projects): r for r in results}
    for r in results:
        verdict = "PASS" if r.sweep_over_floor <= 1.5 else "FAIL"
        lines.append(
            f"{verdict}  {r.backend} {r.projects:,}: sweep {seconds(r.sweep)} s ≤ 1.5 × floor "
            f"{seconds(r.floor)} s (ratio {r.sweep_over_floor:.2f})"
        )
    for backend in sorted({r.backend for r in results}):
        small, large = by.get((backend, 5_000)), by.get((backend, 500_000))
        if small and large:
            ratio = large.no_change / small.no_change
            verdict = "PASS" if ratio <= 2 else "FAIL"
            lines.append(
                f"{verdict}  {backend}: no-change sweep at 500,000 {seconds(large.no_change)} s within 2 × "
                f"the one at 5,000 {seconds(small.no_change)} s (ratio {ratio:.2f})"
            )
        else:
            lines.append(f"n/a   {backend}: no-change 500,000 vs 5,000 needs both sizes in the run")
        if large and large.naive_over_sweep is not None:
            verdict = "PASS" if large.naive_over_sweep >= 50 else "FAIL"
            mark = " (naive extrapolated)" if large.naive_extrapolated else ""
            lines.append(
                f"{verdict}  {backend} 500,000: sweep {seconds(large.sweep)} s is ≥ 50 × faster than the naive "
                f"loop {seconds(large.naive or 0)} s (ratio {large.naive_over_sweep:,.0f}){mark}"
            )
        else:
            lines.append(f"n/a   {backend}: naive vs sweep at 500,000 needs that size in the run")
    return lines


def environment() -> list[str]:
    versions = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect() as connection:
            versions.append(f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar_one()}")
        engine.dispose()
    except Exception:  # noqa: BLE001 - PostgreSQL is optional for a SQLite-only run
        pass
    return versions


def write_markdown(
    path: Path, results: Sequence[Result], check_lines: Sequence[str], took: float, argv: Sequence[str]
) -> None:
    started = SystemClock().now().strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {started} on {os.cpu_count()} cores; {', '.join(environment())}; "
        f"`{' '.join(['bench/sweep_bench.py', *argv])}` took {took / 60:.1f} min (generation included).",
        "Medians of the repeated runs; times exclude COMMIT (every run is rolled back). "
        "`~` marks an extrapolated naive time. Column meanings: bench/README.md.",
        "",
        *table(results),
        "",
        "```",
        *check_lines,
        "```",
        "",
    ]
    vacuumed = [r for r in results if r.vacuumed_runs]
    if vacuumed:
        lines += [
            "PostgreSQL, for comparison (not a target): the no-change sweep once `VACUUM (ANALYZE) deadline,"
            " alert` has run, as autovacuum would some time after a sweep:",
            "",
            *(
                f"- {r.projects:,} projects: {seconds(statistics.median(r.vacuumed_runs))} s "
                f"(right after the sweep: {seconds(r.no_change)} s)"
                for r in vacuumed
            ),
            "",
        ]
    notes = [f"- {r.backend} {r.projects:,}: {r.naive_note}" for r in results if r.naive_note]
    if notes:
        lines += ["Naive baseline:", *notes, ""]
    lines += ["All runs (seconds):", ""]
    for r in results:
        lines.append(
            f"- {r.backend} {r.projects:,}: sweep {fmt_runs(r.sweep_runs)}; floor {fmt_runs(r.floor_runs)}; "
            f"no-change {fmt_runs(r.no_change_runs)}"
            + (f"; no-change after VACUUM (ANALYZE) {fmt_runs(r.vacuumed_runs)}" if r.vacuumed_runs else "")
        )
    for r in results:
        for title, plans in (
            ("with due levels", r.plans_due),
            ("no change, right after the first sweep", r.plans_no_change),
            ("no change, after VACUUM (ANALYZE)", r.plans_vacuumed),
        ):
            if not plans:
                continue
            lines += ["", f"## Query plans: {r.backend} {r.projects:,}, sweep {title}", ""]
            for statement, plan in plans:
                lines += ["```sql", statement, "```", "```", plan, "```"]
    # Only this benchmark's section of results.md: the other benchmarks write theirs beside it.
    replace_section(path, "Deadline sweep: latest results", lines)


def fmt_runs(runs: Sequence[float]) -> str:
    return ", ".join(seconds(value) for value in runs)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="projects, comma-separated"
    )
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS), help="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the sweep and of the floor")
    parser.add_argument("--no-change-repeats", type=int, default=11)
    parser.add_argument(
        "--naive-budget", type=float, default=600, help="seconds; past it the naive time is extrapolated"
    )
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the generated databases (SQLite files, PostgreSQL templates)",
    )
    parser.add_argument("--no-explain", action="store_true", help="skip the query plans at the largest size")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))
    backends = [backend.strip() for backend in args.backends.split(",")]
    started = time.perf_counter()
    results: list[Result] = []
    for backend in backends:
        databases = Databases(backend, args.cache_dir, args.keep)
        try:
            for projects in sizes:
                generated = databases.template(projects)
                with databases.working_copy(projects) as url:
                    log(f"measuring {backend} {projects:,} …")
                    result = measure(
                        url, generated, repeats=args.repeats, no_change_repeats=args.no_change_repeats,
                        naive_budget=args.naive_budget,
                        explain=not args.no_explain and projects == max(sizes),
                    )  # fmt: skip
                results.append(result)
                log("\n".join(table([result])[2:]))
        finally:
            databases.close()
    took = time.perf_counter() - started
    check_lines = checks(results)
    print("\n".join(table(results)))
    print()
    print("\n".join(check_lines))
    print(f"\ntook {took / 60:.1f} min")
    write_markdown(args.out, results, check_lines, took, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
