"""Every write is attributed and needs the role its rule names; nothing is written when refused."""

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.integration.conftest import DEMO_OFFICE, OFFICE, js, ok, run
from tests.integration.test_staff import (
    blank_url,  # noqa: F401  (a fixture)
    today,
)

INSPECTOR, LEADERSHIP = "13900000002", "13900000009"
AT = "2026-12-10T09:00+08:00"
V2 = Path(__file__).parents[2] / "workflows" / "definitions" / "village-venue.v2.yaml"


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(sql), params).all()]
    engine.dispose()
    return found


def count(url: str, table: str) -> int:
    return int(rows(url, f"SELECT COUNT(*) FROM {table}")[0][0])


TABLES = (
    "programme",
    "project",
    "workflow_definition",
    "project_document",
    "spot_check_draw",
    "inspection",
    "deadline_revision",
    "activity",
    "role_assignment",
    "person",
    "org_unit",
)


def snapshot(url: str) -> dict[str, int]:
    return {table: count(url, table) for table in TABLES}


def register(tmp_path: Path, start: date) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(
        "town,village,leader,leader_phone,leader_email,specialist,specialist_phone,specialist_email,"
        "budget_upper,budget_district,planned_start,planned_finish\n"
        f"新镇,新村,新领导,13711110001,,新专干,13711110002,,1000,500,{start},{start + timedelta(days=100)}\n",
        encoding="utf-8",
    )
    return path


def test_each_write_needs_the_role_its_rule_names(demo: str, tmp_path: Path) -> None:
    specialist_of_p001 = js(demo, "show", "P001")["project"]["specialist_phone"]
    specialist_of_p002 = js(demo, "show", "P002")["project"]["specialist_phone"]
    form = tmp_path / "form.yaml"
    ok(
        demo,
        "inspect",
        "new",
        "P001",
        "--template",
        "in-progress",
        "--inspector",
        INSPECTOR,
        "--out",
        str(form),
    )
    deadline = js(demo, "deadlines", "--open", "--at", AT)["data"][0]["id"]
    before = snapshot(demo)
    refused = [
        (
            ("programmes", "create", "二期", "--district", "示范区", "--budget", "upper=1"),
            INSPECTOR,
            "is not admin or office: cannot create a programme",
        ),
        (
            ("import", "projects", str(register(tmp_path, date(2026, 12, 20))), "--at", AT),
            INSPECTOR,
            "is not admin or office: cannot import a register",
        ),
        (
            ("workflows", "load", str(V2)),
            specialist_of_p001,
            "is not admin or office: cannot load a workflow",
        ),
        (
            ("document", "add", "P001", "design", "--at", AT),
            specialist_of_p002,
            "is neither the specialist nor the leader of P001",
        ),
        (
            ("deadlines", "extend", str(deadline), "--to", "2027-06-30", "--reason", "延期", "--at", AT),
            INSPECTOR,
            "is not office or leadership: cannot extend a deadline",
        ),
        (
            ("spotcheck", "draw", "--programme", "1", "--count", "2", "--at", AT),
            INSPECTOR,
            "is not office: cannot draw a spot check",
        ),
        (
            ("inspect", "record", str(form), "--at", AT),
            specialist_of_p001,
            "is not inspector or office: cannot record an inspection",
        ),
    ]
    for args, who, message in refused:
        code, output = run(demo, *args, "--as", who)
        assert code == 2 and message in output, (args, output)
    assert snapshot(demo) == before
    # The same writes by someone holding the role go through.
    ok(demo, "document", "add", "P001", "design", "--as", specialist_of_p001, "--at", AT)
    ok(demo, "document", "add", "P001", "budget", "--as", DEMO_OFFICE, "--at", AT)


def test_a_write_without_as_is_a_usage_error(demo: str) -> None:
    for args in (
        ("programmes", "create", "二期", "--district", "示范区", "--budget", "upper=1"),
        ("workflows", "load", str(V2)),
        ("spotcheck", "draw", "--programme", "1", "--count", "1"),
        ("deadlines", "extend", "1", "--to", "2027-06-30", "--reason", "r"),
        ("inspect", "record", "form.yaml"),
        ("import", "projects", "register.csv"),
    ):
        code, output = run(demo, *args)
        assert code == 2 and "--as" in output, (args, output)


def test_an_extension_keeps_who_approved_it_and_why(demo: str) -> None:
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    deadline = next(
        d for d in js(demo, "deadlines", "--open", "--at", AT)["data"] if d["order_id"] == order["id"]
    )
    code, output = run(
        demo, "deadlines", "extend", str(deadline["id"]), "--to", "2026-12-31", "--as", LEADERSHIP
    )
    assert code == 2 and "--reason" in output  # the reason is required
    ok(
        demo,
        "deadlines",
        "extend",
        str(deadline["id"]),
        "--to",
        "2026-12-31",
        "--reason",
        "雨季停工",
        "--as",
        LEADERSHIP,
        "--at",
        AT,
    )
    leadership_id = rows(demo, "SELECT id FROM person WHERE phone = :p", p=LEADERSHIP)[0][0]
    [(revision, approver, reason)] = rows(
        demo,
        "SELECT revision, approved_by_id, reason FROM deadline_revision WHERE deadline_id = :d",
        d=deadline["id"],
    )
    assert (revision, approver, reason) == (2, leadership_id, "雨季停工")
    extended = rows(
        demo,
        "SELECT actor_id, reason FROM order_event WHERE order_id = :o AND action = 'extended'",
        o=order["id"],
    )
    assert extended == [(leadership_id, f"deadline {deadline['id']} extended (revision 2): 雨季停工")]


