"""Statements compiled once per dialect and run on the driver's cursor, for a job's small, frequent ones.

SQLAlchemy spends 0.1-0.3 ms on a statement before the driver sees it (its cache key, the ORM's
compile state, an execution context, result metadata): on 50 projects the daily job's seventeen
statements cost several times more in that than in the database. A ``Compiled`` wraps a Core or
ORM statement; its first run on a dialect compiles it (the SQL, the order of its parameters, each
parameter's bind conversion and fixed value, each result column's conversion) and every later run
binds the values given by name, calls the cursor and converts the rows. Driver errors come out as
SQLAlchemy's, as from any other statement, and the engine's cursor events still fire (the bench
profiles statements through them).

What it leaves out, so callers keep to it: lists bound at run time (an expanding ``IN``) are
refused, a list fixed in the statement is rendered into it; the ORM does not see the rows a
statement changes (``connection_for`` flushes first; where the session holds objects of the table a
statement changes, ``holds`` says so and the caller runs it through the session).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Form:
    """One statement as one dialect's driver takes it."""

    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional drivers); None: by name
    fixed: Mapping[str, Any]  # every parameter's value as the driver takes it: the statement's own
    required: frozenset[str]  # parameters with no value of their own
    rename: Mapping[str, str]  # a parameter's name → its name in the SQL (when escaped)
    binds: Mapping[str, Processor]  # conversions of the values bound at run time
    results: tuple[Processor | None, ...] | None  # per result column; None: rows as they come


class Compiled:
    """A statement compiled once per dialect, run on the DBAPI cursor of a connection."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._forms: dict[tuple[type, Any], _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        key = (type(dialect), dialect.server_version_info)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = _compile(self.statement, dialect)
        return form

    def sql(self, dialect: Dialect) -> str:
        return self._form(dialect).sql

    def rows(self, connection: Connection, parameters: Mapping[str, Any] | None = None) -> list[Any]:
        """The rows the statement returns (tuples, each value converted as SQLAlchemy would)."""
        form = self._form(connection.dialect)
        cursor = _run(connection, form, parameters)
        try:
            found = cursor.fetchall()
        finally:
            cursor.close()
        if form.results is None:
            return list(found)
        convert = form.results
        return [
            tuple(value if c is None else c(value) for c, value in zip(convert, row, strict=True))
            for row in found
        ]

    def scalars(self, connection: Connection, parameters: Mapping[str, Any] | None = None) -> list[Any]:
        return [row[0] for row in self.rows(connection, parameters)]

    def run(self, connection: Connection, parameters: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        cursor = _run(connection, self._form(connection.dialect), parameters)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _compile(statement: Any, dialect: Dialect) -> _Form:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    required: set[str] = set()
    for bind in compiled.binds.values():
        if bind.expanding and bind.value is None and bind.callable is None:
            raise InvalidRequestError(
                f"{bind.key}: a list bound at run time cannot be compiled once; put it in the statement"
            )
        if bind.required:
            required.add(bind.key)
    # The SQL and the parameters with lists fixed in the statement expanded (IN (?, ?)), each
    # required one a placeholder: its value changes the parameters, never the SQL.
    state = compiled.construct_expanded_state(dict.fromkeys(required))
    rename = dict(compiled.escaped_bind_names)
    processors: dict[str, Processor] = {}
    for name, process in {**compiled._bind_processors, **state.processors}.items():
        if not callable(process):  # one per element of a tuple parameter
            raise InvalidRequestError(f"{name}: tuple parameters are not supported")
        processors[name] = process
    fixed = {
        name: value if value is None or name not in processors else processors[name](value)
        for name, value in state.parameters.items()
    }
    results = None
    if compiled._result_columns:
        converters = tuple(
            column.type._cached_result_processor(dialect, None) for column in compiled._result_columns
        )
        results = converters if any(converters) else None
    return _Form(
        sql=state.statement,
        order=tuple(state.positiontup) if compiled.positional and state.positiontup is not None else None,
        fixed=fixed,
        required=frozenset(required),
        rename=rename,
        binds={rename.get(name, name): p for name, p in processors.items() if name in required},
        results=results,
    )


def _run(connection: Connection, form: _Form, parameters: Mapping[str, Any] | None) -> Any:
    values = dict(form.fixed)
    given = parameters or {}
    for name in form.required:
        if name not in given:
            raise InvalidRequestError(f"a value is required for bind parameter {name!r}")
    for name, value in given.items():
        name = form.rename.get(name, name)
        if name in values:
            convert = form.binds.get(name)
            values[name] = convert(value) if convert is not None and value is not None else value
    bound: Sequence[Any] | dict[str, Any] = (
        values if form.order is None else tuple(values[name] for name in form.order)
    )
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    events = connection._has_events or connection.engine._has_events
    try:
        if events:
            connection.dispatch.before_cursor_execute(connection, cursor, form.sql, bound, None, False)
        if connection._echo:
            connection._log_info(form.sql)
            connection._log_info("[compiled once] %r", bound)
        cursor.execute(form.sql, bound)
        if events:
            connection.dispatch.after_cursor_execute(connection, cursor, form.sql, bound, None, False)
    except dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(form.sql, bound, exc, dialect.loaded_dbapi.Error, dialect=dialect) from exc
    return cursor


def connection_for(session: Session) -> Connection:
    """The session's connection, with its pending changes flushed first, as ``session.execute`` does."""
    if session.autoflush:
        session.flush()
    return session.connection()


def holds(session: Session, model: type) -> bool:
    """Whether the session has objects of ``model`` loaded: a statement run here would change their
    rows behind the ORM's back, so the caller runs it through the session instead (whose
    ``synchronize_session`` updates them)."""
    return any(isinstance(instance, model) for instance in session.identity_map.values())
