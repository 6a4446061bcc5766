"""Statements compiled once per dialect and run on the DBAPI cursor of a session's connection.

A read that runs often on little data (the board of 50 projects: seven statements in about a
millisecond) spends most of its time in SQLAlchemy's execution path, not in the database: cache-key
generation, parameter processing, the result object. ``Compiled`` keeps what that path works out
on every call (the SQL string for the dialect, the order of the positional parameters, the bind and
result processors) and runs the string on the connection's own cursor: the rows are the DBAPI's
tuples, passed through the column types' result processors (a date stored as text on SQLite) only
where a column has one.

It runs in the session's transaction (the same connection, after a flush of pending changes, as
``session.execute`` would autoflush), and errors arrive as SQLAlchemy's ``DBAPIError`` subclasses.
Writes too (``run``: an UPDATE's count of rows; ``all`` of an INSERT … RETURNING): the daily job's
seventeen statements on 50 projects cost several times more in SQLAlchemy than in the database. The
engine's cursor events still fire (the benches time statements through them). The ORM does not see
what a write changes: where the session holds objects of the table (``holds``), run the statement
through the session instead, whose ``synchronize_session`` keeps them current.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.orm import Session

Row = tuple[Any, ...]
# Rows fetched at a time while streaming.
BATCH = 1000
_cursor_names = itertools.count(1)


@dataclass(frozen=True)
class _Plan:
    """One statement for one dialect and one set of parameter names (and list lengths)."""

    sql: str
    positional: tuple[str, ...] | None  # the parameter order of a qmark/numeric dialect; None: named
    defaults: Mapping[str, Any]  # the values bound in the statement itself (a literal compared to)
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # bind processors, by parameter
    expansion: Mapping[str, list[str]]  # an expanding (IN) parameter's names, one per value
    # The positional values out of the named ones, in C (a board runs nine statements on 50 rows:
    # Python's work around each one is a tenth of its time).
    getter: Callable[[Mapping[str, Any]], Row] | None = None


class Compiled:
    """A SELECT compiled once per dialect; ``all``/``first``/``stream`` run it with ``parameters``.

    ``parameters`` name the statement's bound parameters (``bindparam("programme")``); an expanding
    one (``bindparam("stages", expanding=True)``) takes a list, and each length compiles once.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, Any] = {}
        self._plans: dict[Any, _Plan] = {}
        self._expanding: frozenset[str] | None = None
        self._results: dict[str, Callable[[list[Row]], list[Row]]] = {}
        self._variants: dict[Any, Compiled] = {}

    def windowed(self, *, offset: bool, limit: bool) -> Compiled:
        """The statement with ``OFFSET :window_offset`` and/or ``LIMIT :window_limit``, kept."""
        if not offset and not limit:
            return self
        variant = self._variants.get((offset, limit))
        if variant is None:
            from sqlalchemy import bindparam

            statement = self.statement
            if offset:
                statement = statement.offset(bindparam("window_offset"))
            if limit:
                statement = statement.limit(bindparam("window_limit"))
            variant = self._variants[(offset, limit)] = Compiled(statement)
        return variant

    def counting(self) -> Compiled:
        """``SELECT count(*)`` of this statement's rows, kept."""
        variant = self._variants.get("count")
        if variant is None:
            from sqlalchemy import func, select

            counted = select(func.count()).select_from(self.statement.order_by(None).subquery())
            variant = self._variants["count"] = Compiled(counted)
        return variant

    def _plan(self, dialect: Dialect, parameters: Mapping[str, Any]) -> _Plan:
        kind = _kind(dialect)
        compiled = self._compiled.get(kind)
        if compiled is None:
            compiled = self._compiled[kind] = self.statement.compile(dialect=dialect)
            self._expanding = frozenset(p.key for p in compiled.post_compile_params)
        expanding = self._expanding
        lengths: tuple[int, ...] = ()
        if expanding:
            lengths = tuple(len(parameters[name]) for name in sorted(expanding) if name in parameters)
        key = (kind, frozenset(parameters), lengths)
        plan = self._plans.get(key)
        if plan is None:
            state = compiled.construct_expanded_state(dict(parameters))
            # A list bound in the statement itself (``in_([...])``) is expanded once, here, with the rest
            # of its values; only the lists given as parameters are expanded on every call.
            expansion = {k: v for k, v in state.parameter_expansion.items() if k in parameters}
            given = set(parameters) | {name for names in expansion.values() for name in names}
            # The expanded state's processors are only the expanded lists' values: the others (an
            # aware timestamp to SQLite's text) are the compiled statement's.
            processors = {**compiled._bind_processors, **state.processors}
            if not all(callable(process) for process in processors.values()):
                raise exc.InvalidRequestError("tuple parameters are not supported here")
            positional = tuple(state.positiontup) if state.positiontup is not None else None
            plan = self._plans[key] = _Plan(
                sql=state.statement,
                positional=positional,
                defaults={k: v for k, v in state.parameters.items() if k not in given},
                processors=tuple(processors.items()),
                expansion=expansion,
                getter=_getter(positional) if positional is not None else None,
            )
        return plan

    def _bound(self, plan: _Plan, parameters: Mapping[str, Any]) -> Any:
        values = {**plan.defaults, **parameters}
        for name, names in plan.expansion.items():
            values.update(zip(names, values.pop(name), strict=True))
        for name, process in plan.processors:
            if name in values:
                values[name] = process(values[name])
        if plan.getter is not None:
            return plan.getter(values)
        return values

    def _convert(self, dialect: Dialect, description: Any) -> Callable[[list[Row]], list[Row]]:
        """What turns the DBAPI's rows into the column types' values (the identity if no column needs it)."""
        convert = self._results.get(_kind(dialect))
        if convert is None:
            # The compiled statement's result columns: a SELECT's, or an INSERT's RETURNING.
            columns = self._compiled[_kind(dialect)]._result_columns
            work = []
            for index, (column, described) in enumerate(zip(columns, description, strict=True)):
                process = column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                if process is not None:
                    work.append((index, process))
            if not work:

                def convert(rows: list[Row]) -> list[Row]:
                    return rows
            else:
                convert = _converter(len(columns), work)

            self._results[_kind(dialect)] = convert
        return convert

    def _cursor(self, session: Session, parameters: Mapping[str, Any], *, named: bool) -> tuple[Any, Any]:
        if session.autoflush:
            session.flush()  # as session.execute would (nothing to do when nothing is pending)
        connection = session.connection()
        dialect = connection.dialect
        plan = self._plan(dialect, parameters)
        bound = self._bound(plan, parameters)
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        # PostgreSQL streams through a server-side cursor, as SQLAlchemy's yield_per does.
        server_side = named and dialect.name == "postgresql"
        cursor = dbapi.cursor(name=f"ducha_compiled_{next(_cursor_names)}") if server_side else dbapi.cursor()
        # The engine's cursor events, when anything listens (a bench timing statements, a test).
        before, after = connection.dispatch.before_cursor_execute, connection.dispatch.after_cursor_execute
        try:
            if before:
                before(connection, cursor, plan.sql, bound, None, False)
            cursor.execute(plan.sql, bound)
            if after:
                after(connection, cursor, plan.sql, bound, None, False)
        except Exception as error:
            cursor.close()
            if isinstance(error, dialect.loaded_dbapi.Error):
                raise exc.DBAPIError.instance(
                    plan.sql, bound, error, dialect.loaded_dbapi.Error, dialect=dialect
                ) from error
            raise
        return cursor, dialect

    def all(self, session: Session, parameters: Mapping[str, Any] | None = None) -> list[Row]:
        """Every row, as tuples."""
        cursor, dialect = self._cursor(session, parameters or {}, named=False)
        try:
            rows = cursor.fetchall()
            return self._convert(dialect, cursor.description)(rows) if rows else []
        finally:
            cursor.close()

    def first(self, session: Session, parameters: Mapping[str, Any] | None = None) -> Row | None:
        """The first row, or None."""
        cursor, dialect = self._cursor(session, parameters or {}, named=False)
        try:
            row = cursor.fetchone()
            return None if row is None else self._convert(dialect, cursor.description)([row])[0]
        finally:
            cursor.close()

    def run(self, session: Session, parameters: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows (an UPDATE, a SET); how many rows it changed."""
        cursor, _ = self._cursor(session, parameters or {}, named=False)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def stream(
        self, session: Session, parameters: Mapping[str, Any] | None = None, batch: int = BATCH
    ) -> Iterator[list[Row]]:
        """The rows ``batch`` at a time, read as they are asked for (a server-side cursor on PostgreSQL)."""
        cursor, dialect = self._cursor(session, parameters or {}, named=True)
        try:
            convert = None
            while rows := cursor.fetchmany(batch):
                if convert is None:
                    convert = self._convert(dialect, cursor.description)
                yield convert(rows)
        finally:
            cursor.close()


def _converter(width: int, work: list[tuple[int, Callable[[Any], Any]]]) -> Callable[[list[Row]], list[Row]]:
    """A function turning rows of ``width`` columns into new tuples with ``work``'s processors applied
    to their columns, written out as one tuple display per row (a list comprehension with no inner
    loop: a third of the time of copying each row to a list and back, on a list of dates on SQLite).
    Only column numbers and names of our own go into the source text."""
    processed = dict(work)
    cells = ", ".join(f"p{i}(r[{i}])" if i in processed else f"r[{i}]" for i in range(width))
    namespace: dict[str, Any] = {f"p{index}": process for index, process in work}
    exec(f"def convert(rows):\n    return [({cells},) for r in rows]\n", namespace)  # noqa: S102
    convert: Callable[[list[Row]], list[Row]] = namespace["convert"]
    return convert


def _getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Row]:
    """``values`` -> the tuple of ``values[name]`` for ``names``, in order."""
    if len(names) == 1:
        (name,) = names
        return lambda values: (values[name],)
    if not names:
        return lambda values: ()
    return operator.itemgetter(*names)


def holds(session: Session, model: type) -> bool:
    """Whether the session has objects of ``model`` loaded: a write run by ``Compiled`` would change
    their rows behind the ORM's back, so the caller runs it through the session instead."""
    return any(isinstance(instance, model) for instance in session.identity_map.values())


def _kind(dialect: Dialect) -> str:
    """The dialect and its driver: the SQL string and its parameter style depend on both."""
    return f"{dialect.name}+{dialect.driver}"
