"""Consistent synthetic village programmes for the daily-job and board benchmarks.

The data is the state the daily job (workflows.jobs.daily_job) left at ``LAST_RUN`` (06:30 Shanghai,
when the scheduler runs it), plus one day of changes the daily job at ``NOW`` must process:

- one district, a town per 100 villages, a village per project; programmes of ``programme_size``
  projects (50 by default), each with start-construction and complete-construction dates spread
  over 2026 and two funding sources; projects pin village-venue v2 and have a budget from both;
- people: an office unit (office and inspector) and a leadership unit, a leader per 5 projects and
  a specialist per project, with their role_assignment rows;
- each project at a stage of the v2 path (proposed → … → accepted, 5/10/15/50/10/5/5 %), with its
  workflow_event history (created in ``proposed``, one event per move, increasing times);
- the deadlines workflows.deadline_sync and workflows.cadences had made by ``LAST_RUN``: both milestones
  (settled at the first entry into the milestone's stage once reached), a stage limit per limited
  stage entered (settled at the event that left it; the current one open), fund-audit rectification
  orders (10 % of the projects in construction have an open one, 5 % a closed one) with their
  deadlines, and every programme's cadence deadlines for the periods of ``LAST_RUN``; every deadline
  has its levels from workflows.deadlines.level_times, open ones the next level
  workflows.deadlines.next_level gives;
- the day's changes: 1 % of the projects moved one stage on since ``LAST_RUN`` (their new stage's
  limit missing, the old one still open), 0.5 % of the open orders closed (their deadline still open).

``NOW`` is in the same month as ``LAST_RUN``, so the daily job opens no cadence period; what it must do
is in ``VillageGenerated.opened`` / ``settled`` (the subjects it opens, the ids it settles).
"""

from __future__ import annotations

import hashlib
import json
import random
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from generate import PostgresLoader, Row, SqliteLoader, _pg_ts, _sqlite_ts
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.db import make_engine, upgrade_to_head
from models.calendar import CalendarNotCovered, WorkingCalendar
from models.deadlines import DeadlineKind
from models.localtime import local_date
from workflows.built_ins import load_builtins
from workflows.cadences import periods
from workflows.deadline_sync import _stage_due
from workflows.deadlines import LevelTime, level_times, next_level
from workflows.definition import BUILTIN_DIR, parse_definition

# 06:30 Shanghai on Wednesday 17 June 2026, the daily job's hour; the previous one ran a day before.
NOW = datetime(2026, 6, 16, 22, 30, tzinfo=UTC)
LAST_RUN = NOW - timedelta(days=1)
INIT_AT = datetime(2025, 11, 1, 1, 0, tzinfo=UTC)
PATH = ("proposed", "pre_review", "approved", "in_construction", "completed", "acceptance", "accepted")
SHARES = (5, 10, 15, 50, 10, 5, 5)  # % of projects at each stage of PATH
VILLAGES_PER_TOWN = 100
PROJECTS_PER_LEADER = 5
OPEN_ORDERS, CLOSED_ORDERS = 0.10, 0.05  # of the projects in construction
MOVED, CLOSING = 0.01, 0.005  # of the projects, of the open orders: the day's changes
OFFICE_PEOPLE = 3
CHUNK = 5_000
VILLAGE_GENERATOR_VERSION = "ducha-village-bench-2"

