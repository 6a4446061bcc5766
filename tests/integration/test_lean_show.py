"""``ducha show`` without SQLAlchemy (workflows.lean_show on models.raw) reads and prints what the
full path does, for every project of the demo in every stage, on both backends, and really does
without SQLAlchemy."""

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from ducha.cli import app
from ducha.clock import parse_instant as parse_moment
from ducha.context import AppContext
from ducha.db import make_engine
from models import Place, Programme, Project
from models.raw import NotAhead, open_reader, shape
from tests.integration.conftest import DEMO_OFFICE, ok
from tests.integration.test_inspection_loop import INSPECTOR_A, INSPECTOR_B, inspect
from tests.integration.test_lean_reads import modules_loaded_by
from workflows import ahead, lean_show
from workflows.ahead_sql import STATEMENTS
from workflows.definition import BUILTIN_DIR, get_definition
from workflows.reads import project_detail

# Before and after the scenario's inspections were signed (a guard counts what was signed by now).
EARLY, LATE = "2026-12-10T09:00+08:00", "2027-03-20T09:00+08:00"
OFFICE = ("--as", DEMO_OFFICE)


def _every_stage(url: str, tmp: Path) -> None:
    """Move projects of the demo on until some project is in each stage of its workflow, with
    acceptance inspections passed and failed and rectification orders open."""
    projects = json.loads(ok(url, "projects", "--json", "--limit", "0"))["data"]
    ordered = {order["project_code"] for order in json.loads(ok(url, "orders", "--open", "--json"))["data"]}
    building = [p["code"] for p in projects if p["stage"] == "in_construction" and p["code"] not in ordered]
    finished, waiting, closed, accepted = building[:4]
    in_review = next(p["code"] for p in projects if p["stage"] == "pre_review")
    with_orders = sorted(ordered & {p["code"] for p in projects if p["stage"] == "in_construction"})[0]
    team = ["--inspector", INSPECTOR_A, "--inspector", INSPECTOR_B]

    def to_acceptance(code: str, day: int) -> None:
        ok(url, "advance", code, "completed", *OFFICE, "--at", f"2027-03-{day:02d}T10:00")
        ok(url, "document", "add", code, "completion_report", *OFFICE, "--at", f"2027-03-{day:02d}T11:00")
        ok(url, "advance", code, "acceptance", *OFFICE, "--at", f"2027-03-{day:02d}T12:00")

    ok(url, "advance", finished, "completed", *OFFICE, "--at", "2027-03-01T10:00")
    to_acceptance(waiting, 1)
    for code in (closed, accepted):
        to_acceptance(code, 1)
        form = [code, "--template", "acceptance", *team]
        inspect(url, tmp, f"acc-{code}", form, set(), "2027-03-03T10:00", INSPECTOR_B)
        ok(url, "advance", code, "accepted", *OFFICE, "--at", "2027-03-04T10:00")
    ok(url, "document", "add", closed, "final_accounts", *OFFICE, "--at", "2027-03-05T10:00")
    ok(url, "advance", closed, "closed", *OFFICE, "--at", "2027-03-05T11:00")
    ok(url, "advance", in_review, "rejected", *OFFICE, "--reason", "选址不符", "--at", "2027-03-01T10:00")
    # A failed acceptance sends it back with its findings; taken to acceptance again, both guards of
    # ``accepted`` are unmet (the latest acceptance failed, orders open).
    to_acceptance(with_orders, 1)
    form = [with_orders, "--template", "acceptance", *team]
    failing = {"signage", "accounts_settled"}
    inspect(url, tmp, f"acc-{with_orders}", form, failing, "2027-03-03T10:00", INSPECTOR_B)
    to_acceptance(with_orders, 6)


@pytest.fixture
def staged(demo: str, tmp_path: Path) -> str:
    _every_stage(demo, tmp_path)
    return demo


