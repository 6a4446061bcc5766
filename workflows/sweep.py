"""The deadline sweep: set-based SQL that raises every escalation level whose time has come.

It reads only deadlines whose ``next_level_at`` has come (an index), inserts one alert per
(deadline, revision, level) with the database refusing duplicates, and moves each deadline's
``next_level_at`` on, all in the caller's transaction. Sweeping twice, or two sweeps at once,
adds nothing.

The statements are SQL text written once per dialect and sent through the DBAPI cursor of the
session's connection (so in its transaction), with the bound time converted by the column type and
DBAPI errors raised as SQLAlchemy's. The sweep runs every few minutes on every deployment, and
SQLAlchemy's own work per statement (about 60 µs) would double the cost of a sweep of the seed
programme on SQLite (bench/README.md). Each statement's shape is chosen for a plan whose cost follows
the due rows:

- PostgreSQL first asks whether anything is due at all, in the index's order, so the planner answers
  with a plain index scan, which marks the index entries the previous sweep's UPDATE left dead. The
  first sweep after a big one pays for those entries once (bench/README.md); the ones after it stop
  at the probe in under a millisecond. Without the probe, statistics that still describe the
  previous sweep's due rows make the INSERT choose a bitmap scan over every dead entry, every time,
  until autovacuum runs: 0.2 s at 500,000 projects for each sweep that finds nothing.
- PostgreSQL reads the levels of each due deadline through a LATERAL index lookup; a plain join
  lets the planner hash every level of every deadline (15 million rows at 500,000 projects). The
  writes run without JIT (SET LOCAL, so for the rest of the caller's transaction): compiling them
  cost 0.2 s at 500,000 projects and saved nothing on index lookups.
- The raised alerts' ids, levels and kinds come back in the INSERT's RETURNING (one primary-key
  lookup per raised alert), so there is no second query and no list of ids as bound parameters;
  the ids let the caller write what follows from the alerts (notices) in the same transaction.
"""

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from models import DeadlineStatus
from models.types import UTCDateTime


@dataclass(frozen=True)
class SweepResult:
    """What one sweep raised, by level name and by deadline kind, and the ids of the alerts raised."""

    as_of: datetime
    raised: int
    by_level: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    alert_ids: list[int] = field(default_factory=list, repr=False)
    # Who each alert raised is for: (the roles it tells, its project id or None), in alert order.
    told: list[tuple[tuple[str, ...], int | None]] = field(default_factory=list, repr=False)


_OPEN = f"'{DeadlineStatus.OPEN.value}'"

# ORDER BY makes the index scan the cheapest plan (EXISTS alone may get a sequential scan).
_PROBE = (
    "SELECT 1 FROM deadline WHERE next_level_at <= {now} AND status = {open} ORDER BY next_level_at LIMIT 1"
)
_PRELUDE = "SET LOCAL jit = off"

_LEVELS_COME = (
    "l.deadline_id = d.id AND l.revision = d.revision AND l.at >= d.next_level_at AND l.at <= {now}"
)
_LEVELS_JOINED = "JOIN deadline_level l ON " + _LEVELS_COME
# OFFSET 0 keeps the planner from pulling the subquery up into a plain join.
_LEVELS_LATERAL = "CROSS JOIN LATERAL (SELECT * FROM deadline_level l WHERE " + _LEVELS_COME + " OFFSET 0) l"

_INSERT = """INSERT INTO alert (deadline_id, revision, level, name, notify, level_at, raised_at)
SELECT l.deadline_id, l.revision, l.level, l.name, l.notify, l.at, {now}
FROM deadline d {levels}
WHERE d.next_level_at <= {now} AND d.status = {open}
ON CONFLICT {conflict} DO NOTHING
RETURNING id, name, (SELECT kind FROM deadline WHERE deadline.id = alert.deadline_id), notify,
  (SELECT project_id FROM deadline WHERE deadline.id = alert.deadline_id)"""

