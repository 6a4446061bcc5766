"""What a person reads: tables that fit 80 columns without cutting a number, names told apart,
and the warnings a cron job must not miss."""

import csv
from pathlib import Path

from ducha.cli import app
from tests.integration.conftest import DEMO_OFFICE, ok, run, runner

AT = "2026-12-10T09:00+08:00"


def test_tables_fit_80_columns_and_never_cut_money(demo: str) -> None:
    for command in (["board"], ["projects"], ["orders"], ["deadlines"], ["programmes"]):
        # stdout: a warning on stderr is one line, however long, as every error line is
        result = runner.invoke(app, [*command, "--at", AT], env={"DUCHA_DATABASE_URL": demo, "COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.stdout.splitlines()) <= 80, command
    board = run(demo, "board", "--at", AT, env={"COLUMNS": "80"})[1]
    assert board.count("36,940.00") == 50 + 26  # every project, and again in the list of the unstarted
    assert "1,847,000.00" in board and "1,684,600.00" in board and "162,400.00" in board


def test_two_people_of_one_name_are_told_apart_by_phone(demo: str, tmp_path: Path) -> None:
    path = tmp_path / "namesakes.csv"
    header = [
        "town", "village", "leader", "leader_phone", "leader_email", "specialist", "specialist_phone",
        "specialist_email", "budget_upper", "budget_district", "planned_start", "planned_finish",
    ]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for village, phone in (("东村", "13600000001"), ("西村", "13600000002")):
            writer.writerow(["新镇", village, "赵领导", "13500000001", "", "王芳", phone, "", "1", "1",
                             "2026-12-01", "2027-05-31"])  # fmt: skip
    ok(demo, "import", "projects", str(path), "--as", DEMO_OFFICE, "--at", AT)
    listed = ok(demo, "projects", "--town", "新镇", "--at", AT)
    assert "王芳 (13600000001)" in listed and "王芳 (13600000002)" in listed
    assert "赵领导 (" not in listed  # one person, one name: no phone needed


def test_a_daily_job_that_leaves_a_period_out_exits_1(demo: str) -> None:
    code, output = run(demo, "deadlines", "sync", "--at", "2027-12-20")
    assert code == 1
    assert "calendar warning:" in output and "2028 is not covered" in output


def test_reads_that_use_a_provisional_year_say_so(demo: str) -> None:
    code, output = run(demo, "sweep", "--at", "2027-01-04")
    assert code == 0 and "2027 working days come from a provisional holiday file" in output
    code, output = run(demo, "alerts", "--at", "2027-01-04")
    assert code == 0 and "2027 working days come from a provisional holiday file" in output
    code, output = run(demo, "sweep", "--at", "2026-12-11")
    assert "provisional" not in output
