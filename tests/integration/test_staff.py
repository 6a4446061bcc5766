"""An office runs ducha itself: its units, people and roles from the CLI, kept as history.

The first test is the issue's story on a live database, in real time (a live database refuses any
other): a new office follows the README from ``ducha init --admin`` to a project in construction.
"""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ducha.clock import SystemClock
from ducha.demo.inspections import photo
from models.localtime import local_date
from tests.integration.conftest import BACKENDS, DEMO_OFFICE, js, ok, run

ADMIN = "13800000000"


def today() -> date:
    """The system clock's date in Shanghai: a live database lives in real time."""
    return local_date(SystemClock().now())


@pytest.fixture(params=BACKENDS)
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with nothing in it yet (not even a schema): where a new office starts."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'office.db'}"
    url: str = request.getfixturevalue("postgres_databases").fresh()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def _write(path: Path, text_: str) -> Path:
    path.write_text(text_, encoding="utf-8")
    return path


def _staff(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "staff.csv",
        "姓名,电话,邮箱,单位,角色\n"
        "李主任,13800000001,li@example.gov.cn,区委督查室,office\n"
        "钱督查,13800000003,,区委督查室,inspector\n"
        "孙督查,13800000004,,区委督查室,inspector\n"
        "赵书记,13800000002,zhao@example.gov.cn,区委办公室,leadership\n",
    )


def _register(tmp_path: Path) -> Path:
    start = today() + timedelta(days=3)
    finish = start + timedelta(days=150)
    return _write(
        tmp_path / "register.csv",
        "town,village,leader,leader_phone,leader_email,specialist,specialist_phone,specialist_email,"
        "budget_UP,budget_DIST,planned_start,planned_finish\n"
        f"东镇,甲,孙领导,13700000001,,周专干,13700000002,zhou@example.gov.cn,60000,20000,{start},{finish}\n"
        f"东镇,乙,孙领导,13700000001,,吴专干,13700000003,,50000,20000,{start},{finish}\n",
    )


def _fill(form: Path, folder: Path) -> None:
    """Pass every item of a blank pre-review checklist, with the photos it asks for."""
    for name, seed in (("a.png", 1), ("b.png", 2)):
        (folder / name).write_bytes(photo(f"site {seed}", seed))
    body = (
        form.read_text(encoding="utf-8")
        .replace("passed: null", "passed: true")
        .replace("value: null", "value: 4")
    )
    body = body.replace(
        "  site_photos:\n    notes: ''\n    evidence: []",
        "  site_photos:\n    notes: ''\n    evidence: [{file: a.png}, {file: b.png}]",
    )
    form.write_text(body, encoding="utf-8")


def test_a_new_office_sets_itself_up_and_takes_a_project_into_construction(
    blank_url: str, tmp_path: Path
) -> None:
    url = blank_url
    assert "is now an admin" in ok(url, "init", "--admin", "王管理", "--phone", ADMIN)
    assert js(url, "check")["mode"] == "live"
    for name, kind in (("区委督查室", "office"), ("区委办公室", "leadership"), ("东镇", "town")):
        ok(url, "units", "add", name, "--kind", kind, "--as", ADMIN)
    assert "4 people added, 0 already known, 4 role(s) granted" in ok(
        url, "people", "import", str(_staff(tmp_path)), "--as", ADMIN
    )
    # Importing the same register again changes nothing.
    assert "0 people added, 4 already known, 0 role(s) granted" in ok(
        url, "people", "import", str(_staff(tmp_path)), "--as", ADMIN
    )
    start_by = today() + timedelta(days=20)
    ok(
        url,
        "programmes",
        "create",
        "村级活动场所",
        "--district",
        "示范区",
        "--budget",
        "UP=200000",
        "--budget",
        "DIST=100000",
        "--milestone",
        f"start_construction={start_by}",
        "--as",
        "李主任",
    )
    ok(url, "import", "projects", str(_register(tmp_path)), "--as", "李主任")
    report = js(url, "check")
    assert report["problems"] == 0, report
    # Escalations go to real people: every rung's role is held.
    held = {row["role"] for row in js(url, "roles")["data"]}
    assert {"admin", "office", "inspector", "leadership", "leader", "specialist"} <= held

    for kind in ("site_plan", "land_approval"):
        ok(url, "document", "add", "P001", kind, "--as", "周专干")
    ok(url, "advance", "P001", "pre_review", "--as", "周专干")
    for kind in ("design", "budget"):
        ok(url, "document", "add", "P001", kind, "--as", "周专干")
    form = tmp_path / "pre.yaml"
    ok(url, "inspect", "new", "P001", "--template", "pre-review", "--inspector", "钱督查", "--out", str(form))
    _fill(form, tmp_path)
    number = ok(url, "inspect", "record", str(form), "--as", "钱督查").split()[1]
    ok(url, "inspect", "sign", number, "--as", "钱督查")
    ok(url, "advance", "P001", "approved", "--as", "李主任")
    ok(url, "document", "add", "P001", "construction_contract", "--as", "周专干")
    ok(url, "advance", "P001", "in_construction", "--as", "孙领导", "--reason", "开工")
    shown = js(url, "show", "P001")
    assert shown["project"]["stage"] == "in_construction"
    assert js(url, "check")["problems"] == 0


