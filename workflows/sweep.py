"""The deadline sweep: set-based SQL that raises every escalation level whose time has come.

It reads only deadlines whose ``next_level_at`` has come (an index), inserts one alert per
(deadline, revision, level) with the database refusing duplicates, and moves each deadline's
``next_level_at`` on, all in the caller's transaction. Sweeping twice, or two sweeps at once,
adds nothing.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Insert, and_, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from models import Alert, Deadline, DeadlineLevel, DeadlineStatus
from models.types import UTCDateTime

KIND_LOOKUP_CHUNK = 10_000


@dataclass(frozen=True)
class SweepResult:
    """What one sweep raised, by level name and by deadline kind."""

    as_of: datetime
    raised: int
    by_level: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)


def _insert_ignoring_duplicates(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(Alert).on_conflict_do_nothing(constraint="uq_alert_level")
    if dialect == "sqlite":
        return sqlite_insert(Alert).on_conflict_do_nothing()
    raise RuntimeError(f"the sweep supports SQLite and PostgreSQL, not {dialect}")


def sweep(*, session: Session, now: datetime) -> SweepResult:
    """Raise every level that has come for every open deadline; return counts by level and kind."""
    level = DeadlineLevel.__table__  # type: ignore[attr-defined]
    deadline = Deadline.__table__  # type: ignore[attr-defined]
    due_levels = (
        select(
            level.c.deadline_id,
            level.c.revision,
            level.c.level,
            level.c.name,
            level.c.notify,
            level.c.at,
            literal(now, UTCDateTime()).label("raised_at"),
        )
        .select_from(deadline)
        .join(level, and_(level.c.deadline_id == deadline.c.id, level.c.revision == deadline.c.revision))
        .where(
            deadline.c.next_level_at <= now,
            deadline.c.status == DeadlineStatus.OPEN.value,
            level.c.at >= deadline.c.next_level_at,
            level.c.at <= now,
        )
    )
    inserted = session.execute(
        _insert_ignoring_duplicates(session)
        .from_select(
            ["deadline_id", "revision", "level", "name", "notify", "level_at", "raised_at"], due_levels
        )
        .returning(Alert.__table__.c.deadline_id, Alert.__table__.c.name)  # type: ignore[attr-defined]
    ).all()
    later = (
        select(func.min(level.c.at))
        .where(
            level.c.deadline_id == deadline.c.id, level.c.revision == deadline.c.revision, level.c.at > now
        )
        .scalar_subquery()
    )
    next_level = (
        select(level.c.level)
        .where(
            level.c.deadline_id == deadline.c.id, level.c.revision == deadline.c.revision, level.c.at > now
        )
        .order_by(level.c.at, level.c.level)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(deadline)
        .where(deadline.c.next_level_at <= now, deadline.c.status == DeadlineStatus.OPEN.value)
        .values(next_level=next_level, next_level_at=later)
    )
    # Kinds are looked up in chunks: one bound parameter per deadline would pass PostgreSQL's limit of
    # 65,535 when a sweep catches up after an outage.
    ids = sorted({row[0] for row in inserted})
    kinds: dict[int, str] = {}
    for start in range(0, len(ids), KIND_LOOKUP_CHUNK):
        chunk = ids[start : start + KIND_LOOKUP_CHUNK]
        rows = session.execute(select(deadline.c.id, deadline.c.kind).where(deadline.c.id.in_(chunk))).all()
        kinds.update({deadline_id: kind for deadline_id, kind in rows})
    return SweepResult(
        as_of=now,
        raised=len(inserted),
        by_level=dict(Counter(name for _, name in inserted)),
        by_kind=dict(Counter(kinds[deadline_id] for deadline_id, _ in inserted)),
    )