# One ordered lookup gives the next level and its time; NULL for both when nothing is left to raise.
_UPDATE = """UPDATE deadline SET (next_level, next_level_at) = (
  SELECT l.level, l.at FROM deadline_level l
  WHERE l.deadline_id = deadline.id AND l.revision = deadline.revision AND l.at > {now}
  ORDER BY l.at, l.level LIMIT 1)
WHERE next_level_at <= {now} AND status = {open}"""


@dataclass(frozen=True)
class _Statements:
    probe: str | None  # a query that returns a row when anything is due
    prelude: str | None  # run before the writes, once something is due
    insert: str
    update: str
    bind_time: Callable[[datetime], Any]


_BY_DIALECT: dict[str, _Statements] = {}


def _statements(dialect: Dialect) -> _Statements:
    """The sweep's SQL in the dialect's parameter style, with the converter for its one parameter."""
    known = _BY_DIALECT.get(dialect.name)
    if known is None:
        known = _BY_DIALECT[dialect.name] = _compile(dialect)
    return known


def _compile(dialect: Dialect) -> _Statements:
    dialect_name = dialect.name
    if dialect_name == "postgresql":
        now, levels, conflict = "%(now)s", _LEVELS_LATERAL, "ON CONSTRAINT uq_alert_level"
        probe, prelude = _PROBE, _PRELUDE
    elif dialect_name == "sqlite":
        # SQLite joins with a nested loop over the index already, and keeps no dead index entries.
        now, levels, conflict = ":now", _LEVELS_JOINED, ""
        probe, prelude = None, None
    else:
        raise RuntimeError(f"the sweep supports SQLite and PostgreSQL, not {dialect_name}")
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    return _Statements(
        probe=None if probe is None else probe.format(now=now, open=_OPEN),
        prelude=prelude,
        insert=_INSERT.format(levels=levels.format(now=now), now=now, open=_OPEN, conflict=conflict),
        update=_UPDATE.format(now=now, open=_OPEN),
        bind_time=bind,
    )


def sweep(*, session: Session, now: datetime) -> SweepResult:
    """Raise every level that has come for every open deadline; return counts by level and kind."""
    connection = session.connection()
    dialect = connection.dialect
    statements = _statements(dialect)
    params = {"now": statements.bind_time(now)}
    cursor = connection.connection.cursor()
    statement = ""
    try:
        if statements.probe is not None:
            cursor.execute(statement := statements.probe, params)
            if cursor.fetchone() is None:
                return SweepResult(as_of=now, raised=0)
        if statements.prelude is not None:
            cursor.execute(statement := statements.prelude)
        cursor.execute(statement := statements.insert, params)
        raised: Sequence[tuple[int, str, str, Any, int | None]] = cursor.fetchall()
        cursor.execute(statement := statements.update, params)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, params, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    finally:
        cursor.close()
    return SweepResult(
        as_of=now,
        raised=len(raised),
        by_level=dict(Counter(row[1] for row in raised)),
        by_kind=dict(Counter(row[2] for row in raised)),
        alert_ids=[row[0] for row in raised],
        told=[(_roles(row[3]), row[4]) for row in raised],
    )


def _roles(notify: Any) -> tuple[str, ...]:
    """A JSON list of roles as the driver returns it: text on SQLite, a list on PostgreSQL."""
    return tuple(json.loads(notify) if isinstance(notify, str) else notify)


def sweep_statements(dialect: Dialect, now: datetime) -> list[tuple[str, dict[str, Any] | None]]:
    """The SQL a sweep that finds something due sends, in order, with its parameters (for EXPLAIN)."""
    statements = _statements(dialect)
    params = {"now": statements.bind_time(now)}
    return [
        (sql, None if sql == statements.prelude else params)
        for sql in (statements.probe, statements.prelude, statements.insert, statements.update)
        if sql is not None
    ]
