"""The floor of the daily job: the least SQL that does its work, written by hand, sent through the DBAPI.

The same anti-join SELECTs of what is missing (milestones, stage limits, orders), the same Python
work on what they return (due times with workflows.deadline_sync._stage_due, levels with
workflows.deadlines.level_times cached per due time, next_level), executemany INSERTs of the new
deadlines and of their levels, the same settling UPDATEs, then per cadence period one INSERT …
SELECT … WHERE NOT EXISTS and the quarterly-inspection UPDATE.

Where it differs from the product's SQL, on purpose: an order's deadline is looked up by its subject
(``order:<id>``, unique and indexed) instead of by ``deadline.order_id``, which has no index (on
SQLite the product scans the deadline table once per open order); the settling UPDATEs test that the
event happened with EXISTS rather than a scalar subquery IS NOT NULL; on PostgreSQL it runs with
``SET LOCAL jit = off``, as the sweep does. On SQLite the new deadlines' ids
are read back by id range after the executemany (sqlite3 drops RETURNING rows in executemany); on
PostgreSQL psycopg's executemany returns them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.deadlines import DeadlineKind
from models.localtime import LOCAL_TZ, local_date
from workflows.cadences import periods
from workflows.deadline_sync import _stage_due
from workflows.deadlines import LevelTime, level_times, next_level
from workflows.definition import Escalation, WorkflowDefinition

COLUMNS = (
    "kind", "subject", "title", "programme_id", "project_id", "order_id", "milestone_key", "stage",
    "stage_entered_at", "due_at", "revision", "status", "next_level", "next_level_at",
)  # fmt: skip
INSERT = (
    f"INSERT INTO deadline ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})"
    " ON CONFLICT (subject) DO NOTHING"
)
INSERT_LEVEL = (
    "INSERT INTO deadline_level (deadline_id, revision, level, name, at, notify) "
    "VALUES (:deadline_id, 1, :level, :name, :at, {notify})"
)
MISSING_MILESTONES = """
SELECT p.id, p.code, p.programme_id, m.key, m.due_date
FROM project p JOIN programme_milestone m ON m.programme_id = p.programme_id
WHERE p.definition_key = :key AND p.definition_version = :version AND m.key IN ({keys}) {not_ended}
  AND NOT EXISTS (SELECT 1 FROM deadline d
                  WHERE d.project_id = p.id AND d.kind = 'milestone' AND d.milestone_key = m.key)
  AND NOT EXISTS (SELECT 1 FROM workflow_event e WHERE e.project_id = p.id AND e.to_stage = {stage_of})"""
MISSING_STAGE_LIMITS = """
SELECT p.id, p.code, p.programme_id, p.stage, p.stage_entered_at FROM project p
WHERE p.definition_key = :key AND p.definition_version = :version AND p.stage IN ({stages})
  AND NOT EXISTS (SELECT 1 FROM deadline d WHERE d.project_id = p.id AND d.kind = 'stage_limit'
                  AND d.stage = p.stage AND d.stage_entered_at = p.stage_entered_at)"""
MISSING_ORDERS = """
SELECT o.id, o.item_key, o.severity, o.due_at, p.id, p.code, p.programme_id
FROM rectification_order o JOIN project p ON p.id = o.project_id
WHERE p.definition_key = :key AND p.definition_version = :version AND o.status <> 'closed'
  AND NOT EXISTS (SELECT 1 FROM deadline d WHERE d.subject = 'order:' || CAST(o.id AS TEXT))"""
SETTLE = """
UPDATE deadline SET status = CASE WHEN {at} <= due_at THEN 'met' ELSE 'missed' END, settled_at = {at},
  next_level = NULL, next_level_at = NULL
WHERE status = 'open' AND {where}"""
MILESTONE_ENTERED = (
    "(SELECT min(e.occurred_at) FROM workflow_event e WHERE e.project_id = deadline.project_id"
    " AND e.to_stage = :stage)"
)
MILESTONE_WHERE = """kind = 'milestone' AND milestone_key = :milestone AND project_id IS NOT NULL
  AND project_id IN (SELECT id FROM project WHERE definition_key = :key AND definition_version = :version)
  AND EXISTS (SELECT 1 FROM workflow_event e WHERE e.project_id = deadline.project_id AND e.to_stage = :stage)"""
STAGE_LEFT = """coalesce(
  (SELECT min(e.occurred_at) FROM workflow_event e WHERE e.project_id = deadline.project_id
   AND e.from_stage = deadline.stage AND e.occurred_at >= deadline.stage_entered_at),
  (SELECT p.stage_entered_at FROM project p WHERE p.id = deadline.project_id))"""
STAGE_WHERE = """kind = 'stage_limit' AND project_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM project p WHERE p.id = deadline.project_id
              AND (p.stage <> deadline.stage OR p.stage_entered_at <> deadline.stage_entered_at))"""
ORDER_CLOSED = "(SELECT o.closed_at FROM rectification_order o WHERE o.id = deadline.order_id)"
ORDER_WHERE = """kind = 'rectification' AND project_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM rectification_order o WHERE o.id = deadline.order_id AND o.closed_at IS NOT NULL)"""
CADENCE = """
INSERT INTO deadline (kind, subject, title, programme_id, cadence, period_start, period_end, due_at,
                      revision, status, next_level, next_level_at)
