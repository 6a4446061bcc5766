"""Live and simulated time: a live database takes the system clock's time, a simulation any time."""

import json
from datetime import timedelta
from pathlib import Path

from tests.integration.conftest import js, ok, run
from tests.integration.test_authority import register, snapshot
from tests.integration.test_staff import (
    blank_url,  # noqa: F401  (a fixture)
    today,
)


def _live_office(url: str, tmp_path: Path) -> None:
    ok(url, "init", "--admin", "王管理", "--phone", "13800000000")
    ok(url, "units", "add", "督查室", "--kind", "office", "--as", "王管理")
    ok(url, "roles", "assign", "王管理", "office", "--unit", "督查室", "--as", "王管理")
    ok(
        url,
        "programmes",
        "create",
        "一期",
        "--district",
        "示范区",
        "--budget",
        "upper=100000",
        "--budget",
        "district=100000",
        "--as",
        "王管理",
    )
    ok(url, "import", "projects", str(register(tmp_path, today() + timedelta(days=5))), "--as", "王管理")


def test_a_live_database_refuses_a_write_dated_after_the_system_clock(
    blank_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = blank_url
    _live_office(url, tmp_path)
    assert json.loads(run(url, "check", "--json")[1])["mode"] == "live"
    ahead = (today() + timedelta(days=3)).isoformat()
    before = snapshot(url)
    for args in (
        ("document", "add", "P001", "site_plan", "--as", "王管理", "--at", ahead),
        ("advance", "P001", "pre_review", "--as", "王管理", "--at", ahead),
        ("sweep", "--at", ahead),
        ("deadlines", "sync", "--at", ahead),
        ("units", "add", "审计", "--kind", "audit", "--as", "王管理", "--at", ahead),
    ):
        code, output = run(url, *args)
        assert code == 2 and "this database is live: a write dated" in output, (args, output)
    code, output = run(url, "advance", "P001", "pre_review", "--as", "王管理", "--at", "9999-12-31")
    assert code == 2 and "outside the years ducha works in" in output
    code, output = run(url, "sweep", "--at", "")
    assert code == 2 and "--at is empty" in output
    assert snapshot(url) == before
    # Reading ahead is fine: what would be late by then?
    code, _ = run(url, "deadlines", "--overdue", "--at", (today() + timedelta(days=60)).isoformat())
    assert code in (0, 1)
    # A write now, or dated a little in the past, goes through.
    ok(url, "document", "add", "P001", "site_plan", "--as", "王管理")
    ok(
        url,
        "document",
        "add",
        "P001",
        "land_approval",
        "--as",
        "王管理",
        "--at",
        (today() - timedelta(days=1)).isoformat(),
    )


def test_a_simulation_takes_any_time_and_says_so(database_url: str) -> None:
    assert js(database_url, "check")["mode"] == "simulation"
    code, output = run(database_url, "sweep", "--at", "2027-06-01")
    assert code == 0 and "simulation: this write is dated 2027-06-01 09:00 (simulated time)" in output


def test_the_mode_is_set_once(blank_url: str, tmp_path: Path) -> None:  # noqa: F811
    url = blank_url
    _live_office(url, tmp_path)
    code, output = run(url, "init", "--simulation")
    assert code == 2 and "this database is live and stays so" in output
    code, output = run(url, "demo")
    assert code == 2 and "this database is live and stays so" in output
    assert js(url, "programmes")["count"] == 1  # the demo wrote nothing


def test_an_empty_simulation_for_training(blank_url: str) -> None:  # noqa: F811
    url = blank_url
    assert "; simulation;" in ok(url, "init", "--simulation", "--admin", "培训员", "--phone", "13800000009")
    ok(url, "units", "add", "督查室", "--kind", "office", "--as", "培训员", "--at", "2028-01-03")
    assert js(url, "check")["mode"] == "simulation"
    code, output = run(url, "init")  # upgrading it later keeps it a simulation
    assert code == 0 and "; simulation;" in output
