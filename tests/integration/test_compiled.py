"""Statements compiled once and run on the driver's cursor give what the session gives."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, literal, select, update
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlmodel import Session, col

from ducha.db import make_engine
from models import Deadline, DeadlineKind, DeadlineStatus, Project
from models.calendar import WorkingCalendar
from models.compiled import Compiled, holds
from models.types import UTCDateTime, table_of
from workflows.deadline_sync import sync_deadlines

DUE = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def _deadline(session: Session, subject: str) -> Deadline:
    deadline = Deadline(
        kind=DeadlineKind.CADENCE,
        subject=subject,
        title=f"{subject} title",
        due_at=DUE,
        status=DeadlineStatus.OPEN,
        period_start=date(2026, 4, 1),
    )
    session.add(deadline)
    return deadline


def test_rows_are_converted_as_the_session_converts_them(session: Session) -> None:
    _deadline(session, "cadence:a")
    _deadline(session, "cadence:b")
    statement = (
        select(col(Deadline.subject), col(Deadline.due_at), col(Deadline.period_start), literal(7))
        .where(
            col(Deadline.kind).in_([DeadlineKind.CADENCE, DeadlineKind.MILESTONE]),
            col(Deadline.due_at) > bindparam("after", type_=UTCDateTime()),
        )
        .order_by(col(Deadline.subject))
    )
    compiled = Compiled(statement)
    # Pending objects are flushed first, as session.execute would; the bound timestamp is converted
    # as the column's type converts it (SQLite: UTC text), or nothing would compare right.
    before = datetime(2026, 7, 1, 9, 29, 59, tzinfo=UTC)
    rows = compiled.all(session, {"after": before})
    assert rows == [("cadence:a", DUE, date(2026, 4, 1), 7), ("cadence:b", DUE, date(2026, 4, 1), 7)]
    assert rows == [tuple(row) for row in session.execute(statement, {"after": before})]
    assert compiled.all(session, {"after": DUE}) == []


def test_run_binds_by_name_and_counts_the_rows_changed(session: Session) -> None:
    _deadline(session, "cadence:a")
    _deadline(session, "cadence:b")
    settle = Compiled(
        update(Deadline)
        .where(col(Deadline.subject) == bindparam("subject"), col(Deadline.status) == DeadlineStatus.OPEN)
        .values(status=DeadlineStatus.MET.value, settled_at=bindparam("at", type_=UTCDateTime()))
    )
    at = datetime(2026, 6, 30, 1, tzinfo=UTC)
    assert settle.run(session, {"subject": "cadence:b", "at": at}) == 1
    assert settle.run(session, {"subject": "cadence:b", "at": at}) == 0
    found = session.execute(select(col(Deadline.subject), col(Deadline.settled_at)).order_by("subject")).all()
    assert [tuple(row) for row in found] == [("cadence:a", None), ("cadence:b", at)]


def test_an_insert_returns_its_rows_and_a_driver_error_is_sqlalchemys(session: Session) -> None:
    _deadline(session, "cadence:a")
    table = table_of(Deadline)
    again = Compiled(
        insert(table)
        .values(
            kind="cadence", subject=bindparam("subject"), title="t", due_at=DUE, revision=1, status="open"
        )
        .returning(table.c.subject, table.c.due_at)
    )
    assert again.all(session, {"subject": "cadence:b"}) == [("cadence:b", DUE)]
    with pytest.raises(IntegrityError) as raised:
        again.all(session, {"subject": "cadence:a"})
    assert raised.value.statement is not None and raised.value.statement.startswith("INSERT INTO deadline")


def test_the_engines_cursor_events_see_the_statement(session: Session) -> None:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        count = Compiled(select(col(Deadline.id)).where(col(Deadline.subject) == bindparam("subject")))
        assert count.all(session, {"subject": "nothing"}) == []
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert seen[-1].startswith("SELECT deadline.id")


def test_a_value_left_out_is_refused(session: Session) -> None:
    one = Compiled(select(col(Deadline.id)).where(col(Deadline.subject) == bindparam("subject")))
    with pytest.raises(InvalidRequestError, match="A value is required for bind parameter 'subject'"):
        one.all(session, {})


def test_holds_says_when_the_session_has_objects_of_the_table(session: Session) -> None:
    assert not holds(session, Deadline)
    kept = _deadline(session, "cadence:a")
    session.flush()
    assert holds(session, Deadline)
    del kept  # the identity map holds objects weakly: one nobody holds cannot go stale
    assert not holds(session, Deadline)


def test_a_sync_keeps_the_deadlines_the_session_holds_current(demo: str) -> None:
    # A deadline an action has loaded stays current when the sync settles it (through the ORM); the
    # rows come out the same as from the compiled statements.
    engine = make_engine(demo)
    try:
        with Session(engine) as session:
            held = session.scalars(
                select(Deadline)
                .where(
                    col(Deadline.kind) == DeadlineKind.STAGE_LIMIT,
                    col(Deadline.status) == DeadlineStatus.OPEN,
                )
                .order_by(col(Deadline.id))
                .limit(1)
            ).one()
            project = session.get_one(Project, held.project_id)
            moved = datetime(2026, 12, 1, 2, tzinfo=UTC)
            project.stage, project.stage_entered_at = "completed", moved  # pending: the sync flushes it
            session.add(project)
            result = sync_deadlines(
                session=session, now=moved, calendar=WorkingCalendar.load(), project_id=project.id
            )
            assert result.settled >= 1
            assert (held.status, held.settled_at, held.next_level) == (DeadlineStatus.MISSED, moved, None)
            session.expire_all()
            assert (held.status, held.settled_at, held.next_level) == (DeadlineStatus.MISSED, moved, None)
    finally:
        engine.dispose()
