"""The behaviour rules of notices (issue 10): catch-up, a spot-check draw told to nobody, an escalation
acknowledged or sent again, SMTP down, the demo's overdue notices, a person with no channel. (Quiet
hours and digests: test_notice_quiet_hours.py.)

Each test drives the CLI on a copy of the demo with a real SMTP server (``sink``) and, where a robot
answers, a local HTTP server playing it; what the database holds is read with plain SQL.
"""

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ
from tests.integration.conftest import DEMO_OFFICE, Sink, free_port, js, ok, run

LATE = "2027-01-04T09:00+08:00"  # a Monday: the first working day after New Year
DEMO_AT = "2026-12-10T09:00+08:00"


def query(url: str, sql: str, **params: Any) -> list[Any]:
    """Rows of ``sql`` read from the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params: Any) -> Any:
    return query(url, sql, **params)[0][0]


def person_holding(url: str, role: str) -> dict[str, Any]:
    """The person (as ``ducha people`` shows them) holding ``role`` (``specialist@P012``)."""
    return next(p for p in js(url, "people")["data"] if role in p["roles"])


@dataclass
class Robot:
    """A local HTTP server playing a DingTalk robot: keeps each post, answers ``answer``."""

    port: int
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    posts: list[dict[str, Any]] = field(default_factory=list)


class _RobotHandler(BaseHTTPRequestHandler):
    robot: Robot

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        self.robot.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = json.dumps(self.robot.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
        pass


@pytest.fixture
def robot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Robot]:
    """The robot ``dingtalk:town-east`` of the channels file, at a local HTTP server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RobotHandler)
    found = Robot(server.server_address[1])
    server.RequestHandlerClass = type("Handler", (_RobotHandler,), {"robot": found})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "dingtalk:\n  town-east: {webhook: "
        f"'http://127.0.0.1:{found.port}/robot/send?access_token=tok-5f3e9a1c', per_minute: 600}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DUCHA_CHANNELS_FILE", str(channels))
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


def dead_letters(url: str, *args: str) -> list[dict[str, Any]]:
    """``ducha notices --failed ARGS --json``: its rows (it exits 1 when there are any)."""
    code, output = run(url, "notices", "--failed", *args, "--json")
    assert code in (0, 1), output
    rows: list[dict[str, Any]] = json.loads(output[output.index("{") :])["data"]
    assert (code == 1) == bool(rows)
    return rows


def add_channel(url: str, person: str, address: str) -> None:
    ok(url, "people", "channels", person, "--add", address, "--as", DEMO_OFFICE, "--at", DEMO_AT)


# --- 1. catch-up ---------------------------------------------------------------------------------


def test_a_late_first_sweep_tells_each_person_once_at_the_highest_level(demo: str, sink: Sink) -> None:
    # The demo was never swept: at LATE the reminder, due-day and overdue levels of many deadlines
    # (and both escalations of some) come at once.
    said = ok(demo, "sweep", "--at", LATE)
    assert f"passed (a higher level told the same person): ducha dispatch --at {LATE} sends them" in said
    rows = query(
        demo,
        "SELECT n.person_id, a.deadline_id, a.level, n.channel, n.state, a.id AS alert_id "
        "FROM notice n JOIN alert a ON a.id = n.alert_id",
    )
    by_pair: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for row in rows:
        by_pair[(row.person_id, row.deadline_id)].append(row)
    caught_up = 0
    for pair, told in by_pair.items():
        top = max(r.level for r in told)
        caught_up += len({r.level for r in told}) > 1
        assert all((r.state == "passed") == (r.level != top) for r in told), (pair, told)
        assert sum(1 for r in told if r.channel == "inbox" and r.state != "passed") == 1, pair
    assert caught_up >= 30  # the specialists of the late deadlines: three levels each
    deadline_of = {r.alert_id: r.deadline_id for r in rows}

    ok(demo, "dispatch", "--at", LATE)
    mailed: Counter[tuple[int, int]] = Counter()
    for _, mail in sink.mails:
        cause, alert_id, _, person_id, _ = mail["X-Ducha-Key"].split(":")
        if cause == "alert":
            mailed[(int(person_id), deadline_of[int(alert_id)])] += 1
    assert mailed and set(mailed.values()) == {1}
    assert set(mailed) == set(by_pair)

    # What the person sees in the inbox: one notice per deadline, never the levels passed over.
    pair = next(p for p, told in by_pair.items() if len({r.level for r in told}) == 3)
    phone = scalar(demo, "SELECT phone FROM person WHERE id = :id", id=pair[0])
    inbox = js(demo, "inbox", phone)["data"]
    about = [
        n
        for n in inbox
        if n["key"].startswith("alert:") and deadline_of[int(n["key"].split(":")[1])] == pair[1]
    ]
    assert [n["template"] for n in about] == ["overdue"], about


