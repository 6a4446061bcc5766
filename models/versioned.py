"""Keep versioned source texts (workflow definitions, checklist templates) exactly as loaded."""

import hashlib
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Integer, String, Text, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from models.compiled import Compiled
from models.errors import Refused
from models.types import UTCDateTime, table_of


class VersionedSource(SQLModel):
    """The columns of a kept source text: key and version, where it came from, its exact text."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(64), nullable=False)
    version: int = Field(sa_type=Integer, nullable=False)
    title: str = Field(sa_type=String(200), nullable=False)
    source_name: str = Field(sa_type=String(300), nullable=False)
    source_text: str = Field(sa_type=Text, nullable=False)
    sha256: str = Field(sa_type=String(64), nullable=False)
    loaded_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)


R = TypeVar("R", bound=VersionedSource)


class SourceVersionConflict(Refused):
    """The same key and version is already kept with different content."""


def keep_source(
    *,
    session: Session,
    record_type: type[R],
    key: str,
    version: int,
    text: str,
    source: str,
    now: datetime,
    **fields: Any,
) -> R:
    """Store the text under (key, version); the same text again is a no-op, a changed one is refused."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    existing = session.exec(
        select(record_type).where(col(record_type.key) == key, col(record_type.version) == version)
    ).first()
    if existing is not None:
        if existing.sha256 != digest:
            raise SourceVersionConflict(
                f"{source}: {key} version {version} is already loaded with different content "
                f"(from {existing.source_name}); give the changed text a new version"
            )
        return existing
    record = record_type(
        key=key, version=version, source_name=source, source_text=text, sha256=digest, loaded_at=now, **fields
    )
    session.add(record)
    session.flush()
    return record


def newest_source(
    *, session: Session, record_type: type[R], key: str, version: int | None = None
) -> R | None:
    """The kept text of ``key`` at ``version``, or its newest version."""
    query = select(record_type).where(col(record_type.key) == key)
    if version is not None:
        query = query.where(col(record_type.version) == version)
    return session.exec(query.order_by(col(record_type.version).desc())).first()


def newest_text(
    *, session: Session, record_type: type[R], key: str, version: int | None = None
) -> tuple[str, str] | None:
    """(text, source name) of ``key`` at ``version``, or of its newest version: two columns, no ORM
    object (every list that shows a stage label reads its definition)."""
    query = _newest_text(record_type, version is not None)
    values = {"key": key} if version is None else {"key": key, "version": version}
    with session.no_autoflush:  # on the table (Core), as before: the session did not flush for it
        row = query.first(session, values)
    return None if row is None else (row[0], row[1])


@lru_cache(maxsize=8)
def _newest_text(record_type: type[VersionedSource], of_version: bool) -> Compiled:
    """Built and compiled once per process, run on the driver's cursor: a job reads its definitions
    on every run, and every list that shows a stage label reads one."""
    table = table_of(record_type)
    query = sa_select(table.c.source_text, table.c.source_name).where(table.c.key == bindparam("key"))
    if of_version:
        query = query.where(table.c.version == bindparam("version"))
    return Compiled(query.order_by(table.c.version.desc()).limit(1))
