"""No query binds one parameter per project or per deadline.

SQLite allows 32,766 bound parameters in a statement and PostgreSQL 65,535; a query that binds a list
of ids that grows with the data works on the demo and fails for a province. Here SQLite's limit is
lowered to 40 on every connection, below the demo's 50 projects, and the commands an office runs
every day must still work: any per-project list of parameters would now fail at once.
"""

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from ducha.cli import app
from ducha.context import AppContext
from ducha.db import make_engine
from tests.integration.conftest import DEMO_OFFICE

LIMIT = 40  # bound parameters per statement: fewer than the demo's 50 projects
runner = CliRunner()


@pytest.fixture
def limited(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'limited.db'}")

    @event.listens_for(engine, "connect")
    def lower_the_limit(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, LIMIT)

    # Bulk inserts page their rows by the dialect's limit: tell it the one this database has.
    engine.dialect.insertmanyvalues_max_parameters = LIMIT  # type: ignore[attr-defined]
    return engine


def ducha(engine: Engine, *args: str) -> str:
    result = runner.invoke(app, list(args), obj=AppContext(_engine=engine))
    assert result.exit_code in (0, 1), result.output  # 1: a finding (something is late)
    return result.stdout  # standard error has a simulation's note about the write's simulated date


def test_the_limit_is_real(limited: Engine) -> None:
    with limited.connect() as connection:
        connection.execute(
            text("SELECT " + ", ".join(f":p{n}" for n in range(LIMIT))), {f"p{n}": n for n in range(LIMIT)}
        )
        with pytest.raises(OperationalError, match="too many SQL variables"):
            many = range(LIMIT + 1)
            connection.execute(
                text("SELECT " + ", ".join(f":p{n}" for n in many)), {f"p{n}": n for n in many}
            )


def test_every_day_commands_run_past_the_limit(limited: Engine) -> None:
    board = json.loads(ducha(limited, "demo", "--json"))
    assert board["project_count"] == 50 and len(board["projects"]) == 50
    assert len(json.loads(ducha(limited, "projects", "--json"))["data"]) == 50
    assert "P050" in ducha(limited, "board")
    assert json.loads(ducha(limited, "show", "P050", "--json"))["project"]["code"] == "P050"
    assert json.loads(ducha(limited, "programmes", "--json"))["data"][0]["projects"] == 50
    swept = json.loads(ducha(limited, "sweep", "--at", "2027-01-11", "--json"))
    assert swept["raised"] > LIMIT
    alerts = json.loads(ducha(limited, "alerts", "--json"))
    assert alerts["count"] == swept["raised"] and all(a["recipients"] for a in alerts["data"])
    assert "opened" in ducha(limited, "deadlines", "sync", "--at", "2027-01-11")
    assert len(json.loads(ducha(limited, "deadlines", "--json"))["data"]) > LIMIT
    draw = ["spotcheck", "draw", "--programme", "1", "--count", "45", "--seed", "1", "--as", DEMO_OFFICE]
    drawn = json.loads(ducha(limited, *draw, "--json"))
    assert len(drawn["data"]) == 45
    assert json.loads(ducha(limited, "orders", "--json"))["count"] > 0
    assert json.loads(ducha(limited, "inspections", "--json"))["count"] > LIMIT


def test_the_ledger_and_the_feeds_run_past_the_limit(limited: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    ducha(limited, "demo")
    ducha(limited, "deadlines", "sync", "--at", "2026-12-10")
    out = tmp_path / "ledger.xlsx"
    ducha(limited, "export", "ledger", "--out", str(out), "--at", "2026-12-10")
    assert load_workbook(out).worksheets[0].max_row == 1 + 50
    # The open exports: 50 projects, 246 accounts, 311 entries, none of them a bound list.
    package = tmp_path / "oc4ids.json"
    ducha(limited, "export", "oc4ids", "--out", str(package), "--at", "2026-12-10")
    assert len(json.loads(package.read_text(encoding="utf-8"))["projects"]) == 50
    bean = tmp_path / "ledger.beancount"
    ducha(limited, "audit", "export", "--format", "beancount", "--out", str(bean), "--at", "2026-12-10")
    assert bean.read_text(encoding="utf-8").count(" open ") > LIMIT
    everyone = json.loads(ducha(limited, "deadlines", "--json"))["count"]
    assert everyone > LIMIT
    # A leader's five projects, and the office's cadences: read by the person, never by a list of ids.
    leader = json.loads(ducha(limited, "calendar", "feed", "13910000002", "--at", "2026-12-10", "--json"))
    office = json.loads(ducha(limited, "calendar", "feed", DEMO_OFFICE, "--at", "2026-12-10", "--json"))
    assert leader["events"] > 0 and office["events"] == 4
