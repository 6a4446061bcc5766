"""The behaviour rules of notices (issue 10): catch-up, a spot-check draw told to nobody, an escalation
acknowledged or sent again, SMTP down, the demo's overdue notices, a person with no channel.

Each test drives the CLI on a copy of the demo with a real SMTP server (``sink``) and, where a robot
answers, a local HTTP server playing it; what the database holds is read with plain SQL.
"""

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import create_engine, text

from tests.integration.conftest import DEMO_OFFICE, Sink, js, ok, run

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


# --- 1. catch-up ---------------------------------------------------------------------------------


def test_a_late_first_sweep_tells_each_person_once_at_the_highest_level(demo: str, sink: Sink) -> None:
    # The demo was never swept: at LATE the reminder, due-day and overdue levels of many deadlines
    # (and both escalations of some) come at once.
    ok(demo, "sweep", "--at", LATE)
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


# --- 3. acknowledgement --------------------------------------------------------------------------


def test_an_unacknowledged_escalation_is_sent_again_once_and_shows_to_the_office(demo: str, sink: Sink) -> None:
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
