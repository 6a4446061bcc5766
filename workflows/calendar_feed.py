"""A person's deadlines as an iCalendar feed (RFC 5545), for the calendar app on their phone.

Which deadlines: those the person answers for now. The deadlines of the projects where they hold
the leader or specialist role, those of the rectification orders they are responsible for, and,
for someone holding the office or leadership role on a unit, the programmes' cadences (一月一总结、
一季度一督查、一年一考评). Open ones, and those settled in the last 30 days.

Settled deadlines: met or missed ones stay as plain events marked 已完成 / 逾期完成 in the summary
and the description, with no reminder: they happened, and an app that hides cancelled events would
hide that. A waived deadline is ``STATUS:CANCELLED`` (已免除): the obligation no longer exists.

The same data gives the same bytes: DTSTAMP and LAST-MODIFIED are the deadline's last change (its
current revision's approval, its settling, or when it was opened), never ``now``; the calendar has no
METHOD, so RFC 5545 defines DTSTAMP as exactly that. So the ETag, a hash of the bytes, changes when
and only when what the feed says changes.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneStandard
from sqlalchemy import ColumnElement, String, and_, cast, exists, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import (
    Deadline,
    DeadlineKind,
    DeadlineLevel,
    DeadlineRevision,
    DeadlineStatus,
    Person,
    Place,
    Programme,
    Project,
    RectificationOrder,
    Role,
    RoleAssignment,
)
from models.calendar import WorkingCalendar
from models.errors import NotFound
from models.localtime import LOCAL_TZ, local
from models.people import active

PRODID = "-//ducha//督查//ZH"
# Settled deadlines stay in the feed this long after they were settled.
SETTLED_SHOWN = timedelta(days=30)
# A deadline is a point in time; calendars draw an event, so it is a short one ending at the due time.
EVENT_LENGTH = timedelta(minutes=30)
REFRESH = "PT1H"
KIND_LABELS = {
    DeadlineKind.MILESTONE: "里程碑 milestone",
    DeadlineKind.STAGE_LIMIT: "阶段时限 stage time limit",
    DeadlineKind.RECTIFICATION: "限期整改 rectification order",
    DeadlineKind.CADENCE: "定期任务 cadence",
}
CADENCE_LABELS = {
    "monthly_summary": "一月一总结 monthly summary",
    "quarterly_inspection": "一季度一督查 quarterly inspection",
    "yearly_evaluation": "一年一考评 yearly evaluation",
}
LEVEL_LABELS = {"upcoming": "即将到期 upcoming", "due": "今日到期 due today", "overdue": "已到期 due now"}
# What a settled deadline is called, in its summary and description.
SETTLED_LABELS = {
    DeadlineStatus.MET: "已完成",
    DeadlineStatus.MISSED: "逾期完成",
    DeadlineStatus.WAIVED: "已免除",
}


@dataclass(frozen=True)
class Feed:
    """The .ics text of one person's feed, its strong ETag, how many events it holds, and the
    working-day calendar's warnings for the years its due times fall in (a provisional year)."""

    body: bytes
    etag: str
    events: int
    warnings: list[str]


def answers_for(person_id: int) -> ColumnElement[bool]:
    """The deadlines ``person_id`` answers for now, as a condition on the deadline table.

    Subqueries on the person, never a list of ids: a specialist's projects through the role index,
    orders by the deadline's unique subject (``order:ID``; ``deadline.order_id`` has no index).
    """
    projects = sa_select(col(RoleAssignment.project_id)).where(
        col(RoleAssignment.person_id) == person_id,
        col(RoleAssignment.role).in_([Role.LEADER.value, Role.SPECIALIST.value]),
        col(RoleAssignment.project_id).is_not(None),
        active(),
    )
    orders = sa_select(literal("order:") + cast(RectificationOrder.id, String)).where(
        col(RectificationOrder.responsible_person_id) == person_id
    )
    in_office = exists().where(
        col(RoleAssignment.person_id) == person_id,
        col(RoleAssignment.role).in_([Role.OFFICE.value, Role.LEADERSHIP.value]),
        col(RoleAssignment.unit_id).is_not(None),
        active(),
    )
    return or_(
        col(Deadline.project_id).in_(projects),
        col(Deadline.subject).in_(orders),
        and_(col(Deadline.kind) == DeadlineKind.CADENCE.value, col(Deadline.project_id).is_(None), in_office),
    )


