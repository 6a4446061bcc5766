"""The fund ledger as the office, a project's people and auditors use it, on the demo (both backends)."""

import csv
import io
import json
import re
from pathlib import Path

from openpyxl import load_workbook

from tests.integration.conftest import DEMO_OFFICE, js, ok, run

AT = "2026-12-10T10:00+08:00"


def quiet_project(url: str) -> tuple[str, str, str]:
    """The demo's project still proposed: allocated, nothing disbursed; its code, specialist and leader."""
    row = js(url, "projects", "--stage", "proposed", "--at", AT)["data"][0]
    return row["code"], row["specialist_phone"], row["leader_phone"]


def funds(url: str, *args: str, actor: str = DEMO_OFFICE) -> tuple[int, str]:
    return run(url, "funds", *args, "--as", actor, "--at", AT)


def test_the_demo_ledger_verifies_and_adds_up_to_the_budget(demo: str) -> None:
    output = ok(demo, "audit", "verify")
    assert "audit verify: " in output and "entries, verified" in output
    assert "latest signed checkpoint:\nducha/programme/1\n" in output
    assert "\n— ducha-demo-office " in output
    summary = js(demo, "audit", "summary")
    by_fund = {f["fund"]: f for f in summary["funds"]}
    assert by_fund["upper"]["position"]["allocated_fen"] == 168_460_000
    assert by_fund["district"]["position"]["allocated_fen"] == 16_240_000
    assert by_fund["upper"]["received_fen"] + by_fund["district"]["received_fen"] == 184_700_000
    per_project = {(p["project"], p["fund"]): p["position"]["allocated_fen"] for p in summary["projects"]}
    assert len(per_project) == 100
    assert {v for (_, fund), v in per_project.items() if fund == "upper"} == {3_369_200}
    assert {v for (_, fund), v in per_project.items() if fund == "district"} == {324_800}


def test_the_demo_holds_its_planted_problems(demo: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(demo)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT e.kind, e.category, e.override, e.amount_fen, v.name, v.small_firm, e.occurred_at, "
                "e.seq FROM journal_entry e LEFT JOIN vendor v ON v.id = e.vendor_id ORDER BY e.seq"
            )
        ).all()
        paid = connection.execute(
            text("SELECT payable_seq FROM journal_entry WHERE payable_seq IS NOT NULL")
        ).all()
    engine.dispose()
    assert sum(1 for r in rows if r.override) >= 1  # the overspend the office let through
    assert [r.category for r in rows if r.kind == "spend" and r.category == "hospitality"] == ["hospitality"]
    windows = [
        r for r in rows if r.kind == "spend" and r.name == "安居门窗厂" and r.amount_fen in (560_000, 520_000)
    ]
    assert len(windows) == 2 and sum(r.amount_fen for r in windows) > 1_000_000
    late = [r for r in rows if r.kind == "payable" and r.small_firm]
    assert len(late) == 1 and late[0].seq not in {p[0] for p in paid}


