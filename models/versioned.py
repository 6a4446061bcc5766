"""Keep versioned source texts (workflow definitions, checklist templates) exactly as loaded."""

import hashlib
from datetime import datetime
from typing import Protocol, TypeVar

from sqlmodel import Session, col, select

from models.errors import Refused


class VersionedSource(Protocol):
    id: int | None
    key: str
    version: int
    source_name: str
    source_text: str
    sha256: str


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
    **fields: object,
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
    record = record_type(  # type: ignore[call-arg]  # a table class, keyword-constructed
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
