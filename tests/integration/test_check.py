"""``ducha check``: what keeps a programme from running as intended, each with what to do."""

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.integration.conftest import OFFICE, js, ok, run

AT = "2026-12-10"


def check(url: str, *args: str) -> tuple[int, dict[str, Any]]:
    code, output = run(url, "check", "--json", *args)
    return code, json.loads(output[output.index("{") :])


def kinds(report: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report["data"]:
        found.setdefault(finding["kind"], []).append(finding["what"])
    return found


def test_the_demo_passes_the_check(demo: str) -> None:
    code, output = run(demo, "check")
    assert code == 0, output
    assert "database: simulation" in output and "check: nothing in the way" in output
    # 2027's working days come from a provisional file: said, and it does not fail the check.
    assert "warning:" in output and "provisional" in output


def _programme(url: str, tmp_path: Path, *, milestone: str = "2026-12-31") -> None:
    ok(
        url,
        "programmes",
        "create",
        "一期",
        "--district",
        "示范区",
        "--budget",
        "up=100000",
        "--milestone",
        f"start_construction={milestone}",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    register = tmp_path / "register.csv"
    register.write_text(
        "town,village,leader,leader_phone,leader_email,specialist,specialist_phone,specialist_email,"
        "budget_up,planned_start,planned_finish\n"
        "东镇,甲,孙领导,13700000001,,周专干,13700000002,,60000,2026-12-15,2027-05-31\n"
        "东镇,乙,孙领导,13700000001,,吴专干,13700000003,,50000,2026-12-15,2027-05-31\n",
        encoding="utf-8",
    )
    ok(url, "import", "projects", str(register), "--as", OFFICE, "--at", AT)


def test_the_check_names_each_gap_with_what_to_do(database_url: str, tmp_path: Path) -> None:
    _programme(database_url, tmp_path)
    ok(
        database_url,
        "roles",
        "revoke",
        "周专干",
        "specialist",
        "--project",
        "P001",
        "--reason",
        "调走",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    engine = create_engine(database_url)
    with engine.begin() as connection:  # someone recorded before phones were required
        connection.execute(text("UPDATE person SET phone = NULL, email = NULL WHERE name = '吴专干'"))
    engine.dispose()
    code, report = check(database_url, "--at", AT)
    assert code == 1 and report["mode"] == "simulation"
    found = kinds(report)
    assert any("rung escalated_2 tells leadership" in what for what in found["rung_unheard"]), found
    assert found["no_specialist"] == ["一期: 1 project(s) without a specialist: P001"]
    assert "吴专干" in found["unreachable_person"][0]
    assert "funding source up (up) is allocated 110,000.00 yuan" in found["over_budget"][0]
    fixes = {finding["kind"]: finding["fix"] for finding in report["data"]}
    assert fixes["rung_unheard"] == "ducha roles assign PERSON leadership --unit UNIT --as ADMIN"
    assert fixes["no_specialist"] == "ducha roles assign PERSON specialist --project CODE --as ADMIN"
    # The sweep says how many of the alerts it raised tell nobody.
    code, output = run(database_url, "sweep", "--at", "2027-02-01")
    assert code == 0 and "of them tell nobody" in output, output
    swept = js(database_url, "sweep", "--at", "2027-02-02")
    assert swept["no_recipient"] == 0 and swept["raised"] == 0
    # Mended, the check passes (a provisional year is a warning, not a problem).
    ok(database_url, "units", "add", "区委办公室", "--kind", "leadership", "--as", OFFICE, "--at", AT)
    ok(
        database_url,
        "people",
        "add",
        "赵书记",
        "--phone",
        "13800000002",
        "--unit",
        "区委办公室",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    ok(
        database_url,
        "roles",
        "assign",
        "赵书记",
        "leadership",
        "--unit",
        "区委办公室",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    ok(
        database_url,
        "roles",
        "assign",
        "13700000002",
        "specialist",
        "--project",
        "P001",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    ok(database_url, "people", "edit", "吴专干", "--phone", "13700000003", "--as", OFFICE, "--at", AT)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE project_funding SET amount_fen = 4000000"))
    engine.dispose()
    code, report = check(database_url, "--at", AT)
    assert code == 0, report
    # People with a phone but no e-mail are told in the inbox only: named, as a warning.
    assert {finding["kind"] for finding in report["data"]} <= {"calendar", "unreachable_person"}
    assert not any(finding["problem"] for finding in report["data"])


def test_a_year_no_holiday_file_covers_is_a_problem(database_url: str) -> None:
    ok(
        database_url,
        "programmes",
        "create",
        "二期",
        "--district",
        "示范区",
        "--budget",
        "up=100000",
        "--milestone",
        "start_construction=2028-06-30",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    code, report = check(database_url, "--at", AT)
    assert code == 1
    assert any(
        f["kind"] == "calendar" and f["problem"] and "2028's working days" in f["what"]
        for f in report["data"]
    ), report


def test_the_sweep_counts_alerts_that_tell_nobody(database_url: str, tmp_path: Path) -> None:
    _programme(database_url, tmp_path)
    before = js(database_url, "sweep", "--at", "2026-12-11")
    assert before["no_recipient"] == 0
    ok(
        database_url,
        "roles",
        "revoke",
        "周专干",
        "specialist",
        "--project",
        "P001",
        "--reason",
        "调走",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    swept = js(database_url, "sweep", "--at", "2027-01-05")
    assert swept["raised"] > 0 and 0 < swept["no_recipient"] < swept["raised"], swept
