"""Reading notices: the list (with filters), one notice with every attempt, a person's inbox."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from models import Notice, NoticeAttempt, NoticeState, Person
from models.errors import BadInput, NotFound
from models.listing import Listing, Window
from models.notices import INBOX


@dataclass(frozen=True)
class NoticeRow:
    id: int
    key: str
    person_id: int
    person: str
    channel: str
    address: str | None
    template: str
    level: str | None
    escalation: bool
    subject: str
    state: str
    created_at: datetime
    not_before: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    read_at: datetime | None
    acknowledged_at: datetime | None

    def plain(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = (
    "id", "key", "person_id", "channel", "address", "template", "level", "escalation", "subject", "state",
    "created_at", "not_before", "attempts", "sent_at", "last_error", "read_at", "acknowledged_at",
)  # fmt: skip


def _row(found: Any) -> NoticeRow:
    values = dict(zip(_COLUMNS, found[: len(_COLUMNS)], strict=True))
    return NoticeRow(person=found[len(_COLUMNS)], **values)


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
    query = select(*[col(getattr(Notice, name)) for name in _COLUMNS], col(Person.name)).join(
        Person, col(Person.id) == col(Notice.person_id)
    )
    if state is not None:
        try:
            query = query.where(col(Notice.state) == NoticeState(state).value)
        except ValueError:
            raise BadInput(
                f"--state {state!r}: give one of {', '.join(s.value for s in NoticeState)}"
            ) from None
    if failed:
        query = query.where(col(Notice.state) == NoticeState.FAILED.value)
    if person_id is not None:
        query = query.where(col(Notice.person_id) == person_id)
    if channel is not None:
        query = query.where(col(Notice.channel) == channel)
    if channel == INBOX and state is None:
        # A level passed over (a higher level of the deadline told the person at once) was never
        # delivered: the inbox does not show it; ``--state passed`` still finds it.
        query = query.where(col(Notice.state) != NoticeState.PASSED.value)
    if unacknowledged:
        query = query.where(
            col(Notice.channel) == INBOX,
            col(Notice.escalation).is_(True),
            col(Notice.acknowledged_at).is_(None),
            col(Notice.state) == NoticeState.ACCEPTED.value,  # a level passed over waits for nobody
        )
    if unread:
        query = query.where(col(Notice.read_at).is_(None))
    if as_of is not None:
        query = query.where(col(Notice.created_at) <= as_of)
    query = query.order_by(col(Notice.id).desc())
    return Listing.each(session, query, _row, window)


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
        select(*[col(getattr(Notice, name)) for name in _COLUMNS], col(Person.name), col(Notice.body_text))
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
    return NoticeDetail(_row(found), found[-1], attempts)
