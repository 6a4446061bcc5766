"""The fund audit rules on the demo (both backends): exactly the planted problems, each rule on a case
made for it, reruns that add nothing, an office's own rules file, and a bad one refused."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from ducha.cli import app
from models import WorkflowEvent
from models.types import table_of
from tests.integration.conftest import DEMO_OFFICE, js, ok, run, runner

AUDITOR, LEADERSHIP = "13900000007", "13900000009"  # the demo's auditor and district leadership
AT = "2026-12-10T10:00+08:00"
LATER = "2026-12-14T09:00+08:00"
PLANTED = {
    ("outside_earmark", "P017"),
    ("overspend", "P008"),
    ("split_payment", "P039"),
    ("late_payable", "P004"),
}
# Approved projects of the demo with money in their bank accounts and no planted problem.
P5, P5_SPECIALIST, P6, P6_SPECIALIST = "P005", "13920000005", "P006", "13920000006"


def audit(url: str, at: str, env: dict[str, str | None] | None = None) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        app,
        ["audit", "run", "--as", AUDITOR, "--at", at, "--json"],
        env={"DUCHA_DATABASE_URL": url, **(env or {})},
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def findings(payload: dict[str, Any], *, new: bool | None = None) -> list[dict[str, Any]]:
    return [f for r in payload["runs"] for f in r["findings"] if new is None or f["new"] == new]


def entry(output: str) -> int:
    match = re.search(r"entry (\d+):", output)
    assert match, output
    return int(match.group(1))


def spend(url: str, project: str, actor: str, amount: str, op: str, at: str = AT, *extra: str) -> int:
    voucher = () if "--voucher" in extra else ("--voucher", f"记-{op}")
    return entry(
        ok(
            url,
            *("funds", "spend", project, "--fund", "upper", "--amount", amount, *voucher, *extra),
            *("--as", actor, "--op-id", op, "--at", at),
        )
    )


def crafted(url: str, at: str = LATER) -> set[tuple[str, str | None, str]]:
    """What a run after the planted problems were recorded finds new: (rule, project, subject)."""
    _, payload = audit(url, at)
    return {(f["rule"], f["project"], f["subject"]) for f in findings(payload, new=True)}


def test_the_demo_audit_finds_exactly_the_planted_problems_once(demo: str) -> None:
    code, payload = audit(demo, AT)
    assert code == 1
    found = findings(payload)
    assert {(f["rule"], f["project"]) for f in found} == PLANTED
    assert all(f["new"] for f in found)
    by_rule = {f["rule"]: f for f in found}
    late = by_rule["late_payable"]
    # Accepted 2026-11-07, due in 30 days (2026-12-07), 3 days late: 4,800.00 × 0.05 % × 3 = 7.20.
    assert (late["amount_fen"], late["detail"]["due"], late["detail"]["days_late"]) == (
        480_000,
        "2026-12-07",
        3,
    )
    assert late["detail"]["interest_fen"] == 720
    assert late["rule_effective"] == "2025-06-01"
    assert by_rule["overspend"]["amount_fen"] == 477_300 and len(by_rule["overspend"]["evidence"]) == 1
    assert (
        by_rule["split_payment"]["amount_fen"] == 1_080_000 and len(by_rule["split_payment"]["evidence"]) == 2
    )
    assert by_rule["outside_earmark"]["detail"] == {"category": "hospitality"}
    # Each finding is an order of the audit, to the project's specialist, with its notice queued.
    orders = [o for o in js(demo, "orders", "--at", AT)["data"] if o["origin"] == "fund_audit"]
    assert sorted((o["project_code"], o["item_key"]) for o in orders) == sorted((p, r) for r, p in PLANTED)
    assert {o["id"] for o in orders} == {f["order_id"] for f in found} == set(payload["runs"][0]["orders"])
    assert all(o["status"] == "issued" and o["due_at"] > "2026-12-10" for o in orders)
    notices = js(demo, "notices")["data"]
    for order in orders:
        told = [n for n in notices if n["key"].startswith(f"order:{order['id']}:")]
        assert told and all(n["subject"].startswith(f"【整改通知书】{order['project_code']} ") for n in told)
    # Again as of the same time, and as of a later day: the same findings, nothing new.
    for at in (AT, LATER):
        code, again = audit(demo, at)
        assert code == 1 and findings(again, new=True) == [] and again["runs"][0]["orders"] == []
        assert {(f["rule"], f["project"]) for f in findings(again)} == PLANTED
    assert len([o for o in js(demo, "orders", "--at", LATER)["data"] if o["origin"] == "fund_audit"]) == 4
    code, output = run(demo, "audit", "findings", "--json")
    assert code == 1  # open orders
    assert sorted((f["rule"], f["project"]) for f in json.loads(output)["findings"]) == sorted(PLANTED)


def test_a_clean_programme_has_no_findings(demo: str) -> None:
    # The demo before anything was planted: allocated, disbursed after each pre-review, spent within.
    code, payload = audit(demo, "2026-11-25T09:00+08:00")
    assert code == 0 and findings(payload) == []
    assert [o for o in js(demo, "orders", "--at", AT)["data"] if o["origin"] == "fund_audit"] == []


def test_outside_earmark_and_duplicate_numbers(demo: str) -> None:
    audit(demo, AT)
    car = spend(demo, P5, P5_SPECIALIST, "500", "t-car", AT, "--category", "vehicle", "--voucher", "记-T-1")
    first = spend(
        demo, P6, P6_SPECIALIST, "100", "t-dup-1", AT, "--category", "construction", "--voucher", "记-T-2"
    )
    second = spend(
        demo,
        P6,
        P6_SPECIALIST,
        "200",
        "t-dup-2",
        AT,
        "--category",
        "construction",
        "--voucher",
        "记-T-2",
        "--invoice",
        "FP-T-9",
    )
    third = spend(
        demo, P5, P5_SPECIALIST, "300", "t-dup-3", AT, "--category", "construction", "--invoice", "FP-T-9"
    )
    assert crafted(demo) == {
        ("outside_earmark", P5, f"entry {car}"),
        ("duplicate_document", P6, "voucher 记-T-2"),
        ("duplicate_document", P5, "invoice FP-T-9"),
    }
    payload = audit(demo, LATER)[1]
    dup = {f["subject"]: f["evidence"] for f in findings(payload) if f["rule"] == "duplicate_document"}
    assert dup == {"voucher 记-T-2": [first, second], "invoice FP-T-9": [second, third]}


def test_split_payments_within_the_window_only(demo: str) -> None:
    audit(demo, AT)
    seqs = [
        spend(
            demo,
            P5,
            P5_SPECIALIST,
            amount,
            f"t-split-{n}",
            at,
            "--category",
            "construction",
            "--vendor",
            "测试五金",
        )
        for n, (amount, at) in enumerate(
            (("4000", AT), ("4000", "2026-12-10T15:00+08:00"), ("3000", "2026-12-11T09:00+08:00"))
        )
    ]
    # Two payments to one vendor three days apart: outside the two-day window.
    for n, at in enumerate((AT, "2026-12-13T11:00+08:00")):
        spend(
            demo,
            P6,
            P6_SPECIALIST,
            "6000",
            f"t-apart-{n}",
            at,
            "--category",
            "construction",
            "--vendor",
            "测试建材",
        )
    assert crafted(demo) == {("split_payment", P5, f"{P5}/测试五金/{seqs[0]}")}
    split = next(f for f in findings(audit(demo, LATER)[1]) if f["subject"] == f"{P5}/测试五金/{seqs[0]}")
    assert split["evidence"] == seqs and split["amount_fen"] == 1_100_000


def test_overspend_and_allocation_against_the_budget(demo: str) -> None:
    audit(demo, AT)
    leader = js(demo, "projects", "--stage", "approved", "--at", AT)["data"]
    p10 = next(p for p in leader if p["code"] == "P010")
    commit = entry(
        ok(
            demo,
            "funds",
            "commit",
            "P010",
            "--fund",
            "upper",
            "--amount",
            "34000",
            "--category",
            "construction",
            "--vendor",
            "测试建设",
            "--approved-by",
            p10["leader_phone"],
            "--override-reason",
            "测试",
            "--as",
            DEMO_OFFICE,
            "--op-id",
            "t-over",
            "--at",
            AT,
        )
    )
    # An approved reclassification moves 1.00 of P005's allocation from upper to district money.
    moved = ("--from-fund", "upper", "--to-fund", "district", "--amount", "1", "--project", P5)
    approved = ("--approved-by", LEADERSHIP, "--reason", "测试", "--as", DEMO_OFFICE)
    ok(demo, "funds", "reclassify", *moved, *approved, "--op-id", "t-move", "--at", AT)
    assert crafted(demo) == {
        ("overspend", "P010", "P010/upper"),
        ("allocation_mismatch", None, "fund upper"),
        ("allocation_mismatch", None, "fund district"),
        ("allocation_mismatch", P5, f"{P5}/upper"),
        ("allocation_mismatch", P5, f"{P5}/district"),
    }
    payload = audit(demo, LATER)[1]
    over = next(f for f in findings(payload) if f["rule"] == "overspend" and f["project"] == "P010")
    assert (over["amount_fen"], over["evidence"]) == (3_400_000 - 3_369_200, [commit])
    whole = next(f for f in findings(payload) if f["subject"] == "fund district")
    assert (whole["amount_fen"], whole["order_id"]) == (100, None)  # the office answers: no order


def test_disbursed_before_pre_review_and_spending_after_closure(demo: str) -> None:
    audit(demo, AT)
    quiet = js(demo, "projects", "--stage", "proposed", "--at", AT)["data"][0]["code"]
    early = entry(
        ok(
            demo,
            "funds",
            "disburse",
            quiet,
            "--fund",
            "district",
            "--amount",
            "100",
            "--as",
            DEMO_OFFICE,
            "--op-id",
            "t-early",
            "--at",
            AT,
        )
    )
    # P005 closed at 11:00 (its event as the engine writes it), then money spent at 12:00.
    engine = create_engine(demo)
    with engine.begin() as connection:
        project_id = connection.exec_driver_sql("SELECT id FROM project WHERE code = 'P005'").scalar_one()
        connection.execute(
            insert(table_of(WorkflowEvent)).values(
                project_id=project_id,
                occurred_at=datetime(2026, 12, 10, 3, 0, tzinfo=UTC),
                actor_id=None,
                actor_name="test",
                from_stage="acceptance",
                to_stage="closed",
                reason="test",
                definition_version=2,
            )
        )
    engine.dispose()
    late = spend(
        demo, P5, P5_SPECIALIST, "100", "t-after", "2026-12-10T12:00+08:00", "--category", "construction"
    )
    assert crafted(demo) == {
        ("disbursed_before_pre_review", quiet, f"entry {early}"),
        ("spending_after_closure", P5, f"entry {late}"),
    }


def test_idle_money_is_what_the_summary_shows_idle(demo: str) -> None:
    # 2027-03-12 is more than 90 days after the demo's last movement: every bank balance is idle.
    at = "2027-03-12T09:00+08:00"
    payload = audit(demo, at)[1]
    idle = {
        (f["project"], f["fund"]): f["amount_fen"] for f in findings(payload) if f["rule"] == "idle_funds"
    }
    summary = js(demo, "audit", "summary", "--at", at)
    expected = {
        (p["project"], p["fund"]): p["position"]["idle_fen"]
        for p in summary["projects"]
        if p["position"]["idle_fen"] > 0
    }
    assert idle == expected and len(idle) > 10


def test_late_interest_counts_a_part_paid_late_up_to_its_day(demo: str) -> None:
    payable = next(f for f in findings(audit(demo, AT)[1]) if f["rule"] == "late_payable")["evidence"][0]
    ok(
        demo,
        "funds",
        "pay",
        str(payable),
        "--amount",
        "1000",
        "--voucher",
        "付-T-1",
        "--as",
        "13920000004",
        "--op-id",
        "t-part",
        "--at",
        "2026-12-12T10:00+08:00",
    )
    late = next(f for f in findings(audit(demo, "2026-12-15T09:00+08:00")[1]) if f["rule"] == "late_payable")
    # 1,000.00 paid 5 days late, 3,800.00 unpaid 8 days late: (100,000×5 + 380,000×8) × 5 / 10,000 fen.
    assert (late["amount_fen"], late["detail"]["days_late"]) == (380_000, 8)
    assert late["detail"]["interest_fen"] == 1_770


def test_an_office_rules_file_changes_a_threshold(demo: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - key: split_payment\n"
        "    title: 拆分支付\n"
        "    regulation: 本办规定：合计达到 12,000 元须审批\n"
        "    effective: 2026-01-01\n"
        "    severity: minor\n"
        "    params: {window_days: 2, threshold_yuan: '12000.00'}\n",
        encoding="utf-8",
    )
    code, payload = audit(demo, AT, env={"DUCHA_AUDIT_RULES": str(rules)})
    assert {(f["rule"], f["project"]) for f in findings(payload)} == PLANTED - {("split_payment", "P039")}
    split = next(r for r in payload["runs"][0]["rules"] if r["key"] == "split_payment")
    assert split["params"]["threshold_yuan"] == "12000.00" and split["source"] == str(rules)
    # The rules it does not name keep the shipped versions.
    assert (
        next(r for r in payload["runs"][0]["rules"] if r["key"] == "late_payable")["effective"]
        == "2025-06-01"
    )


def test_a_rules_file_with_a_bad_field_is_refused_naming_file_and_field(demo: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - key: idle_funds\n"
        "    title: 资金闲置\n"
        "    regulation: 本办规定\n"
        "    effective: 2026-01-01\n"
        "    severity: minor\n"
        "    params: {dayz: 60}\n",
        encoding="utf-8",
    )
    code, output = run(
        demo, "audit", "run", "--as", AUDITOR, "--at", AT, env={"DUCHA_AUDIT_RULES": str(rules)}
    )
    assert code == 2
    assert f"{rules}:7: rules[0].params.dayz: Extra inputs are not permitted" in output
    assert "Traceback" not in output
    rules.write_text(rules.read_text(encoding="utf-8").replace("idle_funds", "idle_money"), encoding="utf-8")
    code, output = run(
        demo, "audit", "run", "--as", AUDITOR, "--at", AT, env={"DUCHA_AUDIT_RULES": str(rules)}
    )
    assert code == 2 and f"{rules}:2: rules[0].key: unknown rule 'idle_money'" in output
    code, output = run(demo, "audit", "findings", "--json")
    assert code == 0 and json.loads(output)["findings"] == []  # nothing was written


def test_only_an_auditor_or_the_office_runs_an_audit(demo: str) -> None:
    code, output = run(demo, "audit", "run", "--as", P5_SPECIALIST, "--at", AT)
    assert code == 2 and "is not auditor or office: cannot run a fund audit" in output


def test_the_daily_job_audits_as_the_system_and_sends_the_checkpoints_to_the_auditors(
    demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ducha.scheduler import run_fund_audit_job

    monkeypatch.setenv("DUCHA_DATABASE_URL", demo)
    monkeypatch.setenv("DUCHA_NOW", AT)
    run_fund_audit_job()
    run_fund_audit_job()  # a second run the same day adds nothing
    orders = [o for o in js(demo, "orders", "--at", AT)["data"] if o["origin"] == "fund_audit"]
    assert sorted((o["project_code"], o["item_key"]) for o in orders) == sorted((p, r) for r, p in PLANTED)
    notices = js(demo, "notices")["data"]
    sent = [n for n in notices if n["template"] == "checkpoint"]
    latest = json.loads(ok(demo, "audit", "verify", "--json"))["logs"][0]
    assert sent and {n["person"] for n in sent} == {"审计员"}
    assert all(
        n["subject"].startswith(f"【资金台账签名检查点】{latest['origin']}：{latest['entries']} 条")
        for n in sent
    )
    assert len({n["key"].split(":person:")[0] for n in sent}) == 1  # one checkpoint, sent once
    code, output = run(demo, "notices", "show", str(sent[0]["id"]), "--json")
    assert code == 0 and latest["latest_checkpoint"].strip() in json.loads(output)["body_text"]


def test_two_audits_at_once_record_each_finding_once(demo: str, tmp_path: Path) -> None:
    from ducha.jobs import run_fund_audit
    from tests.integration.test_concurrency import at_once, context

    contexts = [context(demo, tmp_path), context(demo, tmp_path)]
    as_of = datetime(2026, 12, 10, 2, tzinfo=UTC)
    results = at_once(*(lambda one=one: run_fund_audit(one, as_of) for one in contexts))
    for one in contexts:
        one.dispose()
    assert sorted((r.new, r.orders) for r in results) == [(0, 0), (4, 4)]
    code, output = run(demo, "audit", "findings", "--json")
    assert sorted((f["rule"], f["project"]) for f in json.loads(output)["findings"]) == sorted(PLANTED)


def test_the_rules_bind_no_parameter_per_row_and_cost_the_same_whatever_they_find(demo: str) -> None:
    """Every query the rules run binds a handful of values (the programme, the day, a threshold, the
    kinds of entry), never one per entry or project; a run that records nothing runs the queries of
    a clean programme, and at most one more per rule that found something (its evidence)."""
    from sqlalchemy import event
    from sqlmodel import Session

    from ducha.db import make_engine
    from funds.audit_rules import RULE_KEYS, load_rules
    from models.calendar import WorkingCalendar
    from workflows.fund_audit import run_fund_audit

    engine, as_of = make_engine(demo), datetime(2026, 12, 10, 2, tzinfo=UTC)
    selects: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            selects.append(len(parameters or ()))

    def audited(at: datetime, recorded: int) -> list[int]:
        selects.clear()
        with Session(engine) as session:
            runs = run_fund_audit(
                session=session, now=at, calendar=WorkingCalendar.load(None), rules=load_rules(), actor=None
            )
            session.commit()
        assert sum(len(run.new) for run in runs) == recorded
        return list(selects)

    audited(as_of, 4)  # records the planted problems
    with_findings = audited(as_of, 0)
    clean = audited(datetime(2026, 11, 25, 1, tzinfo=UTC), 0)
    engine.dispose()
    assert len(clean) <= len(with_findings) <= len(clean) + len(RULE_KEYS)
    assert max(with_findings + clean) <= 16, (with_findings, clean)


def test_a_finding_put_right_clears_and_when_it_comes_back_is_found_again_with_a_new_order(demo: str) -> None:
    first = next(f for f in findings(audit(demo, AT)[1]) if f["rule"] == "overspend")
    (overridden,) = first["evidence"]
    amount = next(row for row in js(demo, "audit", "trail", "P008")["data"] if row["seq"] == overridden)
    # Put right: the payment beyond the allocation is reversed; the next audit no longer finds it.
    fix = ("--reason", "超支冲回", "--as", DEMO_OFFICE, "--op-id", "t-undo", "--at", "2026-12-10T11:00+08:00")
    ok(demo, "funds", "reverse", str(overridden), *fix)
    code, payload = audit(demo, "2026-12-11T09:00+08:00")
    assert ("overspend", "P008") not in {(f["rule"], f["project"]) for f in findings(payload)}
    assert payload["runs"][0]["cleared"] == [first["id"]] and findings(payload, new=True) == []
    recorded = {f["id"]: f for f in json.loads(run(demo, "audit", "findings", "--json")[1])["findings"]}
    assert recorded[first["id"]]["cleared_at"].startswith("2026-12-11T01:00")
    assert recorded[first["id"]]["occurrence"] == 1
    # Again a day later (nothing changed): nothing more cleared, nothing new.
    again = audit(demo, "2026-12-11T15:00+08:00")[1]["runs"][0]
    assert again["cleared"] == [] and [f for f in again["findings"] if f["new"]] == []
    # It comes back: the office lets the same payment through again; a new occurrence, a new order.
    yuan = f"{amount['amount_fen'] // 100}.{amount['amount_fen'] % 100:02d}"
    spend(
        demo, "P008", DEMO_OFFICE, yuan, "t-again", "2026-12-11T16:00+08:00",
        "--category", "construction", "--vendor", "测试建设", "--override-reason", "再次超支",
    )  # fmt: skip
    back = next(f for f in findings(audit(demo, "2026-12-12T09:00+08:00")[1]) if f["rule"] == "overspend")
    assert back["new"] and back["id"] != first["id"] and back["subject"] == first["subject"]
    assert back["order_id"] is not None and back["order_id"] != first["order_id"]
    orders = {o["id"]: o for o in js(demo, "orders", "--at", "2026-12-12T09:00+08:00")["data"]}
    assert orders[back["order_id"]]["project_code"] == "P008"
    assert orders[first["order_id"]]["status"] == "issued"  # the first order goes on through its own loop
    recorded = {f["id"]: f for f in json.loads(run(demo, "audit", "findings", "--json")[1])["findings"]}
    assert (recorded[back["id"]]["occurrence"], recorded[back["id"]]["cleared_at"]) == (2, None)
    # An audit as of a day before the reversal still finds the first one standing: nothing new, nothing
    # cleared (the first finding stays cleared as of the 11th).
    past = audit(demo, AT)[1]["runs"][0]
    assert [f for f in past["findings"] if f["new"]] == [] and past["cleared"] == []
    assert {(f["rule"], f["project"]) for f in past["findings"]} == PLANTED
