"""A person's deadlines as an iCalendar feed: whose, how they look, and how they change."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar, Event
from sqlalchemy import event
from sqlmodel import Session, col, select

from ducha.db import make_engine
from models import DeadlineLevel
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ
from tests.integration.conftest import DEMO_OFFICE, js, ok, run
from workflows.calendar_feed import person_feed

AT = "2026-12-10"
NOW = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
P039_SPECIALIST = "13920000039"  # answers for both orders of P039's in-progress check
P008_SPECIALIST = "13920000008"
P008_LEADER = "13910000002"  # leads P006–P010 and answers for P008's critical order (earmark)
INSPECTOR = "13900000002"  # holds no project and no office role: nothing to answer for


def feed(url: str, person: str, tmp_path: Path, *more: str, at: str = AT) -> tuple[bytes, Calendar]:
    """Run ``ducha calendar feed PERSON --out FILE``: the file's bytes, parsed."""
    out = tmp_path / f"{person}.ics"
    ok(url, "calendar", "feed", person, "--out", str(out), "--at", at, *more)
    body = out.read_bytes()
    return body, Calendar.from_ical(body)


def events(calendar: Calendar) -> dict[str, Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def deadlines(url: str) -> list[dict[str, Any]]:
    return list(js(url, "deadlines", "--at", AT)["data"])


def uid(deadline: dict[str, Any]) -> str:
    return f"deadline-{deadline['id']}@ducha"


def test_a_specialists_feed_holds_their_projects_deadlines_and_orders_only(demo: str, tmp_path: Path) -> None:
    body, calendar = feed(demo, P039_SPECIALIST, tmp_path)
    everything = deadlines(demo)
    theirs = [d for d in everything if d["project_code"] == "P039"]
    assert {d["kind"] for d in theirs} == {"milestone", "rectification"}
    assert set(events(calendar)) == {uid(d) for d in theirs}
    assert all(str(e["SUMMARY"]).startswith("P039 ") for e in events(calendar).values())
    orders = [str(e["SUMMARY"]) for e in events(calendar).values() if "rectify" in str(e["SUMMARY"])]
    assert sorted(orders) == ["P039 rectify site_log (minor)", "P039 rectify warning_signs (minor)"]
    # Another specialist's deadlines are not there, nor are they in anyone else's feed.
    _, other = feed(demo, "13920000009", tmp_path)
    assert {str(e["SUMMARY"])[:4] for e in events(other).values()} == {"P009"}
    assert not set(events(other)) & set(events(calendar))
    # The calendar itself.
    assert calendar["PRODID"] == "-//ducha//督查//ZH" and calendar["VERSION"] == "2.0"
    name = js(demo, "projects")["data"][38]["specialist_name"]
    assert calendar["X-WR-CALNAME"] == f"督查 · {name} 的期限"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    # Valid text: CRLF lines folded at 75 octets, whatever the Chinese in them.
    lines = body.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines)
    assert b"\n" not in body.replace(b"\r\n", b"")


def test_a_leader_gets_every_project_they_lead_and_the_order_they_answer_for(
    demo: str, tmp_path: Path
) -> None:
    _, calendar = feed(demo, P008_LEADER, tmp_path)
    led = {"P006", "P007", "P008", "P009", "P010"}
    expected = [d for d in deadlines(demo) if d["project_code"] in led]
    assert set(events(calendar)) == {uid(d) for d in expected}
    assert "P008 rectify earmark (critical)" in {str(e["SUMMARY"]) for e in events(calendar).values()}


def test_an_event_says_when_what_and_where_and_reminds_at_the_levels_up_to_the_due_time(
    demo: str, tmp_path: Path
) -> None:
    _, calendar = feed(demo, P008_SPECIALIST, tmp_path, "--base-url", "https://ducha.example.org/")
    earmark = next(d for d in deadlines(demo) if d["title"] == "P008 rectify earmark (critical)")
    found = events(calendar)[f"deadline-{earmark['id']}@ducha.example.org"]
    due = datetime(2026, 12, 9, 17, 30, tzinfo=LOCAL_TZ)
    assert found["DTEND"].dt == due and found["DTSTART"].dt == due - timedelta(minutes=30)
    assert found["DTEND"].params["TZID"] == "Asia/Shanghai"
    assert found["SEQUENCE"] == 0 and found["STATUS"] == "CONFIRMED"
    assert found["URL"] == "https://ducha.example.org/projects/P008"
    assert found["LOCATION"] == "城关镇 长青村"
    description = str(found["DESCRIPTION"]).splitlines()
    assert description == [
        "项目 project: P008 长青村村级组织活动场所",
        "乡镇/村 place: 城关镇 长青村",
        "计划 programme: 村级组织活动场所建设(第一批)",
        "类型 kind: 限期整改 rectification order",
        "期限 due: 2026-12-09 17:30",
        "状态 status: 未完成 open",
        "https://ducha.example.org/projects/P008",
    ]
    # Issued at the in-progress check of 2 December, 14:00: its last change.
    assert found["DTSTAMP"].dt == found["LAST-MODIFIED"].dt == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    alarms = [(str(a["DESCRIPTION"]), a["TRIGGER"].dt) for a in found.walk("VALARM")]
    assert alarms == [
        ("即将到期 upcoming: P008 rectify earmark (critical)", datetime(2026, 12, 8, 1, 0, tzinfo=UTC)),
        ("今日到期 due today: P008 rectify earmark (critical)", datetime(2026, 12, 9, 1, 0, tzinfo=UTC)),
        ("已到期 due now: P008 rectify earmark (critical)", datetime(2026, 12, 9, 9, 30, tzinfo=UTC)),
    ]
    assert all(a["TRIGGER"].params["VALUE"] == "DATE-TIME" for a in found.walk("VALARM"))


