"""Synthetic programmes for the deadline-sweep benchmark: N village projects, six deadlines each.

Builds a migrated database (``ducha.db.upgrade_to_head`` plus the built-in definitions, as
``ducha init`` does) and fills it with bulk inserts: executemany on SQLite, COPY on PostgreSQL.

The data is the state a year of daily sweeps leaves behind at ``LAST_SWEEP`` (09:00 Shanghai the day
before ``NOW``):

- one district, a town per 100 villages, a village per project; a programme (batch) per 50 projects,
  each with its own start-construction and complete-construction dates spread over 2026;
- per project six open deadlines, revision 1, with the subjects, titles, kinds and "about" columns
  the product writes (workflows.deadline_sync): two milestones (``milestone:<key>:project:<id>``,
  ``milestone_key``, due at the end of the programme's date) and four stage time limits
  (``stage:<stage>:project:<id>:<entered>``, ``stage`` and ``stage_entered_at``, due 17:30 on the
  n-th working day after entering the stage, stage entries spread over the year); projects pin
  village-venue version 2;
- five levels per deadline from ``workflows.deadlines.level_times`` on the real working-day calendar,
  the roles to tell as a JSON list (``["specialist", "leader"]``), in the levels and the alerts;
- ``next_level``/``next_level_at`` as the sweep leaves them: the first level after ``LAST_SWEEP``,
  NULL when every level has passed; and one alert for every level that had come by ``LAST_SWEEP``
  (raised by the daily 09:00 sweep that followed it).

Due dates are spread evenly over the year, so at ``NOW`` only the levels that fell in the last day
are due: about 2% of deadlines, a fraction that does not depend on the number of projects.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.db import make_engine, upgrade_to_head
from models.calendar import WorkingCalendar
from models.deadlines import DeadlineKind
from models.localtime import CLOSE_OF_BUSINESS, LOCAL_TZ, local_date
from workflows.built_ins import load_builtins
from workflows.deadlines import LevelTime, level_times
from workflows.definition import BUILTIN_DIR, WorkflowDefinition, parse_definition

# 09:00 in Shanghai on Wednesday 1 July 2026; the previous daily sweep ran 24 hours earlier.
NOW = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
LAST_SWEEP = NOW - timedelta(days=1)
INIT_AT = datetime(2025, 11, 1, 1, 0, tzinfo=UTC)
SWEEP_HOUR_UTC = 1  # the daily sweep runs at 09:00 Shanghai

PROJECTS_PER_PROGRAMME = 50
VILLAGES_PER_TOWN = 100
DEADLINES_PER_PROJECT = 6
# Four stages with a time limit in working days in village-venue v2, in the order a project goes
# through them (v2 also limits ``accepted``, in calendar days; the sweep's data leaves it out).
STAGES_WITH_LIMITS = ("proposed", "pre_review", "completed", "acceptance")
MILESTONE_KEYS = ("start_construction", "complete_construction")
YEAR_START = date(2026, 1, 1)
DAYS = 365
CHUNK_PROJECTS = 5_000
DEFINITION_FILE = "village-venue.v2.yaml"
DEFINITION_VERSION = 2
GENERATOR_VERSION = "ducha-sweep-bench-2"

Row = tuple[Any, ...]
Timestamp = Callable[[datetime], str]


def _sqlite_ts(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, UTC wall time (models.types.UTCDateTime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(sep=" ")


@dataclass(frozen=True)
class LevelPlan:
    """One deadline's ladder, pre-rendered: its level rows, history alerts and next level."""

    level_rows: tuple[Row, ...]  # (revision, level, name, at, notify as JSON text)
    alert_rows: tuple[Row, ...]  # (revision, level, name, notify as JSON text, level_at, raised_at)
    next_level: int | None
    next_level_at: str | None


def _raised_at(at: datetime) -> datetime:
    """The daily sweep that raised a level: the first 09:00 Shanghai at or after it."""
    tick = datetime.combine(at.astimezone(UTC).date(), datetime.min.time(), UTC) + timedelta(
        hours=SWEEP_HOUR_UTC
    )
    return tick if tick >= at else tick + timedelta(days=1)


