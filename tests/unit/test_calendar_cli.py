"""``ducha calendar check YEAR``: what it says, its JSON, and its exit codes, without a database."""

import json
from pathlib import Path

import chinese_calendar
from typer.testing import CliRunner, Result

from ducha.cli import app
from ducha.cli.calendar import calendar_app
from models.calendar import BUILTIN_DIR

runner = CliRunner()


def ducha(*args: str, holiday_dir: Path | None = None) -> Result:
    env = {"DUCHA_HOLIDAY_DIR": str(holiday_dir) if holiday_dir else None}
    return runner.invoke(app, ["calendar", *args], env=env)


def test_a_library_year_is_covered() -> None:
    result = ducha("check", "2026")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"2026: covered by chinese-calendar {chinese_calendar.__version__}, final",
        "  holidays: 33 days; adjusted working days: 6",
    ]


def test_2027_is_covered_by_the_provisional_built_in_file_as_json() -> None:
    result = ducha("check", "2027", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["covered"] is True
    assert payload["source"] == "holiday file"
    assert payload["file"] == str(BUILTIN_DIR / "2027.yaml")
    assert payload["provisional"] is True
    assert (payload["holiday_count"], payload["adjusted_working_day_count"]) == (13, 0)
    assert payload["warning"].startswith("2027 working days come from a provisional holiday file")
    assert payload["problem"] is None


def test_2027_as_text_shows_the_file_and_the_warning() -> None:
    result = ducha("check", "2027")
    assert result.exit_code == 0, result.output
    assert f"2027: covered by holiday file ({BUILTIN_DIR / '2027.yaml'}), provisional" in result.stdout
    assert "holidays: 13 days; adjusted working days: 0" in result.stdout
    assert "warning: 2027 working days come from a provisional holiday file" in result.stdout


def test_an_uncovered_year_is_a_finding_that_says_what_to_add() -> None:
    result = ducha("check", "2028")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "2028: not covered"
    assert "add 2028.yaml to DUCHA_HOLIDAY_DIR" in result.stdout
    as_json = ducha("check", "2028", "--json")
    assert as_json.exit_code == 1
    payload = json.loads(as_json.stdout)
    assert (payload["covered"], payload["source"], payload["file"]) == (False, None, None)
    assert payload["problem"].startswith("2028 is not covered by the working-day calendar")


def test_the_holiday_dir_from_the_environment_adds_a_year(tmp_path: Path) -> None:
    path = tmp_path / "2028.yaml"
    path.write_text("year: 2028\nprovisional: false\nsource: test\n", encoding="utf-8")
    result = ducha("check", "2028", "--json", holiday_dir=tmp_path)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["source"], payload["file"], payload["provisional"]) == ("holiday file", str(path), False)


def test_a_bad_holiday_file_is_bad_input_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "2028.yaml"
    path.write_text("year: 2028\nprovisional: false\nsource: test\ncolour: red\n", encoding="utf-8")
    result = ducha("check", "2026", holiday_dir=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{path}:4: colour: Extra inputs are not permitted"]


def test_a_missing_holiday_dir_is_bad_input(tmp_path: Path) -> None:
    result = ducha("check", "2026", holiday_dir=tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "not a directory of holiday files" in result.stderr


def test_a_year_that_is_not_a_number_is_bad_input() -> None:
    assert ducha("check", "twenty").exit_code == 2
    assert ducha("check", "0").exit_code == 2


def test_the_app_alone_runs_check_as_a_subcommand() -> None:
    result = runner.invoke(calendar_app, ["check", "2026"], env={"DUCHA_HOLIDAY_DIR": None})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2026: covered by chinese-calendar")