# --- 2. a spot-check draw ------------------------------------------------------------------------


def test_a_spot_check_draw_writes_no_notice_to_anyone(demo: str, sink: Sink) -> None:
    def counts() -> tuple[int, int, int]:
        return (
            scalar(demo, "SELECT count(*) FROM notice"),
            scalar(demo, "SELECT count(*) FROM alert"),
            scalar(demo, "SELECT count(*) FROM deadline"),
        )

    before = counts()
    known = {r.key for r in query(demo, "SELECT key FROM notice")}
    drawn = js(
        demo, "spotcheck", "draw", "--programme", "1", "--count", "8", "--as", DEMO_OFFICE, "--at", DEMO_AT
    )
    codes = [entry["code"] for entry in drawn["data"]]
    assert len(codes) == 8
    assert counts() == before  # no notice, nor an alert or deadline that would cause one
    attached = {
        r.person_id
        for r in query(
            demo,
            "SELECT r.person_id FROM role_assignment r JOIN project p ON p.id = r.project_id "
            "WHERE p.code IN (" + ", ".join(f"'{code}'" for code in codes) + ")",
        )
    }
    assert len(attached) >= 2
    told_before = {r.person_id for r in query(demo, "SELECT person_id FROM notice")}
    # Dispatching sends only what was queued before the draw: nothing reaches the drawn projects' people.
    ok(demo, "dispatch", "--at", DEMO_AT)
    assert sink.mails and {mail["X-Ducha-Key"] for _, mail in sink.mails} <= known
    assert not {int(m["X-Ducha-Key"].split(":")[3]) for _, m in sink.mails} & attached - told_before
    assert not query(
        demo,
        "SELECT n.id FROM notice n JOIN inspection i ON i.id = n.inspection_id WHERE i.kind = 'spot_check'",
    )


# --- 3. acknowledgement --------------------------------------------------------------------------


def test_an_unacknowledged_escalation_is_sent_again_once_and_shows_to_the_office(
    demo: str, sink: Sink
) -> None:
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    letters = js(demo, "notices", "--person", DEMO_OFFICE, "--unacknowledged")["data"]
    assert len(letters) >= 2 and all(n["template"] == "supervision" and n["escalation"] for n in letters)
    mailed = len(sink.mails)
    # The office acknowledges one letter in its inbox; the others wait.
    acknowledged, *waiting = letters
    said = ok(demo, "inbox", DEMO_OFFICE, "--ack", str(acknowledged["id"]), "--at", "2027-01-04T10:00+08:00")
    assert f"notice {acknowledged['id']} acknowledged by " in said
    shown = ok(demo, "inbox", DEMO_OFFICE, "--at", "2027-01-04T10:00+08:00")
    assert shown.count("to acknowledge") == len(waiting)
    # The office sees every escalation still waiting, its own and the district leadership's.
    everyone = js(demo, "notices", "--unacknowledged", "--at", "2027-01-04T10:00+08:00")["data"]
    assert {n["id"] for n in waiting} < {n["id"] for n in everyone}
    # Within the four working hours (ack_working_hours) nothing is sent again…
    report = js(demo, "dispatch", "--at", "2027-01-04T12:59+08:00")
    assert report["reminders"] == 0 and len(sink.mails) == mailed
    # …after them, each letter still waiting goes again on the office's first channel after the inbox.
    report = js(demo, "dispatch", "--at", "2027-01-04T13:01+08:00")
    assert report["reminders"] == len(everyone)
    again = [m for to, m in sink.mails[mailed:] if to == ["ducha@example.org"]]
    assert sorted(m["Subject"] for m in again) == sorted(n["subject"] for n in waiting)
    assert all(m["X-Ducha-Key"].startswith("unacknowledged:") for m in again)
    assert {n["id"] for n in js(demo, "notices", "--person", DEMO_OFFICE, "--unacknowledged")["data"]} == {
        n["id"] for n in waiting
    }
    # Once: later dispatches send nothing more, acknowledged or not.
    count = len(sink.mails)
    ok(demo, "dispatch", "--at", "2027-01-05T13:01+08:00")
    assert len(sink.mails) == count


