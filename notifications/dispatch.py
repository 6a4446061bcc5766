"""The dispatcher: claims notices whose time has come, sends each on its channel, records each attempt.

Claiming is one short transaction: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`` on
PostgreSQL (two dispatchers never claim one notice), the same under SQLite's write lock. A claim
holds a lease on the system clock; a dispatcher that dies holding notices leaves them *in doubt* until
the lease runs out, and the next dispatcher records that and sends them again under the same key (an
e-mail's Message-ID comes from the key: a mail sent twice is recognisably one mail). Sending happens
outside any transaction; the outcomes are recorded a few notices at a time. A temporary failure is
retried with exponential backoff and jitter at a planned time (in the dispatch's own time, so a
simulation retries in simulated time); after the last attempt, or on a permanent failure, the notice
is a dead letter and falls back to the person's next channel that does not carry it already (a
cause is written on every channel at once: a mail that dies was usually on the robot too, and the
inbox always has it); a channel the office must mend (a robot's signature refused, a channel not
in the channels file) tells the admins in their inbox. Inside quiet hours nothing is claimed for
chat or SMS but escalations, whenever it came due.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, not_, or_, select, update
from sqlmodel import Session, col

from models import Notice, NoticeAttempt, NoticeState, Person, Role, RoleAssignment
from models.bulk import insert_many
from models.calendar import WorkingCalendar
from models.localtime import local_date
from models.notices import INBOX
from models.types import table_of
from notifications.channels.base import Attachment, Message, Outcome, Result
from notifications.outbox import QUIET_KINDS, Draft, NoticeSetup, Recipient, enqueue
from notifications.registry import Channels
from notifications.rendering import Rendered

Begin = Callable[[], AbstractContextManager[Session]]
# Outcomes written per transaction: a dispatcher that dies loses at most this many records.
RECORD_EVERY = 20
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


@dataclass
class DispatchResult:
    claimed: int = 0
    accepted: int = 0
    retried: int = 0
    failed: int = 0
    in_doubt: int = 0
    fallbacks: int = 0
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, channel: str, result: str) -> None:
        counts = self.by_channel.setdefault(channel.partition(":")[0], {})
        counts[result] = counts.get(result, 0) + 1


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    channel: str
    address: str | None
    person_id: int
    person_name: str
    subject: str
    text: str
    html: str
    template: str
    attempts: int
    order_id: int | None
    template_hash: str
    lang: str
    escalation: bool


def backoff(key: str, attempt: int, retry_after: float | None = None) -> timedelta:
    """How long to wait before attempt ``attempt + 1``: doubling from a minute, capped at six hours,
    ±20% jitter taken from the key (the same notice waits the same, two notices not in step)."""
    delay = min(BACKOFF_BASE * (2 ** max(attempt - 1, 0)), BACKOFF_CAP)
    spread = int(hashlib.sha256(f"{key}:{attempt}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    delay = delay * (0.8 + 0.4 * spread)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    waited: timedelta = delay
    return waited


def dispatch(
    *,
    begin: Begin,
    now: datetime,
    system_now: Callable[[], datetime],
    channels: Channels,
    dispatcher: str,
    attempts: int = 5,
    batch: int = 200,
    lease: timedelta = timedelta(minutes=10),
    limit: int | None = None,
    setup: NoticeSetup | None = None,
    calendar: WorkingCalendar | None = None,
) -> DispatchResult:
    """Send every notice due by ``now`` (at most ``limit``); what happened, by channel."""
    result = DispatchResult()
    fallback = _Fallback(setup or NoticeSetup(), calendar or WorkingCalendar.load())
    # Inside quiet hours chat and SMS wait, escalations not: a retry planned for 22:01, or a backlog
    # a dispatcher meets at night, is sent in the morning, not when it comes due.
    hushed = fallback.setup.quiet.inside(now, fallback.calendar)
    with begin() as session:
        result.in_doubt = _recover(session, system_now(), dispatcher)
    try:
        while limit is None or result.claimed < limit:
            size = batch if limit is None else min(batch, limit - result.claimed)
            with begin() as session:
                claimed = _claim(session, now, system_now() + lease, dispatcher, size, hushed)
            if not claimed:
                break
            result.claimed += len(claimed)
            pending: list[tuple[Claimed, Outcome]] = []
            for notice in claimed:
                pending.append((notice, _send(channels, notice)))
                if len(pending) >= RECORD_EVERY:
                    _record(begin, pending, now, dispatcher, attempts, result, fallback)
                    pending = []
            _record(begin, pending, now, dispatcher, attempts, result, fallback)
    finally:
        channels.close()
    return result


def _recover(session: Session, system_now: datetime, dispatcher: str) -> int:
    """Notices whose dispatcher died holding them: in doubt, recorded, and sent again at once."""
    stale = session.execute(
        update(Notice)
        .where(col(Notice.state) == NoticeState.SENDING, col(Notice.lease_until) < system_now)
        .values(
            state=NoticeState.RETRY.value, claimed_by=None, lease_until=None, version=col(Notice.version) + 1
        )
        .returning(col(Notice.id), col(Notice.channel), col(Notice.claimed_by), col(Notice.not_before))
        .execution_options(synchronize_session=False)
    ).all()
    insert_many(
        session,
        table_of(NoticeAttempt),
        [
            {
                "notice_id": notice_id, "at": system_now, "channel": channel, "dispatcher": dispatcher,
                "outcome": "in_doubt", "retry_at": None,
                "detail": "its dispatcher stopped before recording the answer: sent again, same key",
            }
            for notice_id, channel, _, _ in stale
        ],
    )  # fmt: skip
    return len(stale)


def _quiet_channel() -> Any:
    """A notice on a channel that keeps quiet hours (``dingtalk:town-east``, ``sms:gov``…)."""
    return or_(
        *[col(Notice.channel) == kind for kind in QUIET_KINDS],
        *[col(Notice.channel).like(f"{kind}:%") for kind in QUIET_KINDS],
    )


def _claim(
    session: Session, now: datetime, lease_until: datetime, dispatcher: str, size: int, hushed: bool = False
) -> list[Claimed]:
    due = (
        select(col(Notice.id))
        .where(
            col(Notice.state).in_([NoticeState.QUEUED.value, NoticeState.RETRY.value]),
            col(Notice.not_before) <= now,
        )
        .order_by(col(Notice.not_before), col(Notice.id))
        .limit(size)
    )
    if hushed:
        due = due.where(or_(col(Notice.escalation).is_(True), not_(_quiet_channel())))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [row[0] for row in session.execute(due).all()]
    if not ids:
        return []
    session.execute(
        update(Notice)
        .where(col(Notice.id).in_(ids))
        .values(
            state=NoticeState.SENDING.value,
            claimed_by=dispatcher,
            lease_until=lease_until,
            attempts=col(Notice.attempts) + 1,
            version=col(Notice.version) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(
            col(Notice.id), col(Notice.key), col(Notice.channel), col(Notice.address), col(Notice.person_id),
            col(Person.name), col(Notice.subject), col(Notice.body_text), col(Notice.body_html),
            col(Notice.template), col(Notice.attempts), col(Notice.order_id), col(Notice.template_hash),
            col(Notice.lang), col(Notice.escalation),
        )
        .join(Person, col(Person.id) == col(Notice.person_id))
        .where(col(Notice.id).in_(ids))
        .order_by(col(Notice.not_before), col(Notice.id))
    ).all()  # fmt: skip
    return [Claimed(*row) for row in rows]


def _send(channels: Channels, notice: Claimed) -> Outcome:
    attachments: tuple[Attachment, ...] = ()
    if notice.template == "rectification" and notice.channel == "email":
        document = f"<!doctype html><meta charset='utf-8'><title>{notice.subject}</title>{notice.html}"
        attachments = (
            Attachment(f"整改通知书-{notice.order_id}.html", "text/html", document.encode("utf-8")),
        )
    message = Message(
        key=notice.key,
        subject=notice.subject,
        text=notice.text,
        html=notice.html,
        to_name=notice.person_name,
        to_address=notice.address,
        template=notice.template,
        params={"subject": notice.subject},
        attachments=attachments,
    )
    channel = channels.get(notice.channel)
    try:
        return channel.send(message)
    except Exception as exc:  # a channel must not raise; if one does, the notice is retried, not lost
        return Outcome.retry(channels.redactor(f"{type(exc).__name__}: {exc}"))


def _record(
    begin: Begin,
    sent: list[tuple[Claimed, Outcome]],
    now: datetime,
    dispatcher: str,
    attempts: int,
    result: DispatchResult,
    fallback: _Fallback,
) -> None:
    if not sent:
        return
    accepted: list[int] = []
    retries: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    attempt_rows = []
    dead: list[tuple[Claimed, Outcome]] = []
    for notice, outcome in sent:
        retry_at = None
        if outcome.result == Result.ACCEPTED:
            state = NoticeState.ACCEPTED
            accepted.append(notice.id)
            result.accepted += 1
        elif outcome.result == Result.RETRY and notice.attempts < attempts:
            state = NoticeState.RETRY
            retry_at = now + backoff(notice.key, notice.attempts, outcome.retry_after)
            retries.append({"notice": notice.id, "retry_at": retry_at, "why": outcome.detail})
            result.retried += 1
        else:
            state = NoticeState.FAILED
            why = (
                outcome.detail
                if outcome.result == Result.FAILED
                else f"{outcome.detail} (after {notice.attempts} attempts)"
            )
            failures.append({"notice": notice.id, "why": why})
            result.failed += 1
            dead.append((notice, outcome))
        result.count(notice.channel, state.value)
        attempt_rows.append(
            {
                "notice_id": notice.id, "at": now, "channel": notice.channel, "dispatcher": dispatcher,
                "outcome": "failed" if state == NoticeState.FAILED else outcome.result.value,
                "detail": outcome.detail or outcome.result.value, "retry_at": retry_at,
            }
        )  # fmt: skip
    # Three statements, whatever the number of notices: each changes only a notice this dispatcher
    # still holds (one whose lease ran out and was taken over is left to its new holder).
    table = table_of(Notice)
    held = and_(table.c.claimed_by == dispatcher, table.c.state == NoticeState.SENDING.value)
    released = {"claimed_by": None, "lease_until": None, "version": table.c.version + 1}
    with begin() as session:
        if accepted:
            session.execute(
                update(table)
                .where(table.c.id.in_(accepted), held)
                .values(state=NoticeState.ACCEPTED.value, sent_at=now, last_error=None, **released)
            )
        if retries:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("notice"), held)
                .values(
                    state=NoticeState.RETRY.value,
                    not_before=bindparam("retry_at"),
                    last_error=bindparam("why"),
                    **released,
                ),
                retries,
            )
        if failures:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("notice"), held)
                .values(state=NoticeState.FAILED.value, last_error=bindparam("why"), **released),
                failures,
            )
        insert_many(session, table_of(NoticeAttempt), attempt_rows)
        if dead:
            drafts = list(_fallbacks(session, dead, now))
            result.fallbacks += sum(1 for draft in drafts if draft.kind == "fallback")
            fallback.write(session, now, drafts)


@dataclass(frozen=True)
class _Fallback:
    setup: NoticeSetup
    calendar: WorkingCalendar

    def write(self, session: Session, now: datetime, drafts: list[Draft]) -> None:
        if not drafts:
            return
        enqueue(session=session, now=now, drafts=drafts, templates=self.setup.templates,
                calendar=self.calendar, quiet=self.setup.quiet)  # fmt: skip


def _not_carrying(session: Session, notice_id: int, channels: list[str]) -> list[str]:
    """Those of ``channels`` on which the person does not have this notice already: a cause is
    written on each of the person's channels at once, so the channel after a dead one usually
    has it (sending it there again would tell the person twice). A fallback's cause is the
    original's; a few lookups by key, each on the unique index."""
    if not channels:
        return channels
    root = session.get(Notice, notice_id)
    while root is not None and root.cause == "fallback" and root.follows_id is not None:
        root = session.get(Notice, root.follows_id)
    if root is None:
        return channels
    prefix = root.key[: len(root.key) - len(root.channel)]
    carried = set(
        session.execute(
            select(col(Notice.key)).where(col(Notice.key).in_([prefix + channel for channel in channels]))
        ).scalars()
    )
    return [channel for channel in channels if prefix + channel not in carried]