def test_an_extension_keeps_the_uid_bumps_the_sequence_and_moves_the_reminders(
    demo: str, tmp_path: Path
) -> None:
    body, calendar = feed(demo, P008_SPECIALIST, tmp_path)
    earmark = next(d for d in deadlines(demo) if d["title"] == "P008 rectify earmark (critical)")
    again, _ = feed(demo, P008_SPECIALIST, tmp_path, at="2026-12-11T15:00")
    assert again == body  # the same data, another day: the same bytes

    ok(demo, "deadlines", "extend", str(earmark["id"]), "--to", "2026-12-18", "--reason", "材料待补",
       "--as", DEMO_OFFICE, "--at", AT)  # fmt: skip
    after, moved = feed(demo, P008_SPECIALIST, tmp_path)
    assert after != body
    assert set(events(moved)) == set(events(calendar))
    event_id = uid(earmark)
    before_event, after_event = events(calendar)[event_id], events(moved)[event_id]
    assert (before_event["SEQUENCE"], after_event["SEQUENCE"]) == (0, 1)
    assert after_event["DTEND"].dt.date().isoformat() == "2026-12-18"
    assert after_event["DTSTAMP"].dt == NOW  # the extension, approved at 09:00 on 10 December
    assert "期限 due: 2026-12-18 23:59 (第 2 版 revision 2)" in str(after_event["DESCRIPTION"])
    with Session(make_engine(demo)) as session:
        levels = session.exec(
            select(DeadlineLevel)
            .where(col(DeadlineLevel.deadline_id) == earmark["id"], col(DeadlineLevel.revision) == 2)
            .order_by(col(DeadlineLevel.level))
        ).all()
    due = after_event["DTEND"].dt
    wanted = [level.at.replace(microsecond=0) for level in levels if level.at <= due + timedelta(seconds=1)]
    assert [a["TRIGGER"].dt for a in after_event.walk("VALARM")] == wanted
    assert [level.name for level in levels][: len(wanted)] == ["upcoming", "due", "overdue"]


def test_the_etag_changes_with_the_content_only(demo: str) -> None:
    engine = make_engine(demo)
    calendar = WorkingCalendar.load()
    with Session(engine) as session:
        person = js(demo, "projects")["data"][7]["specialist_id"]
        first = person_feed(session=session, person_id=person, now=NOW, calendar=calendar)
        later = person_feed(session=session, person_id=person, now=NOW + timedelta(days=3), calendar=calendar)
        linked = person_feed(
            session=session, person_id=person, now=NOW, calendar=calendar, base_url="https://x.example"
        )
    assert (first.body, first.etag) == (later.body, later.etag)
    assert first.etag.startswith('"') and first.etag.endswith('"') and len(first.etag) == 34
    assert linked.etag != first.etag
    assert first.events == 2 and first.warnings and "2027" in first.warnings[0]
    # The extension, seen through the CLI's JSON: another ETag.
    earmark = next(d for d in deadlines(demo) if d["title"] == "P008 rectify earmark (critical)")
    before = js(demo, "calendar", "feed", P008_SPECIALIST, "--at", AT)
    assert before["etag"] == first.etag and before["events"] == 2
    ok(demo, "deadlines", "extend", str(earmark["id"]), "--to", "2026-12-18", "--reason", "材料待补",
       "--as", DEMO_OFFICE, "--at", AT)  # fmt: skip
    assert js(demo, "calendar", "feed", P008_SPECIALIST, "--at", AT)["etag"] != first.etag
    engine.dispose()


