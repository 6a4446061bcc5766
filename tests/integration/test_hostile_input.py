"""Input that cannot hurt: each probe gets one clear line (file, row or field), exit 2, and writes
nothing; data is printed as itself, never read as markup."""

import csv
import json
import os
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from ducha.db import make_engine
from ducha.demo.inspections import photo
from models import load_tables
from tests.integration.conftest import DEMO_OFFICE, js, ok, run

OFFICE_HEAD, INSPECTOR = DEMO_OFFICE, "13900000002"
AT = "2026-12-10T09:00+08:00"
HEADER = [
    "town", "village", "leader", "leader_phone", "leader_email", "specialist", "specialist_phone",
    "specialist_email", "budget_upper", "budget_district", "planned_start", "planned_finish",
]  # fmt: skip
ROW = [
    "东镇",
    "甲村",
    "张三",
    "13500000001",
    "",
    "李四",
    "13600000001",
    "",
    "100",
    "10",
    "2026-12-01",
    "2027-05-31",
]


def counts(url: str) -> dict[str, int]:
    """Rows in every table: a refused command must leave them all as they were."""
    load_tables()
    engine = make_engine(url)
    with Session(engine) as session:
        found = {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }
    engine.dispose()
    return found


def refused(url: str, *args: str) -> str:
    """Run a command that must be refused: exit 2, one message, nothing written; the message."""
    before = counts(url)
    code, output = run(url, *args)
    assert code == 2, output
    assert "Traceback" not in output and "internal error" not in output
    assert counts(url) == before
    return output


