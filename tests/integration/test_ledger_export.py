"""The programme ledger (台账) as XLSX: what it holds, and that importing it gives back the register."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from ducha.db import make_engine
from ducha.demo import TOWNS
from models import Place, Project
from tests import builders
from tests.integration.conftest import DEMO_OFFICE, js, ok, run
from workflows.ledger_export import programme_ledger_xlsx
from workflows.programmes import FundingSourceSpec, create_programme
from workflows.projects import create_project
from workflows.register_file import ImportRejected, read_register

AT = "2026-12-10"
NOW = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
HEADERS = [
    "项目编号", "乡镇", "村", "阶段", "计划开工", "计划完工", "实际开工", "实际完工",
    "责任领导", "领导电话", "领导邮箱", "专干", "专干电话", "专干邮箱",
    "最近检查日期", "最近检查类型", "最近检查得分", "最近检查结论", "未关闭整改", "逾期期限",
    "预算_upper(元)", "预算_district(元)",
]  # fmt: skip
# The register's columns, as the importer reads them.
REGISTER = [
    "乡镇", "村", "计划开工", "计划完工", "责任领导", "领导电话", "领导邮箱", "专干", "专干电话", "专干邮箱",
    "预算_upper(元)", "预算_district(元)",
]  # fmt: skip


def export(url: str, out: Path, *more: str) -> list[dict[str, Any]]:
    """``ducha export ledger``: the ledger's rows by header (the sheet is checked on the way)."""
    ok(url, "export", "ledger", "--out", str(out), "--at", AT, *more)
    return rows(out)


def rows(path: Path) -> list[dict[str, Any]]:
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    assert sheet.title == "台账" and sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, values, strict=True)) for values in sheet.iter_rows(min_row=2, values_only=True)]


def test_the_demo_ledger_has_every_project_in_chinese_with_amounts_and_dates_as_such(
    demo: str, tmp_path: Path
) -> None:
    out = tmp_path / "台账.xlsx"
    ledger = export(demo, out)
    sheet = load_workbook(out).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.font.bold for cell in sheet[1])
    assert len(ledger) == 50 and [r["项目编号"] for r in ledger] == [f"P{n:03d}" for n in range(1, 51)]
    budget_cells = [cell for row in sheet.iter_rows(min_row=2, min_col=21, max_col=22) for cell in row]
    assert all(isinstance(c.value, int | float) and c.number_format == "#,##0.00" for c in budget_cells)
    assert sum(Decimal(str(c.value)) for c in budget_cells) == Decimal("1847000.00")
    for name in ("计划开工", "计划完工", "实际开工", "最近检查日期"):
        column = HEADERS.index(name) + 1
        cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column)]
        assert all(c.value is None or (c.is_date and c.number_format == "yyyy-mm-dd") for c in cells), name
    # A sampled project, as `ducha show` has it.
    shown = js(demo, "show", "P008", "--at", AT)["project"]
    p008 = ledger[7]
    assert (p008["责任领导"], p008["领导电话"], p008["专干"], p008["专干电话"]) == (
        shown["leader_name"], shown["leader_phone"], shown["specialist_name"], shown["specialist_phone"]
    )  # fmt: skip
    assert (p008["领导邮箱"], p008["专干邮箱"]) == ("leader02@example.org", "zhuangan08@example.org")
    assert p008["阶段"] == shown["stage_label"] == "在建 in construction"
    assert p008["计划开工"].date().isoformat() == shown["planned_start"]
    assert p008["实际开工"].date().isoformat() == shown["actual_start"]
    # Its in-progress check of 2 December failed on the earmark: one open order, late since the 9th.
    assert (p008["最近检查日期"].date(), p008["最近检查类型"], p008["最近检查得分"]) == (
        date(2026, 12, 2), "事中检查", 80
    )  # fmt: skip
    assert (p008["最近检查结论"], p008["未关闭整改"], p008["逾期期限"]) == ("不通过", 1, 1)
    # A project still proposed: no inspection, no start.
    proposed = next(r for r in ledger if r["阶段"] == "立项 proposed")
    assert proposed["最近检查日期"] is None and proposed["实际开工"] is None
    about = list(load_workbook(out)["说明"].iter_rows(values_only=True))
    assert about[0][:2] == ("项目计划", "村级组织活动场所建设(第一批)")
    assert about[1][:2] == ("截至", "2026-12-10 09:00 (Asia/Shanghai)")
    assert about[5][0] == "upper" and about[5][2] == 1684600


