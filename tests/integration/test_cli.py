"""The CLI as a user drives it: demo, listings, show, advance, refusals and exit codes."""

import json
from pathlib import Path

import pytest

from models import WorkflowDefinitionRecord
from tests.integration.conftest import OFFICE
from tests.integration.conftest import run as ducha

AT = "2026-12-10T09:00+08:00"


def test_demo_board_shows_the_programme_to_the_fen(demo: str) -> None:
    code, output = ducha(demo, "board", "--json", "--at", AT)
    assert code == 0, output
    board = json.loads(output)
    assert board["programme"]["name"] == "村级组织活动场所建设(第一批)"
    assert board["programme"]["illustrative"] is True
    assert board["as_of"] == "2026-12-10T01:00:00+00:00"
    budget = {line["code"]: (line["programme_fen"], line["allocated_fen"]) for line in board["budget"]}
    assert budget == {"upper": (168_460_000, 168_460_000), "district": (16_240_000, 16_240_000)}
    projects = board["projects"]
    assert len(projects) == 50
    assert {p["budget_fen"]["upper"] for p in projects} == {3_369_200}
    assert {p["budget_fen"]["district"] for p in projects} == {324_800}
    assert sum(p["budget_total_fen"] for p in projects) == 184_700_000
    assert all(p["leader_name"] and p["specialist_name"] for p in projects)
    assert len({p["specialist_id"] for p in projects}) == 50
    assert len({p["leader_id"] for p in projects}) < 50  # a leader leads several
    assert len({p["village"] for p in projects}) == 50
    assert board["by_stage"] == {
        "proposed": 1,
        "pre_review": 6,
        "approved": 18,
        "in_construction": 24,
        "completed": 0,
        "acceptance": 0,
        "accepted": 0,
        "closed": 0,
        "rejected": 0,
        "suspended": 1,
    }
    assert sum(sum(town.values()) for town in board["by_town"].values()) == 50
    assert len(board["not_started"]) == 26
    start = next(m for m in board["milestones"] if m["key"] == "start_construction")
    assert (start["due_date"], start["reached"], start["not_reached"]) == ("2026-12-31", 24, 26)


def test_demo_is_idempotent_and_prints_the_board(demo: str) -> None:
    code, output = ducha(demo, "demo")
    assert code == 0
    assert "demo already loaded: nothing changed" in output
    assert "as of 2026-12-10 09:00 (Asia/Shanghai)" in output
    assert "illustrative data" in output
    assert "1,847,000.00" in output and "1,684,600.00" in output and "162,400.00" in output
    assert "26 projects have not started construction" in output
    code, output = ducha(demo, "projects", "--json")
    assert json.loads(output)["count"] == 50


def test_projects_filters_and_json_shape(demo: str) -> None:
    code, output = ducha(demo, "projects", "--stage", "pre_review", "--json")
    assert code == 0
    rows = json.loads(output)["data"]
    assert len(rows) == 6 and {r["stage"] for r in rows} == {"pre_review"}
    first = rows[0]
    assert set(first) >= {
        "id",
        "code",
        "town",
        "village",
        "stage",
        "leader_id",
        "leader_name",
        "specialist_id",
        "specialist_name",
        "budget_fen",
        "budget_total_fen",
        "planned_start",
    }
    code, output = ducha(demo, "projects", "--town", "城关镇", "--json")
    assert {r["town"] for r in json.loads(output)["data"]} == {"城关镇"}
    code, output = ducha(demo, "programmes", "--json")
    (programme,) = json.loads(output)["data"]
    assert (programme["projects"], programme["budget_total_fen"]) == (50, 184_700_000)
    assert programme["milestones"]["start_construction"] == "2026-12-31"


