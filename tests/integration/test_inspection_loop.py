"""The whole inspection loop from the CLI on the demo, as an office would run it.

pre-review → approved → in-progress check with a finding → order → response → rejected →
response → re-inspection → closed → acceptance → accepted.
"""

import json
from pathlib import Path
from typing import Any

import yaml

from ducha.cli import app
from ducha.demo.inspections import photo
from inspections.templates import ItemKind
from tests.checklists import builtin_template
from tests.integration.conftest import DEMO_OFFICE, ok, runner
from tests.integration.conftest import run as ducha
from tests.integration.test_lean_reads import _both_ways_unfrozen

OFFICE_HEAD, INSPECTOR_A, INSPECTOR_B = DEMO_OFFICE, "13900000002", "13900000003"


def said(url: str, *args: str) -> str:
    """Run a command that must succeed; its standard output only (a simulation's note about the
    write's simulated date goes to standard error)."""
    result = runner.invoke(app, list(args), env={"DUCHA_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result.stdout


def fill(form_path: Path, failing: set[str], at: str) -> None:
    """Fill a blank form: every item passes except ``failing``; evidence photos beside the form."""
    form: dict[str, Any] = yaml.safe_load(form_path.read_text(encoding="utf-8"))
    template = builtin_template(form["template"], form["template_version"])
    form["inspected_at"] = at
    for key, entry in form["results"].items():
        item = template.item(key)
        assert item is not None
        fail = key in failing
        if item.kind == ItemKind.PASS_FAIL:
            entry["passed"] = not fail
        elif item.kind == ItemKind.SCORE:
            entry["value"] = (item.pass_at or 1) - 1 if fail else item.max
        elif item.kind == ItemKind.MEASUREMENT:
            entry["value"] = float((item.target or 0) + (item.tolerance or 0) * (3 if fail else 0))
        elif not fail:
            files = []
            for n in range(item.min_files or 1):
                name = f"{form_path.stem}-{key}-{n}.png"
                (form_path.parent / name).write_bytes(photo(f"{form_path} {key} {n}", 40 * n))
                files.append({"file": name, "taken_at": at, "gps": [22.82, 108.32]})
            entry["evidence"] = files
        if fail:
            entry["notes"] = "现场发现问题"
    form_path.write_text(yaml.safe_dump(form, allow_unicode=True, sort_keys=False), encoding="utf-8")


def inspect(url: str, tmp: Path, name: str, args: list[str], failing: set[str], at: str, signer: str) -> int:
    form = tmp / f"{name}.yaml"
    ok(url, "inspect", "new", *args, "--out", str(form), "--at", at)
    fill(form, failing, at)
    recorded = said(url, "inspect", "record", str(form), "--as", signer, "--at", at)
    inspection_id = int(recorded.split()[1])
    ok(url, "inspect", "sign", str(inspection_id), "--as", signer, "--at", at)
    return inspection_id


def test_the_rectification_loop_runs_from_the_cli(demo: str, tmp_path: Path) -> None:
    url = demo
    (project,) = json.loads(ok(url, "projects", "--stage", "pre_review", "--json"))["data"][:1]
    code, specialist = project["code"], project["specialist_phone"]

    # 事前审查: the office cannot approve before a signed pre-review.
    ok(url, "document", "add", code, "design", "--as", specialist, "--at", "2026-12-10T10:00")
    ok(url, "document", "add", code, "budget", "--as", specialist, "--at", "2026-12-10T10:00")
    status, output = ducha(url, "advance", code, "approved", "--as", OFFICE_HEAD, "--at", "2026-12-10T11:00")
    assert status == 2 and "no signed pre-review inspection" in output
    team = ["--inspector", INSPECTOR_A, "--inspector", INSPECTOR_B]
    inspect(
        url,
        tmp_path,
        "pre",
        [code, "--template", "pre-review", *team],
        set(),
        "2026-12-10T14:00",
        INSPECTOR_A,
    )
    ok(url, "advance", code, "approved", "--as", OFFICE_HEAD, "--at", "2026-12-10T15:00")
    ok(url, "document", "add", code, "construction_contract", "--as", specialist, "--at", "2026-12-11T09:00")
    ok(url, "advance", code, "in_construction", "--as", specialist, "--at", "2026-12-11T10:00")

    # 事中检查 with a finding: safety protection missing → a major order due in 10 working days.
    check = inspect(
        url,
        tmp_path,
        "mid",
        [code, "--template", "in-progress", "--inspector", INSPECTOR_A],
        {"safety_protection"},
        "2026-12-14T10:00",
        INSPECTOR_A,
    )
    orders = json.loads(ok(url, "orders", "--open", "--project", code, "--json", "--at", "2026-12-14T12:00"))[
        "data"
    ]
    assert [(o["item_key"], o["severity"], o["status"], o["responsible_name"]) for o in orders] == [
        ("safety_protection", "major", "issued", project["specialist_name"])
    ]
    assert orders[0]["due_at"] == "2026-12-28T09:30:00+00:00"  # 10 working days after Mon 14 Dec, 17:30
    order_id = str(orders[0]["id"])

    # Response → rejected → response again.
    fix = tmp_path / "fix.png"
    fix.write_bytes(photo("safety net installed", 200))
    ok(
        url,
        "orders",
        "respond",
        order_id,
        "--evidence",
        str(fix),
        "--as",
        specialist,
        "--at",
        "2026-12-16T10:00",
    )
    status, output = ducha(
        url, "orders", "verify", order_id, "--reject", "--as", INSPECTOR_A, "--at", "2026-12-16T15:00"
    )
    assert status == 2 and "a rejection needs a reason" in output
    ok(
        url,
        "orders",
        "verify",
        order_id,
        "--reject",
        "--reason",
        "防护网未全覆盖",
        "--as",
        INSPECTOR_A,
        "--at",
        "2026-12-16T15:00",
    )
    status, output = ducha(url, "orders", "verify", order_id, "--accept", "--as", INSPECTOR_A)
    assert status == 2 and "only a responded order can be verified" in output
    fix.write_bytes(photo("safety net complete", 201))
    ok(
        url,
        "orders",
        "respond",
        order_id,
        "--evidence",
        str(fix),
        "--as",
        specialist,
        "--at",
        "2026-12-18T10:00",
    )

    # 复查: the re-inspection carries the flagged item forward and, passing, closes the order.
    recheck = inspect(
        url,
        tmp_path,
        "re",
        [code, "--template", "in-progress", "--follow-up", str(check), "--inspector", INSPECTOR_B],
        set(),
        "2026-12-21T10:00",
        INSPECTOR_B,
    )
    form = yaml.safe_load((tmp_path / "re.yaml").read_text(encoding="utf-8"))
    assert list(form["results"]) == ["safety_protection"] and form["follow_up_of"] == check
    shown = json.loads(ok(url, "inspect", "show", str(recheck), "--json"))
    side = {i["item_key"]: (i["original_verdict"], i["verdict"]) for i in shown["items"]}
    assert side["safety_protection"] == ("failed", "passed")
    # Side by side both ways (with and without SQLAlchemy); not yet recorded the day before.
    for shown_args, exits in (
        ([], 0),
        (["--json"], 0),
        (["--at", "2026-12-22"], 0),
        (["--at", "2026-12-20"], 2),
    ):
        lean, full = _both_ways_unfrozen(url, ["inspect", "show", str(recheck), *shown_args])
        assert (lean.exit_code, lean.stdout, lean.stderr) == (full.exit_code, full.stdout, full.stderr)
        assert lean.exit_code == exits, lean.output
    assert "original" in _both_ways_unfrozen(url, ["inspect", "show", str(recheck)])[0].stdout
    assert json.loads(ok(url, "orders", "--open", "--project", code, "--json"))["data"] == []

    # 事后验收 by two inspectors, then accepted.
    ok(url, "advance", code, "completed", "--as", specialist, "--at", "2027-03-01T10:00")
    ok(url, "document", "add", code, "completion_report", "--as", specialist, "--at", "2027-03-01T11:00")
    ok(url, "advance", code, "acceptance", "--as", specialist, "--at", "2027-03-02T10:00")
    status, output = ducha(url, "advance", code, "accepted", "--as", OFFICE_HEAD, "--at", "2027-03-02T11:00")
    assert status == 2 and "no signed acceptance inspection" in output
    inspect(
        url,
        tmp_path,
        "acc",
        [code, "--template", "acceptance", *team],
        set(),
        "2027-03-03T10:00",
        INSPECTOR_B,
    )
    ok(url, "advance", code, "accepted", "--as", OFFICE_HEAD, "--at", "2027-03-04T10:00")
    shown = json.loads(ok(url, "show", code, "--json"))
    assert shown["project"]["stage"] == "accepted"
    kinds = [i["kind"] for i in json.loads(ok(url, "inspections", "--project", code, "--json"))["data"]]
    assert kinds == ["pre_review", "in_progress", "re_inspection", "acceptance"]


def test_a_failed_acceptance_sends_the_project_back_with_its_orders(demo: str, tmp_path: Path) -> None:
    url = demo
    project = json.loads(ok(url, "projects", "--stage", "in_construction", "--json"))["data"][-1]
    code, specialist = project["code"], project["specialist_phone"]
    ok(url, "advance", code, "completed", "--as", specialist, "--at", "2027-03-01T10:00")
    ok(url, "document", "add", code, "completion_report", "--as", specialist, "--at", "2027-03-01T11:00")
    ok(url, "advance", code, "acceptance", "--as", specialist, "--at", "2027-03-02T10:00")
    team = ["--inspector", INSPECTOR_A, "--inspector", INSPECTOR_B]
    form = tmp_path / "acc.yaml"
    ok(url, "inspect", "new", code, "--template", "acceptance", *team, "--out", str(form))
    fill(form, {"signage", "accounts_settled"}, "2027-03-03T10:00")
    recorded = said(url, "inspect", "record", str(form), "--as", INSPECTOR_A, "--at", "2027-03-03T15:00")
    inspection_id = recorded.split()[1]
    output = ok(url, "inspect", "sign", inspection_id, "--as", INSPECTOR_A, "--at", "2027-03-03T16:00")
    assert "project returned to in_construction" in output
    shown = json.loads(ok(url, "show", code, "--json"))
    assert shown["project"]["stage"] == "in_construction"
    assert shown["history"][-1]["from_stage"] == "acceptance"
    orders = json.loads(ok(url, "orders", "--open", "--project", code, "--json"))["data"]
    assert sorted((o["item_key"], o["severity"]) for o in orders) == [
        ("accounts_settled", "critical"),
        ("signage", "major"),
    ]
    leader = next(o for o in orders if o["item_key"] == "accounts_settled")
    assert leader["responsible_name"] == project["leader_name"]


def test_demo_orders_and_overdue_exit_code(demo: str) -> None:
    status, output = ducha(demo, "orders", "--overdue", "--json", "--at", "2026-12-10T09:00+08:00")
    assert status == 1  # a finding: something is late
    (late,) = json.loads(output)["data"]
    assert (late["item_key"], late["severity"], late["due_at"]) == (
        "earmark",
        "critical",
        "2026-12-09T09:30:00+00:00",
    )
    status, _ = ducha(demo, "orders", "--overdue", "--at", "2026-12-09T09:00+08:00")
    assert status == 0
    kinds = {i["kind"] for i in json.loads(ok(demo, "inspections", "--json"))["data"]}
    assert kinds == {"pre_review", "in_progress"}  # no acceptance yet


def test_spot_check_draw_is_recorded_and_reproducible_from_its_seed(demo: str) -> None:
    at = ["--at", "2026-12-10T09:00+08:00"]

    def draw(count: int, *extra: str) -> dict[str, Any]:
        programme = ["--programme", "村级组织活动场所建设(第一批)", "--count", str(count)]
        return dict(
            json.loads(
                said(demo, "spotcheck", "draw", *programme, "--as", OFFICE_HEAD, "--json", *at, *extra)
            )
        )

    first, second = draw(5, "--seed", "20261210"), draw(5, "--seed", "20261210")
    assert first["id"] != second["id"] and first["seed"] == second["seed"] == 20261210
    assert [d["code"] for d in first["data"]] == [d["code"] for d in second["data"]]
    assert len({d["code"] for d in first["data"]}) == 5
    status, output = ducha(demo, "orders", "--overdue", "--json", *at)
    (late,) = json.loads(output)["data"]
    everyone = {d["code"]: d for d in draw(50, "--seed", "1")["data"]}
    assert any("overdue order" in reason for reason in everyone[late["project_code"]]["reasons"])
    assert "P027" not in everyone  # the suspended project is not visited
    fresh = draw(3)
    assert fresh["seed"] != 20261210 and len(fresh["data"]) == 3
