"""Quiet hours and digests (issue 10), a property test: people with random choices, notices and
dispatches at random clocks around the official calendar's rest days; what the real channels (a
local HTTP server playing a DingTalk robot and an SMS gateway, a local SMTP server) took is checked
against the rules: no chat or SMS inside quiet hours but escalations, and each daily digest holds
exactly the notices held for it.
"""

import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from ducha.config import Settings
from ducha.context import AppContext
from ducha.jobs import run_dispatch
from models import Person
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ
from notifications.outbox import Draft, Recipient, enqueue
from notifications.rendering import Rendered
from tests.integration.conftest import Sink, SqliteTemplates

CALENDAR = WorkingCalendar.load()
DIGEST_MARK = "【每日待办汇总】"


def quiet(moment: datetime) -> bool:
    """Inside quiet hours: 22:00–07:30 local, or any time of a day the official calendar rests."""
    at = moment.astimezone(LOCAL_TZ)
    clock = at.hour * 60 + at.minute
    return not CALENDAR.is_working_day(at.date()) or clock >= 22 * 60 or clock < 7 * 60 + 30


@dataclass
class Switchboard:
    """A local HTTP server playing a DingTalk robot and an SMS gateway. A subject holding ``~slow~``
    is refused once as sent too fast (a retry a minute on); one holding ``~broken~`` always has its
    robot signature refused (a dead letter). Keeps what it accepted, with the dispatch it came in."""

    port: int = 0
    dispatch: int = 0  # which dispatch run is on
    accepted: list[tuple[int, str, str, str]] = field(
        default_factory=list
    )  # (dispatch, channel, subject, text)
    refused: set[str] = field(default_factory=set)

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path.startswith("/robot"):
            ok_answer: dict[str, Any] = {"errcode": 0}
            subject, content = body["markdown"]["title"], body["markdown"]["text"]
            if "~broken~" in subject:
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
            channel = "dingtalk"
        else:
            subject, content, ok_answer = body["params"]["subject"], "", {"code": 0, "message": "OK"}
            channel = "sms"
        if "~slow~" in subject and f"{channel}:{subject}" not in self.refused:
            self.refused.add(f"{channel}:{subject}")
            if channel == "dingtalk":
                return 200, {"errcode": 130101, "errmsg": "send too fast"}
            return 429, {"code": "THROTTLED"}
        self.accepted.append((self.dispatch, channel, subject, content))
        return 200, ok_answer


class _SwitchboardHandler(BaseHTTPRequestHandler):
    board: Switchboard

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, answer = self.board.answer(self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
        pass


@pytest.fixture
def switchboard() -> Iterator[Switchboard]:
    board = Switchboard()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_SwitchboardHandler,), {"board": board}))
    board.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield board
    finally:
        server.shutdown()
        server.server_close()


CHANNEL_CHOICES = ("dingtalk:town-east", "sms:gov")
# Days around the official calendar's rest days: National Day 2026, New Year 2027, Spring Festival 2027.
FIRST_DAYS = [datetime(2026, 9, 29), datetime(2026, 12, 29), datetime(2027, 2, 3), datetime(2027, 1, 11)]
BOUNDARIES = [7 * 60 + 29, 7 * 60 + 30, 7 * 60 + 31, 8 * 60 + 29, 8 * 60 + 30, 8 * 60 + 31, 21 * 60 + 58,
              21 * 60 + 59, 22 * 60, 22 * 60 + 1, 23 * 60 + 59, 0]  # fmt: skip

people_strategy = st.lists(
    st.tuples(
        st.booleans(),  # chose the digest
        st.booleans(),  # has e-mail
        st.lists(st.sampled_from(CHANNEL_CHOICES), unique=True, min_size=1),
    ),
    min_size=1,
    max_size=3,
)
moment_strategy = st.tuples(
    st.integers(0, 6), st.one_of(st.sampled_from(BOUNDARIES), st.integers(0, 24 * 60 - 1))
)
event_strategy = st.one_of(
    st.tuples(st.just("dispatch"), moment_strategy, st.just(0), st.just(False), st.just("")),
    st.tuples(
        st.just("notice"),
        moment_strategy,
        st.integers(0, 2),
        st.booleans(),
        st.sampled_from(["", "~slow~", "~broken~"]),
    ),
)


