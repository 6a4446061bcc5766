"""Deadlines on schedule: the time-travel scenario on the demo, idempotent sweeps, met, missed, extended."""

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from tests.integration.conftest import DEMO_OFFICE, js, ok, run
from workflows.sweep import sweep


def start_alerts(url: str, level: str) -> list[dict]:  # type: ignore[type-arg]
    return [a for a in js(url, "alerts", "--level", level)["data"] if "全部开工" in a["title"]]


def test_time_travel_on_the_demo(demo: str) -> None:
    not_started = {p["code"]: p for p in js(demo, "board", "--at", "2026-12-10")["not_started"]}
    started = {p["code"] for p in js(demo, "projects")["data"]} - set(not_started)
    # 24 December, 09:00: nothing about the start-by milestone yet.
    js(demo, "sweep", "--at", "2026-12-24")
    assert start_alerts(demo, "upcoming") == []
    # 28 December, 09:00: three working days before the 31st, every unstarted project is "upcoming".
    result = js(demo, "sweep", "--at", "2026-12-28")
    upcoming = start_alerts(demo, "upcoming")
    assert {a["project_code"] for a in upcoming} == set(not_started)
    assert all([r["role"] for r in a["recipients"]] == ["specialist"] for a in upcoming)
    assert result["by_kind"]["milestone"] == len(not_started)
    # Sweeping again the same morning adds nothing.
    assert js(demo, "sweep", "--at", "2026-12-28")["raised"] == 0
    # 4 January 2027 (1 January is a holiday): overdue, and their leaders are told.
    js(demo, "sweep", "--at", "2027-01-04")
    overdue = start_alerts(demo, "overdue")
    assert {a["project_code"] for a in overdue} == set(not_started)
    for alert in overdue:
        project = not_started[alert["project_code"]]
        assert {(r["role"], r["name"]) for r in alert["recipients"]} == {
            ("specialist", project["specialist_name"]),
            ("leader", project["leader_name"]),
        }
    assert not [
        a for a in js(demo, "alerts")["data"] if a["project_code"] in started and "全部开工" in a["title"]
    ]
    # 6 January: two working days late, the supervision office takes over (督办).
    js(demo, "sweep", "--at", "2027-01-06")
    escalated = start_alerts(demo, "escalated_1")
    assert {a["project_code"] for a in escalated} == set(not_started)
    assert {r["role"] for a in escalated for r in a["recipients"]} == {"office"}


def test_a_sweep_counts_what_it_raised_by_level_and_kind(demo: str) -> None:
    # Catching up a month in one sweep: every kind of deadline, several levels each.
    result = js(demo, "sweep", "--at", "2027-01-11")
    alerts = js(demo, "alerts")["data"]
    assert result["raised"] == len(alerts) > 0
    assert result["by_level"] == dict(Counter(a["level"] for a in alerts))
    assert result["by_kind"] == dict(Counter(a["kind"] for a in alerts))
    assert {"milestone", "rectification", "stage_limit"} <= set(result["by_kind"])
    again = {**result, "raised": 0, "by_level": {}, "by_kind": {}, "notices": 0, "notices_passed": 0}
    assert js(demo, "sweep", "--at", "2027-01-11") == again


def test_an_overdue_order_escalates_level_by_level(demo: str) -> None:
    late = js(demo, "orders", "--open", "--at", "2026-12-10")["data"][0]
    assert late["item_key"] == "earmark" and late["overdue"] is True

    def levels() -> list[str]:
        return [
            a["level"]
            for a in js(demo, "alerts", "--project", late["project_code"])["data"]
            if "earmark" in a["title"]
        ]

    js(demo, "sweep", "--at", "2026-12-10")
    assert levels() == ["upcoming", "due", "overdue"]
    js(demo, "sweep", "--at", "2026-12-11T18:00")
    assert levels() == ["upcoming", "due", "overdue", "escalated_1"]
    js(demo, "sweep", "--at", "2026-12-16T18:00")
    assert levels() == ["upcoming", "due", "overdue", "escalated_1", "escalated_2"]
    last = [a for a in js(demo, "alerts", "--level", "escalated_2")["data"] if "earmark" in a["title"]][0]
    assert {r["role"] for r in last["recipients"]} == {"leadership"}


