"""Engines, sessions and the schema check; SQLite gets WAL, foreign keys and real transactions.

Nothing here imports Alembic until a database is upgraded: every command checks the schema, and
reading one row of ``alembic_version`` against the revision list in ``migrations`` is all it takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session

import migrations
from models.errors import BadInput

# Execution option: a SQLite write transaction begins IMMEDIATE, taking the write lock at once, so its
# reads and writes see one state (two imports into one programme cannot both count 0 projects).
SQLITE_BEGIN = "ducha_sqlite_begin"
SUPPORTED = ("sqlite", "postgresql")


class SchemaBehind(BadInput):
    """The database is not at the migration head; ``ducha init`` fixes it."""


def make_engine(url: str) -> Engine:
    """Build an engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout."""
    if not url.strip():
        raise BadInput("DUCHA_DATABASE_URL is empty: give sqlite:///FILE or postgresql+psycopg://…")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInput(
            f"DUCHA_DATABASE_URL {url!r} is not a database URL (sqlite:///FILE or postgresql+psycopg://…)"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise BadInput(
            f"DUCHA_DATABASE_URL: ducha runs on SQLite or PostgreSQL, not {backend!r} "
            "(sqlite:///FILE or postgresql+psycopg://…)"
        )
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No JIT compilation: its cost model counts a correlated subquery once per outer row, so a read
    # of a few thousand rows (the battle map of a programme) spent 80 ms compiling to save nothing;
    # the reads of an office's server are never the long analytic scans JIT pays off on.
    options = " ".join(filter(None, [str(parsed.query.get("options") or ""), "-c jit=off"]))
    return create_engine(url, pool_pre_ping=True, connect_args={"options": options})


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # Otherwise pysqlite begins by itself, just before the first write: a reader never blocks, and
    # a write that lost a race to a concurrent one finds the row's version changed.
    if connection.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def writer(engine: Engine) -> Engine:
    """The engine for a write transaction: on SQLite it takes the write lock when it begins."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that rolls back whatever was not committed when the block ends."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


def head_revision(url: str | None = None) -> str:
    """The newest migration the installed code knows."""
    return migrations.REVISIONS[-1]


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty (or missing) database."""
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        return None  # a read never creates the file
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "alembic_version"):
                return None
            value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        name = display_url(engine)
        if engine.dialect.name == "sqlite" and "file is not a database" in str(exc.orig):
            raise BadInput(f"database {name}: the file is not a SQLite database (or it is damaged)") from None
        raise
    return None if value is None else str(value)


def display_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def upgrade_to_head(engine: Engine) -> tuple[str | None, str | None]:
    """Migrate the database to head; return (before, after) revisions."""
    from alembic import command
    from alembic.config import Config

    path = sqlite_file(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    before = current_revision(engine)
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    with writer(engine).connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw: Any = connection.connection.driver_connection
        if sqlite:
            # Recreating a table that others refer to (how SQLite alters a column) needs foreign keys
            # off, which SQLite only allows outside a transaction; they are checked before commit.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration would break foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")
    _current.discard(display_url(engine))
    return before, current_revision(engine)


# Databases found current in this process: the check runs once per database, not once per job.
_current: set[str] = set()


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the one this code was written for."""
    name = display_url(engine)
    if name in _current:
        return
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        _current.add(name)
        return
    if current is not None and current not in migrations.REVISIONS:
        raise SchemaBehind(
            f"database {name} was made by a newer ducha (revision {current}; this ducha knows up to "
            f"{head}): upgrade ducha"
        )
    state = "empty (no ducha schema)" if current is None else f"at revision {current}"
    raise SchemaBehind(f"database {name} is {state}, but this ducha needs revision {head}: run `ducha init`")
