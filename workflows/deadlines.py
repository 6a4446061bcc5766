"""Deadlines and their escalation levels: compute the levels, open, extend and settle a deadline.

Every deadline carries its escalation levels, computed once per revision on the working-day
calendar, so the sweep (workflows.sweep) is plain SQL. A deadline is met or missed by the event
itself (the project entering the stage, the order closing), at the time that event happened. The
set-based daily work of keeping deadlines in step with the data is in workflows.deadline_sync.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session, col, select

from models import Deadline, DeadlineKind, DeadlineLevel, DeadlineRevision, DeadlineStatus, Role
from models.bulk import insert_many
from models.calendar import WorkingCalendar
from models.errors import Refused
from models.localtime import LOCAL_TZ, OFFICE_DAY_START
from models.types import table_of
from workflows.definition import Escalation


class DeadlineRefused(Refused):
    """A change to a deadline that its kind, its state or the person asking does not allow."""


@dataclass(frozen=True)
class LevelTime:
    level: int
    name: str
    at: datetime
    notify: tuple[Role, ...]


def level_times(
    *, due_at: datetime, kind: DeadlineKind, escalation: Escalation, calendar: WorkingCalendar
) -> list[LevelTime]:
    """When each level of the ladder falls due for a deadline due at ``due_at``, in time order."""
    local_due = due_at.astimezone(LOCAL_TZ)
    out = []
    for index, level in enumerate(escalation.levels):
        offset = escalation.offset(DeadlineKind(kind).value, level)
        day = local_due.date() if offset == 0 else calendar.add_working_days(local_due.date(), offset)
        wall = OFFICE_DAY_START if level.at == "morning" else local_due.timetz().replace(tzinfo=None)
        moment = datetime.combine(day, wall, LOCAL_TZ).astimezone(due_at.tzinfo)
        out.append(LevelTime(index, level.name, moment, tuple(level.notify)))
    return sorted(out, key=lambda lt: (lt.at, lt.level))


def next_level(levels: Sequence[LevelTime], *, revision: int, now: datetime) -> LevelTime | None:
    """The level the sweep raises next: the first one for a new deadline (late levels are raised too,
    so a late first sweep catches up); for a new revision, the first one still to come."""
    upcoming = [lt for lt in levels if lt.at > now] if revision > 1 else list(levels)
    return upcoming[0] if upcoming else None


@lru_cache(maxsize=256)
def _values(roles: tuple[Role, ...]) -> list[str]:
    """The JSON list of a level's roles, made once per ladder rung (callers never change it)."""
    return [role.value for role in roles]


def level_rows(deadline_id: int, revision: int, levels: Iterable[LevelTime]) -> list[dict[str, Any]]:
    """The ``deadline_level`` rows of one revision, for a bulk insert."""
    return [
        {
            "deadline_id": deadline_id,
            "revision": revision,
            "level": lt.level,
            "name": lt.name,
            "at": lt.at,
            "notify": _values(lt.notify),
        }
        for lt in levels
    ]


def insert_ignoring_duplicates(session: Session, table: Any, unique: Sequence[str]) -> Any:
    """An INSERT that skips rows whose ``unique`` columns are taken (another writer got there first)."""
    return insert_ignoring_duplicates_on(session.get_bind().dialect.name, table, unique)


def insert_ignoring_duplicates_on(dialect: str, table: Any, unique: Sequence[str]) -> Any:
    """``insert_ignoring_duplicates`` for the database ``dialect`` (a statement built once, kept)."""
    # Each dialect's INSERT is imported when used: a SQLite installation never loads PostgreSQL's.
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).on_conflict_do_nothing(index_elements=list(unique))
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(unique))
    raise RuntimeError(f"ducha runs on SQLite and PostgreSQL, not {dialect}")


def write_levels(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert level rows in one executemany (nothing is bound per row in a single statement)."""
    insert_many(session, table_of(DeadlineLevel), rows)


def _write_levels(session: Session, deadline: Deadline, levels: list[LevelTime], now: datetime) -> None:
    assert deadline.id is not None
    write_levels(session, level_rows(deadline.id, deadline.revision, levels))
    upcoming = next_level(levels, revision=deadline.revision, now=now)
    deadline.next_level = upcoming.level if upcoming else None
    deadline.next_level_at = upcoming.at if upcoming else None
    session.add(deadline)
    session.flush()


def open_deadline(
    *,
    session: Session,
    kind: DeadlineKind,
    subject: str,
    title: str,
    due_at: datetime,
    escalation: Escalation,
    calendar: WorkingCalendar,
    now: datetime,
    **about: Any,
) -> Deadline:
    """Open a deadline (once per subject) with its escalation levels.

    ``about`` gives the columns that say what it is about: programme_id, project_id, order_id,
    milestone_key, stage and stage_entered_at, cadence and its period.
    """
    existing = session.exec(select(Deadline).where(col(Deadline.subject) == subject)).first()
    if existing is not None:
        return existing
    # Levels first: a calendar error must leave no half-made deadline behind.
    levels = level_times(due_at=due_at, kind=kind, escalation=escalation, calendar=calendar)
    deadline = Deadline(
        kind=kind, subject=subject, title=title, due_at=due_at, status=DeadlineStatus.OPEN, **about
    )
    session.add(deadline)
    session.flush()
    _write_levels(session, deadline, levels, now)
    return deadline


def extend_deadline(
    *,
    session: Session,
    deadline: Deadline,
    due_at: datetime,
    escalation: Escalation,
    calendar: WorkingCalendar,
    now: datetime,
    approved_by_id: int,
    reason: str,
) -> Deadline:
    """An approved extension: a new revision with its own levels, recorded in the deadline's history
    (who approved it, why, from when to when); the old revision's alerts stop."""
    if deadline.status != DeadlineStatus.OPEN:
        raise DeadlineRefused(
            f"deadline {deadline.id} is {deadline.status}: only an open deadline can be extended"
        )
    if due_at <= deadline.due_at:
        raise DeadlineRefused(f"deadline {deadline.id}: an extension must move the due time later")
    levels = level_times(
        due_at=due_at, kind=DeadlineKind(deadline.kind), escalation=escalation, calendar=calendar
    )
    # The history row first: the database lets the deadline move to a revision only with one.
    assert deadline.id is not None
    session.add(
        DeadlineRevision(
            deadline_id=deadline.id,
            revision=deadline.revision + 1,
            previous_due_at=deadline.due_at,
            due_at=due_at,
            approved_by_id=approved_by_id,
            reason=reason,
            recorded_at=now,
        )
    )
    session.flush()
    deadline.revision += 1
    deadline.due_at = due_at
    _write_levels(session, deadline, levels, now)
    return deadline


def settle(
    *,
    session: Session,
    deadline: Deadline,
    at: datetime,
    waived: bool = False,
    by: int | None = None,
    note: str | None = None,
) -> None:
    """Met if the event came by the due time, missed if after (or waived); nothing more is raised.

    ``by`` and ``note`` record who settled it by hand, and why; an event that settles it leaves them empty.
    """
    if waived:
        deadline.status = DeadlineStatus.WAIVED
    else:
        deadline.status = DeadlineStatus.MET if at <= deadline.due_at else DeadlineStatus.MISSED
    deadline.settled_at = at
    deadline.settled_by_id = by
    deadline.settle_note = note
    deadline.next_level = None
    deadline.next_level_at = None
    session.add(deadline)
