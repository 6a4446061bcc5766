"""A statement compiled once (models.compiled) reads what session.execute reads, on both backends."""

from datetime import date

import pytest
from sqlalchemy import Date, Integer, String, bindparam, column, func, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from models import Place, PlaceKind
from models.compiled import Compiled

sample = table("compiled_sample", column("id", Integer), column("day", Date), column("name", String))
DAYS = [date(2026, 12, n) for n in range(1, 8)]


@pytest.fixture
def filled(session: Session) -> Session:
    session.execute(text("CREATE TABLE compiled_sample (id INTEGER PRIMARY KEY, day DATE, name VARCHAR(20))"))
    session.execute(
        sample.insert(),
        [{"id": n, "day": day, "name": f"n{n % 3}"} for n, day in enumerate(DAYS, 1)],
    )
    return session


def _by_names() -> Compiled:
    return Compiled(
        select(sample.c.id, sample.c.day, sample.c.name)
        .where(sample.c.name.in_(bindparam("names", expanding=True)), sample.c.id > bindparam("above"))
        .order_by(sample.c.id)
    )


def test_rows_are_those_session_execute_reads_whatever_the_length_of_a_list(filled: Session) -> None:
    compiled = _by_names()
    for names in (["n1"], ["n1", "n2"], ["n0", "n1", "n2"], ["n1"], []):
        parameters = {"names": names, "above": 1}
        expected = [tuple(row) for row in filled.execute(compiled.statement, parameters)]
        assert compiled.all(filled, parameters) == expected
    found = compiled.all(filled, {"names": ["n0"], "above": 0})
    assert found == [(3, date(2026, 12, 3), "n0"), (6, date(2026, 12, 6), "n0")]  # dates, on SQLite too
    assert compiled.first(filled, {"names": ["n2"], "above": 2}) == (5, date(2026, 12, 5), "n2")
    assert compiled.first(filled, {"names": ["none"], "above": 0}) is None


def test_a_list_bound_in_the_statement_itself_keeps_its_values(filled: Session) -> None:
    compiled = Compiled(
        select(sample.c.id)
        .where(sample.c.name.in_(["n1", "n2"]), sample.c.id <= bindparam("upto"))
        .order_by(sample.c.id)
    )
    assert compiled.all(filled, {"upto": 5}) == [(1,), (2,), (4,), (5,)]
    assert compiled.all(filled, {"upto": 2}) == [(1,), (2,)]


def test_streams_in_batches_and_binds_its_window(filled: Session) -> None:
    compiled = Compiled(select(sample.c.id, sample.c.day).order_by(sample.c.id))
    batches = list(compiled.stream(filled, {}, batch=3))
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert [row for batch in batches for row in batch] == list(zip(range(1, 8), DAYS, strict=True))
    page = compiled.windowed(offset=True, limit=True)
    assert page.all(filled, {"window_offset": 2, "window_limit": 3}) == list(
        zip(range(3, 6), DAYS[2:5], strict=True)
    )
    assert compiled.windowed(offset=True, limit=False).all(filled, {"window_offset": 5}) == [
        (6, DAYS[5]),
        (7, DAYS[6]),
    ]
    assert compiled.windowed(offset=False, limit=False) is compiled
    assert compiled.counting().first(filled) == (7,)


def test_pending_changes_are_flushed_first_as_session_execute_would(session: Session) -> None:
    counted = Compiled(select(func.count()).select_from(Place).where(Place.name == bindparam("name")))  # type: ignore[arg-type]
    assert counted.first(session, {"name": "新村"}) == (0,)
    session.add(Place(kind=PlaceKind.DISTRICT, name="新村"))
    assert counted.first(session, {"name": "新村"}) == (1,)


def test_a_database_error_is_sqlalchemys(session: Session) -> None:
    missing = table("no_such_table", column("id", Integer))
    with pytest.raises(DBAPIError):
        Compiled(select(missing.c.id)).all(session)