def test_advance_from_the_cli_and_show_the_history(demo: str) -> None:
    code, output = ducha(demo, "projects", "--stage", "approved", "--json")
    project = json.loads(output)["data"][0]
    code, output = ducha(
        demo,
        "advance",
        project["code"],
        "in_construction",
        "--as",
        project["specialist_phone"],
        "--at",
        AT,
    )
    assert code == 2
    assert "required document not recorded: construction_contract" in output
    code, output = ducha(
        demo,
        "document",
        "add",
        project["code"],
        "construction_contract",
        "--as",
        project["specialist_phone"],
        "--title",
        "施工合同",
        "--at",
        AT,
    )
    assert code == 0, output
    code, output = ducha(
        demo,
        "advance",
        project["code"],
        "in_construction",
        "--as",
        project["specialist_phone"],
        "--reason",
        "开工",
        env={"DUCHA_NOW": AT},
    )
    assert code == 0, output
    assert (
        f"{project['code']}: approved → in_construction by {project['specialist_name']} at 2026-12-10 09:00"
        in output
    )
    code, output = ducha(demo, "show", project["code"], "--json", "--at", AT)
    shown = json.loads(output)
    assert shown["project"]["stage"] == "in_construction"
    assert shown["project"]["actual_start"] == "2026-12-10"
    assert shown["history"][-1]["to_stage"] == "in_construction"
    assert shown["history"][-1]["actor_name"] == project["specialist_name"]
    assert shown["history"][-1]["reason"] == "开工"
    assert [n["to"] for n in shown["next"]] == ["completed", "suspended"]
    code, output = ducha(demo, "show", project["village"], "--at", AT)
    assert code == 0 and "在建 in construction" in output and "施工合同" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "P999"], "no project 'P999'"),
        (["advance", "P001", "accepted", "--as", "13900000001"], "no transition from"),
        (["advance", "P001", "completed", "--as", "nobody"], "no person 'nobody'"),
        (["projects", "--at", "next tuesday"], "not an ISO 8601 date or time"),
        (["projects", "--programme", "第二批"], "no programme '第二批'"),
    ],
)
def test_bad_input_exits_2_with_a_message(demo: str, args: list[str], message: str) -> None:
    code, output = ducha(demo, *args)
    assert code == 2
    assert message in output


def test_commands_refuse_a_database_whose_schema_is_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code, output = ducha(url, "projects")
    assert code == 2
    assert "is empty (no ducha schema)" in output and "run `ducha init`" in output
    code, output = ducha(url, "init")
    said = " ".join(output.split())  # a long path may wrap the line anywhere
    assert code == 0 and "upgraded from empty to revision" in said and "village-venue v1" in said
    code, output = ducha(url, "init")
    assert code == 0 and "already at revision" in output
    code, output = ducha(url, "projects", "--json")
    assert code == 0 and json.loads(output)["data"] == []


def test_programmes_create_then_workflows_listed(database_url: str, tmp_path: Path) -> None:
    code, output = ducha(
        database_url,
        "programmes",
        "create",
        "第二批",
        "--district",
        "示范区",
        "--budget",
        "upper=33692.00=上级资金",
        "--budget",
        "district=3248",
        "--milestone",
        "start_construction=2027-03-31",
        "--as",
        OFFICE,
        "--at",
        AT,
    )
    assert code == 0, output
    code, output = ducha(
        database_url,
        "programmes",
        "create",
        "第三批",
        "--district",
        "示范区",
        "--budget",
        "upper=-1",
        "--as",
        OFFICE,
    )
    assert code == 2 and "--budget 'upper=-1': amount is negative" in output
    code, output = ducha(
        database_url,
        "programmes",
        "create",
        "第三批",
        "--district",
        "示范区",
        "--budget",
        "upper=1",
        "--milestone",
        "opening=2027-01-01",
        "--as",
        OFFICE,
    )
    assert code == 2 and "has no milestone 'opening'" in output
    code, output = ducha(database_url, "programmes", "--json")
    assert [(p["name"], p["budget_fen"]) for p in json.loads(output)["data"]] == [
        ("第二批", {"upper": 3_369_200, "district": 324_800})
    ]
    code, output = ducha(database_url, "workflows", "--json")
    assert [(w["key"], w["version"]) for w in json.loads(output)["data"]] == [
        ("village-venue", 1),
        ("village-venue", 2),  # declares what a failed acceptance does
    ]
    # The keys in the table's order, but its text (model_dump's order changed from run to run).
    assert list(json.loads(output)["data"][0]) == [
        name for name in WorkflowDefinitionRecord.model_fields if name != "source_text"
    ]
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "key: x\nversion: 1\ntitle: t\ninitial: a\nstages: []\ntransitions: []\n", encoding="utf-8"
    )
    code, output = ducha(database_url, "workflows", "load", str(broken), "--as", OFFICE)
    assert code == 2 and f"{broken}:5: stages: List should have at least 2 items" in output