def test_a_project_spends_commits_pays_and_corrects(demo: str) -> None:
    code, specialist, leader = quiet_project(demo)
    common = ("--fund", "upper")
    refused, output = funds(
        demo,
        "spend",
        code,
        *common,
        "--amount",
        "2000",
        "--category",
        "construction",
        "--voucher",
        "V1",
        "--op-id",
        "t-spend-0",
        actor=specialist,
    )
    assert refused == 2 and f"more than its bank account upper/bank/{code} holds (0.00)" in output
    assert "t-spend-0" not in output
    line = ok(
        demo,
        "funds",
        "disburse",
        code,
        *common,
        "--amount",
        "10000",
        "--as",
        DEMO_OFFICE,
        "--op-id",
        "t-disburse",
        "--at",
        AT,
    )
    assert f"disburse 10,000.00 upper {code}" in line
    again = ok(
        demo,
        "funds",
        "disburse",
        code,
        *common,
        "--amount",
        "10000",
        "--as",
        DEMO_OFFICE,
        "--op-id",
        "t-disburse",
        "--at",
        AT,
    )
    assert again.split(";")[0] == line.split(";")[0] and "(already recorded: nothing new)" in again
    code_, output = funds(demo, "disburse", code, *common, "--amount", "11000", "--op-id", "t-disburse")
    assert (
        code_ == 2
        and "--op-id 't-disburse' was recorded as entry" in output
        and "with amount 1000000" in output
    )
    assert "this request has 1100000" in output
    assert ok(
        demo,
        "funds",
        "spend",
        code,
        *common,
        "--amount",
        "2000",
        "--category",
        "construction",
        "--voucher",
        "V1",
        "--vendor",
        "测试建材店",
        "--as",
        specialist,
        "--op-id",
        "t-spend-1",
        "--at",
        AT,
    )
    code_, output = funds(
        demo,
        "spend",
        code,
        *common,
        "--amount",
        "12000",
        "--category",
        "construction",
        "--voucher",
        "V2",
        "--op-id",
        "t-spend-2",
        actor=specialist,
    )
    assert (
        code_ == 2 and "at or above the approval threshold 10,000.00: commit it with --approved-by" in output
    )
    code_, output = funds(
        demo,
        "commit",
        code,
        *common,
        "--amount",
        "6000",
        "--category",
        "construction",
        "--vendor",
        "测试建筑公司",
        "--approved-by",
        specialist,
        "--op-id",
        "t-commit-self",
        actor=specialist,
    )
    assert code_ == 2 and "cannot approve a payment they record" in output
    committed = ok(
        demo,
        "funds",
        "commit",
        code,
        *common,
        "--amount",
        "6000",
        "--category",
        "construction",
        "--vendor",
        "测试建筑公司",
        "--approved-by",
        leader,
        "--as",
        specialist,
        "--op-id",
        "t-commit",
        "--at",
        AT,
    )
    found = re.search(r"entry (\d+): commit 6,000.00", committed)
    assert found is not None, committed
    seq = found.group(1)
    paid = ok(demo, "funds", "pay", seq, "--as", specialist, "--op-id", "t-pay", "--at", AT)
    assert f"pay 6,000.00 upper {code}" in paid
    code_, output = funds(demo, "pay", seq, "--op-id", "t-pay-2", actor=specialist)
    assert code_ == 2 and f"entry {seq} (commit) was already settled by entry" in output
    code_, output = funds(demo, "void", seq, "--reason", "x", "--op-id", "t-void")
    assert code_ == 2 and "already settled" in output
    code_, output = funds(
        demo,
        "spend",
        code,
        *common,
        "--amount",
        "9000",
        "--category",
        "construction",
        "--voucher",
        "V3",
        "--override-reason",
        "急需",
        "--op-id",
        "t-override",
        actor=specialist,
    )
    assert code_ == 2 and "is not office: cannot override an allocation limit" in output
    spent = js(demo, "funds", "balances", "--project", code)["data"]
    before = {row["account"]: row["balance_fen"] for row in spent}
    assert before[f"upper/bank/{code}"] == 1_000_000 - 200_000 - 600_000
    assert before[f"upper/expense/{code}/construction"] == 800_000
    first_spend = js(demo, "audit", "trail", code)["data"]
    spend_seq = next(row["seq"] for row in first_spend if row["kind"] == "spend")
    assert ok(
        demo,
        "funds",
        "reverse",
        str(spend_seq),
        "--reason",
        "重复录入",
        "--as",
        DEMO_OFFICE,
        "--op-id",
        "t-reverse",
        "--at",
        AT,
    )
    after = {
        row["account"]: row["balance_fen"] for row in js(demo, "funds", "balances", "--project", code)["data"]
    }
    assert after[f"upper/bank/{code}"] == 400_000 and after[f"upper/expense/{code}/construction"] == 600_000
    earlier = js(demo, "funds", "balances", "--project", code, "--at", "2026-12-01")["data"]
    assert f"upper/bank/{code}" not in {row["account"] for row in earlier}
    assert ok(demo, "audit", "verify").count("verified") == 1