def register(path: Path, *rows: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_a_billion_laughs_definition_is_refused_at_once(demo: str, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    lol = ", ".join(['"lol"'] * 9)
    levels = [f"l0: &l0 [{lol}]"] + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    bomb.write_text("\n".join(levels) + "\n", encoding="utf-8")
    assert len(bomb.read_bytes()) < 1000
    output = refused(demo, "workflows", "load", str(bomb), "--as", OFFICE_HEAD)
    assert f"{bomb}:1: anchors and aliases (& and *) are not allowed here" in output


def test_deep_big_and_non_utf8_yaml_are_named(demo: str, tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("key: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert "nested deeper than 32 levels" in refused(
        demo, "workflows", "load", str(deep), "--as", OFFICE_HEAD
    )
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (1024 * 1024) + "\n", encoding="utf-8")
    assert f"{big}: " in refused(demo, "workflows", "load", str(big), "--as", OFFICE_HEAD)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    assert f"{latin}: not UTF-8 text (byte 10)" in refused(
        demo, "workflows", "load", str(latin), "--as", OFFICE_HEAD
    )


def test_an_xlsx_with_a_cell_at_xfd1048576_is_read_row_by_row(demo: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet["XFD1048576"] = "x"
    path = tmp_path / "bomb.xlsx"
    book.save(path)
    assert path.stat().st_size < 10_000
    output = ok(demo, "import", "projects", str(path), "--as", OFFICE_HEAD, "--at", AT)
    assert "1 projects imported" in output


def test_a_hidden_first_sheet_is_not_used_silently(demo: str, tmp_path: Path) -> None:
    book = Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.title = "草稿"
    hidden.append(HEADER)
    hidden.append(ROW)
    hidden.sheet_state = "hidden"
    book.create_sheet("台账").append(HEADER)
    path = tmp_path / "hidden.xlsx"
    book.save(path)
    output = refused(demo, "import", "projects", str(path), "--as", OFFICE_HEAD)
    assert f"{path}: the first sheet, '草稿', is hidden: put the register in the first sheet" in output


def test_a_csv_field_past_the_csv_limit_is_named(demo: str, tmp_path: Path) -> None:
    path = register(tmp_path / "long.csv", ROW, [*ROW[:1], "乙村" * 70_000, *ROW[2:]])
    assert f"{path}: row 3: not readable as CSV (field larger than field limit" in refused(
        demo, "import", "projects", str(path), "--as", OFFICE_HEAD
    )


def test_register_dates_are_exactly_year_month_day(demo: str, tmp_path: Path) -> None:
    path = register(
        tmp_path / "dates.csv",
        [*ROW[:10], "20261205", "2027-05-31"],
        [*ROW[:1], "乙村", *ROW[2:10], "2026-W49-1", "2027-05-31"],
    )
    output = refused(demo, "import", "projects", str(path), "--as", OFFICE_HEAD)
    assert f"{path}: row 2, field planned_start: not a date (YYYY-MM-DD): '20261205'" in output
    assert f"{path}: row 3, field planned_start: not a date (YYYY-MM-DD): '2026-W49-1'" in output


def test_invisible_characters_and_other_spellings_cannot_make_two_villages_look_alike(
    demo: str, tmp_path: Path
) -> None:
    decomposed = "Cafe\u0301村"  # "Café村" with the accent as a separate mark: NFC makes it one
    path = register(
        tmp_path / "alike.csv",
        [*ROW[:1], "村1", *ROW[2:]],
        [*ROW[:1], "村\u200b1", *ROW[2:6], "13600000002", *ROW[7:]],
        [*ROW[:1], "Café村", *ROW[2:6], "13600000003", *ROW[7:]],
        [*ROW[:1], decomposed, *ROW[2:6], "13600000004", *ROW[7:]],
        [*ROW[:1], "村\u202e2", *ROW[2:6], "13600000005", *ROW[7:]],
    )
    output = refused(demo, "import", "projects", str(path), "--as", OFFICE_HEAD)
    assert f"{path}: row 3, field village: contains U+200B (ZERO WIDTH SPACE), which is not allowed" in output
    assert f"{path}: row 5, field village: duplicate village Café村 (also on row 4)" in output
    assert "row 6, field village: contains U+202E (RIGHT-TO-LEFT OVERRIDE)" in output


def test_data_is_printed_as_itself_never_as_markup(demo: str, tmp_path: Path) -> None:
    path = register(
        tmp_path / "markup.csv",
        [*ROW[:1], "[/]", *ROW[2:]],
        [*ROW[:1], "[link=https://example.org]假村[/link]", *ROW[2:6], "13600000002", *ROW[7:]],
    )
    ok(demo, "import", "projects", str(path), "--as", OFFICE_HEAD, "--at", AT)
    for args in (["projects"], ["board"], ["show", "[/]"], ["show", "[link=https://example.org]假村[/link]"]):
        output = ok(demo, *args, "--at", AT)
        assert "[/]" in output or "[link=https://example.org]假村[/link]" in output, args


def test_a_sparse_giant_evidence_file_is_refused_before_it_is_read(demo: str, tmp_path: Path) -> None:
    giant = tmp_path / "giant.png"
    with giant.open("wb") as out:
        out.truncate(3 * 1024**3)  # 3 GB of nothing, on disk as a hole
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    owner = str(order["responsible_person_id"])
    output = refused(
        demo, "orders", "respond", str(order["id"]), "--evidence", str(giant), "--as", owner, "--at", AT
    )
    assert (
        "evidence file 'giant.png' refused: the file is 3072 MB (3,221,225,472 bytes), over the 20 MB limit"
        in output
    )


def test_a_nul_byte_is_refused_the_same_way_on_both_databases(demo: str, tmp_path: Path) -> None:
    form = tmp_path / "form.yaml"
    ok(
        demo,
        "inspect",
        "new",
        "P008",
        "--template",
        "in-progress",
        "--inspector",
        INSPECTOR,
        "--out",
        str(form),
    )
    data = yaml.safe_load(form.read_text(encoding="utf-8"))
    for entry in data["results"].values():
        entry.update(passed=True, value=None)
    data["notes"] = "现场\x00检查"
    form.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    output = refused(demo, "inspect", "record", str(form), "--as", INSPECTOR, "--at", AT)
    assert (
        f"{form}:" in output
        and "notes: Value error, contains U+0000 (a control character), which is not allowed" in output
    )


def test_numbers_past_what_a_column_holds_are_refused(demo: str, tmp_path: Path) -> None:
    assert "Invalid value for 'ID'" in refused(
        demo, "inspect", "sign", "99999999999999999999", "--as", INSPECTOR
    )
    assert "no programme '99999999999999999999'" in refused(
        demo, "spotcheck", "draw", "--programme", "99999999999999999999", "--count", "1", "--as", OFFICE_HEAD
    )
    form = tmp_path / "form.yaml"
    ok(
        demo,
        "inspect",
        "new",
        "P008",
        "--template",
        "in-progress",
        "--inspector",
        INSPECTOR,
        "--out",
        str(form),
    )
    text = form.read_text(encoding="utf-8")
    for wrong in (
        "template_version: 1e999999999",
        "template_version: true",
        "template_version: 9999999999999",
    ):
        form.write_text(text.replace("template_version: 1", wrong), encoding="utf-8")
        assert "template_version" in refused(
            demo, "inspect", "record", str(form), "--as", INSPECTOR, "--at", AT
        )
    data = yaml.safe_load(text)
    key = next(k for k, v in data["results"].items() if "value" in v)
    data["results"][key]["value"] = "1e999999999"
    form.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert "not a measurement: '1e999999999'" in refused(
        demo, "inspect", "record", str(form), "--as", INSPECTOR, "--at", AT
    )


def test_times_that_are_empty_or_out_of_range_are_refused(demo: str) -> None:
    assert refused(demo, "projects", "--at", "") == (
        "error: --at is empty: give a date or time (2026-12-10, 2026-12-10T09:00+08:00)\n"
    )
    assert "9999-12-31 is outside the years ducha works in (2004–2028)" in refused(
        demo, "sweep", "--at", "9999-12-31"
    )
    assert "1999-01-01 is outside the years ducha works in" in refused(demo, "board", "--at", "1999-01-01")


def test_a_blank_checklist_never_overwrites_a_file_unless_told(demo: str, tmp_path: Path) -> None:
    form = tmp_path / "form.yaml"
    form.write_text("my notes\n", encoding="utf-8")
    blank = ["inspect", "new", "P008", "--template", "in-progress"]
    assert f"--out {form} exists: give --force to overwrite it" in refused(demo, *blank, "--out", str(form))
    assert form.read_text(encoding="utf-8") == "my notes\n"
    ok(demo, *blank, "--out", str(form), "--force")
    assert form.read_text(encoding="utf-8").startswith("# 督查")
    assert "is a folder" in refused(demo, *blank, "--out", str(tmp_path))
    assert "does not exist" in refused(demo, *blank, "--out", str(tmp_path / "nowhere" / "f.yaml"))


def test_a_damaged_database_file_is_one_clear_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(5000))
    code, output = run(f"sqlite:///{garbage}", "projects")
    assert code == 2 and "is not a SQLite database (or it is damaged)" in output
    missing = tmp_path / "nowhere" / "ducha.db"
    code, output = run(f"sqlite:///{missing}", "projects")
    assert code == 2 and "run `ducha init`" in output
    assert not missing.parent.exists()  # a read never makes a database file or folder
    for url, message in (
        ("mysql://h/db", "not 'mysql'"),
        ("", "is empty"),
        ("garbage", "not a database URL"),
    ):
        code, output = run(url, "projects")
        assert code == 2 and message in output, url


def test_an_ordinary_photo_still_goes_in(demo: str, tmp_path: Path) -> None:
    """The checks above refuse what is wrong, not what an inspector's phone makes."""
    fix = tmp_path / "fix.png"
    fix.write_bytes(photo("fixed", 5))
    order = js(demo, "orders", "--open", "--at", AT)["data"][0]
    ok(
        demo,
        "orders",
        "respond",
        str(order["id"]),
        "--evidence",
        str(fix),
        "--as",
        str(order["responsible_person_id"]),
        "--at",
        AT,
    )
    assert json.loads(ok(demo, "orders", "--json", "--at", AT))["data"][0]["status"] == "responded"


@pytest.mark.parametrize("command", [["projects"], ["board"], ["alerts"], ["deadlines"], ["orders"]])
def test_read_commands_never_write(demo: str, command: list[str]) -> None:
    before = counts(demo)
    ok(demo, *command)
    assert counts(demo) == before
