"""Importing a project register (台账) against a raw ``executemany`` of the same rows, in one run.

For each size and backend: a register CSV of N villages is written; ``import`` is what ``ducha import
projects`` does (read and check the file, then one write transaction: places, people, projects,
budget lines, roles, history, and the deadlines in step), on a fresh migrated simulation with an
office head. The *floor* is what that import left in the database, every row of every table it wrote,
inserted again into a fresh database of the same schema (its indexes and triggers) by the driver's
own ``executemany`` in one transaction: the least any import of these rows can cost. The write lock
is held only for the write transaction (``write`` below); reading the file comes before it.

    .venv/bin/python bench/import_bench.py                       # SQLite and PostgreSQL, 1,000 and 100,000
    .venv/bin/python bench/import_bench.py --sizes 10000 --backends sqlite

Target (issue 9): import ≤ 3× the floor. PostgreSQL comes from DUCHA_BENCH_POSTGRES_URL (default the
local test server); the benchmark creates and drops only the databases it names ``ducha_bench_import_*``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.clock import SystemClock
from ducha.context import AppContext
from ducha.db import make_engine, upgrade_to_head
from models import Mode, Role
from workflows.actions import import_register, read_register_file, start_programme
from workflows.built_ins import load_builtins
from workflows.installation import settle_mode
from workflows.people import assign_role, ensure_unit
from workflows.programmes import FundingSourceSpec
from workflows.staff import init_admin

ADMIN_URL = os.environ.get("DUCHA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
OFFICE = "13999990001"
# Tables an import writes, parents first (the floor inserts them in this order).
WRITTEN = (
    "place", "person", "project", "project_funding", "role_assignment", "workflow_event", "deadline",
    "deadline_level", "activity",
)  # fmt: skip


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_register(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["town", "village", "leader", "leader_phone", "leader_email", "specialist", "specialist_phone",
             "specialist_email", "budget_upper", "budget_district", "planned_start", "planned_finish"]
        )  # fmt: skip
        for n in range(rows):
            start = date(2026, 12, 1) + timedelta(days=n % 28)
            writer.writerow(
                [f"镇{n // 2000:03d}", f"村{n:06d}", f"领导{n // 5:05d}", f"137{n // 5:08d}", "",
                 f"专干{n:06d}", f"138{n:08d}", f"z{n}@example.gov.cn", "33692.00", "3248.00",
                 start.isoformat(), (start + timedelta(days=180)).isoformat()]
            )  # fmt: skip


class Backend:
    """Fresh databases on one backend, named by this benchmark and removed afterwards."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder, self.made = name, folder, []  # type: tuple[str, Path, list[str]]
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT") if name == "postgresql" else None

    def fresh(self, label: str) -> str:
        if self.admin is None:
            path = self.folder / f"{label}.db"
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        prefix = os.environ.get("DUCHA_BENCH_DB_PREFIX", "ducha_bench").rstrip("_")
        database = f"{prefix}_import_{os.getpid()}_{label}"
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        self.made.append(database)
        return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as connection:
                for database in self.made:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            self.admin.dispose()


