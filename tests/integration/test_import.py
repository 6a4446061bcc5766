"""Importing a register (台账): good CSV, XLSX and GB18030 files; every bad row refused, nothing written."""

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from ducha.cli import app
from models import Person, Place, Programme, Project, ProjectFunding, RoleAssignment, WorkflowEvent
from tests import builders
from tests.integration.conftest import OFFICE
from workflows.board import list_projects
from workflows.importer import ImportRejected, import_projects

NOW = builders.T0 + timedelta(days=1)
HEADER = [
    "town", "village", "leader", "leader_phone", "leader_email", "specialist", "specialist_phone",
    "specialist_email", "budget_upper", "budget_district", "planned_start", "planned_finish",
]  # fmt: skip
BASE = dict(
    town="东镇", village="甲村", leader="张三", leader_phone="13900000001", leader_email="zhang@example.cn",
    specialist="李四", specialist_phone="13900000002", specialist_email="", budget_upper="36,940.00",
    budget_district="3248", planned_start="2026-12-01", planned_finish="2027-05-31",
)  # fmt: skip
GOOD_ROWS = [
    BASE,
    {**BASE, "village": "乙村", "leader_email": "", "specialist": "王五", "specialist_phone": "13900000003",
     "specialist_email": "wang@example.cn", "budget_upper": "33692", "budget_district": "3248.5",
     "planned_start": "2026-12-05", "planned_finish": "2027-06-30"},
    {**BASE, "town": "西镇", "village": "丙村", "leader": "赵六", "leader_phone": "139-0000-0004",
     "leader_email": "", "specialist": "孙七", "specialist_phone": "13900000005", "budget_upper": "0.1",
     "budget_district": "0"},
]  # fmt: skip
# (code, town, village, leader, leader phone, specialist, specialist phone, budget, start, finish)
IMPORTED = [
    ("P002", "东镇", "甲村", "张三", "13900000001", "李四", "13900000002",
     {"upper": 3_694_000, "district": 324_800}, date(2026, 12, 1), date(2027, 5, 31)),
    ("P003", "东镇", "乙村", "张三", "13900000001", "王五", "13900000003",
     {"upper": 3_369_200, "district": 324_850}, date(2026, 12, 5), date(2027, 6, 30)),
    ("P004", "西镇", "丙村", "赵六", "139-0000-0004", "孙七", "13900000005",
     {"upper": 10, "district": 0}, date(2026, 12, 1), date(2027, 5, 31)),
]  # fmt: skip
MODELS = (Project, Person, Place, WorkflowEvent, ProjectFunding, RoleAssignment)


@pytest.fixture
def programme(session: Session) -> Programme:
    """The default programme with one project (老村, P001) and a person who owns 13700000008."""
    prog = builders.programme(session)
    builders.project(session, prog, "老村", town="东镇")
    builders.person(session, "钱八", "13700000008")
    session.commit()
    return prog


def write_csv(
    path: Path, rows: list[dict[str, str]], header: list[str] = HEADER, encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[r.get(name, "") for name in header] for r in rows])
    return path


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as fresh:
        return {m.__name__: fresh.exec(select(func.count()).select_from(m)).one() for m in MODELS}


def imported(engine: Engine, programme: Programme) -> list[tuple[object, ...]]:
    with Session(engine) as fresh:
        rows = list_projects(session=fresh, programme_id=programme.id)
    return [
        (r.code, r.town, r.village, r.leader_name, r.leader_phone, r.specialist_name, r.specialist_phone,
         r.budget_fen, r.planned_start, r.planned_finish)
        for r in rows if r.code != "P001"
    ]  # fmt: skip


def assert_imports(session: Session, engine: Engine, programme: Programme, path: Path) -> None:
    before = counts(engine)
    created = import_projects(session=session, path=path, programme=programme, now=NOW)
    session.commit()
    assert [(p.code, p.stage, p.stage_entered_at) for p in created] == [
        (code, "proposed", NOW) for code in ("P002", "P003", "P004")
    ]
    assert imported(engine, programme) == IMPORTED
    with Session(engine) as fresh:
        created = fresh.exec(select(Project.stage_entered_at).where(col(Project.code) == "P004")).one()
    assert created == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # --at 2026-11-03 is 09:00 in Shanghai
    after = counts(engine)
    # 5 new people (张三 leads two projects); places 甲村, 乙村, 西镇, 丙村 (东镇 was there already).
    expected = {
        "Project": 3,
        "Person": 5,
        "Place": 4,
        "WorkflowEvent": 3,
        "ProjectFunding": 6,
        "RoleAssignment": 6,
    }
    assert {name: after[name] - before[name] for name in expected} == expected
    with Session(engine) as fresh:
        events = fresh.exec(select(WorkflowEvent).where(col(WorkflowEvent.occurred_at) == NOW)).all()
        assert {(e.from_stage, e.to_stage, e.actor_name) for e in events} == {
            (None, "proposed", f"import {path.name}")
        }
        people = select(Person.name, Person.email).where(col(Person.name).in_(["张三", "王五", "孙七"]))
        emails = dict(fresh.exec(people).all())
    assert emails == {"张三": "zhang@example.cn", "王五": "wang@example.cn", "孙七": None}


