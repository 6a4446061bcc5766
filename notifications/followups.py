"""What happens to notices over time: daily digests, and escalations nobody acknowledged.

A person who chose the digest gets, at 08:30 on a working day, one notice per channel listing the
notices held for them since (escalations are never held). An escalation (督办) is acknowledged in the
inbox; one still unacknowledged after the configured working hours (the office hours of working days)
is sent again on the person's first channel besides the inbox, once, and shows as unacknowledged to
the office.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from models import Notice, NoticeState, Person
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ, local
from models.notices import INBOX
from notifications.outbox import Draft, Enqueued, NoticeSetup, Recipient, enqueue
from notifications.rendering import Rendered

DIGEST_AT = time(8, 30)
# The hours of a working day that count towards acknowledging an escalation.
OFFICE_HOURS = (time(8, 30), time(17, 30))


def _recipient(person: Person) -> Recipient:
    assert person.id is not None
    return Recipient(
        person.id, person.name, person.email, person.phone, tuple(person.notice_addresses), person.lang,
        person.digest,
    )  # fmt: skip


def _working(calendar: WorkingCalendar, moment: datetime) -> bool:
    try:
        return calendar.is_working_day(local(moment).date())
    except Exception:
        return local(moment).weekday() < 5


def digests(*, session: Session, now: datetime, calendar: WorkingCalendar, setup: NoticeSetup) -> Enqueued:
    """The day's digests, if it is a working day past 08:30: once a day per person (by key), each
    listing what was held for the person before 08:30."""
    written = Enqueued()
    at = local(now)
    if not _working(calendar, now) or at.time() < DIGEST_AT:
        return written
    # The day's digest holds what was held before 08:30: what is held after it (once today's digest
    # may have gone) waits for tomorrow's, never marked as sent in a digest that did not list it.
    cutoff = datetime.combine(at.date(), DIGEST_AT, tzinfo=LOCAL_TZ)
    held = session.execute(
        select(col(Notice.id), col(Notice.person_id), col(Notice.channel), col(Notice.subject))
        .where(col(Notice.state) == NoticeState.HELD.value, col(Notice.created_at) < cutoff)
        .order_by(col(Notice.person_id), col(Notice.created_at), col(Notice.id))
    ).all()
    by_person: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for notice_id, person_id, channel, subject in held:
        by_person[person_id].append((notice_id, channel, subject))
    day = at.date().isoformat()
    for person_id, notices in by_person.items():
        person = session.get(Person, person_id)
        assert person is not None
        subjects = list(dict.fromkeys(subject for _, _, subject in notices))
        channels = tuple(dict.fromkeys(channel for _, channel, _ in notices))
        draft = Draft(
            cause=f"digest:{day}",
            kind="digest",
            person=_recipient(person),
            template="digest",
            context={
                "person": {"name": person.name},
                "office": "督查室",
                "now": now,
                "items": [{"subject": subject} for subject in subjects],
            },
            only=channels,
        )
        made = enqueue(
            session=session,
            now=now,
            drafts=[draft],
            templates=setup.templates,
            calendar=calendar,
            quiet=setup.quiet,
        )
        written.notices += made.notices
        first = session.execute(
            select(col(Notice.id)).where(col(Notice.key).like(f"digest:{day}:person:{person_id}:%")).limit(1)
        ).scalar()
        session.execute(
            update(Notice)
            .where(col(Notice.id).in_([notice_id for notice_id, _, _ in notices]))
            .values(state=NoticeState.DIGESTED.value, digest_id=first, version=col(Notice.version) + 1)
            .execution_options(synchronize_session=False)
        )
    return written


def working_hours_after(
    start: datetime, hours: int, calendar: WorkingCalendar, office: tuple[time, time] = OFFICE_HOURS
) -> datetime:
    """``hours`` working hours after ``start``: only the office hours (08:30–17:30) of working days
    count, so an escalation written in the evening or before a holiday waits for people at their desks."""
    moment = local(start)
    left = timedelta(hours=hours)
    opening, closing = office
    while True:
        day = moment.date()
        opens = datetime.combine(day, opening, tzinfo=LOCAL_TZ)
        closes = datetime.combine(day, closing, tzinfo=LOCAL_TZ)
        begin = max(moment, opens)
        if _working(calendar, opens) and begin < closes:
            if begin + left <= closes:
                return begin + left
            left -= closes - begin
        moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def remind_unacknowledged(
    *, session: Session, now: datetime, calendar: WorkingCalendar, setup: NoticeSetup, hours: int
) -> Enqueued:
    """Send again each escalation not acknowledged within ``hours`` working hours, once."""
    written = Enqueued()
    waiting = session.execute(
        select(Notice)
        .where(
            col(Notice.channel) == INBOX,
            col(Notice.escalation).is_(True),
            col(Notice.acknowledged_at).is_(None),
            # Delivered: a level passed over (a higher one told the person) is never sent again.
            col(Notice.state) == NoticeState.ACCEPTED.value,
            col(Notice.created_at) <= now - timedelta(hours=hours),
        )
        .order_by(col(Notice.id))
    ).scalars()
    drafts = []
    for notice in waiting:
        if working_hours_after(notice.created_at, hours, calendar) > now:
            continue
        person = session.get(Person, notice.person_id)
        assert person is not None and notice.id is not None
        recipient = _recipient(person)
        others = [channel for channel, _ in recipient.channels() if channel != INBOX]
        if not others:
            continue
        drafts.append(
            Draft(
                cause=f"unacknowledged:{notice.id}",
                kind="reminder",
                person=recipient,
                template=notice.template,
                context={},
                escalation=True,
                follows_id=notice.id,
                only=(others[0],),
                deadline_id=notice.deadline_id,
                project_id=notice.project_id,
                rendered=Rendered(
                    notice.template,
                    notice.lang,
                    notice.template_hash,
                    notice.subject,
                    notice.body_text,
                    notice.body_html,
                ),
            )  # fmt: skip
        )
    if drafts:
        written = enqueue(
            session=session,
            now=now,
            drafts=drafts,
            templates=setup.templates,
            calendar=calendar,
            quiet=setup.quiet,
        )
    return written