def person_feed(
    *,
    session: Session,
    person_id: int,
    now: datetime,
    calendar: WorkingCalendar,
    base_url: str | None = None,
) -> Feed:
    """Build the iCalendar feed of the deadlines ``person_id`` answers for, as of ``now``."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    wanted = and_(
        answers_for(person_id),
        or_(
            col(Deadline.status) == DeadlineStatus.OPEN.value,
            col(Deadline.settled_at) >= now - SETTLED_SHOWN,
        ),
    )
    alarms = _alarms(session, wanted)
    host = (urlsplit(base_url).hostname if base_url else None) or "ducha"
    provisional = _Provisional(calendar)
    feed = _calendar(person.name)
    count = 0
    for found in session.execute(_deadlines(wanted)).all():
        row = _row(found)
        feed.add_component(_event(row, alarms.get(row.id, []), host, base_url, provisional))
        count += 1
    body = feed.to_ical()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Feed(body=body, etag=etag, events=count, warnings=provisional.warnings())


@dataclass(frozen=True)
class _Row:
    id: int
    kind: str
    title: str
    cadence: str | None
    status: str
    due_at: datetime
    revision: int
    settled_at: datetime | None
    settle_note: str | None
    code: str | None
    project_name: str | None
    village: str | None
    town: str | None
    programme: str | None
    revised_at: datetime | None
    opened_at: datetime | None

    @property
    def changed_at(self) -> datetime:
        """The deadline's last change: settled, extended, or else opened."""
        moments = [m for m in (self.settled_at, self.revised_at, self.opened_at) if m is not None]
        return _second(max(moments) if moments else self.due_at)


def _row(found: Any) -> _Row:
    (
        deadline_id, kind, title, cadence, status, due_at, revision, settled_at, settle_note, code,
        project_name, village, town, programme, revised_at, issued_at, stage_entered_at,
        project_created_at, programme_created_at, period_start,
    ) = found  # fmt: skip
    return _Row(
        id=deadline_id,
        kind=kind,
        title=title,
        cadence=cadence,
        status=status,
        due_at=due_at,
        revision=revision,
        settled_at=settled_at,
        settle_note=settle_note,
        code=code,
        project_name=project_name,
        village=village,
        town=town,
        programme=programme,
        revised_at=revised_at,
        # When it was opened, as the data knows it: the order's issue, the stage's start, the
        # cadence period's start, the project's creation (a milestone), the programme's.
        opened_at=next(
            (
                moment
                for moment in (
                    issued_at,
                    stage_entered_at,
                    datetime.combine(period_start, time(0), LOCAL_TZ) if period_start else None,
                    project_created_at,
                    programme_created_at,
                )
                if moment is not None
            ),
            None,
        ),
    )


def _deadlines(wanted: ColumnElement[bool]) -> Any:
    """One query: the wanted deadlines with their project, place, programme and current revision."""
    village, town = aliased(Place), aliased(Place)
    return (
        sa_select(
            col(Deadline.id),
            col(Deadline.kind),
            col(Deadline.title),
            col(Deadline.cadence),
            col(Deadline.status),
            col(Deadline.due_at),
            col(Deadline.revision),
            col(Deadline.settled_at),
            col(Deadline.settle_note),
            col(Project.code),
            col(Project.name),
            col(village.name),
            col(town.name),
            col(Programme.name),
            col(DeadlineRevision.recorded_at),
            col(RectificationOrder.issued_at),
            col(Deadline.stage_entered_at),
            col(Project.created_at),
            col(Programme.created_at),
            col(Deadline.period_start),
        )
        .outerjoin(Project, col(Project.id) == col(Deadline.project_id))
        .outerjoin(village, col(village.id) == col(Project.village_id))
        .outerjoin(town, col(town.id) == col(village.parent_id))
        .outerjoin(Programme, col(Programme.id) == col(Deadline.programme_id))
        .outerjoin(RectificationOrder, col(RectificationOrder.id) == col(Deadline.order_id))
        .outerjoin(
            DeadlineRevision,
            and_(
                col(DeadlineRevision.deadline_id) == col(Deadline.id),
                col(DeadlineRevision.revision) == col(Deadline.revision),
            ),
        )
        .where(wanted)
        .order_by(col(Deadline.due_at), col(Deadline.id))
    )


def _alarms(session: Session, wanted: ColumnElement[bool]) -> dict[int, list[tuple[str, datetime]]]:
    """The escalation levels of the current revision up to the due time, of every open deadline
    wanted: one query on the same condition, never one per deadline."""
    levels = (
        sa_select(col(DeadlineLevel.deadline_id), col(DeadlineLevel.name), col(DeadlineLevel.at))
        .select_from(Deadline)
        .join(
            DeadlineLevel,
            and_(
                col(DeadlineLevel.deadline_id) == col(Deadline.id),
                col(DeadlineLevel.revision) == col(Deadline.revision),
                col(DeadlineLevel.at) <= col(Deadline.due_at),
            ),
        )
        .where(wanted, col(Deadline.status) == DeadlineStatus.OPEN.value)
        .order_by(col(DeadlineLevel.deadline_id), col(DeadlineLevel.level))
    )
    found: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for deadline_id, name, at in session.execute(levels).all():
        found[deadline_id].append((name, at))
    return found


