"""A read connection on the driver itself (sqlite3, psycopg), for statements compiled ahead of time.

A read command of the CLI (``ducha projects``, ``ducha board``) runs a handful of small statements
once and exits: importing SQLAlchemy, SQLModel, pydantic and the table classes to run them took
three quarters of its time. ``workflows.ahead`` compiles those statements with SQLAlchemy into a
generated module (``workflows.ahead_sql``: per dialect, the SQL, its parameter order and a converter
per result column); this module opens the database as ``ducha.db``'s engine would, checks its schema
the way ``ducha.db.require_current_schema`` does, and runs them.

``open_reader`` answers None whenever it is not sure it would do exactly what the engine does (a URL
form it does not parse, a database that is missing, empty or not at the head revision, a driver
error): the caller then takes SQLAlchemy's path, which gives the error messages. Tests run every
generated statement both ways and compare the rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import migrations
from models.errors import BadInput

Row = tuple[Any, ...]
# (sql, parameter order or None for named, values bound in the statement itself, expanding
# parameters' names by value, converter code per result column)
Entry = tuple[
    str, tuple[str, ...] | None, Mapping[str, Any], Mapping[str, Sequence[str]], tuple[str | None, ...]
]


def _to_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _to_date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _utc_sqlite_result(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _utc_postgresql_result(value: Any) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _json(value: Any) -> Any:
    import json

    return None if value is None else json.loads(value)


# What each converter code of ``workflows.ahead_sql`` does: the result processors SQLAlchemy's column
# types have on that dialect (SQLite keeps a date as text, a boolean as an integer).
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "bool": _to_bool,
    "date": _to_date,
    "utc_sqlite": _utc_sqlite_result,
    "utc_postgresql": _utc_postgresql_result,
    "json": _json,
}


def _utc_sqlite(value: datetime) -> str:
    """An aware time as ``models.types.UTCDateTime`` binds it on SQLite: UTC wall time, as SQLAlchemy's
    SQLite DATETIME writes it (microseconds always)."""
    moment = value.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


def _utc_postgresql(value: datetime) -> datetime:
    return value.astimezone(UTC)


# An aware time bound to a ``UTCDateTime`` column, as the driver gets it (``workflows.ahead`` checks
# these against the column type's own bind processor).
UTC_BINDERS: dict[str, Callable[[datetime], Any]] = {"sqlite": _utc_sqlite, "postgresql": _utc_postgresql}


def shape(parameters: Mapping[str, Any]) -> str:
    """The parameters' names, each list's with its length: what one compiled form of a statement takes."""
    return ",".join(
        f"{name}={len(value)}" if isinstance(value, list | tuple) else name
        for name, value in sorted(parameters.items())
    )


class NotAhead(Exception):
    """A statement or shape the generated module does not hold: take SQLAlchemy's path instead."""


class RawReader:
    """One driver connection that only reads; ``dialect`` is ``sqlite`` or ``postgresql``."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect

    def _cursor(self, entry: Entry, parameters: Mapping[str, Any]) -> Any:
        sql, positional, defaults, expansion, _ = entry
        values = {**defaults, **parameters}
        for name, names in expansion.items():
            values.update(zip(names, values.pop(name), strict=True))
        bound: Any = tuple(values[name] for name in positional) if positional is not None else values
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, bound)
        except Exception as exc:
            cursor.close()
            raise self._trouble(exc) from None
        return cursor

    def utc(self, value: datetime) -> Any:
        """An aware time for a parameter compared with a ``UTCDateTime`` column (naive: refused, as
        the column type refuses it)."""
        if value.tzinfo is None:
            raise NotAhead("a naive time")
        return UTC_BINDERS[self.dialect](value)

    def _trouble(self, exc: Exception) -> Exception:
        """What ``ducha.cli.common`` says of the same error from SQLAlchemy's path: a database that
        cannot be reached or is damaged is the user's to fix (exit 2); anything else a bug."""
        name = type(exc).__name__
        if name == "OperationalError":
            return BadInput(f"database unavailable: {exc}")
        if name == "DatabaseError" and any(
            sign in str(exc) for sign in ("malformed", "not a database", "file is encrypted")
        ):
            return BadInput(f"the database file is damaged ({exc}): restore it from a backup")
        return exc

    @staticmethod
    def _converter(entry: Entry) -> Callable[[list[Row]], list[Row]]:
        work = [(index, CONVERTERS[code]) for index, code in enumerate(entry[4]) if code is not None]
        if not work:
            return lambda rows: rows

        def convert(rows: list[Row]) -> list[Row]:
            out = []
            for row in rows:
                values = list(row)
                for index, process in work:
                    values[index] = process(values[index])
                out.append(tuple(values))
            return out

        return convert

    def all(self, entry: Entry, parameters: Mapping[str, Any]) -> list[Row]:
        cursor = self._cursor(entry, parameters)
        try:
            rows = [tuple(row) for row in cursor.fetchall()]
        except Exception as exc:
            raise self._trouble(exc) from None
        finally:
            cursor.close()
        return self._converter(entry)(rows) if rows else []

    def first(self, entry: Entry, parameters: Mapping[str, Any]) -> Row | None:
        rows = self.all(entry, parameters)
        return rows[0] if rows else None

    def stream(self, entry: Entry, parameters: Mapping[str, Any], batch: int) -> Iterator[list[Row]]:
        cursor = self._cursor(entry, parameters)
        convert = self._converter(entry)
        try:
            while True:
                try:
                    rows = cursor.fetchmany(batch)
                except Exception as exc:
                    raise self._trouble(exc) from None
                if not rows:
                    break
                yield convert([tuple(row) for row in rows])
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def open_reader(url: str) -> RawReader | None:
    """A reader on the database of ``url`` at the head revision, or None (then use SQLAlchemy)."""
    try:
        if url.startswith("sqlite:///"):
            connection = _sqlite(url)
            dialect = "sqlite"
        elif url.startswith("postgresql+psycopg://"):
            connection = _postgresql(url)
            dialect = "postgresql"
        else:
            return None
        if connection is None:
            return None
    except Exception:  # whatever it is, SQLAlchemy's path meets it again and says what it is
        return None
    reader = RawReader(connection, dialect)
    try:
        current = reader.connection.execute("SELECT version_num FROM alembic_version").fetchall()
        if dialect == "postgresql":
            connection.rollback()
        if [tuple(row) for row in current] == [(migrations.REVISIONS[-1],)]:
            return reader
    except Exception:  # no alembic_version (an empty database), a file that is not a database, …
        pass
    reader.close()
    return None


def _sqlite(url: str) -> Any:
    """As ``ducha.db.make_engine``'s SQLite engine connects: WAL, foreign keys, a busy timeout; a
    missing file is not made (SQLAlchemy's path says the database is empty)."""
    path = url[len("sqlite:///") :]
    if not path or "?" in path or "%" in path or path == ":memory:" or not os.path.isfile(path):
        return None
    import sqlite3

    connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _postgresql(url: str) -> Any:
    """As ``ducha.db.make_engine``'s PostgreSQL engine connects: psycopg with JIT off."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if set(query) - {"options"} or parts.fragment:
        return None
    import psycopg

    options = " ".join(filter(None, [query.get("options", ""), "-c jit=off"]))
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        dbname=unquote(parts.path.lstrip("/")) or None,
        options=options,
    )