def _codes(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return [(p.code, p.stage) for p in session.exec(select(Project).order_by(Project.code))]
    finally:
        engine.dispose()


def _both_ways(url: str, args: list[str]) -> tuple[Any, Any]:
    runner = CliRunner()
    env = {"DUCHA_DATABASE_URL": url, "COLUMNS": "160"}
    lean = runner.invoke(app, args, env=env)
    engine = make_engine(url)
    try:  # a context with its own engine reads through SQLAlchemy
        full = runner.invoke(app, args, env=env, obj=AppContext(_engine=engine))
    finally:
        engine.dispose()
    return lean, full


def test_every_project_in_every_stage_is_shown_the_same_both_ways(staged: str) -> None:
    codes = _codes(staged)
    engine = make_engine(staged)
    reader = open_reader(staged)
    assert reader is not None
    try:
        with Session(engine) as session:
            definition = get_definition(session=session, key="village-venue")
            assert {stage for _, stage in codes} == set(definition.stage_keys())
            unmet: set[str] = set()
            for at in (EARLY, LATE):
                now = parse_moment(at)
                for code, _ in codes:
                    # The lean path answers itself (no NotAhead), with what the full path reads.
                    lean = lean_show.project_detail(reader, now=now, project=code, programme=None)
                    assert lean == project_detail(session=session, now=now, project=code), code
                    unmet.update(reason for option in lean.next for reason in option.unmet)
                    session.rollback()
    finally:
        reader.close()
        engine.dispose()
    said = " ".join(sorted(unmet))
    for reason in (
        "required document not recorded",
        "no signed acceptance inspection",
        "inspection (#",  # the latest … did not pass
        "rectification order(s) still open",
    ):
        assert reason in said
    # Printed both ways: every project now, and those the scenario moved on as it was before.
    moved = {"completed", "acceptance", "accepted", "closed", "rejected"}
    for at, shown in ((LATE, codes), (EARLY, [(code, stage) for code, stage in codes if stage in moved])):
        for code, _ in shown:
            for form in ([], ["--json"]):
                lean, full = _both_ways(staged, ["--at", at, "show", code, *form])
                assert (lean.exit_code, full.exit_code) == (0, 0), lean.output + full.output
                assert lean.stdout == full.stdout, (code, at, form)
                assert lean.stderr == full.stderr
                assert lean.stdout.strip()


def test_the_show_statements_read_the_rows_sqlalchemy_reads_on_every_project(staged: str) -> None:
    engine = make_engine(staged)
    reader = open_reader(staged)
    assert reader is not None
    compared = 0
    try:
        with Session(engine) as session:
            dialect = engine.dialect.name
            programme = session.exec(select(Programme)).one()
            projects = session.exec(select(Project).order_by(Project.id)).all()
            shown = [(name, compiled, sample) for name, compiled, sample in ahead.statements()
                     if name.startswith(("show_", "guard_"))]  # fmt: skip
            assert {name for name, _, _ in shown} == {
                "show_project_ref", "show_project", "show_history", "show_documents",
                "guard_document_kinds", "guard_current_signed", "guard_open_orders",
            }  # fmt: skip
            for project in projects:
                place = session.get(Place, project.village_id)
                assert place is not None
                village = place.name
                for at in (EARLY, LATE):
                    for kind in ("pre_review", "in_progress", "acceptance"):
                        real: dict[str, Any] = {
                            "project_id": project.id,
                            "programme_id": programme.id,
                            "code": project.code,
                            "name": village,
                            "ref_id": project.id,
                            "window_limit": 6,
                            "kind": kind,
                            "as_of": parse_moment(at),
                        }
                        for name, compiled, sample in shown:
                            parameters = {key: real[key] for key in sample}
                            expected = compiled.all(session, parameters)
                            entry = STATEMENTS[f"{dialect}|{name}|{shape(parameters)}"]
                            bound = {
                                key: reader.utc(value) if key in ahead.UTC_PARAMETERS else value
                                for key, value in parameters.items()
                            }
                            found = reader.all(entry, bound)
                            assert found == expected, (name, project.code)
                            assert [tuple(map(type, r)) for r in found] == [
                                tuple(map(type, r)) for r in expected
                            ]
                            compared += len(found)
                        session.rollback()
    finally:
        reader.close()
        engine.dispose()
    assert compared > 2000


REFERENCES = [
    ["show", "p004"],
    ["show", "4"],
    ["show", "P004", "--programme", "1"],
    ["show", "P004", "--programme", "村级组织活动场所建设(第一批)", "--json"],
]


@pytest.mark.parametrize("args", REFERENCES, ids=" ".join)
def test_a_project_named_any_way_is_shown_the_same_both_ways(demo: str, args: list[str]) -> None:
    lean, full = _both_ways(demo, ["--at", EARLY, *args])
    assert (lean.exit_code, full.exit_code) == (0, 0), lean.output + full.output
    assert lean.stdout == full.stdout
    assert "P004" in lean.stdout


def test_a_village_name_is_shown_the_same_both_ways(demo: str) -> None:
    village = json.loads(ok(demo, "show", "P004", "--json"))["project"]["village"]
    lean, full = _both_ways(demo, ["--at", EARLY, "show", village])
    assert (lean.exit_code, full.exit_code) == (0, 0), lean.output + full.output
    assert lean.stdout == full.stdout
    assert lean.stdout.startswith("P004")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "P999"], "no project 'P999'"),
        (["show", "P004", "--programme", "7"], "no programme"),
        (["show", "P004\x00"], "project"),
    ],
    ids=["unknown", "unknown programme", "NUL"],
)
def test_what_the_lean_path_cannot_find_the_full_path_reports(
    demo: str, args: list[str], message: str
) -> None:
    lean, full = _both_ways(demo, args)
    assert (lean.exit_code, full.exit_code) == (2, 2)
    assert lean.output == full.output
    assert message in lean.output


