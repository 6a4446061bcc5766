"""Reading notices: the list (with filters), one notice with every attempt, a person's inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from models import Notice, NoticeAttempt, NoticeState, Person
from models.compiled import Compiled
from models.errors import BadInput, NotFound
from models.listing import Listing, Window
from models.notices import INBOX
from models.types import table_of
from notifications.notice_rows import NOTICE_COLUMNS, notice_filters, notice_row
from notifications.notice_rows import NoticeRow as NoticeRow


@lru_cache(maxsize=64)
def _notices_statement(filters: frozenset[str]) -> Compiled:
    """Notices with their person's name, newest first, with ``filters``: ``state``, ``person_id``,
    ``channel`` and ``created_by`` bound; ``failed``, ``not_passed`` (the inbox leaves out the levels
    passed over), ``unacknowledged`` and ``unread`` as they are. Kept, and compiled ahead for ``ducha
    notices`` (workflows.ahead)."""
    notice, person = table_of(Notice), table_of(Person)
    n = notice.c
    query: Any = select(*(n[name] for name in NOTICE_COLUMNS), person.c.name).join_from(
        notice, person, person.c.id == n.person_id
    )
    if "state" in filters:
        query = query.where(n.state == bindparam("state"))
    if "failed" in filters:
        query = query.where(n.state == NoticeState.FAILED.value)
    if "person_id" in filters:
        query = query.where(n.person_id == bindparam("person_id"))
    if "channel" in filters:
        query = query.where(n.channel == bindparam("channel"))
    if "not_passed" in filters:
        query = query.where(n.state != NoticeState.PASSED.value)
    if "unacknowledged" in filters:
        query = query.where(
            n.channel == INBOX,
            n.escalation.is_(True),
            n.acknowledged_at.is_(None),
            n.state == NoticeState.ACCEPTED.value,  # a level passed over waits for nobody
        )
    if "unread" in filters:
        query = query.where(n.read_at.is_(None))
    if "created_by" in filters:
        query = query.where(n.created_at <= bindparam("created_by"))
    return Compiled(query.order_by(n.id.desc()))


def list_notices(
    *,
    session: Session,
    state: str | None = None,
    failed: bool = False,
    person_id: int | None = None,
    channel: str | None = None,
    unacknowledged: bool = False,
    unread: bool = False,
    as_of: datetime | None = None,
    window: Window = Window(),
) -> Listing[NoticeRow]:
    """Notices, newest first; ``failed``: the dead letters; ``unacknowledged``: escalations waiting.
    The inbox (``channel`` inbox) holds what was delivered there: not the levels passed over."""
    if state is not None and state not in {s.value for s in NoticeState}:
        raise BadInput(f"--state {state!r}: give one of {', '.join(s.value for s in NoticeState)}")
    filters, parameters = notice_filters(
        state=state,
        failed=failed,
        person_id=person_id,
        channel=channel,
        unacknowledged=unacknowledged,
        unread=unread,
        created_by=as_of,
    )
    return Listing.each(session, _notices_statement(filters), notice_row, window, parameters)


@dataclass(frozen=True)
class AttemptRow:
    at: datetime
    channel: str
    dispatcher: str
    outcome: str
    detail: str
    retry_at: datetime | None


@dataclass(frozen=True)
class NoticeDetail:
    notice: NoticeRow
    body_text: str
    attempts: list[AttemptRow]


def notice_detail(*, session: Session, notice_id: int) -> NoticeDetail:
    found = session.execute(
        select(
            *[col(getattr(Notice, name)) for name in NOTICE_COLUMNS], col(Person.name), col(Notice.body_text)
        )
        .join(Person, col(Person.id) == col(Notice.person_id))
        .where(col(Notice.id) == notice_id)
    ).first()
    if found is None:
        raise NotFound(f"no notice {notice_id}")
    attempts = [
        AttemptRow(a.at, a.channel, a.dispatcher, a.outcome, a.detail, a.retry_at)
        for a in session.execute(
            select(NoticeAttempt)
            .where(col(NoticeAttempt.notice_id) == notice_id)
            .order_by(col(NoticeAttempt.id))
        ).scalars()
    ]
    return NoticeDetail(notice_row(found), found[-1], attempts)