def test_an_escalation_passed_over_is_neither_waiting_nor_sent_again(demo: str, sink: Sink) -> None:
    # The office head sits on the district leadership too: where both escalations of a deadline come
    # in one sweep, the higher one tells them and the lower is passed, never waiting for an answer.
    ok(
        demo,
        "roles",
        "assign",
        DEMO_OFFICE,
        "leadership",
        "--unit",
        "区委办公室",
        "--as",
        DEMO_OFFICE,
        "--at",
        DEMO_AT,
    )
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    passed = js(demo, "notices", "--person", DEMO_OFFICE, "--channel", "inbox", "--state", "passed")["data"]
    assert passed and {n["level"] for n in passed} == {"escalated_1"}
    waiting = js(demo, "notices", "--person", DEMO_OFFICE, "--unacknowledged")["data"]
    assert "escalated_2" in {n["level"] for n in waiting}
    assert {n["state"] for n in waiting} == {"accepted"}
    mailed = len(sink.mails)
    ok(demo, "dispatch", "--at", "2027-01-04T13:01+08:00")
    again = [m["Subject"] for to, m in sink.mails[mailed:] if to == ["ducha@example.org"]]
    assert sorted(again) == sorted(n["subject"] for n in waiting)


def test_the_working_hours_to_acknowledge_are_office_hours(
    demo: str, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ten working hours from Monday 09:00 (office hours 08:30–17:30) end Tuesday 10:00: not Monday
    # at 19:00, when nobody is at the desk to acknowledge anything.
    monkeypatch.setenv("DUCHA_ACK_WORKING_HOURS", "10")
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    waiting = js(demo, "notices", "--unacknowledged")["data"]
    assert waiting
    for evening in ("2027-01-04T19:30+08:00", "2027-01-05T08:00+08:00", "2027-01-05T09:59+08:00"):
        assert js(demo, "dispatch", "--at", evening)["reminders"] == 0, evening
    assert js(demo, "dispatch", "--at", "2027-01-05T10:01+08:00")["reminders"] == len(waiting)


# --- 5. SMTP down --------------------------------------------------------------------------------


def at_text(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def test_smtp_down_retries_at_the_planned_times_then_falls_back_and_loses_nothing(
    demo: str, robot: Robot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUCHA_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    queued = js(demo, "notices", "--state", "queued", "--channel", "email")["data"]
    assert queued
    mail = queued[0]
    phone = scalar(demo, "SELECT phone FROM person WHERE id = :id", id=mail["person_id"])
    add_channel(demo, phone, "dingtalk:town-east")
    now = datetime.fromisoformat("2026-12-10T09:00+08:00")
    gaps: list[timedelta] = []
    for attempt in range(1, 6):
        ok(demo, "dispatch", "--at", at_text(now))
        shown = js(demo, "notices", "show", str(mail["id"]))
        assert (
            len(shown["attempts"]) == attempt and datetime.fromisoformat(shown["attempts"][-1]["at"]) == now
        )
        if attempt == 5:
            break
        assert shown["state"] == "retry" and "ConnectionRefusedError" in shown["last_error"]
        planned = datetime.fromisoformat(shown["attempts"][-1]["retry_at"])
        gaps.append(planned - now)
        # Not before the planned time…
        ok(demo, "dispatch", "--at", at_text(planned - timedelta(seconds=1)))
        assert js(demo, "notices", "show", str(mail["id"]))["attempts"] == shown["attempts"]
        now = planned.replace(microsecond=0) + timedelta(seconds=1)  # …but at it
    assert gaps == sorted(gaps) and len(set(gaps)) == 4 and gaps[0] >= timedelta(seconds=48)
    # The fifth failure is a dead letter: shown by --failed, and sent on the person's next channel.
    assert shown["state"] == "failed" and "after 5 attempts" in shown["last_error"]
    code, output = run(demo, "notices", "--failed")
    assert code == 1 and str(mail["id"]) in output
    assert [post["markdown"]["title"] for post in robot.posts] == [mail["subject"]], robot.posts
    # Nothing lost: each mail is a dead letter or waits for its next try, and is in the person's inbox.
    states = {n["id"]: n["state"] for n in js(demo, "notices", "--channel", "email")["data"]}
    assert {states[n["id"]] for n in queued} <= {"failed", "retry"}
    for notice in queued:
        cause = notice["key"].rsplit(":", 1)[0]
        inbox = js(demo, "notices", "--person", str(notice["person_id"]), "--channel", "inbox")["data"]
        assert any(n["key"] == f"{cause}:inbox" and n["state"] == "accepted" for n in inbox), notice


def test_a_dead_letter_falls_back_only_to_a_channel_that_does_not_carry_it_already(
    demo: str, robot: Robot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every notice goes on each of the person's channels at once: when the mail dies, the robot has
    # it already, and sending it there again would tell the person twice.
    monkeypatch.setenv("DUCHA_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    monkeypatch.setenv("DUCHA_NOTICE_ATTEMPTS", "1")  # the first failure is the last
    specialist = person_holding(demo, "specialist@P012")
    add_channel(demo, specialist["phone"], "dingtalk:town-east")
    ok(demo, "sweep", "--at", LATE)
    # The first dispatch comes at night (the server was down all day): the mails die, the robot's
    # notices are not escalations and wait for the morning, though they came due at 09:00.
    ok(demo, "dispatch", "--at", "2027-01-04T23:00+08:00")
    mine = js(demo, "notices", "--person", specialist["phone"], "--limit", "1000")["data"]
    dead = [n for n in mine if n["channel"] == "email" and n["state"] != "passed"]
    assert dead and {n["state"] for n in dead} == {"failed"}
    assert robot.posts == []
    ok(demo, "dispatch", "--at", "2027-01-05T07:45+08:00")
    on_robot = Counter(post["markdown"]["title"] for post in robot.posts)
    assert on_robot == Counter(n["subject"] for n in dead), on_robot


# --- 6. done when --------------------------------------------------------------------------------


def test_a_robot_that_refuses_the_signature_leaves_its_notice_failed_and_shown(
    demo: str, sink: Sink, robot: Robot
) -> None:
    robot.answer = {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc]"}
    specialist = person_holding(demo, "specialist@P012")
    add_channel(demo, specialist["phone"], "dingtalk:town-east")
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    assert robot.posts  # the robot was asked and said no
    code, output = run(demo, "notices", "--failed", "--channel", "dingtalk:town-east")
    assert code == 1 and "dingtalk:town-east" in output
    failed = dead_letters(demo, "--channel", "dingtalk:town-east")
    assert failed and {n["person_id"] for n in failed} == {specialist["id"]}
    assert all("310000" in n["last_error"] and "tok-5f3e9a1c" not in n["last_error"] for n in failed)
    assert not js(demo, "notices", "--state", "accepted", "--channel", "dingtalk:town-east")["data"]
    # The mail still went.
    assert any(to == [specialist["email"]] for to, _ in sink.mails)


def test_each_late_projects_people_have_one_overdue_notice_saying_what_and_how_late(
    demo: str, sink: Sink
) -> None:
    # test_notices proves this for the 全部开工 milestone by mail; here every overdue deadline, in
    # the inbox and by mail, with how many working days late counted day by day.
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    calendar = WorkingCalendar.load()
    today = datetime.fromisoformat(LATE).date()
    mails = Counter((to[0], mail["Subject"]) for to, mail in sink.mails)
    overdue = js(demo, "alerts", "--level", "overdue", "--at", LATE, "--limit", "1000")["data"]
    assert len({a["project_code"] for a in overdue}) >= 20
    for alert in overdue:
        due = datetime.fromisoformat(alert["due_at"]).astimezone(LOCAL_TZ)
        late = sum(
            calendar.is_working_day(due.date() + timedelta(days=n))
            for n in range(1, (today - due.date()).days + 1)
        )
        assert {r["role"] for r in alert["recipients"]} == {"specialist", "leader"}
        for person in alert["recipients"]:
            told = query(
                demo,
                "SELECT subject, body_text FROM notice WHERE person_id = :person AND deadline_id = :deadline "
                "AND channel = 'inbox' AND state = 'accepted'",
                person=person["person_id"],
                deadline=alert["deadline_id"],
            )
            assert len(told) == 1, (alert, person)
            subject, body = told[0]
            assert subject.startswith(f"【逾期通知】{alert['project_code']} ") and alert["title"] in subject
            assert f"{due.year}年{due.month}月{due.day}日 {due:%H:%M}" in body
            assert f"已逾期 {late} 个工作日" in body, (body, late)
            assert mails[(person["email"], subject)] == 1


# --- 7. a person with no channel -----------------------------------------------------------------


def test_a_person_with_no_channel_gets_the_inbox_notice_and_the_check_names_them(
    demo: str, sink: Sink
) -> None:
    specialist = person_holding(demo, "specialist@P012")
    said = ok(
        demo, "people", "edit", specialist["phone"], "--email", "", "--as", DEMO_OFFICE, "--at", DEMO_AT
    )
    assert "no e-mail" in said
    code, output = run(demo, "check")
    assert code == 0 and "warning: 1 person(s) holding a role have no e-mail or notice channel" in output, (
        output
    )
    assert f"{specialist['name']} (id {specialist['id']})" in output
    ok(demo, "sweep", "--at", LATE)
    ok(demo, "dispatch", "--at", LATE)
    inbox = js(demo, "inbox", specialist["phone"])["data"]
    assert any(n["template"] == "overdue" and "P012" in n["subject"] for n in inbox), inbox
    assert not query(
        demo, "SELECT id FROM notice WHERE person_id = :id AND channel <> 'inbox'", id=specialist["id"]
    )
    assert not [to for to, _ in sink.mails if specialist["email"] in to]