def test_the_office_sees_the_cadences_settled_ones_marked_for_30_days(demo: str, tmp_path: Path) -> None:
    _, calendar = feed(demo, DEMO_OFFICE, tmp_path)
    assert events(calendar) == {}  # no project, and no cadence opened yet
    ok(demo, "deadlines", "sync", "--at", AT)
    cadences = {d["subject"]: d for d in deadlines(demo) if d["kind"] == "cadence"}
    _, calendar = feed(demo, DEMO_OFFICE, tmp_path)
    assert set(events(calendar)) == {uid(d) for d in cadences.values()}
    assert events(feed(demo, "13900000009", tmp_path)[1]).keys() == events(calendar).keys()  # leadership
    november = cadences["cadence:monthly_summary:2026-11:programme:1"]
    yearly = cadences["cadence:yearly_evaluation:2026:programme:1"]
    ok(demo, "deadlines", "done", str(november["id"]), "--as", DEMO_OFFICE, "--note", "已报送", "--at", AT)
    ok(demo, "deadlines", "waive", str(yearly["id"]), "--reason", "并入年度考核", "--as", DEMO_OFFICE,
       "--at", AT)  # fmt: skip
    _, calendar = feed(demo, DEMO_OFFICE, tmp_path, at="2026-12-11")
    done, waived = events(calendar)[uid(november)], events(calendar)[uid(yearly)]
    assert str(done["SUMMARY"]).startswith("【逾期完成】") and done["STATUS"] == "CONFIRMED"
    assert "状态 status: 逾期完成 missed 2026-12-10 09:00" in str(done["DESCRIPTION"])
    assert "备注 note: 已报送" in str(done["DESCRIPTION"])
    assert str(waived["SUMMARY"]).startswith("【已免除】") and waived["STATUS"] == "CANCELLED"
    assert not done.walk("VALARM") and not waived.walk("VALARM")
    assert done["DTSTAMP"].dt == NOW
    # An open cadence was opened for its period: its start is its last change.
    december = events(calendar)[uid(cadences["cadence:monthly_summary:2026-12:programme:1"])]
    assert december["DTSTAMP"].dt == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert str(december["SUMMARY"]) == "村级组织活动场所建设(第一批) 一月一总结 monthly summary for 2026-12"
    assert "类型 kind: 定期任务 cadence: 一月一总结 monthly summary" in str(december["DESCRIPTION"])
    assert [a["TRIGGER"].dt for a in december.walk("VALARM")] != []
    # Thirty days after they were settled they are still there; a day later they are gone.
    assert uid(november) in events(feed(demo, DEMO_OFFICE, tmp_path, at="2027-01-09T09:00")[1])
    gone = events(feed(demo, DEMO_OFFICE, tmp_path, at="2027-01-09T09:01")[1])
    assert uid(november) not in gone and uid(yearly) not in gone


def test_someone_with_nothing_to_answer_for_gets_a_valid_empty_calendar(demo: str, tmp_path: Path) -> None:
    body, calendar = feed(demo, INSPECTOR, tmp_path)
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE")
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    code, output = run(demo, "calendar", "feed", INSPECTOR, "--at", AT)  # printed, not written
    assert code == 0 and output.startswith("BEGIN:VCALENDAR")
    code, output = run(demo, "calendar", "feed", "13000000000")
    assert code == 2 and "no person '13000000000' (give a name, phone or id)" in output


def test_the_feed_reads_in_three_queries_however_many_deadlines(demo: str) -> None:
    engine = make_engine(demo)
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    calendar = WorkingCalendar.load()
    people = {p["phone"]: p["id"] for p in js(demo, "people")["data"]}
    counts = {}
    with Session(engine) as session:
        for phone in (P039_SPECIALIST, P008_LEADER, INSPECTOR):
            person_id = people[phone]
            statements.clear()
            made = person_feed(session=session, person_id=person_id, now=NOW, calendar=calendar)
            selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            counts[phone] = (len(selects), made.events)
    engine.dispose()
    assert {queries for queries, _ in counts.values()} == {3}
    assert counts[P008_LEADER][1] > counts[P039_SPECIALIST][1] > 0 == counts[INSPECTOR][1]


@pytest.mark.parametrize("url", ["https://ducha.example.org:8443/office/", "http://10.0.0.5"])
def test_the_uid_names_the_host_of_the_base_url(demo: str, tmp_path: Path, url: str) -> None:
    _, calendar = feed(demo, P008_SPECIALIST, tmp_path, "--base-url", url)
    host = url.split("//")[1].split(":")[0].split("/")[0]
    assert all(u.endswith(f"@{host}") for u in events(calendar))
    assert all(str(e["URL"]).startswith(url.rstrip("/") + "/projects/") for e in events(calendar).values())
