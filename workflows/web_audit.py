"""The log of every write made through the web or the API (who, when, from where, what, before and
after): append-only, kept by trigger, readable by the admin and the auditors."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models import Person, WebAudit
from models.listing import Listing, Window
from workflows.login import Identity


def record_web_write(
    *,
    session: Session,
    now: datetime,
    identity: Identity | None,
    address: str,
    method: str,
    path: str,
    action: str,
    subject: str,
    status: int,
    before: dict[str, Any],
    after: dict[str, Any],
    message: str | None = None,
) -> WebAudit:
    entry = WebAudit(
        at=now,
        user_id=identity.account.id if identity is not None else None,
        person_id=identity.person.id if identity is not None else None,
        address=address[:64],
        method=method[:8],
        path=path[:300],
        action=action[:60],
        subject=subject[:200],
        status=status,
        before=before,
        after=after,
        message=message,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class WebAuditRow:
    id: int
    at: datetime
    person: str | None
    address: str
    method: str
    path: str
    action: str
    subject: str
    status: int
    before: dict[str, Any]
    after: dict[str, Any]
    message: str | None


def list_web_audit(*, session: Session, window: Window = Window()) -> Listing[WebAuditRow]:
    """The web's writes, newest first."""
    query = (
        select(WebAudit, Person.name)
        .outerjoin(Person, col(Person.id) == col(WebAudit.person_id))
        .order_by(col(WebAudit.id).desc())
    )

    def row(found: Any) -> WebAuditRow:
        entry, name = found
        return WebAuditRow(
            entry.id,
            entry.at,
            name,
            entry.address,
            entry.method,
            entry.path,
            entry.action,
            entry.subject,
            entry.status,
            entry.before,
            entry.after,
            entry.message,
        )

    return Listing.each(session, query, row, window)