COLUMNS: dict[str, tuple[str, ...]] = {
    "place": ("id", "kind", "name", "parent_id"),
    "programme": ("id", "name", "district_id", "definition_key", "earmark", "illustrative", "created_at"),
    "funding_source": ("id", "programme_id", "code", "name", "amount_fen", "position"),
    "programme_milestone": ("id", "programme_id", "key", "due_date"),
    "org_unit": ("id", "name", "kind", "place_id"),
    "person": ("id", "name", "phone", "email", "unit_id", "notice_addresses"),
    "installation": ("id", "mode", "created_at"),
    "role_assignment": ("person_id", "role", "project_id", "unit_id", "granted_at"),
    "project": (
        "id", "programme_id", "village_id", "code", "name", "definition_key", "definition_version",
        "stage", "resume_stage", "stage_entered_at", "planned_start", "planned_finish", "actual_start",
        "actual_finish", "version", "created_at",
    ),
    "project_funding": ("project_id", "source_id", "amount_fen"),
    "workflow_event": (
        "project_id", "occurred_at", "actor_id", "actor_name", "from_stage", "to_stage", "reason",
        "definition_version",
    ),
    "rectification_order": (
        "id", "project_id", "origin", "inspection_id", "item_key", "severity", "description",
        "responsible_person_id", "responsible_role", "issued_at", "due_at", "status", "closed_at", "version",
    ),
    "deadline": (
        "id", "kind", "subject", "title", "programme_id", "project_id", "order_id", "milestone_key", "stage",
        "stage_entered_at", "cadence", "period_start", "period_end", "due_at", "revision", "status",
        "settled_at", "next_level", "next_level_at",
    ),
    "deadline_level": ("deadline_id", "revision", "level", "name", "at", "notify"),
}  # fmt: skip
SEQUENCES = ("place", "programme", "funding_source", "programme_milestone", "org_unit", "person", "project")
SEQUENCES += ("rectification_order", "deadline")
BUDGET = (("upper", "上级资金", 3_369_200), ("district", "区级资金及党费", 324_800))  # per project, fen


@dataclass
class VillageGenerated:
    """What was generated, and what the daily job at NOW must do to it."""

    projects: int
    programme_size: int
    programmes: int
    deadlines: int
    open_deadlines: int
    levels: int
    events: int
    moved: int
    orders_closing: int
    opened_count: int
    settled_count: int
    digest: str  # sha256 of the sorted expected subjects and settled (id, status, settled_at)
    opened: list[str] = field(default_factory=list)  # only at small sizes
    settled: list[list[Any]] = field(default_factory=list)  # [id, status, settled_at ISO], small sizes
    seconds: float = 0.0


def expectation_digest(opened: list[str], settled: list[tuple[int, str, str]]) -> str:
    text = json.dumps([sorted(opened), sorted(map(list, settled))])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Chunk:
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