class Planner:
    """Computes level ladders with the product's own code, once per distinct (due time, kind)."""

    def __init__(self, ts: Timestamp) -> None:
        self.ts = ts
        self.definition: WorkflowDefinition = parse_definition(
            (BUILTIN_DIR / DEFINITION_FILE).read_text(encoding="utf-8"), DEFINITION_FILE
        )
        assert self.definition.version == DEFINITION_VERSION
        assert self.definition.escalation is not None
        self.escalation = self.definition.escalation
        self.calendar = WorkingCalendar.load()
        self.plan = lru_cache(maxsize=None)(self._plan)
        self.stage_due = lru_cache(maxsize=None)(self._stage_due)

    def _plan(self, due_at: datetime, kind: DeadlineKind) -> LevelPlan:
        levels: list[LevelTime] = level_times(
            due_at=due_at, kind=kind, escalation=self.escalation, calendar=self.calendar
        )
        ts = self.ts
        upcoming = [lt for lt in levels if lt.at > LAST_SWEEP]
        passed = [lt for lt in levels if lt.at <= LAST_SWEEP]
        # deadline_level.notify and alert.notify are JSON lists of role names (as SQLAlchemy writes them).
        notify = {lt.level: json.dumps([role.value for role in lt.notify]) for lt in levels}
        return LevelPlan(
            level_rows=tuple((1, lt.level, lt.name, ts(lt.at), notify[lt.level]) for lt in levels),
            alert_rows=tuple(
                (1, lt.level, lt.name, notify[lt.level], ts(lt.at), ts(_raised_at(lt.at))) for lt in passed
            ),
            next_level=upcoming[0].level if upcoming else None,
            next_level_at=ts(upcoming[0].at) if upcoming else None,
        )

    def _stage_due(self, entered_day: date, working_days: int) -> datetime:
        # deadline_after_working_days counts from the Shanghai date of the entry time only.
        entered = datetime.combine(entered_day, time(12), LOCAL_TZ)
        return self.calendar.deadline_after_working_days(entered, working_days, CLOSE_OF_BUSINESS)


@dataclass
class Chunk:
    deadlines: list[Row]
    levels: list[Row]
    alerts: list[Row]


TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "place": ("id", "kind", "name", "parent_id"),
    "programme": ("id", "name", "district_id", "definition_key", "earmark", "illustrative", "created_at"),
    "funding_source": ("id", "programme_id", "code", "name", "amount_fen", "position"),
    "programme_milestone": ("id", "programme_id", "key", "due_date"),
    "project": (
        "id", "programme_id", "village_id", "code", "name", "definition_key", "definition_version",
        "stage", "resume_stage", "stage_entered_at", "planned_start", "planned_finish", "actual_start",
        "actual_finish", "version", "created_at",
    ),
    "deadline": (
        "id", "kind", "subject", "title", "programme_id", "project_id", "order_id", "milestone_key", "stage",
        "stage_entered_at", "due_at", "revision", "status", "settled_at", "next_level", "next_level_at",
    ),
    "deadline_level": ("deadline_id", "revision", "level", "name", "at", "notify"),
    # alert.id is left to the database (autoincrement / the id sequence), as the sweep does.
    "alert": ("deadline_id", "revision", "level", "name", "notify", "level_at", "raised_at"),
}  # fmt: skip