def test_importing_the_ledger_gives_back_the_register(demo: str, tmp_path: Path) -> None:
    first = tmp_path / "first.xlsx"
    exported = export(demo, first)
    ok(demo, "programmes", "create", "第二批", "--district", "示范区", "--budget", "upper=1684600=上级资金",
       "--budget", "district=162400=区级资金", "--as", DEMO_OFFICE, "--at", AT)  # fmt: skip
    code, output = run(demo, "import", "projects", str(first), "--programme", "第二批", "--as", DEMO_OFFICE,
                       "--at", AT)  # fmt: skip
    assert code == 0 and "50 projects imported into 第二批 (P001…P050)" in output, output

    def register(programme: str) -> dict[str, tuple[Any, ...]]:
        return {
            p["village"]: (
                p["town"],
                p["leader_name"],
                p["leader_phone"],
                p["specialist_name"],
                p["specialist_phone"],
                p["budget_fen"],
                p["planned_start"],
                p["planned_finish"],
            )  # fmt: skip
            for p in js(demo, "projects", "--programme", programme)["data"]
        }

    assert register("第二批") == register("1")
    assert len(register("第二批")) == 50
    # And the new programme's ledger holds the same register columns, e-mails too.
    again = export(demo, tmp_path / "second.xlsx", "--programme", "第二批")
    assert [[r[h] for h in REGISTER] for r in again] == [[r[h] for h in REGISTER] for r in exported]


def test_a_scope_keeps_to_its_projects_and_the_queries_do_not_grow_with_them(demo: str) -> None:
    engine = make_engine(demo)
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    village, town = aliased(Place), aliased(Place)
    in_town = (
        sa_select(col(Project.id))
        .join(village, col(village.id) == col(Project.village_id))
        .join(town, col(town.id) == col(village.parent_id))
        .where(col(town.name) == "城关镇")
    )
    counted = {}
    with Session(engine) as session:
        for name, scope in (("all", None), ("town", lambda project_id: project_id.in_(in_town))):
            statements.clear()
            out = io.BytesIO()
            written = programme_ledger_xlsx(
                session=session, programme_id=1, now=NOW, out=out, scope_predicate=scope
            )
            counted[name] = (written.projects, len(statements))
            sheet = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
            towns = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
            assert towns == ({"城关镇"} if scope else set(TOWNS))
    engine.dispose()
    assert counted["all"][0] == 50 and 0 < counted["town"][0] < 50
    assert counted["all"][1] == counted["town"][1]


def test_amounts_come_back_to_the_fen_and_huge_ones_as_text(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    amounts = {"small": 1, "odd": 123_456_789_012_345, "huge": 10**15 + 1, "largest": 9_000_000_000_000_007}
    with Session(engine) as session:
        programme = create_programme(
            session=session,
            name="大额",
            district="测试区",
            definition_key="village-venue",
            sources=[FundingSourceSpec(code, code, fen) for code, fen in amounts.items()],
            milestones={},
            earmark="",
            now=builders.T0,
        )
        create_project(
            session=session, programme=programme, town="东镇", village="甲村",
            leader=builders.person(session, "甲领导"), specialist=builders.person(session, "甲专干"),
            budget_fen=amounts, planned_start=date(2026, 12, 1), planned_finish=date(2027, 5, 31),
            now=builders.T0, created_by="test",
        )  # fmt: skip
        session.commit()
        assert programme.id is not None
        out = tmp_path / "big.xlsx"
        with out.open("wb") as stream:
            programme_ledger_xlsx(session=session, programme_id=programme.id, now=NOW, out=stream)
    engine.dispose()
    [row] = rows(out)
    assert row["预算_small(元)"] == 0.01 and row["预算_odd(元)"] == 1234567890123.45
    assert (row["预算_huge(元)"], row["预算_largest(元)"]) == ("10000000000000.01", "90000000000000.07")
    [line] = read_register(out, list(amounts))
    assert line.budget_fen == amounts


def test_a_register_with_chinese_budget_headers_and_ledger_columns_reads(tmp_path: Path) -> None:
    header = (
        "项目编号,乡镇,村,阶段,责任领导,领导电话,领导邮箱,专干,专干电话,专干邮箱,预算_UP（元）,"
        "budget_district (元),计划开工,计划完工"
    )
    row = (
        "P001,东镇,甲村,在建 in construction,张三,13900000001,,李四,13900000002,li@example.cn,"
        '"36,940.00",3248.5,2026-12-01,2027-05-31'
    )
    path = tmp_path / "register.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    [line] = read_register(path, ["UP", "district"])
    assert line.budget_fen == {"UP": 3_694_000, "district": 324_850}
    assert (line.village, line.specialist_email) == ("甲村", "li@example.cn")
    assert line.planned_finish == date(2027, 5, 31)
    # Only the ledger's own columns are passed over: anything else is still an unknown column.
    path.write_text(f"{header},备注\n{row},x\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        read_register(path, ["UP", "district"])
    expected = ", ".join(
        ["town", "village", "leader", "leader_phone", "leader_email", "specialist", "specialist_phone",
         "specialist_email", "budget_UP", "budget_district", "planned_start", "planned_finish"]
    )  # fmt: skip
    assert rejected.value.lines() == [f"{path}: row 1, column '备注': unknown column (expected: {expected})"]
