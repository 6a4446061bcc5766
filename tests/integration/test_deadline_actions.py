"""What the office does to deadlines by hand, from the CLI: cadences done, waivers, extensions."""

import pytest

from tests.integration.conftest import DEMO_OFFICE as OFFICE
from tests.integration.conftest import js, run


@pytest.fixture
def demo(demo: str) -> str:
    """The demo after the daily job of 10 December: this period's cadences are open."""
    code, output = run(demo, "deadlines", "sync", "--at", "2026-12-10")
    assert code == 0 and "cadences: 4 opened" in output, output
    return demo


def cadences(url: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """Cadence deadlines by subject prefix: monthly_summary:2026-12, yearly_evaluation:2026, …"""
    return {
        ":".join(d["subject"].split(":")[1:3]): d
        for d in js(url, "deadlines")["data"]
        if d["kind"] == "cadence"
    }


def test_sync_opens_the_cadences_and_their_alerts_tell_the_office(demo: str) -> None:
    assert set(cadences(demo)) == {
        "monthly_summary:2026-11",
        "monthly_summary:2026-12",
        "quarterly_inspection:2026Q4",
        "yearly_evaluation:2026",
    }
    # Opened on 10 December, November's summary (due on the 7th) is already two working days late.
    js(demo, "sweep", "--at", "2026-12-10")
    told = {
        a["level"]: [(r["name"], r["role"]) for r in a["recipients"]]
        for a in js(demo, "alerts")["data"]
        if a["kind"] == "cadence"
    }
    assert list(told) == ["upcoming", "due", "overdue", "escalated_1"]
    office = told["escalated_1"]
    assert len(office) == 1 and office[0][1] == "office"
    assert all(people == office for people in told.values())


def test_a_summary_recorded_done_is_met_or_missed_by_when_and_stops_its_alerts(demo: str) -> None:
    summaries = cadences(demo)
    december, november = summaries["monthly_summary:2026-12"], summaries["monthly_summary:2026-11"]
    code, output = run(demo, "deadlines", "done", str(december["id"]), "--as", OFFICE, "--note", "已报送",
                       "--at", "2027-01-07T16:00")  # fmt: skip
    assert code == 0 and "met" in output, output
    code, output = run(demo, "deadlines", "done", str(november["id"]), "--as", OFFICE, "--at", "2026-12-10")
    assert code == 0 and "missed" in output, output
    after = cadences(demo)
    assert {k: after[k]["status"] for k in ("monthly_summary:2026-12", "monthly_summary:2026-11")} == {
        "monthly_summary:2026-12": "met",
        "monthly_summary:2026-11": "missed",
    }
    done = after["monthly_summary:2026-12"]
    assert (done["settled_at"], done["settled_by"], done["settle_note"]) == (
        "2027-01-07T08:00:00+00:00",
        "郭磊",
        "已报送",
    )
    js(demo, "sweep", "--at", "2027-01-20")
    assert not [a for a in js(demo, "alerts")["data"] if "monthly summary" in a["title"]]
    # Settled once: a second record is refused.
    code, output = run(demo, "deadlines", "done", str(done["id"]), "--as", OFFICE)
    assert code == 2 and f"deadline {done['id']} is met: only an open deadline can change" in output


def test_what_is_settled_by_its_own_event_or_by_someone_else_is_refused(demo: str) -> None:
    summary = cadences(demo)["monthly_summary:2026-12"]
    milestone = next(d for d in js(demo, "deadlines")["data"] if d["kind"] == "milestone")
    quarter = cadences(demo)["quarterly_inspection:2026Q4"]
    specialist = js(demo, "projects")["data"][0]["specialist_phone"]
    refusals = {
        (
            str(milestone["id"]),
            OFFICE,
        ): "is settled by the project reaching the milestone's stage, not by hand",
        (str(quarter["id"]), OFFICE): "is met by the data, once every active project of the programme",
        (str(summary["id"]), specialist): "is not in the supervision office: cannot record a deadline done",
        ("99999", OFFICE): "no deadline 99999",
    }
    before = js(demo, "deadlines")["data"]
    for (deadline_id, who), message in refusals.items():
        code, output = run(demo, "deadlines", "done", deadline_id, "--as", who)
        assert code == 2 and message in output, output
    assert js(demo, "deadlines")["data"] == before


def test_a_waived_deadline_raises_nothing_more_and_needs_a_reason(demo: str) -> None:
    evaluation = cadences(demo)["yearly_evaluation:2026"]
    code, output = run(demo, "deadlines", "waive", str(evaluation["id"]), "--as", OFFICE, "--reason", " ")
    assert code == 2 and "a waiver needs a reason" in output
    code, output = run(demo, "deadlines", "waive", str(evaluation["id"]), "--as", OFFICE,
                       "--reason", "并入年度考核", "--at", "2026-12-20")  # fmt: skip
    assert code == 0, output
    waived = cadences(demo)["yearly_evaluation:2026"]
    assert (waived["status"], waived["settle_note"], waived["next_level_at"]) == (
        "waived",
        "并入年度考核",
        None,
    )
    js(demo, "sweep", "--at", "2027-01-20")
    assert not [a for a in js(demo, "alerts")["data"] if "yearly evaluation" in a["title"]]


def test_a_cadence_deadline_can_be_extended_with_its_programmes_ladder(demo: str) -> None:
    summary = cadences(demo)["monthly_summary:2026-12"]  # due 8 January 2027, 17:30
    js(demo, "sweep", "--at", "2027-01-06")  # "upcoming" came on the 5th
    code, output = run(
        demo, "deadlines", "extend", str(summary["id"]), "--to", "2027-01-15", "--as", OFFICE,
        "--reason", "春节前统一报送", "--at", "2027-01-06",
    )  # fmt: skip
    assert code == 0 and "revision 2" in output, output
    js(demo, "sweep", "--at", "2027-01-13")
    levels = [
        (a["level"], a["revision"], a["level_at"])
        for a in js(demo, "alerts")["data"]
        if "monthly summary for 2026-12" in a["title"]
    ]
    # Revision 1 raises nothing more; revision 2 is "upcoming" three working days before the 15th.
    assert levels == [
        ("upcoming", 1, "2027-01-05T01:00:00+00:00"),
        ("upcoming", 2, "2027-01-12T01:00:00+00:00"),
    ]
