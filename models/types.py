"""Column types shared by every table: aware UTC timestamps on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp; refuses naive datetimes so local time never leaks into storage."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"timestamps must be aware datetimes, got {value!r}")
        moment: datetime = value.astimezone(UTC)
        # SQLite has no time zone type: store UTC wall time.
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The largest id or version a column holds on both databases (PostgreSQL's INTEGER is 32 bits).
MAX_ID = 2**31 - 1


def table_of(model: type) -> Table:
    """The Core table of a table class: bulk statements on it skip the ORM's per-row work."""
    table: object = sa_inspect(model).local_table
    assert isinstance(table, Table)
    return table