def _moment(first: datetime, day: int, minute: int) -> datetime:
    return (first + timedelta(days=day, minutes=minute)).replace(tzinfo=LOCAL_TZ)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    first=st.sampled_from(FIRST_DAYS),
    people=people_strategy,
    events=st.lists(event_strategy, min_size=1, max_size=12),
)
@example(  # a digest person told twice on one working day, a digest between: the second is not lost
    first=datetime(2027, 1, 11),
    people=[(True, True, ["dingtalk:town-east"])],
    events=[
        ("notice", (0, 8 * 60), 0, False, ""),
        ("dispatch", (0, 9 * 60), 0, False, ""),
        ("notice", (0, 10 * 60), 0, False, ""),
        ("dispatch", (0, 11 * 60), 0, False, ""),
    ],
)
@example(  # a chat notice refused once at 21:59: its retry waits for the morning
    first=datetime(2027, 1, 11),
    people=[(False, False, ["dingtalk:town-east"])],
    events=[
        ("notice", (0, 21 * 60 + 58), 0, False, "~slow~"),
        ("dispatch", (0, 21 * 60 + 59), 0, False, ""),
        ("dispatch", (0, 22 * 60 + 30), 0, False, ""),
    ],  # fmt: skip
)
@example(  # an escalation whose robot is broken at night falls back to SMS at once
    first=datetime(2027, 1, 11),
    people=[(True, False, ["dingtalk:town-east", "sms:gov"])],
    events=[("notice", (0, 23 * 60), 0, True, "~broken~"), ("dispatch", (0, 23 * 60 + 1), 0, False, "")],
)
def test_no_chat_or_sms_inside_quiet_hours_but_escalations_and_the_digest_holds_what_was_held(
    first: datetime,
    people: list[tuple[bool, bool, list[str]]],
    events: list[tuple[str, tuple[int, int], int, bool, str]],
    sqlite_templates: SqliteTemplates,
    tmp_path_factory: pytest.TempPathFactory,
    sink: Sink,
    switchboard: Switchboard,
) -> None:
    """Each example: a fresh database, people with their choices, notices written and dispatches run
    at random clocks, then two dispatches days later (a working morning) to deliver what waited."""
    sink.mails.clear()
    switchboard.accepted.clear()
    switchboard.refused.clear()
    path = tmp_path_factory.mktemp("quiet") / "ducha.db"
    shutil.copyfile(sqlite_templates.empty, path)
    port = switchboard.port
    channels = json.dumps(
        {
            "dingtalk": {"town-east": {"webhook": f"http://127.0.0.1:{port}/robot?access_token=t",
                                       "per_minute": 600}},
            "sms": {"gov": {"url": f"http://127.0.0.1:{port}/sms", "key": "k-sms", "per_minute": 6000,
                            "templates": {"overdue": "S1", "supervision": "S2", "digest": "S3"}}},
        }
    )  # fmt: skip
    context = AppContext(
        _settings=Settings(
            database_url=f"sqlite:///{path}",
            smtp_url=sink.url,
            mail_from="ducha@office.example.org",
            channels=channels,
        )
    )
    try:
        recipients: list[Recipient] = []
        with context.transaction(now=_moment(first, 0, 0)) as tx:
            for index, (digest, has_email, addresses) in enumerate(people):
                row = Person(
                    name=f"人{index}",
                    phone=f"1380000000{index}",
                    email=f"p{index}@example.org" if has_email else None,
                    notice_addresses=list(addresses),
                    digest=digest,
                )
                tx.session.add(row)
                tx.session.flush()
                assert row.id is not None
                recipients.append(
                    Recipient(row.id, row.name, row.email, row.phone, tuple(addresses), "zh", digest)
                )
        timeline = sorted(
            (
                (_moment(first, *when), kind, who, escalation, mark)
                for kind, when, who, escalation, mark in events
            ),
            key=lambda event: event[0],
        )
        last = timeline[-1][0].astimezone(LOCAL_TZ).date() + timedelta(days=10)
        while not CALENDAR.is_working_day(last):
            last += timedelta(days=1)
        morning = datetime(last.year, last.month, last.day, 9, 0, tzinfo=LOCAL_TZ)
        timeline += [
            (morning, "dispatch", 0, False, ""),
            (morning + timedelta(hours=1), "dispatch", 0, False, ""),
        ]
        drafts: dict[str, tuple[Recipient, bool]] = {}  # subject → (person, escalation)
        runs: dict[int, datetime] = {}
        for number, (moment, kind, who, escalation, mark) in enumerate(timeline):
            if kind == "notice":
                person = recipients[who % len(recipients)]
                subject = f"通知#{number}#{mark}"
                drafts[subject] = (person, escalation)
                template = "supervision" if escalation else "overdue"
                with context.transaction(now=moment) as tx:
                    enqueue(
                        session=tx.session,
                        now=moment,
                        drafts=[
                            Draft(
                                cause=f"test:{number}",
                                kind="alert",
                                person=person,
                                template=template,
                                context={},
                                escalation=escalation,
                                rendered=Rendered(
                                    template, "zh", "h", subject, f"正文 {subject}", f"<p>{subject}</p>"
                                ),
                            )
                        ],
                        templates=context.notices.templates,
                        calendar=CALENDAR,
                        quiet=context.notices.quiet,
                    )
            else:
                switchboard.dispatch = number
                runs[number] = moment
                run_dispatch(context, moment)
        _check_quiet_and_digests(context, switchboard, sink, drafts, runs, recipients)
    finally:
        context.dispose()