def _fallbacks(session: Session, dead: list[tuple[Claimed, Outcome]], now: datetime) -> Iterator[Draft]:
    """For each dead letter: the same notice on the person's next channel, and, when the channel
    needs mending, a word to each admin."""
    admins: list[Recipient] | None = None
    told: set[tuple[str, int]] = set()
    for notice, outcome in dead:
        person = session.get(Person, notice.person_id)
        assert person is not None
        recipient = Recipient(
            person.id, person.name, person.email, person.phone, tuple(person.notice_addresses), person.lang,  # type: ignore[arg-type]
            person.digest,
        )  # fmt: skip
        order = [channel for channel, _ in recipient.channels() if channel != INBOX]
        later = order[order.index(notice.channel) + 1 :] if notice.channel in order else []
        later = _not_carrying(session, notice.id, later)
        if later:
            yield Draft(
                cause=f"fallback:{notice.id}",
                kind="fallback",
                person=recipient,
                template=notice.template,
                context={},
                # An escalation's fallback is one too: sent at once, through quiet hours and digests.
                escalation=notice.escalation,
                follows_id=notice.id,
                only=(later[0],),
                rendered=Rendered(
                    notice.template,
                    notice.lang,
                    notice.template_hash,
                    notice.subject,
                    notice.text,
                    notice.html,
                ),
            )
        # A note about a failed note would fail the same way: never one about a channel-failure notice.
        if outcome.tell_admin and notice.template != "channel_failure":
            if admins is None:
                admins = [
                    Recipient(p.id, p.name, p.email, p.phone, (), p.lang, False)
                    for p in session.execute(
                        select(Person)
                        .join(RoleAssignment, col(RoleAssignment.person_id) == col(Person.id))
                        .where(
                            col(RoleAssignment.role) == Role.ADMIN, col(RoleAssignment.revoked_at).is_(None)
                        )
                        .order_by(col(Person.id))
                    ).scalars()
                ]
            # One word a day per broken channel, not one per notice it refused; never by the
            # channel that is broken.
            cause = f"channel-failure:{notice.channel}:{local_date(now):%Y-%m-%d}"
            for admin in admins:
                if (cause, admin.id) in told:
                    continue
                told.add((cause, admin.id))
                yield Draft(
                    cause=cause,
                    kind="channel",
                    person=admin,
                    template="channel_failure",
                    context={
                        "person": {"name": admin.name}, "channel": notice.channel, "problem": outcome.detail,
                        "recipient": person.name, "subject": notice.subject,
                    },
                    only=(INBOX,) if notice.channel == "email" else (INBOX, "email"),
                )  # fmt: skip


def count_due(session: Session, now: datetime) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Notice)
            .where(
                col(Notice.state).in_([NoticeState.QUEUED.value, NoticeState.RETRY.value]),
                col(Notice.not_before) <= now,
            )
        ).scalar_one()
    )
