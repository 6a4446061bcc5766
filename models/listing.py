"""Lists that page and stream: a window (limit, offset) over a query, rows read as they are printed.

A list read returns a ``Listing``: iterating it streams the rows in the window (a server-side cursor
on PostgreSQL, SQLite's own cursor), never the whole result in memory, and ``count()`` says how many
rows match in all, which a front end shows beside a page (``{data, count}``).
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlmodel import Session

from models.compiled import Compiled
from models.window import Streamed, Window

__all__ = ["BATCH", "Listing", "Window"]

T = TypeVar("T")
U = TypeVar("U")
# Rows fetched from the database at a time while streaming.
BATCH = 1000


class Listing(Streamed[T]):
    """The rows of ``query`` in ``window``, made by ``rows`` a batch at a time; iterate once.

    ``rows`` gets up to ``BATCH`` result rows and returns the list's rows for them, so that what a
    row needs from elsewhere (a project's budget lines) is read once per batch, never per row and
    never for the whole list at once. ``parameters`` are the values of the query's bound parameters,
    for a query built once and kept (its cache key is then worked out once, not on every read).

    ``counted``, if given, is a ``SELECT count(*)`` matching the same rows with less work (without the
    columns and the outer joins that cannot change how many rows there are), taking the same
    ``parameters``; else ``count()`` counts ``query`` itself. ``counter``, if given, answers
    ``count()`` instead (an exact count kept by the caller, e.g. ``workflows.read_cache``).
    """

    def __init__(
        self,
        session: Session,
        query: Any,  # a SELECT, SQLAlchemy's or SQLModel's, or one compiled once (models.compiled)
        rows: Callable[[list[Any]], list[T]],
        window: Window = Window(),
        parameters: Mapping[str, Any] | None = None,
        counted: Any = None,
        counter: Callable[[], int] | None = None,
    ) -> None:
        self._session = session
        self._query = query
        self._rows = rows
        self.window = window
        self._parameters = parameters
        self._counted = counted
        self._counter = counter
        self._streamed: int | None = None

    @classmethod
    def each(
        cls,
        session: Session,
        query: Any,
        row: Callable[[Any], T],
        window: Window = Window(),
        parameters: Mapping[str, Any] | None = None,
        counted: Any = None,
        counter: Callable[[], int] | None = None,
    ) -> "Listing[T]":
        """A listing whose rows are made one result row at a time."""
        return cls(
            session,
            query,
            lambda batch: [row(found) for found in batch],
            window,
            parameters,
            counted,
            counter,
        )

    def __iter__(self) -> Iterator[T]:
        if isinstance(self._query, Compiled):
            # The generator itself, not one more around it: each row passes one frame less.
            return self._compiled_rows(self._query)
        return self._query_rows()

    def _query_rows(self) -> Iterator[T]:
        query = self._query
        if self.window.offset:
            query = query.offset(self.window.offset)
        if self.window.limit is not None:
            query = query.limit(self.window.limit)
        streamed = 0
        if self.window.limit is not None and self.window.limit <= BATCH:
            # A page fits in one batch: fetched at once, without a server-side cursor's round trips
            # (PostgreSQL: DECLARE, FETCH, CLOSE) for what is at most one batch.
            partitions: Any = [self._session.execute(query, self._parameters).all()]
        else:
            partitions = self._session.execute(
                query, self._parameters, execution_options={"yield_per": BATCH}
            ).partitions()
        for partition in partitions:
            batch = self._rows(list(partition))
            streamed += len(batch)
            yield from batch
        self._streamed = streamed

    def _compiled_rows(self, compiled: Compiled) -> Iterator[T]:
        """The rows of a compiled statement: its window bound as parameters, not compiled again."""
        window, parameters = self.window, dict(self._parameters or {})
        compiled = compiled.windowed(offset=bool(window.offset), limit=window.limit is not None)
        if window.offset:
            parameters["window_offset"] = window.offset
        if window.limit is not None:
            parameters["window_limit"] = window.limit
        streamed = 0
        if window.limit is not None and window.limit <= BATCH:
            partitions: Any = [compiled.all(self._session, parameters)]
        else:
            partitions = compiled.stream(self._session, parameters, BATCH)
        for partition in partitions:
            batch = self._rows(partition)
            streamed += len(batch)
            yield from batch
        self._streamed = streamed

    def map(self, each: Callable[[T], U]) -> "Listing[U]":
        """The same rows passed through ``each`` as they stream (to note something of each)."""
        rows = self._rows
        return Listing(
            self._session,
            self._query,
            lambda batch: [each(row) for row in rows(batch)],
            self.window,
            self._parameters,
            self._counted,
            self._counter,
        )

    def count(self) -> int:
        """How many rows the list holds in all, whatever the window."""
        if self.window.everything and self._streamed is not None:
            return self._streamed
        if self._counter is not None:
            return self._counter()
        counted = self._counted
        if isinstance(self._query, Compiled):
            counting = counted if isinstance(counted, Compiled) else self._query.counting()
            found = counting.first(self._session, self._parameters)
            assert found is not None
            return int(found[0])
        if counted is None:
            counted = select(func.count()).select_from(self._query.order_by(None).subquery())
        return int(self._session.execute(counted, self._parameters).scalar_one())
