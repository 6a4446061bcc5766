"""Many rows into one table at the driver's speed: one ``executemany``, each value converted once.

SQLAlchemy's ``execute(insert(table), rows)`` builds and type-converts every parameter of every row
in Python: for the hundreds of thousands of rows a register import or a year of deadlines writes,
that costs several times the database's own work. Here each column's bind conversion (an aware
timestamp to SQLite's UTC text, a list to JSON) runs once per distinct value (a thousand projects
share a handful of due times and role lists), and the rows go to the driver's ``executemany`` in
the session's transaction. Driver errors come out as SQLAlchemy's, as from any other statement.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

# Distinct values remembered per column and statement; past this a column converts without memory.
_MEMO_LIMIT = 100_000


def _converter(column_type: Any, dialect: Dialect) -> Callable[[Any], Any]:
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
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


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one executemany; how many."""
    if not rows:
        return 0
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
    values = [
        tuple(convert(row[name]) for convert, name in zip(converters, names, strict=True)) for row in rows
    ]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, values)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    finally:
        cursor.close()
    return len(values)


def _cast(column_type: Any, dialect: Dialect) -> str:
    """A cast PostgreSQL needs to read the driver's text as the column's type (JSON from a string)."""
    if dialect.name != "postgresql":
        return ""
    from sqlalchemy import JSON

    return "::json" if isinstance(column_type, JSON) else ""
