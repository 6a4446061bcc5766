"""The one place the CLI maps errors: a user's mistake is exit 2 with its lines, a bug is exit 3
with one line naming the log that holds the traceback, never a traceback on screen."""

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ducha.cli.common import DuchaGroup
from models.errors import NotFound, Problems, Refused

runner = CliRunner()
app = typer.Typer(cls=DuchaGroup)
failures: dict[str, Exception] = {
    "refused": Refused("P007: approved → closed refused: no transition"),
    "missing": NotFound("no project 'P999'"),
    "file": Problems(
        ["r.csv: row 2, field town: is empty", "r.csv: row 3, field village: is empty"], "nothing"
    ),
    "bug": ZeroDivisionError("division by zero"),
}


@app.command()
def fail(kind: str) -> None:
    """Raise the failure named ``kind``."""
    raise failures[kind]


@app.command()
def fine() -> None:
    """Succeed."""
    typer.echo("fine")


def test_a_refusal_is_one_error_line_and_exit_2() -> None:
    result = runner.invoke(app, ["fail", "refused"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        2,
        "",
        "error: P007: approved → closed refused: no transition\n",
    )


def test_located_problems_are_printed_as_they_are_with_their_summary() -> None:
    result = runner.invoke(app, ["fail", "file"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "r.csv: row 2, field town: is empty",
        "r.csv: row 3, field village: is empty",
        "nothing",
    ]


def test_a_bug_is_one_line_naming_the_log_and_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["fail", "bug"])
    assert result.exit_code == 3
    assert result.stderr == (
        "internal error: ZeroDivisionError: division by zero, details in ducha-errors.log\n"
    )
    assert "Traceback" not in result.output
    log = (tmp_path / "ducha-errors.log").read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in log and "raise failures[kind]" in log


def test_a_usage_error_stays_typers_own() -> None:
    result = runner.invoke(app, ["fail"])
    assert result.exit_code == 2 and "Missing argument" in result.output
    assert runner.invoke(app, ["fine"]).stdout == "fine\n"