def test_a_stored_definition_the_lean_path_cannot_read_plainly_takes_the_full_path(
    demo: str, tmp_path: Path
) -> None:
    """Validating ``reason_required: 1`` makes it true: the lean path, which reads the stored text
    as it is, leaves such a definition to the full path, before printing anything."""
    source = (BUILTIN_DIR / "village-venue.v2.yaml").read_text(encoding="utf-8")
    assert source.count("reason_required: true") == 2 and "\nversion: 2\n" in source
    changed = source.replace("reason_required: true", "reason_required: 1").replace(
        "\nversion: 2\n", "\nversion: 3\n"
    )
    path = tmp_path / "village-venue.v3.yaml"
    path.write_text(changed, encoding="utf-8")
    ok(demo, "workflows", "load", str(path), *OFFICE, "--at", EARLY)
    code = json.loads(ok(demo, "projects", "--stage", "pre_review", "--json"))["data"][0]["code"]
    engine = make_engine(demo)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE project SET definition_version = 3 WHERE code = :code"), {"code": code}
            )
    finally:
        engine.dispose()
    reader = open_reader(demo)
    assert reader is not None
    try:
        with pytest.raises(NotAhead):
            lean_show.project_detail(reader, now=parse_moment(EARLY), project=code, programme=None)
    finally:
        reader.close()
    lean, full = _both_ways(demo, ["--at", EARLY, "show", code, "--json"])
    assert (lean.exit_code, full.exit_code) == (0, 0), lean.output + full.output
    assert lean.stdout == full.stdout
    rejected = next(option for option in json.loads(lean.stdout)["next"] if option["to"] == "rejected")
    assert rejected["reason_required"] is True


@pytest.mark.parametrize(
    "args",
    [["show", "P004"], ["show", "P004", "--json"], ["show", "光明村", "--programme", "1"]],
    ids=" ".join,
)
def test_show_does_not_load_sqlalchemy_sqlmodel_or_the_settings_model(
    demo: str, args: list[str], tmp_path: Path
) -> None:
    """The start-up target (bench/startup_bench.py): ``ducha show`` never imports the ORM, the table
    modules, the pydantic definitions or the full path's reads."""
    ours = {
        "ducha.config",
        "models.programmes",
        "models.workflow",
        "models.inspections",
        "models.listing",
        "models.compiled",
        "models.yaml_source",
        "workflows.reads",
        "workflows.engine",
        "workflows.guards",
        "workflows.definition",
        "workflows.projects",
        "workflows.board",
        "inspections.queries",
        "inspections.orders",
    }
    stdout, loaded = modules_loaded_by(demo, args, tmp_path)
    assert {"workflows.lean_show", "workflows.guard_rules", "workflows.next_steps"} <= loaded
    assert not loaded & ours
    assert "P004" in stdout
    if "--json" in args:
        assert json.loads(stdout)["project"]["code"] == "P004"
