"""The outbox: notices written in the transaction of what causes them, each once per person and channel.

A cause (an alert, an order, an inspection) becomes *drafts*: one per person told, with the template
and what it needs. ``enqueue`` renders each draft once per language and writes one notice per channel
of the person under the key ``<cause>:person:<id>:<channel>``, unique in the database, so a cause
enqueued twice (a sweep run again, two sweeps at once) adds nothing. The inbox is delivered as it is
written; the other channels wait for the dispatcher. Chat and SMS hold through quiet hours (and all
day on a non-working day) unless the notice is an escalation; a person who chose the daily digest
has the notices held for it, escalations excepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from models import Notice, NoticeState
from models.bulk import insert_new
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ, local
from models.notices import INBOX
from models.types import table_of
from notifications.rendering import Rendered, Templates
from notifications.rendering import templates as built_in_templates

# Channels that wait through quiet hours: the chat robots and SMS (e-mail, webhooks and apprise not).
QUIET_KINDS = ("dingtalk", "wecom", "wecom-app", "feishu", "sms")


@dataclass(frozen=True)
class Recipient:
    """A person as the outbox needs them."""

    id: int
    name: str
    email: str | None = None
    phone: str | None = None
    addresses: tuple[str, ...] = ()
    lang: str = "zh"
    digest: bool = False

    def channels(self) -> list[tuple[str, str | None]]:
        """(channel, address) in the order the person is tried: the inbox, e-mail, then the named
        channels (a WeCom application address names its user: ``wecom-app:district/USERID``)."""
        found: list[tuple[str, str | None]] = [(INBOX, None)]
        if self.email:
            found.append(("email", self.email))
        for address in self.addresses:
            kind, _, rest = address.partition(":")
            if kind == "wecom-app":
                name, _, user = rest.partition("/")
                found.append((f"wecom-app:{name}", user or None))
            elif kind == "sms":
                found.append((address, self.phone))
            else:
                found.append((address, None))
        return found


@dataclass
class Draft:
    """One person to tell about one cause."""

    cause: str  # "alert:17", "order:3", "inspection:44"
    kind: str  # alert, order, inspection, digest, channel
    person: Recipient
    template: str
    context: dict[str, Any]
    escalation: bool = False
    passed: bool = False  # a lower level of a deadline whose higher level tells the person now
    level: str | None = None
    alert_id: int | None = None
    order_id: int | None = None
    inspection_id: int | None = None
    deadline_id: int | None = None
    project_id: int | None = None
    follows_id: int | None = None
    only: tuple[str, ...] | None = None  # just these channels (a fallback, a reminder)
    # What was rendered already (a fallback copies the notice it stands in for): not rendered again.
    rendered: Rendered | None = None


@dataclass(frozen=True)
class Quiet:
    """Quiet hours, local time, across midnight when ``start`` > ``end`` (22:00–07:30)."""

    start: time = time(22, 0)
    end: time = time(7, 30)

    @classmethod
    def parse(cls, text: str) -> Quiet:
        begin, _, finish = text.partition("-")
        return cls(time.fromisoformat(begin), time.fromisoformat(finish))

    def inside(self, moment: datetime, calendar: WorkingCalendar) -> bool:
        at = local(moment)
        if not _working(calendar, at.date()):
            return True
        now = at.time()
        if self.start > self.end:
            return now >= self.start or now < self.end
        return self.start <= now < self.end

    def next_morning(self, moment: datetime, calendar: WorkingCalendar) -> datetime:
        """When the quiet ends: the end time of this or the next working day."""
        at = local(moment)
        day = at.date()
        if not (_working(calendar, day) and at.time() < self.end):
            day = _next_working(calendar, day)
        return datetime.combine(day, self.end, tzinfo=LOCAL_TZ)


def _working(calendar: WorkingCalendar, day: date) -> bool:
    try:
        return calendar.is_working_day(day)
    except Exception:  # a year the calendar does not cover: Monday to Friday
        return day.weekday() < 5


def _next_working(calendar: WorkingCalendar, day: date) -> date:
    day += timedelta(days=1)
    while not _working(calendar, day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class NoticeSetup:
    """What enqueueing needs from the installation: its templates and its quiet hours."""

    templates: Templates = field(default_factory=lambda: built_in_templates(None))
    quiet: Quiet = Quiet()


@dataclass
class Enqueued:
    notices: int = 0  # rows written (the inbox included)
    passed: int = 0
    held: int = 0
    by_template: dict[str, int] = field(default_factory=dict)


def enqueue(
    *,
    session: Session,
    now: datetime,
    drafts: Iterable[Draft],
    templates: Templates,
    calendar: WorkingCalendar,
    quiet: Quiet = Quiet(),
) -> Enqueued:
    """Write a notice per draft and channel; what is there already (the same key) is left alone."""
    result = Enqueued()
    rows: list[dict[str, Any]] = []
    for draft in drafts:
        rendered = draft.rendered or templates.render(draft.template, draft.person.lang, draft.context)
        for channel, address in draft.person.channels():
            if draft.only is not None and channel not in draft.only:
                continue
            rows.append(_row(draft, rendered, channel, address, now, calendar, quiet))
        if len(rows) >= 5000:
            _write(session, rows, result)
            rows = []
    _write(session, rows, result)
    return result


def _row(
    draft: Draft,
    rendered: Rendered,
    channel: str,
    address: str | None,
    now: datetime,
    calendar: WorkingCalendar,
    quiet: Quiet,
) -> dict[str, Any]:
    not_before, sent_at = now, None
    if draft.passed:
        state = NoticeState.PASSED
    elif channel == INBOX:
        state, sent_at = NoticeState.ACCEPTED, now
    elif draft.person.digest and not draft.escalation and draft.kind != "digest":
        state = NoticeState.HELD
    else:
        state = NoticeState.QUEUED
        if not draft.escalation and channel.partition(":")[0] in QUIET_KINDS and quiet.inside(now, calendar):
            not_before = quiet.next_morning(now, calendar)
    return {
        "key": f"{draft.cause}:person:{draft.person.id}:{channel}",
        "cause": draft.kind,
        "alert_id": draft.alert_id,
        "order_id": draft.order_id,
        "inspection_id": draft.inspection_id,
        "deadline_id": draft.deadline_id,
        "project_id": draft.project_id,
        "person_id": draft.person.id,
        "channel": channel,
        "address": address,
        "template": rendered.template,
        "template_hash": rendered.template_hash,
        "lang": rendered.lang,
        "level": draft.level,
        "escalation": draft.escalation,
        "subject": rendered.subject,
        "body_text": rendered.text,
        "body_html": rendered.html,
        "state": state.value,
        "created_at": now,
        "not_before": not_before,
        "attempts": 0,
        "sent_at": sent_at,
        "follows_id": draft.follows_id,
        "version": 1,
    }  # claimed_by, lease_until, last_error, read_at, acknowledged_at and digest_id start NULL


def _write(session: Session, rows: Sequence[dict[str, Any]], result: Enqueued) -> None:
    """Insert the rows whose keys are free; count what went in (a key taken already adds nothing)."""
    if not rows:
        return
    made = insert_new(session, table_of(Notice), rows, key=["key"], skip_taken=["key"])
    for row in rows:
        if (row["key"],) not in made:
            continue
        result.notices += 1
        if row["state"] == NoticeState.PASSED.value:
            result.passed += 1
        elif row["state"] == NoticeState.HELD.value:
            result.held += 1
        if row["state"] != NoticeState.PASSED.value:
            result.by_template[row["template"]] = result.by_template.get(row["template"], 0) + 1