def test_only_an_admin_keeps_units_people_and_roles(demo: str, tmp_path: Path) -> None:
    inspector = "13900000002"
    units, people = js(demo, "units")["count"], js(demo, "people")["count"]
    for args in (
        ("units", "add", "审计局", "--kind", "audit"),
        ("people", "add", "某人", "--phone", "13911112222"),
        ("roles", "assign", "13900000003", "office", "--unit", "区委督查室"),
        ("roles", "revoke", "13900000003", "inspector", "--reason", "调走"),
        ("people", "import", str(_staff(tmp_path))),
    ):
        code, output = run(demo, *args, "--as", inspector)
        assert code == 2 and "is not admin" in output, (args, output)
    assert (js(demo, "units")["count"], js(demo, "people")["count"]) == (units, people)  # nothing added


def test_roles_fit_their_scope_and_a_unit_its_kind(demo: str) -> None:
    ok(demo, "people", "add", "新人", "--phone", "13911110000", "--as", DEMO_OFFICE)
    for args, message in (
        (("新人", "leader"), "leader is a project role: give --project CODE"),
        (("新人", "office", "--project", "P001"), "office is held on a unit, not a project"),
        (("新人", "office", "--unit", "区委办公室"), "office is not a role of a leadership unit"),
        (("新人", "boss", "--unit", "区委督查室"), "role 'boss': give one of"),
        (("13900000002", "inspector", "--unit", "区委督查室"), "already holds inspector on 区委督查室"),
        (("新人", "office", "--unit", "no such unit"), "no unit 'no such unit'"),
    ):
        code, output = run(demo, "roles", "assign", *args, "--as", DEMO_OFFICE)
        assert code == 2 and message in output, (args, output)


def test_replacing_a_specialist_keeps_the_history_and_moves_the_open_orders(demo: str) -> None:
    orders = [o for o in js(demo, "orders", "--open")["data"]]
    order = orders[0]
    code = order["project_code"]
    before = {row["role"]: row for row in js(demo, "roles", "--project", code)["data"]}
    role = next(r for r, row in before.items() if row["person_id"] == order["responsible_person_id"])
    ok(demo, "people", "add", "接任者", "--phone", "13955550000", "--as", DEMO_OFFICE)
    said = ok(
        demo, "roles", "assign", "接任者", role, "--project", code, "--reason", "调岗", "--as", DEMO_OFFICE,
        "--at", "2026-12-10",
    )  # fmt: skip
    assert f"replacing {before[role]['person']}" in said and str(order["id"]) in said

    history = [
        row for row in js(demo, "roles", "--project", code, "--history")["data"] if row["role"] == role
    ]
    old, new = history
    assert old["revoked_at"] is not None and old["revoke_reason"].startswith("replaced by 接任者")
    assert "调岗" in old["revoke_reason"] and old["revoked_by"] is not None
    assert new["person"] == "接任者" and new["revoked_at"] is None and new["grant_reason"] == "调岗"
    moved = {o["id"]: o for o in js(demo, "orders", "--project", code)["data"]}
    for number, row in moved.items():
        if row["status"] != "closed" and any(o["id"] == number for o in orders):
            assert row["responsible_name"] == "接任者"
    # Its deadlines now tell the new holder: the alerts resolve roles when they are read.
    ok(demo, "sweep", "--at", "2027-01-04")
    told = [
        person["name"]
        for alert in js(demo, "alerts", "--project", code, "--at", "2027-01-04")["data"]
        for person in alert["recipients"]
        if person["role"] == role
    ]
    assert "接任者" in told and before[role]["person"] not in told


