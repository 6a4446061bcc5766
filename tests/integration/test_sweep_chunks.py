"""The sweep counts kinds in chunks, so a sweep of many due deadlines never hits a parameter limit."""

import json

import pytest
from typer.testing import CliRunner

import workflows.sweep
from ducha.cli import app


def test_kind_counts_are_the_same_when_looked_up_in_small_chunks(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    env = {"DUCHA_DATABASE_URL": database_url}
    assert runner.invoke(app, ["demo"], env=env).exit_code == 0
    monkeypatch.setattr(workflows.sweep, "KIND_LOOKUP_CHUNK", 3)
    result = runner.invoke(app, ["sweep", "--json", "--at", "2027-01-04"], env=env)
    assert result.exit_code == 0, result.output
    swept = json.loads(result.output)
    assert swept["raised"] > 3 and sum(swept["by_kind"].values()) == swept["raised"]
    assert sum(swept["by_level"].values()) == swept["raised"]
