"""Many rows into one table at the driver's speed: one ``executemany``, each value converted once.

SQLAlchemy's ``execute(insert(table), rows)`` builds and type-converts every parameter of every row
in Python: for the hundreds of thousands of rows a register import or a year of deadlines writes,
that costs several times the database's own work. Here each column's bind conversion (an aware
timestamp to SQLite's UTC text, a list to JSON) runs once per distinct value (a thousand projects
share a handful of due times and role lists), and the rows go to the driver's ``executemany`` in
the session's transaction. Driver errors come out as SQLAlchemy's, as from any other statement.
"""

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

# Distinct values remembered per column and statement; past this a column converts without memory.
_MEMO_LIMIT = 100_000


def _converter(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a column's values are bound: None when the driver takes them as they are."""
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    memo: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        key = (type(value), tuple(value) if isinstance(value, list) else value)
        try:
            return memo[key]
        except KeyError:
            converted = process(value)
            if len(memo) < _MEMO_LIMIT:
                memo[key] = converted
            return converted
        except TypeError:  # unhashable (a dict): convert every time
            return process(value)

    return convert


def insert_many(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, skip_taken: Sequence[str] = ()
) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one executemany; how many were
    given. With ``skip_taken`` (a unique constraint's columns), a row whose values are taken is skipped."""
    if not rows:
        return 0
    _executemany(session, table, rows, skip_taken=skip_taken)
    return len(rows)


def _executemany(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_taken: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """One executemany of ``rows``; with ``returning`` (PostgreSQL), those columns of each row that
    went in (psycopg pipelines the statements and gives one result per row)."""
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    converters = [_converter(table.c[name].type, dialect) for name in names]
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    casts = [_cast(table.c[name].type, dialect) for name in names]
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
        f"VALUES ({', '.join(marker + cast for cast in casts)})"
    )
    if skip_taken:
        statement += f" ON CONFLICT ({', '.join(quote(name) for name in skip_taken)}) DO NOTHING"
    if returning:
        statement += f" RETURNING {', '.join(quote(name) for name in returning)}"
    # The values as the driver takes them: picked by one itemgetter per row, and only the columns
    # that need it converted (most are text and numbers: no call per value).
    pick = itemgetter(*names)
    convert_at = [(index, convert) for index, convert in enumerate(converters) if convert is not None]
    values: list[Sequence[Any]]
    if len(names) == 1:
        only = converters[0] or (lambda value: value)
        values = [(only(row[names[0]]),) for row in rows]
    elif not convert_at:
        values = [pick(row) for row in rows]
    else:
        values = []
        for row in rows:
            value = list(pick(row))
            for index, convert in convert_at:
                value[index] = convert(value[index])
            values.append(value)
    cursor = connection.connection.cursor()
    found: list[tuple[Any, ...]] = []
    try:
        if returning:
            psycopg_cursor: Any = cursor  # psycopg's own executemany takes returning=
            psycopg_cursor.executemany(statement, values, returning=True)
            while True:
                found.extend(tuple(row) for row in psycopg_cursor.fetchall())
                if not psycopg_cursor.nextset():
                    break
        else:
            cursor.executemany(statement, values)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()
    return found


def _cast(column_type: Any, dialect: Dialect) -> str:
    """A cast PostgreSQL needs to read the driver's text as the column's type (JSON from a string)."""
    if dialect.name != "postgresql":
        return ""
    from sqlalchemy import JSON

    return "::json" if isinstance(column_type, JSON) else ""


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    skip_taken: Sequence[str] = (),
) -> dict[tuple[Any, ...], int]:
    """Insert ``rows`` and say which went in: ``key`` values → new id. With ``skip_taken`` (the
    columns of a unique constraint) a row whose values are taken already is skipped, not an error.

    On SQLite the transaction holds the only write lock, so the rows this statement inserted are
    the ones above the highest id before it: one executemany and one read. On PostgreSQL other
    transactions insert meanwhile, so the ids come back from ``INSERT … RETURNING`` itself, each
    row's through psycopg's executemany (``returning=True``: pipelined, one result per row).
    """
    if not rows:
        return {}
    from sqlalchemy import func, select

    connection = session.connection()
    identity = table.c.id
    columns = [table.c[name] for name in key]
    if connection.dialect.name == "sqlite":
        highest = connection.execute(select(func.coalesce(func.max(identity), 0))).scalar_one()
        insert_many(session, table, rows, skip_taken=skip_taken)
        found = connection.execute(select(identity, *columns).where(identity > highest)).all()
        return {tuple(row[1:]): row[0] for row in found}
    returned = _executemany(session, table, rows, skip_taken=skip_taken, returning=["id", *key])
    return {tuple(row[1:]): row[0] for row in returned}
