"""What every front end shares, seen from the CLI: errors a person can act on, writes that leave
nothing behind when refused, one clock per command, lists that page, and the office's own settings."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from ducha.clock import SystemClock
from ducha.config import Settings
from ducha.context import AppContext
from ducha.db import make_engine
from ducha.demo.inspections import photo
from inspections.evidence import EvidenceStore
from models import Deadline, InspectionKind, Person, RectificationOrder
from models.calendar import WorkingCalendar
from models.errors import NotFound
from tests import builders
from tests.integration.conftest import js, ok, run
from workflows.programmes import find_programme

OFFICE_HEAD, INSPECTOR = "13900000001", "13900000002"
AT = "2026-12-10T09:00+08:00"


def stored_files(evidence_dir: Path) -> set[Path]:
    return {path for path in evidence_dir.rglob("*") if path.is_file()} if evidence_dir.exists() else set()


def test_an_unknown_template_is_named_beside_the_loaded_ones(demo: str) -> None:
    code, output = run(demo, "inspect", "new", "P001", "--template", "nosuch")
    assert (code, output) == (
        2,
        "error: checklist template nosuch is not loaded "
        "(loaded: acceptance, in-progress, pre-review, spot-check)\n",
    )


def test_a_refused_response_stores_no_evidence(demo: str, evidence_dir: Path, tmp_path: Path) -> None:
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    first, second = tmp_path / "fixed.png", tmp_path / "again.png"
    first.write_bytes(photo("fixed", 10))
    second.write_bytes(photo("fixed again", 11))
    owner = ["--as", str(order["responsible_person_id"]), "--at", AT]
    ok(demo, "orders", "respond", str(order["id"]), "--evidence", str(first), *owner)
    before = stored_files(evidence_dir)
    code, output = run(demo, "orders", "respond", str(order["id"]), "--evidence", str(second), *owner)
    assert code == 2 and "only an issued order takes a response" in output
    assert stored_files(evidence_dir) == before


def test_a_transaction_that_fails_removes_the_evidence_files_it_put(
    database_url: str, tmp_path: Path
) -> None:
    app = AppContext(_settings=Settings(database_url=database_url, evidence_dir=tmp_path / "store"))
    store = app.evidence_store
    kept = store.put("old.png", photo("stored before", 1))
    now = app.now()
    with pytest.raises(RuntimeError, match="after the files"), app.transaction(now=now) as tx:
        assert tx.evidence.put("old.png", photo("stored before", 1)) == kept
        tx.evidence.put("new.png", photo("new in this transaction", 2))
        raise RuntimeError("a failure after the files were put")
    assert stored_files(store.root) == {store.path_for(kept.sha256)}
    app.dispose()


def test_verify_closes_the_order_and_settles_its_deadline_at_one_instant(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    """Without --at the time comes from the system clock: read once, for the order and its deadline."""
    prog = builders.programme(session)
    proj = builders.project(session, prog)
    team = builders.inspectors(session, 1)
    builders.signed_inspection(
        session,
        proj,
        "in-progress",
        team,
        at=builders.T0,
        store=EvidenceStore(tmp_path / "store"),
        failing=("site_log",),
    )
    session.commit()
    order = session.exec(select(RectificationOrder)).one()
    specialist = session.get(Person, order.responsible_person_id)
    assert specialist is not None and specialist.phone and team[0].phone
    fix = tmp_path / "fix.png"
    fix.write_bytes(photo("the log is kept", 3))
    ok(database_url, "deadlines", "sync", "--at", "2026-11-03")
    ok(database_url, "orders", "respond", str(order.id), "--evidence", str(fix), "--as", specialist.phone)
    ok(database_url, "orders", "verify", str(order.id), "--accept", "--as", team[0].phone)
    with Session(make_engine(database_url)) as fresh:
        closed = fresh.get(RectificationOrder, order.id)
        deadline = fresh.exec(select(Deadline).where(col(Deadline.order_id) == order.id)).one()
    assert closed is not None and closed.closed_at is not None
    assert (deadline.status, deadline.settled_at) == ("missed", closed.closed_at)
    assert abs(closed.closed_at - SystemClock().now()) < timedelta(minutes=5)


def test_the_demo_gives_orders_the_offices_rectification_days(database_url: str) -> None:
    days = {"critical": 3, "major": 7, "minor": 12}
    ok(database_url, "demo", env={"DUCHA_RECTIFICATION_DAYS": json.dumps(days)})
    calendar = WorkingCalendar.load()
    with Session(make_engine(database_url)) as session:
        orders = session.exec(select(RectificationOrder)).all()
    assert {order.severity for order in orders} >= {"critical", "major"}
    for order in orders:
        expected = calendar.deadline_after_working_days(order.issued_at, days[order.severity])
        assert order.due_at == expected, (order.item_key, order.severity)


def test_an_ambiguous_reference_names_a_few_and_says_how_many(session: Session) -> None:
    for number in range(8):
        builders.programme(session, f"第{number + 1}批")
    session.commit()
    with pytest.raises(NotFound) as raised:
        find_programme(session=session, ref=None)
    assert str(raised.value) == (
        "several programmes exist (第1批, 第2批, 第3批, 第4批, 第5批 and 3 more): name one with --programme"
    )


def test_lists_page_in_a_table_and_stream_whole_as_json(demo: str) -> None:
    page = ok(demo, "projects", "--limit", "10", "--offset", "5")
    assert "P006" in page and "P015" in page and "P005" not in page and "P016" not in page
    assert "rows 6–15 of 50; --offset 15 for the next page" in page
    shown = js(demo, "projects", "--limit", "10", "--offset", "45")
    assert ([p["code"] for p in shown["data"]], shown["count"]) == (
        ["P046", "P047", "P048", "P049", "P050"],
        50,
    )
    assert len(js(demo, "projects")["data"]) == 50  # --json streams every row unless told
    deadlines = js(demo, "deadlines")
    assert len(deadlines["data"]) == deadlines["count"] == 88
    assert "rows 31–60 of 88; --offset 60 for the next page" in ok(
        demo, "deadlines", "--limit", "30", "--offset", "30"
    )
    assert "rows" not in ok(demo, "deadlines")  # one page holds them all


def test_a_recorded_draw_replays_to_the_same_projects(demo: str) -> None:
    drawn = js(
        demo,
        "spotcheck",
        "draw",
        "--programme",
        "1",
        "--count",
        "4",
        "--as",
        OFFICE_HEAD,
        "--seed",
        "7",
        "--at",
        AT,
    )
    replayed = js(demo, "spotcheck", "replay", str(drawn["id"]))
    assert replayed["same"] is True and replayed["replayed"] == [d["project_id"] for d in drawn["data"]]
    text = ok(demo, "spotcheck", "replay", str(drawn["id"]))
    assert "replayed from its recorded weights and seed: the same projects, in the same order" in text
    assert run(demo, "spotcheck", "replay", "999")[1] == "error: no spot-check draw 999\n"


def test_a_failed_acceptance_takes_the_transition_its_workflow_declares(session: Session) -> None:
    """The return to construction is read from the definition (village-venue v2), not a constant."""
    from workflows.definition import get_definition

    definition = get_definition(session=session, key="village-venue")
    declared = definition.on_failed_inspection("acceptance", InspectionKind.ACCEPTANCE)
    assert definition.version == 2 and declared is not None and declared.to == "in_construction"
    older = get_definition(session=session, key="village-venue", version=1)
    assert older.on_failed_inspection("acceptance", InspectionKind.ACCEPTANCE) is None
    assert definition.ended_stages() == older.ended_stages() == ["closed", "rejected"]