SELECT 'cadence', :prefix || CAST(g.id AS TEXT), g.name || :title, g.id, :cadence, {start}, {end}, {due},
       1, 'open', {level}, {level_at}
FROM programme g
WHERE g.definition_key = :key AND NOT EXISTS (SELECT 1 FROM deadline d WHERE d.subject = :prefix || CAST(g.id AS TEXT))
ON CONFLICT (subject) DO NOTHING RETURNING id"""
OPEN_QUARTERS = (
    "SELECT DISTINCT period_start, period_end FROM deadline"
    " WHERE cadence = 'quarterly_inspection' AND status = 'open'"
)
IN_QUARTER = "i.signed_at IS NOT NULL AND i.inspected_at >= :since AND i.inspected_at < :until"
QUARTER_SIGNED = f"""(SELECT max(i.signed_at) FROM inspection i JOIN project p ON p.id = i.project_id
  WHERE p.programme_id = deadline.programme_id {{active}} AND {IN_QUARTER})"""
QUARTER_WHERE = f"""cadence = 'quarterly_inspection' AND period_start = :start
  AND EXISTS (SELECT 1 FROM project p WHERE p.programme_id = deadline.programme_id {{active}})
  AND NOT EXISTS (SELECT 1 FROM project p WHERE p.programme_id = deadline.programme_id {{active}}
                  AND NOT EXISTS (SELECT 1 FROM inspection i WHERE i.project_id = p.id AND {IN_QUARTER}))"""


def _quoted(values: Sequence[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


class Floor:
    """The daily job's work as hand-written SQL on one DBAPI connection (sqlite3 or psycopg)."""

    def __init__(
        self, dbapi: Any, definitions: dict[tuple[str, int], WorkflowDefinition], calendar: WorkingCalendar
    ):
        self.dbapi = dbapi
        self.sqlite = isinstance(dbapi, sqlite3.Connection)
        self.definitions = definitions
        self.newest = {key: d for (key, _), d in sorted(definitions.items())}
        self.calendar = calendar
        self.cursor = dbapi.cursor()

    # -- dialect ---------------------------------------------------------------------------------

    def sql(self, text: str) -> str:
        return text if self.sqlite else re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text)

    def typed(self, name: str, sql_type: str) -> str:
        """A parameter PostgreSQL must be told the type of (a NULL in a SELECT list)."""
        return f":{name}" if self.sqlite else f"CAST(:{name} AS {sql_type})"

    def to_db(self, value: datetime | date | None) -> Any:
        if self.sqlite and isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if self.sqlite and isinstance(value, date):
            return value.isoformat()
        return value

    def moment(self, value: Any) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC)

    def day(self, value: Any) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    def run(self, statement: str, params: dict[str, Any] | None = None) -> Any:
        self.cursor.execute(self.sql(statement), params or {})
        return self.cursor

    # -- the job ---------------------------------------------------------------------------------

    def daily(self, now: datetime) -> tuple[int, int]:
        """(opened, settled), as sync_deadlines plus generate_cadence_deadlines count them."""
        self.now = now
        self.ladders: dict[
            tuple[datetime, DeadlineKind, int], tuple[tuple[LevelTime, ...], list[tuple[Any, ...]]]
        ] = {}
        opened = settled = 0
        if not self.sqlite:
            self.run(
                "SET LOCAL jit = off"
            )  # as the sweep does: JIT costs these statements more than it saves
        pairs = self.run("SELECT DISTINCT definition_key, definition_version FROM project").fetchall()
        for key, version in sorted(pairs):
            definition = self.definitions[(key, version)]
            escalation = definition.escalation
            if escalation is None:
                continue
            which = {"key": key, "version": version}
            opened += self.milestones(definition, escalation, which)
            for milestone in definition.milestones:
                at = {**which, "milestone": milestone.key, "stage": milestone.stage}
                settled += self.run(SETTLE.format(at=MILESTONE_ENTERED, where=MILESTONE_WHERE), at).rowcount
            opened += self.stage_limits(definition, escalation, which)
            opened += self.orders(escalation, which)
        settled += self.run(SETTLE.format(at=STAGE_LEFT, where=STAGE_WHERE)).rowcount
        settled += self.run(SETTLE.format(at=ORDER_CLOSED, where=ORDER_WHERE)).rowcount
        opened += self.cadences()
        settled += self.quarters()
        return opened, settled

    def ladder(
        self, due_at: datetime, kind: DeadlineKind, escalation: Escalation
    ) -> tuple[tuple[LevelTime, ...], list[tuple[Any, ...]]]:
        key = (due_at, kind, id(escalation))
        known = self.ladders.get(key)
        if known is None:
            levels = tuple(
                level_times(due_at=due_at, kind=kind, escalation=escalation, calendar=self.calendar)
            )
            rendered = [
                (lt.level, lt.name, self.to_db(lt.at), json.dumps([role.value for role in lt.notify]))
                for lt in levels
            ]
            known = self.ladders[key] = (levels, rendered)
        return known

    def write(
        self, rows: list[dict[str, Any]], ladders: list[tuple[tuple[LevelTime, ...], list[tuple[Any, ...]]]]
    ) -> int:
        if not rows:
            return 0
        for row, (levels, _) in zip(rows, ladders, strict=True):
            upcoming = next_level(levels, revision=1, now=self.now)
            row.update(
                revision=1, status="open", next_level=upcoming.level if upcoming else None,
                next_level_at=self.to_db(upcoming.at) if upcoming else None,
            )  # fmt: skip
            for column in COLUMNS:
                row.setdefault(column, None)
        cursor = self.cursor
        if self.sqlite:
            (before,) = self.run("SELECT coalesce(max(id), 0) FROM deadline").fetchone()
            cursor.executemany(INSERT, rows)
            inserted = self.run(
                "SELECT id, subject FROM deadline WHERE id > :before", {"before": before}
            ).fetchall()
        else:
            cursor.executemany(self.sql(INSERT + " RETURNING id, subject"), rows, returning=True)
            inserted = []
            while True:
                inserted.extend(cursor.fetchall())
                if not cursor.nextset():
                    break
        by_subject = {row["subject"]: rendered for row, (_, rendered) in zip(rows, ladders, strict=True)}
        notify = ":notify" if self.sqlite else "CAST(:notify AS JSON)"
        cursor.executemany(
            self.sql(INSERT_LEVEL.format(notify=notify)),
            [
                {"deadline_id": deadline_id, "level": level, "name": name, "at": at, "notify": roles}
                for deadline_id, subject in inserted
                for level, name, at, roles in by_subject[subject]
            ],
        )
        return len(inserted)

    def milestones(
        self, definition: WorkflowDefinition, escalation: Escalation, which: dict[str, Any]
    ) -> int:
        declared = {m.key: m for m in definition.milestones}
        if not declared:
            return 0
        ended = definition.ended_stages()
        statement = MISSING_MILESTONES.format(
            keys=_quoted(list(declared)),
            not_ended=f"AND p.stage NOT IN ({_quoted(ended)})" if ended else "",
            stage_of="CASE m.key " + " ".join(f"WHEN {_quoted([k])} THEN {_quoted([m.stage])}" for k, m in declared.items()) + " END",
        )  # fmt: skip
        rows, ladders = [], []
        for project_id, code, programme_id, key, due_date in self.run(statement, which).fetchall():
            due_day = self.day(due_date)
            due_at = WorkingCalendar.end_of_day(due_day)
            rows.append({
                "kind": "milestone", "subject": f"milestone:{key}:project:{project_id}",
                "title": f"{code} {declared[key].title} by {due_day}", "due_at": self.to_db(due_at),
                "programme_id": programme_id, "project_id": project_id, "milestone_key": key,
            })  # fmt: skip
            ladders.append(self.ladder(due_at, DeadlineKind.MILESTONE, escalation))
        return self.write(rows, ladders)

    def stage_limits(
        self, definition: WorkflowDefinition, escalation: Escalation, which: dict[str, Any]
    ) -> int:
        limited = {stage.key: stage for stage in definition.stages if stage.time_limit is not None}
        if not limited:
            return 0
        rows, ladders = [], []
        found = self.run(MISSING_STAGE_LIMITS.format(stages=_quoted(list(limited))), which).fetchall()
        for project_id, code, programme_id, stage_key, entered_value in found:
            stage, entered = limited[stage_key], self.moment(entered_value)
            limit = stage.time_limit
            assert limit is not None
            due = _stage_due(self.calendar, entered, limit.working_days, limit.calendar_days)
            rows.append({
                "kind": "stage_limit", "subject": f"stage:{stage_key}:project:{project_id}:{entered.isoformat()}",
                "title": f"{code} leaves {stage.label} {stage.label_en} within {limit.describe()}",
                "due_at": self.to_db(due), "programme_id": programme_id, "project_id": project_id,
                "stage": stage_key, "stage_entered_at": self.to_db(entered),
            })  # fmt: skip
            ladders.append(self.ladder(due, DeadlineKind.STAGE_LIMIT, escalation))
        return self.write(rows, ladders)

    def orders(self, escalation: Escalation, which: dict[str, Any]) -> int:
        rows, ladders = [], []
        for order_id, item, severity, due_value, project_id, code, programme_id in self.run(
            MISSING_ORDERS, which
        ).fetchall():
            due_at = self.moment(due_value)
            rows.append({
                "kind": "rectification", "subject": f"order:{order_id}", "title": f"{code} rectify {item} ({severity})",
                "due_at": self.to_db(due_at), "programme_id": programme_id, "project_id": project_id, "order_id": order_id,
            })  # fmt: skip
            ladders.append(self.ladder(due_at, DeadlineKind.RECTIFICATION, escalation))
        return self.write(rows, ladders)

    def cadences(self) -> int:
        found, _ = periods(local_date(self.now), self.calendar)
        opened = 0
        statement = CADENCE.format(
            start=self.typed("start", "DATE"), end=self.typed("end", "DATE"), due=self.typed("due", "TIMESTAMPTZ"),
            level=self.typed("level", "INTEGER"), level_at=self.typed("level_at", "TIMESTAMPTZ"),
        )  # fmt: skip
        keys = sorted(key for (key,) in self.run("SELECT DISTINCT definition_key FROM programme").fetchall())
        for key in keys:
            escalation = self.newest[key].escalation
            if escalation is None:
                continue
            for period in found:
                try:
                    levels, rendered = self.ladder(period.due_at, DeadlineKind.CADENCE, escalation)
                except CalendarNotCovered:
                    continue
                upcoming = next_level(levels, revision=1, now=self.now)
                ids = self.run(statement, {
                    "prefix": f"cadence:{period.suffix}:programme:", "title": f" {period.title}",
                    "cadence": period.cadence.value, "start": self.to_db(period.start), "end": self.to_db(period.end),
                    "due": self.to_db(period.due_at), "key": key, "level": upcoming.level if upcoming else None,
                    "level_at": self.to_db(upcoming.at) if upcoming else None,
                }).fetchall()  # fmt: skip
                if ids:
                    notify = ":notify" if self.sqlite else "CAST(:notify AS JSON)"
                    self.cursor.executemany(self.sql(INSERT_LEVEL.format(notify=notify)), [
                        {"deadline_id": i, "level": level, "name": name, "at": at, "notify": roles}
                        for (i,) in ids for level, name, at, roles in rendered
                    ])  # fmt: skip
                opened += len(ids)
        return opened

    def quarters(self) -> int:
        ended = sorted({stage for d in self.newest.values() for stage in d.ended_stages()})
        active = f"AND p.stage NOT IN ({_quoted(ended)})" if ended else ""
        statement = SETTLE.format(
            at=QUARTER_SIGNED.format(active=active), where=QUARTER_WHERE.format(active=active)
        )
        settled = 0
        for start, end in self.run(OPEN_QUARTERS).fetchall():
            if start is None or end is None:
                continue
            since = datetime.combine(self.day(start), time(0), LOCAL_TZ)
            until = datetime.combine(self.day(end) + timedelta(days=1), time(0), LOCAL_TZ)
            params = {"start": start, "since": self.to_db(since), "until": self.to_db(until)}
            settled += self.run(statement, params).rowcount
        return settled


def floor_job(
    definitions: dict[tuple[str, int], WorkflowDefinition], calendar: WorkingCalendar, now: datetime
) -> Callable[[Any], tuple[int, int]]:
    """The floor as an operation on a session: through the raw DBAPI connection of its transaction."""

    def run(session: Any) -> tuple[int, int]:
        dbapi = session.connection().connection.dbapi_connection
        floor = Floor(dbapi, definitions, calendar)
        try:
            return floor.daily(now)
        finally:
            floor.cursor.close()

    return run