def test_a_revoked_role_stays_in_the_history_and_the_last_admin_stays(demo: str) -> None:
    ok(demo, "roles", "revoke", "13900000003", "inspector", "--reason", "调离督查室", "--as", DEMO_OFFICE)
    code, output = run(
        demo, "roles", "revoke", "13900000003", "inspector", "--reason", "again", "--as", DEMO_OFFICE
    )
    assert code == 2 and "holds no inspector role there now" in output
    rows = js(demo, "roles", "--person", "13900000003", "--history")["data"]
    assert [(r["role"], r["revoke_reason"]) for r in rows] == [("inspector", "调离督查室")]
    assert js(demo, "roles", "--person", "13900000003")["count"] == 0
    # The demo has two admins (the office head, and the admin whose login the web demo shows).
    ok(demo, "roles", "revoke", "13900000008", "admin", "--reason", "调离", "--as", DEMO_OFFICE)
    code, output = run(demo, "roles", "revoke", DEMO_OFFICE, "admin", "--reason", "bye", "--as", DEMO_OFFICE)
    assert code == 2 and "the last admin cannot be revoked" in output
    code, output = run(demo, "roles", "revoke", "13900000003", "inspector", "--as", DEMO_OFFICE)
    assert code == 2  # --reason is required


def test_a_staff_register_is_all_or_nothing_with_every_bad_row_named(demo: str, tmp_path: Path) -> None:
    before = js(demo, "people")["count"]
    bad = _write(
        tmp_path / "staff.csv",
        "name,phone,email,unit,role\n"
        "甲,13811110001,,区委督查室,inspector\n"
        "乙,not-a-phone,,区委督查室,inspector\n"
        "丙,13811110003,bad-mail,区委督查室,\n"
        "丁,13811110001,,区委督查室,\n"
        "戊,13811110005,,没有这个单位,inspector\n"
        "己,13811110006,,区委办公室,inspector\n"
        "庚,13900000002,,区委督查室,\n"
        "辛,13811110008,,区委督查室,leader\n",
    )
    code, output = run(demo, "people", "import", str(bad), "--as", DEMO_OFFICE)
    assert code == 2, output
    for row, field in ((3, "phone"), (4, "email"), (5, "phone"), (9, "role")):
        assert f"{bad}: row {row}, field {field}:" in output, output
    assert js(demo, "people")["count"] == before
    # Once the file itself reads well, the rows are checked against the database, still all or nothing.
    second = _write(
        tmp_path / "staff2.csv",
        "name,phone,unit,role\n甲,13811110001,区委督查室,inspector\n戊,13811110005,没有这个单位,inspector\n"
        "己,13811110006,区委办公室,inspector\n庚,13900000002,区委督查室,\n",
    )
    code, output = run(demo, "people", "import", str(second), "--as", DEMO_OFFICE)
    assert code == 2, output
    assert "row 3, field unit: no unit '没有这个单位'" in output
    assert "row 4, field role: inspector is not a role of a leadership unit" in output
    assert "row 5, field phone: 13900000002 already belongs to" in output
    assert js(demo, "people")["count"] == before


def test_people_list_and_edit(demo: str) -> None:
    listing = js(demo, "people")
    head = next(p for p in listing["data"] if p["phone"] == DEMO_OFFICE)
    assert "admin@区委督查室" in head["roles"] and "office@区委督查室" in head["roles"]
    ok(demo, "people", "edit", "13900000002", "--email", "inspector@example.gov.cn", "--as", DEMO_OFFICE)
    edited = next(p for p in js(demo, "people")["data"] if p["phone"] == "13900000002")
    assert edited["email"] == "inspector@example.gov.cn"
    code, output = run(demo, "people", "edit", "13900000002", "--phone", DEMO_OFFICE, "--as", DEMO_OFFICE)
    assert code == 2 and "already belongs to" in output
    code, output = run(demo, "people", "add", "重复", "--phone", "13900000002", "--as", DEMO_OFFICE)
    assert code == 2 and "already belongs to" in output
    json.dumps(listing)  # plain JSON all the way down