class _Provisional:
    """Which due years take their working days from a provisional holiday file (asked once a year)."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self._calendar = calendar
        self._years: dict[int, list[str]] = {}

    def of(self, day: date) -> list[str]:
        if day.year not in self._years:
            self._years[day.year] = self._calendar.warnings_for(day, day)
        return self._years[day.year]

    def warnings(self) -> list[str]:
        return [warning for year in sorted(self._years) for warning in self._years[year]]


def _second(moment: datetime) -> datetime:
    """An instant to the second in UTC, as iCalendar writes it (a due time is 23:59:59.999999)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _calendar(name: str) -> Calendar:
    feed = Calendar()
    feed.add("version", "2.0")
    feed.add("prodid", PRODID)
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", f"督查 · {name} 的期限")
    feed.add("x-wr-timezone", "Asia/Shanghai")
    feed.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", REFRESH)
    feed.add_component(_shanghai())
    return feed


def _shanghai() -> Timezone:
    """Asia/Shanghai as a VTIMEZONE: UTC+8 with no daylight saving since 1991 (every due time is later).

    Written by hand rather than generated from the tz database, so the text never changes with the
    library's range of years; it also keeps a calendar with no events valid (RFC 5545 wants one
    component).
    """
    zone = Timezone()
    zone.add("tzid", "Asia/Shanghai")
    standard = TimezoneStandard()
    # A VTIMEZONE's DTSTART is wall-clock time in the zone it describes (RFC 5545, 3.6.5): no tzinfo.
    standard.add("dtstart", datetime(1992, 1, 1))  # noqa: DTZ001
    standard.add("tzoffsetfrom", timedelta(hours=8))
    standard.add("tzoffsetto", timedelta(hours=8))
    standard.add("tzname", "CST")
    zone.add_component(standard)
    return zone


def _event(
    row: _Row, levels: list[tuple[str, datetime]], host: str, base_url: str | None, provisional: _Provisional
) -> Event:
    status = DeadlineStatus(row.status)
    settled = SETTLED_LABELS.get(status)
    summary = row.title if not row.code or row.title.startswith(row.code) else f"{row.code} {row.title}"
    if settled:
        summary = f"【{settled}】{summary}"
    due = local(_second(row.due_at))
    link = f"{base_url.rstrip('/')}/projects/{row.code}" if base_url and row.code else None
    changed = row.changed_at
    event = Event()
    event.add("uid", f"deadline-{row.id}@{host}")
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("sequence", row.revision - 1)
    event.add("summary", summary)
    event.add("dtstart", due - EVENT_LENGTH)
    event.add("dtend", due)
    event.add("status", "CANCELLED" if status == DeadlineStatus.WAIVED else "CONFIRMED")
    event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    if row.village:
        event.add("location", f"{row.town} {row.village}")
    event.add("description", _description(row, due, settled, link, provisional.of(due.date())))
    if link:
        event.add("url", link)
    for name, at in levels:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{LEVEL_LABELS.get(name, name)}: {summary}")
        alarm.add("trigger", _second(at), parameters={"VALUE": "DATE-TIME"})
        event.add_component(alarm)
    return event


def _description(row: _Row, due: datetime, settled: str | None, link: str | None, warnings: list[str]) -> str:
    lines = []
    if row.code:
        lines.append(f"项目 project: {row.code} {row.project_name}")
        lines.append(f"乡镇/村 place: {row.town} {row.village}")
    if row.programme:
        lines.append(f"计划 programme: {row.programme}")
    kind = KIND_LABELS.get(DeadlineKind(row.kind), row.kind)
    if row.cadence:
        kind = f"{kind}: {CADENCE_LABELS.get(row.cadence, row.cadence)}"
    lines.append(f"类型 kind: {kind}")
    revised = f" (第 {row.revision} 版 revision {row.revision})" if row.revision > 1 else ""
    lines.append(f"期限 due: {due:%Y-%m-%d %H:%M}{revised}")
    if settled and row.settled_at is not None:
        lines.append(f"状态 status: {settled} {row.status} {local(row.settled_at):%Y-%m-%d %H:%M}")
    else:
        lines.append(f"状态 status: 未完成 {row.status}")
    if row.settle_note:
        lines.append(f"备注 note: {row.settle_note}")
    lines.extend(f"注意 note: {warning}" for warning in warnings)
    if link:
        lines.append(link)
    return "\n".join(lines)