def test_the_spot_check_draw_takes_its_randomness_from_a_secure_source(demo: str) -> None:
    drawn = js(demo, "spotcheck", "draw", "--programme", "1", "--count", "3", "--as", DEMO_OFFICE, "--at", AT)
    again = js(demo, "spotcheck", "draw", "--programme", "1", "--count", "3", "--as", DEMO_OFFICE, "--at", AT)
    assert drawn["seed"] != again["seed"]
    given = js(
        demo,
        "spotcheck",
        "draw",
        "--programme",
        "1",
        "--count",
        "3",
        "--seed",
        "7",
        "--as",
        DEMO_OFFICE,
        "--at",
        AT,
    )
    assert given["seed"] == 7
    sources = rows(demo, "SELECT id, seed_source FROM spot_check_draw ORDER BY id")
    assert [source for _, source in sources] == ["secure", "secure", "given"]


def test_a_live_database_refuses_a_chosen_seed(blank_url: str, tmp_path: Path) -> None:  # noqa: F811
    url = blank_url
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
    before = count(url, "spot_check_draw")
    code, output = run(
        url, "spotcheck", "draw", "--programme", "1", "--count", "1", "--seed", "1", "--as", "王管理"
    )
    assert code == 2 and "--seed is for a simulation only" in output
    assert count(url, "spot_check_draw") == before
    ok(url, "spotcheck", "draw", "--programme", "1", "--count", "1", "--as", "王管理")
    assert rows(url, "SELECT seed_source FROM spot_check_draw") == [("secure",)]
    # Who created the programme and imported the register is kept.
    actions = rows(
        url, "SELECT a.action, p.name FROM activity a JOIN person p ON p.id = a.actor_id ORDER BY a.id"
    )
    assert ("programme created", "王管理") in actions and ("register imported", "王管理") in actions
    granted = rows(
        url,
        "SELECT DISTINCT g.name, r.grant_reason FROM role_assignment r "
        "JOIN person g ON g.id = r.granted_by_id WHERE r.project_id IS NOT NULL",
    )
    assert granted == [("王管理", "import register.csv, row 2")]


def _weaker(tmp_path: Path, edit: Any) -> Path:
    text_ = re.sub(r"(?m)^version: 2$", "version: 3", V2.read_text(encoding="utf-8"))
    path = tmp_path / "village-venue.v3.yaml"
    path.write_text(edit(text_), encoding="utf-8")
    return path


def test_a_version_that_drops_a_guard_needs_a_recorded_reason(database_url: str, tmp_path: Path) -> None:
    guard_free = _weaker(tmp_path, lambda t: re.sub(r"(?m)^    guards:\n(?:      .*\n)+", "", t))
    assert "guards:" not in guard_free.read_text(encoding="utf-8").split("transitions:")[1]
    before = count(database_url, "workflow_definition")
    code, output = run(database_url, "workflows", "load", str(guard_free), "--as", OFFICE)
    assert code == 2 and "asks less than version 2" in output and "inspection_passed" in output, output
    assert "--allow-weaker-guards" in output
    code, output = run(
        database_url, "workflows", "load", str(guard_free), "--allow-weaker-guards", "--as", OFFICE
    )
    assert code == 2 and "needs --reason" in output
    assert count(database_url, "workflow_definition") == before
    ok(
        database_url,
        "workflows",
        "load",
        str(guard_free),
        "--allow-weaker-guards",
        "--reason",
        "试点简化流程",
        "--as",
        OFFICE,
    )
    assert count(database_url, "workflow_definition") == before + 1
    [(subject, reason, detail)] = rows(
        database_url, "SELECT subject, reason, detail FROM activity WHERE action = 'workflow loaded'"
    )
    assert subject == "village-venue v3" and reason == "试点简化流程" and "true" in str(detail).lower()


def test_a_new_way_round_a_guard_is_weaker_too(database_url: str, tmp_path: Path) -> None:
    shortcut = _weaker(
        tmp_path,
        lambda t: t.replace(
            "transitions:\n",
            "transitions:\n  - from: proposed\n    to: approved\n    roles: [office]\n",
            1,
        ),
    )
    code, output = run(database_url, "workflows", "load", str(shortcut), "--as", OFFICE)
    assert code == 2 and "proposed -> approved (new): skips guard" in output, output