def prepare(url: str) -> None:
    """A migrated simulation with the built-ins, an office head and the programme to import into."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        load_builtins(session=session, now=NOW)
        settle_mode(session=session, wanted=Mode.SIMULATION, now=NOW)
        head, _ = init_admin(session=session, now=NOW, name="督查主任", phone=OFFICE)
        office = ensure_unit(session=session, name="督查室", kind="office")
        assign_role(session=session, person=head, role=Role.OFFICE, unit=office, now=NOW)
        start_programme(
            session=session, now=NOW, actor=head, name="村级活动场所", district="示范区", workflow="village-venue",
            sources=[FundingSourceSpec("upper", "上级资金", 10**15), FundingSourceSpec("district", "区级资金", 10**15)],
            milestones={"start_construction": date(2026, 12, 31)},
        )  # fmt: skip
        session.commit()
    engine.dispose()


def run_import(url: str, register: Path) -> tuple[float, float]:
    """(seconds for the whole import, seconds of its write transaction) as ``ducha import projects``."""
    app = AppContext()
    app._engine = make_engine(url)  # noqa: SLF001  (the context's test seam: an engine of our own)
    try:
        started = time.perf_counter()
        with app.reading() as session:
            read = read_register_file(session=session, path=register, programme=None)
        writing = time.perf_counter()
        with app.transaction(now=NOW) as tx:
            from workflows.people import find_person

            import_register(
                session=tx.session, now=NOW, calendar=app.calendar, actor=find_person(session=tx.session, ref=OFFICE),
                path=register, register=read,
            )  # fmt: skip
        done = time.perf_counter()
        return done - started, done - writing
    finally:
        app.dispose()


def snapshot(url: str, before: dict[str, int]) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """The rows the import added to each table it wrote (ids above those there before), as stored."""
    engine = create_engine(url)
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with engine.connect() as connection:
        for table in WRITTEN:
            key = "deadline_id" if table == "deadline_level" else "id"
            result = connection.execute(
                text(f"SELECT * FROM {table} WHERE {key} > :low"), {"low": before[table]}
            )
            rows[table] = (list(result.keys()), [tuple(r) for r in result.all()])
    engine.dispose()
    return rows


def high_water(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        marks = {
            table: int(
                connection.execute(
                    text(
                        f"SELECT COALESCE(MAX({'deadline_id' if table == 'deadline_level' else 'id'}), 0) FROM {table}"
                    )
                ).scalar_one()
            )
            for table in WRITTEN
        }
    engine.dispose()
    return marks


def floor(url: str, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> float:
    """Seconds for the driver's executemany of ``rows`` into the database at ``url``, one transaction."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "")
        connection.execute("PRAGMA foreign_keys = ON")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for table, (columns, values) in rows.items():
            marks = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed
    import psycopg
    from psycopg.types.json import Json

    parts = make_url(url)
    with psycopg.connect(
        dbname=parts.database, host=parts.host, port=parts.port, user=parts.username
    ) as connection:
        prepared = {
            table: (
                columns,
                [tuple(Json(v) if isinstance(v, (list, dict)) else v for v in row) for row in values],
            )
            for table, (columns, values) in rows.items()
        }
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for table, (columns, values) in prepared.items():
                marks = ", ".join("%s" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
        connection.commit()
        return time.perf_counter() - started


@contextmanager
def backend(name: str, folder: Path) -> Iterator[Backend]:
    made = Backend(name, folder)
    try:
        yield made
    finally:
        made.close()


def measure(name: str, size: int, repeats: int, folder: Path) -> dict[str, Any]:
    register = folder / f"register_{size}.csv"
    if not register.exists():
        write_register(register, size)
    imports, writes, floors, counts = [], [], [], {}
    with backend(name, folder) as databases:
        for repeat in range(repeats):
            url = databases.fresh(f"import_{size}_{repeat}")
            prepare(url)
            before = high_water(url)
            total, write = run_import(url, register)
            imports.append(total)
            writes.append(write)
            rows = snapshot(url, before)
            counts = {table: len(values) for table, (_, values) in rows.items()}
            target = databases.fresh(f"floor_{size}_{repeat}")
            prepare(target)
            floors.append(floor(target, rows))
            log(f"{name} {size:,}: import {total:.2f} s (write {write:.2f} s), floor {floors[-1]:.2f} s")
    result = {
        "backend": name,
        "rows": size,
        "import_s": statistics.median(imports),
        "write_s": statistics.median(writes),
        "floor_s": statistics.median(floors),
        "counts": counts,
    }
    result["ratio"] = result["import_s"] / result["floor_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="append a Markdown table to this file")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    results = []
    with tempfile.TemporaryDirectory(prefix="ducha-import-bench-") as tmp:
        for name in args.backends.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                results.append(measure(name, size, args.repeats, Path(tmp)))
    lines = [
        "| backend | register rows | rows written | import s | of it, write s | floor s | import/floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        written = sum(r["counts"].values())
        lines.append(
            f"| {r['backend']} | {r['rows']:,} | {written:,} | {r['import_s']:.2f} | {r['write_s']:.2f} | "
            f"{r['floor_s']:.2f} | {r['ratio']:.2f}× |"
        )
    table = "\n".join(lines)
    print(table)
    if args.out is not None:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(
                f"\n### Register import ({SystemClock().now():%Y-%m-%d}, medians of {args.repeats})\n\n{table}\n"
            )


if __name__ == "__main__":
    main()