def test_good_csv_imports_every_row(
    session: Session, engine: Engine, programme: Programme, tmp_path: Path
) -> None:
    assert_imports(session, engine, programme, write_csv(tmp_path / "register.csv", GOOD_ROWS))


def test_good_xlsx_with_number_and_date_cells_imports(
    session: Session, engine: Engine, programme: Programme, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["东镇", "甲村", "张三", 13900000001, "zhang@example.cn", "李四", 13900000002, None,
                  36940, 3248, date(2026, 12, 1), datetime(2027, 5, 31)])  # fmt: skip
    sheet.append([])  # blank rows are skipped
    sheet.append(["东镇", "乙村", "张三", 13900000001, None, "王五", 13900000003.0, "wang@example.cn",
                  33692.0, 3248.5, date(2026, 12, 5), date(2027, 6, 30)])  # fmt: skip
    sheet.append(["西镇", "丙村", "赵六", "139-0000-0004", None, "孙七", "13900000005", None,
                  "0.10", 0, "2026-12-01", date(2027, 5, 31)])  # fmt: skip
    workbook.save(tmp_path / "register.xlsx")
    assert_imports(session, engine, programme, tmp_path / "register.xlsx")


def test_gb18030_csv_with_chinese_headers_imports(
    session: Session, engine: Engine, programme: Programme, tmp_path: Path
) -> None:
    chinese = ["乡镇", "行政村", "责任领导", "领导电话", "领导邮箱", "专干", "专干电话", "专干邮箱",
               "budget_upper", "budget_district", "计划开工", "计划完工"]  # fmt: skip
    rows = [dict(zip(chinese, [r[name] for name in HEADER], strict=True)) for r in GOOD_ROWS]
    path = write_csv(tmp_path / "台账.csv", rows, header=chinese, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert_imports(session, engine, programme, path)


def bad(**changes: str) -> list[dict[str, str]]:
    """A good first row, then row 3: another village of the same people, with ``changes``."""
    return [BASE, {**BASE, "village": "乙村", **changes}]


EXPECTED_COLUMNS = ", ".join(HEADER)
BAD_FILES = {
    "missing-column": (
        [n for n in HEADER if n != "specialist_email"], GOOD_ROWS,
        ["row 1, column 'specialist_email': missing column"],
    ),
    "unknown-column": (
        [*HEADER, "备注"], [{**BASE, "备注": "x"}],
        [f"row 1, column '备注': unknown column (expected: {EXPECTED_COLUMNS})"],
    ),
    "column-twice": (
        [*HEADER, "村"], GOOD_ROWS, ["row 1, column '村': appears twice"],
    ),
    "duplicate-village-in-file": (
        HEADER, bad(village="甲村"), ["row 3, field village: duplicate village 甲村 (also on row 2)"],
    ),
    "village-already-in-database": (
        HEADER, bad(village="老村"), ["row 3, field village: duplicate village 老村: already project P001"],
    ),
    "negative-money": (
        HEADER, bad(budget_district="-3248"), ["row 3, field budget_district: is negative: -3248"],
    ),
    "money-not-a-number": (
        HEADER, bad(budget_upper="三万"), ["row 3, field budget_upper: is not a number: '三万'"],
    ),
    "money-three-decimals": (
        HEADER, bad(budget_upper="33,692.125"),
        ["row 3, field budget_upper: has more than two decimals: 33692.125"],
    ),
    "money-empty": (HEADER, bad(budget_upper=""), ["row 3, field budget_upper: is empty"]),
    "bad-date": (
        HEADER, bad(planned_start="2026/12/01"),
        ["row 3, field planned_start: not a date (YYYY-MM-DD): '2026/12/01'"],
    ),
    "finish-before-start": (
        HEADER, bad(planned_finish="2026-11-30"),
        ["row 3, field planned_finish: 2026-11-30 is before planned_start 2026-12-01"],
    ),
    "empty-leader": (HEADER, bad(leader="", leader_phone="13900000009"), ["row 3, field leader: is empty"]),
    "empty-village": (HEADER, bad(village=""), ["row 3, field village: is empty"]),
    "empty-planned-start": (HEADER, bad(planned_start=""), ["row 3, field planned_start: is empty"]),
    "bad-phone-and-email": (
        HEADER, bad(leader_phone="12345", leader_email="zhang@"),
        ["row 3, field leader_phone: not a phone number: '12345'",
         "row 3, field leader_email: not an e-mail address: 'zhang@'"],
    ),
    "phone-of-someone-else-in-file": (
        HEADER, bad(specialist="王五", specialist_phone="13900000001"),
        ["row 3, field specialist_phone: 13900000001 is 张三's phone on row 2"],
    ),
    "phone-of-someone-else-in-database": (
        HEADER, bad(leader="周九", leader_phone="13700000008"),
        ["row 3, field leader_phone: 13700000008 already belongs to 钱八"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("header", "rows", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_whole_with_file_row_and_field(
    session: Session, engine: Engine, programme: Programme, tmp_path: Path,
    header: list[str], rows: list[dict[str, str]], expected: list[str],
) -> None:  # fmt: skip
    path = write_csv(tmp_path / "register.csv", rows, header=header)
    before = counts(engine)
    with pytest.raises(ImportRejected) as raised:
        import_projects(session=session, path=path, programme=programme, now=NOW)
    session.commit()  # even a caller that commits after the refusal writes nothing
    assert raised.value.lines() == [f"{path}: {line}" for line in expected]
    assert counts(engine) == before


def test_every_problem_in_the_file_is_listed(
    session: Session, engine: Engine, programme: Programme, tmp_path: Path
) -> None:
    rows = [
        *bad(budget_upper="-1", planned_finish="2026-11-30"),
        {**BASE, "village": "丙村", "leader": "", "leader_phone": "13900000009"},
    ]
    path = write_csv(tmp_path / "register.csv", rows)
    before = counts(engine)
    with pytest.raises(ImportRejected) as raised:
        import_projects(session=session, path=path, programme=programme, now=NOW)
    assert raised.value.lines() == [
        f"{path}: row 3, field budget_upper: is negative: -1",
        f"{path}: row 3, field planned_finish: 2026-11-30 is before planned_start 2026-12-01",
        f"{path}: row 4, field leader: is empty",
    ]
    assert counts(engine) == before


@pytest.mark.parametrize(
    "changes",
    [{"budget_upper": "100000000000000000"}, {"leader": "长" * 65}],
    ids=["budget-beyond-bigint", "name-longer-than-64"],
)
def test_values_the_database_cannot_hold_are_refused_by_row(
    session: Session, programme: Programme, tmp_path: Path, changes: dict[str, str]
) -> None:
    path = write_csv(tmp_path / "register.csv", [{**BASE, **changes}])
    with pytest.raises(ImportRejected):
        import_projects(session=session, path=path, programme=programme, now=NOW)
        session.flush()


runner = CliRunner()


def test_cli_refuses_a_bad_file_with_exit_2(
    database_url: str, engine: Engine, programme: Programme, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "bad.csv", bad(planned_start="下月"))
    before = counts(engine)
    result = runner.invoke(
        app, ["import", "projects", str(path), "--programme", programme.name, "--as", OFFICE],
        env={"DUCHA_DATABASE_URL": database_url},
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{path}: row 3, field planned_start: not a date (YYYY-MM-DD): '下月'",
        "nothing imported (1 problem(s))",
    ]
    assert result.stdout == ""
    assert counts(engine) == before


def test_cli_imports_a_good_file(
    database_url: str, engine: Engine, programme: Programme, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "good.csv", GOOD_ROWS)
    result = runner.invoke(
        app,
        ["import", "projects", str(path), "--programme", programme.name, "--as", OFFICE,
         "--at", "2026-11-03"],
        env={"DUCHA_DATABASE_URL": database_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{path}: 3 projects imported into 测试项目批次 (P002…P004)"]
    assert imported(engine, programme) == IMPORTED
    with Session(engine) as fresh:
        created = fresh.exec(select(Project.stage_entered_at).where(col(Project.code) == "P004")).one()
    assert created == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # --at 2026-11-03 is 09:00 in Shanghai