def test_the_trail_opens_in_a_spreadsheet(demo: str, tmp_path: Path) -> None:
    code, _, _ = quiet_project(demo)
    text_ = ok(demo, "audit", "trail", code, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text_)))
    assert {row["kind"] for row in rows} == {"allocate"}
    assert {row["amount"] for row in rows} == {"33692.00", "3248.00"}
    assert all(len(row["entry_hash"]) == 64 for row in rows)
    ok(demo, "audit", "trail", code, "--format", "xlsx", "--out", str(tmp_path / "trail.xlsx"))
    sheet = load_workbook(tmp_path / "trail.xlsx").active
    assert sheet is not None
    values = list(sheet.values)
    assert values[0][:4] == ("entry", "occurred_at", "recorded_at", "kind") and len(values) == len(rows) + 1
    data = json.loads(ok(demo, "audit", "trail", code, "--json"))["data"]
    assert [row["amount_fen"] for row in data] == [3_369_200, 324_800]


def test_the_offline_verifier_accepts_an_export_and_rejects_a_hand_edited_one(
    demo: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    out = tmp_path / "export"
    assert "exported " in ok(demo, "audit", "export", "--out", str(out))
    alone = tmp_path / "auditor"  # the auditor's own machine: the export, no ducha
    alone.mkdir()
    env = {"PATH": os.environ["PATH"], "PYTHONNOUSERSITE": "1"}

    def check(folder: Path) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-I", str(folder / "verify_trail.py"), str(folder)],
            cwd=alone,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done.returncode, done.stdout

    code, output = check(out)
    assert code == 0 and output.startswith("OK: ") and "inclusion proofs hold" in output
    lines = (out / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[7])
    edited["amount"] += 100
    lines[7] = json.dumps(edited, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    (out / "entries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = check(out)
    assert code == 1 and output.startswith("FAILED: entry 8: does not follow entry 7"), output


def test_an_export_that_cannot_be_written_says_where_and_leaves_nothing_behind(
    demo: str, tmp_path: Path
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("kept\n", encoding="utf-8")
    signed = ok(demo, "audit", "checkpoint")  # every entry covered: an export signs nothing more
    assert "nothing signed" in signed
    before = sorted(p.name for p in tmp_path.iterdir())
    for out, said in (
        (a_file, "a file, not a folder"),
        (a_file / "export", "cannot be written"),  # its parent is a file: no folder can be made there
        (tmp_path / "made" / "on the way", None),  # the folders made for it go when the programme is refused
    ):
        code, output = run(
            demo, "audit", "export", "--out", str(out), *([] if said else ["--programme", "nosuch"])
        )
        assert code == 2 and "Traceback" not in output, output
        assert f"error: {out}: {said}" in output if said else "no programme 'nosuch'" in output, output
        assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert a_file.read_text(encoding="utf-8") == "kept\n"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("x", encoding="utf-8")
    code, output = run(demo, "audit", "export", "--out", str(tmp_path / "full"))
    assert code == 2 and "the folder is not empty" in output
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["mine.txt"]


def test_the_facts_audit_rules_read(demo: str) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from ducha.db import make_engine
    from funds.reads import entry_facts
    from workflows.programmes import find_programme

    engine = make_engine(demo)
    with Session(engine) as session:
        programme = find_programme(session=session, ref=None)
        facts = entry_facts(session=session, programme=programme).all()
        outside = [f for f in facts if f.category is not None and f.earmarked is False]
        late = entry_facts(
            session=session, programme=programme, until=datetime(2026, 11, 10, tzinfo=UTC)
        ).all()
    engine.dispose()
    assert [(f.kind, f.category, f.fund, f.amount_fen) for f in outside] == [
        ("spend", "hospitality", "district", 128_000)
    ]
    assert [(f.kind, f.vendor, f.small_firm) for f in late if f.kind == "payable"] == [
        ("payable", "精准测绘设计工作室", True)
    ]
    assert [f.seq for f in facts] == list(range(len(facts)))
    assert all(len(f.entry_hash) == 64 for f in facts)