class Villages:
    """Deterministic rows for ``projects`` projects; ``deadlines=False`` leaves deadlines and orders out."""

    def __init__(
        self, projects: int, ts: Callable[[datetime], str], *, programme_size: int = 50,
        deadlines: bool = True, seed: int = 20260617,
    ) -> None:  # fmt: skip
        self.n, self.ts, self.size, self.with_deadlines = projects, ts, programme_size, deadlines
        self.rng = random.Random(f"{seed}:{projects}:{programme_size}")
        text = (BUILTIN_DIR / "village-venue.v2.yaml").read_text(encoding="utf-8")
        self.definition = parse_definition(text, "village-venue.v2.yaml")
        assert self.definition.escalation is not None
        self.escalation = self.definition.escalation
        self.calendar = WorkingCalendar.load()
        self.limited = {s.key: s for s in self.definition.stages if s.time_limit is not None}
        self.milestones = [(m, PATH.index(m.stage)) for m in self.definition.milestones]
        self.programmes = -(-projects // programme_size)
        self.towns = -(-projects // VILLAGES_PER_TOWN)
        self.leaders = -(-projects // PROJECTS_PER_LEADER)
        self.dates = []
        for _ in range(self.programmes):
            a, b = sorted(self.rng.randrange(365) for _ in range(2))
            self.dates.append((date(2026, 1, 1) + timedelta(days=a), date(2026, 1, 1) + timedelta(days=b)))
        weights = [share / 100 for share in SHARES]
        self.stage_of = self.rng.choices(range(len(PATH)), weights, k=projects)
        movable = [p for p in range(projects) if self.stage_of[p] < len(PATH) - 1]
        self.moved = set(self.rng.sample(movable, min(len(movable), max(1, round(projects * MOVED)))))
        building = [p for p in range(projects) if self.stage_of[p] == PATH.index("in_construction")]
        with_orders = self.rng.sample(building, round(len(building) * (OPEN_ORDERS + CLOSED_ORDERS)))
        cut = round(len(building) * OPEN_ORDERS)
        open_orders = with_orders[:cut]
        self.order_state = {p: "open" for p in open_orders} | {p: "closed" for p in with_orders[cut:]}
        closing = self.rng.sample(
            open_orders, min(len(open_orders), max(1, round(len(open_orders) * CLOSING)))
        )
        self.order_state.update({p: "closing" for p in closing})
        self.levels: dict[tuple[datetime, DeadlineKind], tuple[tuple[LevelTime, ...], Row | None]] = {}
        self.next_deadline = 1
        self.opened: list[str] = []
        self.settled: list[tuple[int, str, str]] = []
        self.counts = dict.fromkeys(("deadlines", "open", "levels", "events"), 0)

    # -- small tables ---------------------------------------------------------------------------

    def village_id(self, p: int) -> int:
        return 2 + self.towns + p

    def leader_id(self, p: int) -> int:
        return OFFICE_PEOPLE + 1 + p // PROJECTS_PER_LEADER

    def specialist_id(self, p: int) -> int:
        return OFFICE_PEOPLE + 1 + self.leaders + p

    def small_tables(self) -> Iterator[tuple[str, list[Row]]]:
        yield "place", [
            (1, "district", "基准区", None),
            *((2 + t, "town", f"基准镇{t + 1:05d}", 1) for t in range(self.towns)),
            *((self.village_id(p), "village", f"基准村{p + 1:06d}", 2 + p // VILLAGES_PER_TOWN) for p in range(self.n)),
        ]  # fmt: skip
        created = self.ts(INIT_AT)
        yield (
            "programme",
            [
                (g + 1, f"基准项目第{g + 1:05d}批", 1, "village-venue", "建设和办公用品配置", False, created)
                for g in range(self.programmes)
            ],
        )
        sources = []
        for g in range(self.programmes):
            size = min(self.size, self.n - g * self.size)
            for position, (code, name, fen) in enumerate(BUDGET):
                sources.append((2 * g + position + 1, g + 1, code, name, fen * size, position))
        yield "funding_source", sources
        yield (
            "programme_milestone",
            [
                (2 * g + m + 1, g + 1, milestone.key, self.dates[g][m].isoformat())
                for g in range(self.programmes)
                for m, (milestone, _) in enumerate(self.milestones)
            ],
        )
        yield "org_unit", [(1, "区委督查室", "office", 1), (2, "区委办公室", "leadership", 1)]
        people = [
            (1, "督查室主任", "13900000001", None, 1, "[]"),
            (2, "督查员", "13900000002", None, 1, "[]"),
        ]
        people.append((3, "区领导", "13900000009", None, 2, "[]"))
        people += [
            (self.leader_id(5 * i), f"领导{i + 1:06d}", f"131{i:08d}", None, None, "[]")
            for i in range(self.leaders)
        ]
        people += [
            (self.specialist_id(p), f"专干{p + 1:06d}", f"132{p:08d}", None, None, "[]")
            for p in range(self.n)
        ]
        yield "person", people
        yield "installation", [(1, "simulation", created)]
        yield (
            "role_assignment",
            [
                (1, "office", None, 1, created),
                (2, "inspector", None, 1, created),
                (3, "leadership", None, 2, created),
            ],
        )

    # -- levels ---------------------------------------------------------------------------------

    def ladder(self, due_at: datetime, kind: DeadlineKind) -> tuple[tuple[LevelTime, ...], Row | None]:
        """The levels of a deadline due at ``due_at`` and its first level, once per (due, kind)."""
        known = self.levels.get((due_at, kind))
        if known is None:
            levels = tuple(
                level_times(due_at=due_at, kind=kind, escalation=self.escalation, calendar=self.calendar)
            )
            upcoming = next_level(levels, revision=1, now=LAST_RUN)
            first = None if upcoming is None else (upcoming.level, self.ts(upcoming.at))
            known = self.levels[(due_at, kind)] = (levels, first)
        return known

    def deadline(
        self, chunk: Chunk, kind: DeadlineKind, subject: str, title: str, programme_id: int,
        project_id: int | None, due_at: datetime, about: Row, settled_at: datetime | None = None,
        *, settles_now: datetime | None = None,
    ) -> int:  # fmt: skip
        """One deadline as the daily job left it at LAST_RUN (settled at ``settled_at`` if given)."""
        levels, first = self.ladder(due_at, kind)
        deadline_id, self.next_deadline = self.next_deadline, self.next_deadline + 1
        ts = self.ts
        if settled_at is None:
            state: Row = ("open", None, *(first or (None, None)))
            self.counts["open"] += 1
        else:
            state = ("met" if settled_at <= due_at else "missed", ts(settled_at), None, None)
        order_id, *rest = about
        chunk.add(
            "deadline",
            (deadline_id, kind.value, subject, title, programme_id, project_id, order_id, *rest, ts(due_at), 1, *state),
        )  # fmt: skip
        for lt in levels:
            chunk.add("deadline_level", (deadline_id, 1, lt.level, lt.name, ts(lt.at), _roles(lt)))
        self.counts["deadlines"] += 1
        self.counts["levels"] += len(levels)
        if settles_now is not None:
            self.settled.append(
                (deadline_id, "met" if settles_now <= due_at else "missed", settles_now.isoformat())
            )
        return deadline_id

    # -- projects ---------------------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        for first in range(0, self.n, CHUNK):
            chunk = Chunk()
            for p in range(first, min(first + CHUNK, self.n)):
                self.project(chunk, p)
            yield chunk

    def _seconds(self, start: datetime, end: datetime) -> datetime:
        return start + timedelta(seconds=self.rng.randrange(1, max(2, int((end - start).total_seconds()))))

    def project(self, chunk: Chunk, p: int) -> None:
        rng, ts = self.rng, self.ts
        project_id, programme_id = p + 1, p // self.size + 1
        code, specialist = f"P{p % self.size + 1:03d}", self.specialist_id(p)
        reached = self.stage_of[p]
        created = INIT_AT + timedelta(seconds=rng.randrange(180 * 86_400))
        times = [created, *sorted(self._seconds(created, LAST_RUN) for _ in range(reached))]
        if p in self.moved:
            times.append(self._seconds(LAST_RUN, NOW))
        last = len(times) - 1
        start_by, finish_by = self.dates[programme_id - 1]
        chunk.add("project", (
            project_id, programme_id, self.village_id(p), code, f"基准村{p + 1:06d}村级组织活动场所建设",
            "village-venue", 2, PATH[last], None, ts(times[last]), (start_by - timedelta(days=30)).isoformat(),
            finish_by.isoformat(), local_date(times[3]).isoformat() if last >= 3 else None,
            local_date(times[4]).isoformat() if last >= 4 else None, 1 + last, ts(created),
        ))  # fmt: skip
        chunk.add("role_assignment", (self.leader_id(p), "leader", project_id, None, ts(created)))
        chunk.add("role_assignment", (specialist, "specialist", project_id, None, ts(created)))
        for position, (_code, _name, fen) in enumerate(BUDGET):
            chunk.add("project_funding", (project_id, 2 * (programme_id - 1) + position + 1, fen))
        name = f"专干{p + 1:06d}"
        for i, at in enumerate(times):
            chunk.add(
                "workflow_event",
                (project_id, ts(at), specialist, name, PATH[i - 1] if i else None, PATH[i], "", 2),
            )
        self.counts["events"] += len(times)
        if not self.with_deadlines:
            return
        moved = p in self.moved
        for m, (milestone, stage_index) in enumerate(self.milestones):
            due_day = self.dates[programme_id - 1][m]
            self.deadline(
                chunk, DeadlineKind.MILESTONE, f"milestone:{milestone.key}:project:{project_id}",
                f"{code} {milestone.title} by {due_day}", programme_id, project_id,
                WorkingCalendar.end_of_day(due_day), (None, milestone.key, None, None, None, None, None),
                times[stage_index] if stage_index <= reached else None,
                settles_now=times[stage_index] if moved and stage_index == last else None,
            )  # fmt: skip
        for i in range(last + 1):
            stage = self.limited.get(PATH[i])
            if stage is None:
                continue
            limit = stage.time_limit
            assert limit is not None
            subject = f"stage:{stage.key}:project:{project_id}:{times[i].isoformat()}"
            if i > reached:  # entered since LAST_RUN: the daily job at NOW opens it
                self.opened.append(subject)
                continue
            self.deadline(
                chunk, DeadlineKind.STAGE_LIMIT, subject,
                f"{code} leaves {stage.label} {stage.label_en} within {limit.describe()}", programme_id,
                project_id, _stage_due(self.calendar, times[i], limit.working_days, limit.calendar_days),
                (None, None, stage.key, ts(times[i]), None, None, None), times[i + 1] if i < reached else None,
                settles_now=times[i + 1] if i == reached and moved else None,
            )  # fmt: skip
        state = self.order_state.get(p)
        if state is not None:
            self.order(chunk, p, state, code, programme_id, times[3])

    def order(
        self, chunk: Chunk, p: int, state: str, code: str, programme_id: int, building: datetime
    ) -> None:
        ts, order_id = self.ts, p + 1
        issued = self._seconds(building, LAST_RUN - timedelta(hours=1))
        due_at = self.calendar.deadline_after_working_days(issued, 10)
        closed = {"closed": self._seconds(issued, LAST_RUN), "closing": self._seconds(LAST_RUN, NOW)}.get(
            state
        )
        item, severity = "fund_use", "major"
        chunk.add("rectification_order", (
            order_id, p + 1, "fund_audit", None, item, severity, "资金审计发现问题 fund audit finding",
            self.specialist_id(p), "specialist", ts(issued), ts(due_at), "issued" if closed is None else "closed",
            None if closed is None else ts(closed), 1 if closed is None else 2,
        ))  # fmt: skip
        self.deadline(
            chunk, DeadlineKind.RECTIFICATION, f"order:{order_id}", f"{code} rectify {item} ({severity})",
            programme_id, p + 1, due_at, (order_id, None, None, None, None, None, None),
            closed if state == "closed" else None, settles_now=closed if state == "closing" else None,
        )  # fmt: skip

    def cadences(self) -> Chunk:
        """Every programme's cadence deadlines for the periods of LAST_RUN (the same as NOW's)."""
        found, _ = periods(local_date(LAST_RUN), self.calendar)
        again, _ = periods(local_date(NOW), self.calendar)
        assert [x.suffix for x in found] == [x.suffix for x in again], "NOW must not open a new period"
        chunk = Chunk()
        for period in found:
            try:
                self.ladder(period.due_at, DeadlineKind.CADENCE)
            except CalendarNotCovered:
                continue  # the product leaves such a period out too, with a warning
            for g in range(self.programmes):
                self.deadline(
                    chunk, DeadlineKind.CADENCE, f"cadence:{period.suffix}:programme:{g + 1}",
                    f"基准项目第{g + 1:05d}批 {period.title}", g + 1, None, period.due_at,
                    (None, None, None, None, period.cadence.value, period.start.isoformat(), period.end.isoformat()),
                )  # fmt: skip
        return chunk


def _roles(level: LevelTime) -> str:
    return json.dumps([role.value for role in level.notify])


def generate_villages(
    url: str, projects: int, *, programme_size: int = 50, deadlines: bool = True,
    log: Callable[[str], None] = print,
) -> VillageGenerated:  # fmt: skip
    """Create the schema in the (empty) database at ``url`` and fill it."""
    started = clock.perf_counter()
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        load_builtins(session=session, now=INIT_AT)
        session.commit()
    engine.dispose()
    loader: SqliteLoader | PostgresLoader
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        assert database
        loader, ts = SqliteLoader(database, COLUMNS), _sqlite_ts
    else:
        loader, ts = PostgresLoader(url, COLUMNS, SEQUENCES), _pg_ts
    villages = Villages(projects, ts, programme_size=programme_size, deadlines=deadlines)
    for table, rows in villages.small_tables():
        loader.load(table, rows)
    loader.commit()
    order = ("project", "role_assignment", "project_funding", "workflow_event", "rectification_order")
    for number, chunk in enumerate(villages.chunks(), start=1):
        for table in (*order, "deadline", "deadline_level"):
            loader.load(table, chunk.rows.get(table, []))
        loader.commit()
        if number % 20 == 0:
            log(f"  {number * CHUNK:,} projects loaded ({clock.perf_counter() - started:.0f} s)")
    if deadlines:
        chunk = villages.cadences()
        for table in ("deadline", "deadline_level"):
            loader.load(table, chunk.rows.get(table, []))
    loader.finish()
    small = len(villages.opened) + len(villages.settled) <= 400
    return VillageGenerated(
        projects=projects, programme_size=programme_size, programmes=villages.programmes,
        deadlines=villages.counts["deadlines"], open_deadlines=villages.counts["open"],
        levels=villages.counts["levels"], events=villages.counts["events"], moved=len(villages.moved),
        orders_closing=sum(1 for state in villages.order_state.values() if state == "closing"),
        opened_count=len(villages.opened), settled_count=len(villages.settled),
        digest=expectation_digest(villages.opened, villages.settled),
        opened=sorted(villages.opened) if small else [],
        settled=sorted(map(list, villages.settled)) if small else [],
        seconds=clock.perf_counter() - started,
    )  # fmt: skip