def _check_quiet_and_digests(
    context: AppContext,
    switchboard: Switchboard,
    sink: Sink,
    drafts: dict[str, tuple[Recipient, bool]],
    runs: dict[int, datetime],
    recipients: list[Recipient],
) -> None:
    """What the chat robot, the SMS gateway and the mail server took, against the rules."""
    sent: list[tuple[int | None, str, str, str]] = list(switchboard.accepted)
    for to, mail in sink.mails:
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        sent.append((None, f"email:{to[0]}", mail["Subject"], body.get_content().replace("\r\n", "\n")))
    # No chat or SMS inside quiet hours, but escalations (and their fallbacks and reminders).
    for run_number, channel, subject, _ in sent:
        if run_number is not None and quiet(runs[run_number]):
            assert subject in drafts and drafts[subject][1], (channel, subject, runs[run_number])
    # A person who chose the digest gets no single notice but escalations; each notice held for the
    # digest is in exactly one digest on each channel it was held on, and a digest holds nothing else.
    for person in recipients:
        mine = {subject for subject, (who, _) in drafts.items() if who.id == person.id}
        held = {subject for subject in mine if not drafts[subject][1]} if person.digest else set()
        channels = [f"email:{person.email}"] if person.email else []
        channels += [
            kind for kind in ("dingtalk", "sms") if any(a.startswith(kind) for a in person.addresses)
        ]
        for channel in channels:
            on_channel = [(subject, content) for _, c, subject, content in sent if c == channel]
            singles = Counter(subject for subject, _ in on_channel if not subject.startswith(DIGEST_MARK))
            assert not set(singles) & held, (channel, singles, held)
            if channel == "sms":
                continue  # an SMS digest is a gateway template: its items are not in the message
            listed = Counter(
                subject
                for digest_subject, content in on_channel
                if digest_subject.startswith(DIGEST_MARK)
                for subject in mine
                if f"{subject}\n" in content + "\n"
            )
            assert set(listed) <= held, (channel, listed, held)
            assert listed == Counter(held), (channel, listed, held, on_channel)
    with Session(context.engine) as session:
        left = session.execute(
            text("SELECT count(*) FROM notice WHERE state IN ('held', 'queued')")
        ).scalar_one()
    assert left == 0