def test_met_missed_and_extended(demo: str) -> None:
    project = js(demo, "projects", "--stage", "approved")["data"][0]
    code, specialist = project["code"], project["specialist_phone"]
    ok(demo, "document", "add", code, "construction_contract", "--as", specialist, "--at", "2026-12-20")
    ok(demo, "advance", code, "in_construction", "--as", specialist, "--at", "2026-12-20")
    met = [
        d
        for d in js(demo, "deadlines", "--project", code)["data"]
        if d["subject"].startswith("milestone:start")
    ]
    assert (met[0]["status"], met[0]["settled_at"]) == ("met", "2026-12-20T01:00:00+00:00")
    late = js(demo, "projects", "--stage", "approved")["data"][0]
    deadline = [
        d
        for d in js(demo, "deadlines", "--project", late["code"])["data"]
        if d["subject"].startswith("milestone:start")
    ][0]
    # An approved extension: a new revision; the old revision's alerts stop.
    ok(demo, "deadlines", "extend", str(deadline["id"]), "--to", "2027-01-29", "--as", DEMO_OFFICE,
       "--reason", "征地延误,经批准延期", "--at", "2026-12-29")  # fmt: skip
    js(demo, "sweep", "--at", "2027-01-04")
    titles = [a for a in js(demo, "alerts", "--project", late["code"])["data"] if "全部开工" in a["title"]]
    assert [(a["level"], a["revision"]) for a in titles] == []  # nothing until the new revision's levels come
    js(demo, "sweep", "--at", "2027-02-01")
    titles = [a for a in js(demo, "alerts", "--project", late["code"])["data"] if "全部开工" in a["title"]]
    assert [(a["level"], a["revision"]) for a in titles] == [("upcoming", 2), ("due", 2), ("overdue", 2)]
    ok(
        demo,
        "document",
        "add",
        late["code"],
        "construction_contract",
        "--as",
        late["specialist_phone"],
        "--at",
        "2027-02-01",
    )
    ok(
        demo,
        "advance",
        late["code"],
        "in_construction",
        "--as",
        late["specialist_phone"],
        "--at",
        "2027-02-01",
    )
    missed = [
        d
        for d in js(demo, "deadlines", "--project", late["code"])["data"]
        if d["subject"].startswith("milestone:start")
    ][0]
    assert (missed["status"], missed["revision"]) == ("missed", 2)
    assert run(demo, "deadlines", "--overdue", "--at", "2027-02-01")[0] == 1


def test_a_database_error_in_the_sweep_is_reported_as_sqlalchemys_and_changes_nothing(demo: str) -> None:
    # Another writer holds the alert table; the sweep gives up waiting for it.
    locker = create_engine(demo)
    with locker.connect() as holding:
        if holding.dialect.name == "sqlite":
            holding.exec_driver_sql("BEGIN IMMEDIATE")
            engine = create_engine(demo, connect_args={"timeout": 0.2})
        else:
            holding.exec_driver_sql("LOCK TABLE alert IN EXCLUSIVE MODE")
            engine = create_engine(demo, connect_args={"options": "-c lock_timeout=200"})
        with Session(engine) as session, pytest.raises(OperationalError) as raised:
            sweep(session=session, now=datetime(2027, 1, 4, 1, tzinfo=UTC))
        engine.dispose()
        holding.rollback()
    locker.dispose()
    assert raised.value.statement is not None and raised.value.statement.startswith("INSERT INTO alert")
    assert js(demo, "alerts")["data"] == []
    assert js(demo, "sweep", "--at", "2027-01-04")["raised"] > 0