class Synthesiser:
    """Deterministic synthetic data for ``projects`` projects."""

    def __init__(self, projects: int, ts: Timestamp, seed: int = 20260701) -> None:
        self.projects = projects
        self.ts = ts
        self.rng = random.Random(f"{seed}:{projects}")
        self.planner = Planner(ts)
        self.programmes = -(-projects // PROJECTS_PER_PROGRAMME)
        self.towns = -(-projects // VILLAGES_PER_TOWN)
        self.milestone_dates: list[tuple[date, date]] = []
        for _ in range(self.programmes):
            a, b = sorted(self.rng.randrange(DAYS) for _ in range(2))
            self.milestone_dates.append((YEAR_START + timedelta(days=a), YEAR_START + timedelta(days=b)))
        self.stage_titles = {
            key: (stage.label, stage.label_en, stage.time_limit)
            for key in STAGES_WITH_LIMITS
            if (stage := self.definition.stage(key)) is not None
        }
        self.milestone_titles = {
            key: milestone.title
            for key in MILESTONE_KEYS
            if (milestone := self.definition.milestone(key)) is not None
        }

    @property
    def definition(self) -> WorkflowDefinition:
        return self.planner.definition

    # -- small tables ---------------------------------------------------------------------------

    def places(self) -> Iterator[Row]:
        yield (1, "district", "基准区", None)
        for t in range(self.towns):
            yield (2 + t, "town", f"基准镇{t + 1:05d}", 1)
        for v in range(self.projects):
            yield (self.village_id(v), "village", f"基准村{v + 1:06d}", 2 + v // VILLAGES_PER_TOWN)

    def village_id(self, project_index: int) -> int:
        return 2 + self.towns + project_index

    def programme_rows(self) -> Iterator[Row]:
        created = self.ts(INIT_AT)
        for g in range(self.programmes):
            yield (
                g + 1,
                f"基准项目第{g + 1:05d}批",
                1,
                "village-venue",
                "建设和办公用品配置",
                False,
                created,
            )

    def funding_sources(self) -> Iterator[Row]:
        for g in range(self.programmes):
            amount = 3_694_000 * PROJECTS_PER_PROGRAMME
            yield (g + 1, g + 1, "upper", "上级资金", amount, 0)

    def programme_milestones(self) -> Iterator[Row]:
        for g, dates in enumerate(self.milestone_dates):
            for m, (key, due) in enumerate(zip(MILESTONE_KEYS, dates, strict=True)):
                yield (2 * g + m + 1, g + 1, key, due.isoformat())

    # -- projects and deadlines -------------------------------------------------------------------

    def _stage_entries(self) -> list[datetime]:
        start = datetime.combine(YEAR_START, datetime.min.time(), UTC) - timedelta(days=14)
        return sorted(
            start + timedelta(seconds=self.rng.randrange(DAYS * 86_400)) for _ in STAGES_WITH_LIMITS
        )

    def chunks(self) -> Iterator[tuple[list[Row], Chunk]]:
        """Per CHUNK_PROJECTS projects: the project rows, then their deadlines, levels and alerts."""
        ts = self.ts
        plan = self.planner.plan
        stage_due = self.planner.stage_due
        for first in range(0, self.projects, CHUNK_PROJECTS):
            projects: list[Row] = []
            chunk = Chunk([], [], [])
            for p in range(first, min(first + CHUNK_PROJECTS, self.projects)):
                project_id = p + 1
                programme_id = p // PROJECTS_PER_PROGRAMME + 1
                code = f"P{p % PROJECTS_PER_PROGRAMME + 1:03d}"
                start_by, finish_by = self.milestone_dates[programme_id - 1]
                entries = self._stage_entries()
                current = max((i for i, at in enumerate(entries) if at <= NOW), default=0)
                projects.append(
                    (
                        project_id, programme_id, self.village_id(p), code,
                        f"基准村{p + 1:06d}村级组织活动场所建设", "village-venue", DEFINITION_VERSION,
                        STAGES_WITH_LIMITS[current], None, ts(entries[current]),
                        (start_by - timedelta(days=30)).isoformat(), finish_by.isoformat(), None, None, 1,
                        ts(entries[0]),
                    )
                )  # fmt: skip
                deadline_id = p * DEADLINES_PER_PROJECT
                for key, due_day in zip(MILESTONE_KEYS, (start_by, finish_by), strict=True):
                    deadline_id += 1
                    due_at = WorkingCalendar.end_of_day(due_day)
                    self._deadline(
                        chunk, plan(due_at, DeadlineKind.MILESTONE), deadline_id, DeadlineKind.MILESTONE,
                        f"milestone:{key}:project:{project_id}",
                        f"{code} {self.milestone_titles[key]} by {due_day}", programme_id, project_id,
                        due_at, (key, None, None),
                    )  # fmt: skip
                for stage, entered in zip(STAGES_WITH_LIMITS, entries, strict=True):
                    deadline_id += 1
                    label, label_en, limit = self.stage_titles[stage]
                    assert limit is not None and limit.working_days is not None
                    due_at = stage_due(local_date(entered), limit.working_days)
                    self._deadline(
                        chunk, plan(due_at, DeadlineKind.STAGE_LIMIT), deadline_id,
                        DeadlineKind.STAGE_LIMIT, f"stage:{stage}:project:{project_id}:{entered.isoformat()}",
                        f"{code} leaves {label} {label_en} within {limit.describe()}", programme_id,
                        project_id, due_at, (None, stage, ts(entered)),
                    )  # fmt: skip
            yield projects, chunk

    def _deadline(
        self,
        chunk: Chunk,
        plan: LevelPlan,
        deadline_id: int,
        kind: DeadlineKind,
        subject: str,
        title: str,
        programme_id: int,
        project_id: int,
        due_at: datetime,
        about: tuple[str | None, str | None, str | None],  # milestone_key, stage, stage_entered_at
    ) -> None:
        chunk.deadlines.append(
            (
                deadline_id, kind.value, subject, title, programme_id, project_id, None, *about,
                self.ts(due_at), 1, "open", None, plan.next_level, plan.next_level_at,
            )
        )  # fmt: skip
        key = (deadline_id,)
        chunk.levels.extend(key + row for row in plan.level_rows)
        chunk.alerts.extend(key + row for row in plan.alert_rows)


# -- loaders ------------------------------------------------------------------------------------


# Tables whose ids the generator gives; PostgreSQL's id sequences are moved past them at the end.
SEQUENCES = ("place", "programme", "funding_source", "programme_milestone", "project", "deadline")


class SqliteLoader:
    def __init__(self, path: str, columns: dict[str, tuple[str, ...]] = TABLE_COLUMNS) -> None:
        self.columns = columns
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1000000",
            "temp_store=MEMORY",
            "foreign_keys=ON",
        ):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")

    def load(self, table: str, rows: Iterable[Row]) -> None:
        columns = self.columns[table]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.connection.executemany(sql, rows)

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("BEGIN")

    def finish(self) -> None:
        self.connection.execute("COMMIT")
        problems = self.connection.execute("PRAGMA foreign_key_check").fetchall()
        assert not problems, problems[:5]
        # Back to the journal mode ducha.db.make_engine gives every connection.
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.close()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class PostgresLoader:
    def __init__(
        self,
        url: str,
        columns: dict[str, tuple[str, ...]] = TABLE_COLUMNS,
        sequences: Sequence[str] = SEQUENCES,
    ) -> None:
        self.columns = columns
        self.sequences = sequences
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conninfo = conninfo
        self.connection = psycopg.connect(conninfo)
        self.connection.execute("SET synchronous_commit = off")

    def load(self, table: str, rows: Iterable[Row]) -> None:
        columns = self.columns[table]
        with self.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                lines: list[str] = []
                for row in rows:
                    lines.append("\t".join(map(_copy_text, row)))
                    if len(lines) >= 50_000:
                        copy.write("\n".join(lines) + "\n")
                        lines.clear()
                if lines:
                    copy.write("\n".join(lines) + "\n")

    def commit(self) -> None:
        self.connection.commit()

    def finish(self) -> None:
        for table in self.sequences:
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        self.connection.commit()
        self.connection.close()
        # Statistics and the visibility map, as autovacuum would leave them after a bulk load.
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")


@dataclass(frozen=True)
class Generated:
    projects: int
    programmes: int
    deadlines: int
    levels: int
    history_alerts: int
    due_deadlines: int
    seconds: float


def generate(url: str, projects: int, *, log: Callable[[str], None] = print) -> Generated:
    """Create the schema in the (empty) database at ``url`` and fill it for ``projects`` projects."""
    started = clock.perf_counter()
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        load_builtins(session=session, now=INIT_AT)
        session.commit()
    engine.dispose()
    backend = make_url(url).get_backend_name()
    loader: SqliteLoader | PostgresLoader
    if backend == "sqlite":
        database = make_url(url).database
        assert database
        loader, ts = SqliteLoader(database), _sqlite_ts
    else:
        loader, ts = PostgresLoader(url), _pg_ts
    synthesiser = Synthesiser(projects, ts)
    loader.load("place", synthesiser.places())
    loader.load("programme", synthesiser.programme_rows())
    loader.load("funding_source", synthesiser.funding_sources())
    loader.load("programme_milestone", synthesiser.programme_milestones())
    deadlines = levels = alerts = due = 0
    now_text = ts(NOW)
    for project_rows, chunk in synthesiser.chunks():
        loader.load("project", project_rows)
        loader.load("deadline", chunk.deadlines)
        loader.load("deadline_level", chunk.levels)
        loader.load("alert", chunk.alerts)
        loader.commit()
        deadlines += len(chunk.deadlines)
        levels += len(chunk.levels)
        alerts += len(chunk.alerts)
        due += sum(1 for row in chunk.deadlines if row[-1] is not None and row[-1] <= now_text)
        if deadlines % 600_000 == 0:
            log(
                f"  {backend} {projects}: {deadlines:,} deadlines loaded ({clock.perf_counter() - started:.0f} s)"
            )
    loader.finish()
    return Generated(
        projects=projects,
        programmes=synthesiser.programmes,
        deadlines=deadlines,
        levels=levels,
        history_alerts=alerts,
        due_deadlines=due,
        seconds=clock.perf_counter() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, required=True)
    parser.add_argument(
        "--url", required=True, help="an empty database: sqlite:///path.db or postgresql+psycopg://…/name"
    )
    args = parser.parse_args(argv)
    url = make_url(args.url)
    if url.get_backend_name() == "sqlite" and url.database and Path(url.database).exists():
        parser.error(f"{url.database} exists; give a new file")
    result = generate(args.url, args.projects)
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
