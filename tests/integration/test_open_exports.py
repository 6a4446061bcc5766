"""Exports others can check: the OC4IDS project package (against the standard's own schema and the four
extra checks of its review tool) and the ledger as a Beancount file (against bean-check, whose
arithmetic is a second implementation of ours), on the 50-village demo."""

import copy
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import DEMO_OFFICE, js, ok, run

AT = "2026-12-10"
OC4IDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "oc4ids"
PROJECT_SCHEMA_URL = "https://standard.open-contracting.org/infrastructure/schema/0__9__5/project-schema.json"
# What does not depend on the database (files, formats, messages) runs on SQLite alone.
SQLITE_ONLY = pytest.mark.parametrize("demo", ["sqlite"], indirect=True)
PREFIX = re.compile(r"oc4ids\-[a-z0-9]{6}.+$")  # the review tool's test of a project id


def oc4ids(url: str, out: Path, *more: str, env: dict[str, str | None] | None = None) -> dict[str, Any]:
    """``ducha export oc4ids``, read back with every number as the exact decimal written."""
    ok(url, "export", "oc4ids", "--out", str(out), "--at", AT, *more, env=env)
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"), parse_float=Decimal)
    return document


def schema_errors(document: Any) -> list[str]:
    """What the official OC4IDS 0.9.5 package schema says is wrong (formats checked too)."""
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    package = json.loads((OC4IDS / "project-package-schema.json").read_text(encoding="utf-8"))
    project = json.loads((OC4IDS / "project-schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(PROJECT_SCHEMA_URL, DRAFT4.create_resource(project))
    validator = Draft4Validator(package, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message[:120]}" for e in validator.iter_errors(document)]


def flat(item: Any, path: str = "") -> dict[str, Any]:
    """Every leaf (and empty container) by its JSON path, as the review tool flattens a package."""
    if isinstance(item, dict) and item:
        return {k: v for key, inner in item.items() for k, v in flat(inner, f"{path}/{key}").items()}
    if isinstance(item, list) and item:
        return {k: v for n, inner in enumerate(item) for k, v in flat(inner, f"{path}/{n}").items()}
    return {path: item}


def review_problems(document: dict[str, Any]) -> list[str]:
    """The review tool's extra checks: empty values, a currency on every amount, the project id prefix,
    and every organisation referenced being one of the project's parties."""
    leaves = flat(document)
    problems = [f"{path}: empty" for path, v in leaves.items() if v in ("", [], {}) or str(v).strip() == ""]
    problems += [
        f"{path}: no currency"
        for path in leaves
        if path.endswith("/amount") and path[: -len("amount")] + "currency" not in leaves
    ]
    for number, project in enumerate(document["projects"]):
        if not PREFIX.match(project["id"]):
            problems.append(f"/projects/{number}/id: {project['id']} has no registered prefix")
        parties = {party["id"]: party["name"] for party in project["parties"]}
        for path, reference in references(project):
            if parties.get(reference.get("id")) != reference.get("name"):
                problems.append(f"/projects/{number}{path}: {reference} is none of the parties")
    return problems


REFERENCE_KEYS = {
    "publicAuthority",
    "sourceParty",
    "payer",
    "payee",
    "procuringEntity",
    "administrativeEntity",
}


def references(item: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every OrganizationReference in a project, with its path."""
    found = []
    if isinstance(item, dict):
        for key, inner in item.items():
            if key in REFERENCE_KEYS:
                found.append((f"{path}/{key}", inner))
            elif key in ("suppliers", "tenderers"):
                found += [(f"{path}/{key}/{n}", ref) for n, ref in enumerate(inner)]
            else:
                found += references(inner, f"{path}/{key}")
    elif isinstance(item, list):
        for number, inner in enumerate(item):
            found += references(inner, f"{path}/{number}")
    return found


def amounts(item: Any) -> list[Decimal]:
    return [v for path, v in flat(item).items() if path.endswith("/amount")]


def fen(amount: Decimal) -> int:
    cents = amount * 100
    assert cents == cents.to_integral_value(), amount
    return int(cents)


@pytest.mark.skipif(not OC4IDS.is_dir(), reason="the OC4IDS schema is in ../shared/data/oc4ids (CI only)")
def test_the_demo_package_is_valid_oc4ids_and_clean_for_the_review_tool(demo: str, tmp_path: Path) -> None:
    package = oc4ids(demo, tmp_path / "oc4ids.json")
    assert schema_errors(package) == []
    assert review_problems(package) == []
    # The checks can fail: a project with an empty title, a stage the codelist lacks, an amount
    # without its currency, a payee nobody lists and an id without the prefix are all caught.
    broken = copy.deepcopy(package)
    project = broken["projects"][7]
    project["title"], project["status"] = "", "building"
    del project["budget"]["amount"]["currency"]
    project["contractingProcesses"][0]["summary"]["transactions"][0]["payee"]["id"] = "vendor-999"
    project["id"] = "P008"
    assert len(schema_errors(broken)) >= 2
    problems = review_problems(broken)
    assert any("/title: empty" in p for p in problems)
    assert any("/budget/amount/amount: no currency" in p for p in problems)
    assert any("vendor-999" in p for p in problems)
    assert any("/projects/7/id" in p for p in problems)


def test_the_package_has_a_project_per_village_with_its_budget_status_and_milestones(
    demo: str, tmp_path: Path
) -> None:
    out = tmp_path / "oc4ids.json"
    package = oc4ids(demo, out)
    projects = {p["id"].rsplit("-", 1)[1]: p for p in package["projects"]}
    assert len(projects) == 50 and sorted(projects) == [f"P{n:03d}" for n in range(1, 51)]
    assert all(p["id"].startswith("oc4ids-000000-") for p in package["projects"])
    # Amounts: JSON numbers with two decimals, as the fen they came from.
    text = out.read_text(encoding="utf-8")
    written = re.findall(r'"amount":(-?[0-9.eE+]+)', text)
    assert written and all(re.fullmatch(r"\d+\.\d{2}", number) for number in written)
    assert sum(fen(p["budget"]["amount"]["amount"]) for p in projects.values()) == 184_700_000
    for code, project in projects.items():
        budget = fen(project["budget"]["amount"]["amount"])
        breakdowns = {b["id"]: b["budgetBreakdown"] for b in project["budget"]["budgetBreakdowns"]}
        assert set(breakdowns) == {"fundingSource", "fiscalYear"}, code
        for parts in breakdowns.values():
            assert sum(fen(part["amount"]["amount"]) for part in parts) == budget, code
        assert [part["id"] for part in breakdowns["fundingSource"]] == ["upper", "district"]
    p008 = projects["P008"]
    assert p008["status"] == "implementation" and p008["title"] == "长青村村级组织活动场所"
    assert p008["locations"][0]["address"] == {
        "locality": "长青村",
        "countryName": "中国",
        "region": "城关镇",
    }
    roles = {party["id"]: party["roles"] for party in p008["parties"]}
    assert roles["office"] == ["publicAuthority"] and roles["audit"] == ["reviewBody"]
    assert roles["fund-upper"] == roles["fund-district"] == ["funder"]
    assert roles["village-10"] == ["payer"] and roles["vendor-5"] == ["supplier", "payee"]
    assert p008["period"] == {
        "startDate": "2026-12-01T00:00:00+08:00",
        "endDate": "2027-06-23T23:59:59+08:00",
    }
    statuses = {code: p["status"] for code, p in projects.items()}
    assert statuses["P012"] == "identification"  # proposed
    assert statuses["P038"] == "preparation"  # pre-review
    assert statuses["P027"] == statuses["P040"] == "implementation"  # suspended when approved; approved
    # Milestones from the deadlines: the overdue rectification not met, the completion scheduled.
    milestones = {m["title"]: (m["type"], m["status"]) for m in p008["milestones"]}
    assert milestones == {
        "P008 rectify earmark (critical)": ("assessment", "notMet"),
        "P008 全部完工 by 2027-06-30": ("delivery", "scheduled"),
    }
    assert "completion" not in p008


def test_the_package_money_is_the_ledger_money(demo: str, tmp_path: Path) -> None:
    package = oc4ids(demo, tmp_path / "oc4ids.json")
    summary = js(demo, "audit", "summary", "--at", AT)
    disbursed: dict[str, int] = {}
    paid: dict[str, int] = {}
    for row in summary["projects"]:
        position = row["position"]
        disbursed[row["project"]] = disbursed.get(row["project"], 0) + position["disbursed_fen"]
        paid[row["project"]] = paid.get(row["project"], 0) + position["spent_fen"] - position["owed_fen"]
    for project in package["projects"]:
        code = project["id"].rsplit("-", 1)[1]
        village = next(p["id"] for p in project["parties"] if p["id"].startswith("village-"))

        def signed(transaction: dict[str, Any], into: str) -> int:
            amount = fen(transaction["value"]["amount"])
            return amount if transaction["payee"]["id"] == into else -amount

        came = sum(signed(t, village) for t in project.get("transactions", []))
        assert came == disbursed.get(code, 0), code
        went = sum(
            -signed(t, village)
            for process in project.get("contractingProcesses", [])
            for t in process["summary"]["transactions"]
        )
        assert went == paid.get(code, 0), code
        assert all(
            t["payer"]["id"].startswith("fund-")
            for t in project.get("transactions", [])
            if t["payee"]["id"] == village
        )
    p008 = next(p for p in package["projects"] if p["id"].endswith("-P008"))
    vendors = [process["summary"]["suppliers"][0]["name"] for process in p008["contractingProcesses"]]
    assert "华建建筑工程有限公司" in vendors
    # P009's mistaken spend (entry 247) and its reversal (248) cancel out: neither is a payment; P024's
    # refund (254) is money its vendor paid back.
    p009, p024 = (
        next(p for p in package["projects"] if p["id"].endswith(code)) for code in ("-P009", "-P024")
    )
    payments = {
        t["id"] for process in p009["contractingProcesses"] for t in process["summary"]["transactions"]
    }
    assert not payments & {"247", "248"} and payments
    refund = next(
        t
        for process in p024["contractingProcesses"]
        for t in process["summary"]["transactions"]
        if t["id"] == "254"
    )
    assert refund["payee"]["id"].startswith("village-") and refund["payer"]["id"].startswith("vendor-")


@SQLITE_ONLY
def test_a_milestone_met_says_when_and_the_prefix_is_the_publishers(demo: str, tmp_path: Path) -> None:
    head = ("--as", DEMO_OFFICE, "--at")
    ok(demo, "document", "add", "P040", "construction_contract", *head, "2026-12-09T10:00")
    ok(demo, "advance", "P040", "in_construction", *head, "2026-12-09T11:00")
    env: dict[str, str | None] = {"DUCHA_OC4IDS_PREFIX": "oc4ids-x7k2qa-"}
    package = oc4ids(demo, tmp_path / "oc4ids.json", env=env)
    p040 = next(p for p in package["projects"] if p["id"] == "oc4ids-x7k2qa-1-P040")
    assert p040["status"] == "implementation"
    assert p040["implementationPeriod"] == {"startDate": "2026-12-09T00:00:00+08:00"}
    started = next(m for m in p040["milestones"] if m["title"] == "P040 全部开工 by 2026-12-31")
    assert (started["status"], started["dateMet"]) == ("met", "2026-12-09T11:00:00+08:00")
    # As of the day before, it was still to come, and so was the start.
    earlier = tmp_path / "earlier.json"
    ok(demo, "export", "oc4ids", "--out", str(earlier), "--at", "2026-12-08", env=env)
    p040 = next(p for p in json.loads(earlier.read_text())["projects"] if p["id"].endswith("-P040"))
    assert (
        next(m for m in p040["milestones"] if m["title"].startswith("P040 全部开工"))["status"] == "scheduled"
    )
    assert "implementationPeriod" not in p040
    # Stages as they were: P008 proposed on 5 November, P027 in pre-review on 20 November.
    ok(demo, "export", "oc4ids", "--out", str(earlier), "--at", "2026-11-05")
    statuses = {p["id"][-4:]: p["status"] for p in json.loads(earlier.read_text())["projects"]}
    assert statuses["P008"] == "identification" and len(statuses) == 50
    ok(demo, "export", "oc4ids", "--out", str(earlier), "--at", "2026-11-20")
    statuses = {p["id"][-4:]: p["status"] for p in json.loads(earlier.read_text())["projects"]}
    assert statuses["P027"] == "preparation" and statuses["P008"] == "preparation"
    # …and P008's rectification order was not issued yet: no deadline of it then.
    p008 = next(p for p in json.loads(earlier.read_text())["projects"] if p["id"].endswith("-P008"))
    assert [m["title"] for m in p008["milestones"]] == ["P008 全部完工 by 2027-06-30"]


@SQLITE_ONLY
def test_an_accepted_project_says_when_it_was_completed_and_what_it_cost(demo: str, tmp_path: Path) -> None:
    from tests.integration.test_inspection_loop import INSPECTOR_A, INSPECTOR_B, inspect

    ordered = {order["project_code"] for order in js(demo, "orders", "--open")["data"]}
    building = js(demo, "projects", "--stage", "in_construction")["data"]
    code = next(p["code"] for p in building if p["code"] not in ordered)
    head = ("--as", DEMO_OFFICE, "--at")
    ok(demo, "advance", code, "completed", *head, "2027-03-01T10:00")
    ok(demo, "document", "add", code, "completion_report", *head, "2027-03-01T11:00")
    ok(demo, "advance", code, "acceptance", *head, "2027-03-02T10:00")
    team = ["--inspector", INSPECTOR_A, "--inspector", INSPECTOR_B]
    inspect(
        demo,
        tmp_path,
        "acc",
        [code, "--template", "acceptance", *team],
        set(),
        "2027-03-03T10:00",
        INSPECTOR_B,
    )
    ok(demo, "advance", code, "accepted", *head, "2027-03-04T10:00")
    out = tmp_path / "oc4ids.json"
    ok(demo, "export", "oc4ids", "--out", str(out), "--at", "2027-03-05")
    package = json.loads(out.read_text(encoding="utf-8"), parse_float=Decimal)
    project = next(p for p in package["projects"] if p["id"].endswith(f"-{code}"))
    spent = sum(
        row["position"]["spent_fen"]
        for row in js(demo, "audit", "summary", "--at", "2027-03-05")["projects"]
        if row["project"] == code
    )
    assert project["status"] == "completion" and spent > 0
    assert project["completion"]["endDate"] == "2027-03-04T10:00:00+08:00"
    assert fen(project["completion"]["finalValue"]["amount"]) == spent
    assert project["completion"]["finalValue"]["currency"] == "CNY"
    assert project["implementationPeriod"]["endDate"] == "2027-03-01T23:59:59+08:00"
    if OC4IDS.is_dir():
        assert schema_errors(package) == [] and review_problems(package) == []
    # The day before it was accepted: no completion yet.
    ok(demo, "export", "oc4ids", "--out", str(out), "--at", "2027-03-03T12:00")
    project = next(p for p in json.loads(out.read_text())["projects"] if p["id"].endswith(f"-{code}"))
    assert project["status"] == "completion" and "completion" not in project


@SQLITE_ONLY
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(demo: str, tmp_path: Path) -> None:
    out = tmp_path / "oc4ids.json"
    cases = [
        (["--programme", "no such programme", "--out", str(out)], "no such programme"),
        (["--out", str(tmp_path / "missing" / "x.json")], "does not exist"),
        (["--out", str(tmp_path)], "is a folder"),
    ]
    for args, message in cases:
        code, output = run(demo, "export", "oc4ids", *args, "--at", AT)
        assert code == 2 and message in output and len(output.strip().splitlines()) == 1, output
    code, output = run(demo, "export", "oc4ids", "--out", str(out), env={"DUCHA_OC4IDS_PREFIX": "ocds-abc"})
    assert code == 2 and "DUCHA_OC4IDS_PREFIX" in output and len(output.strip().splitlines()) == 1, output
    # A folder nobody may write in, root included (tests may run as root in a container).
    code, output = run(demo, "export", "oc4ids", "--out", "/proc/ducha-oc4ids.json", "--at", AT)
    assert code == 2 and "/proc/ducha-oc4ids.json: cannot be written" in output, output
    assert len(output.strip().splitlines()) == 1 and not out.exists()


# --- the ledger as a Beancount file --------------------------------------------------------------


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    checker = Path(sys.executable).with_name("bean-check")
    return subprocess.run([str(checker), str(path)], capture_output=True, text=True, timeout=120, check=False)


def beancount_balances(path: Path) -> dict[str, int]:
    """Every account's balance in fen, as Beancount's own loader adds up the postings."""
    from beancount import loader
    from beancount.core.data import Transaction

    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    totals: dict[str, Decimal] = {}
    for entry in entries:
        if isinstance(entry, Transaction):
            for posting in entry.postings:
                units = posting.units
                assert units is not None and units.currency == "CNY" and isinstance(units.number, Decimal)
                totals[posting.account] = totals.get(posting.account, Decimal(0)) + units.number
    return {account: fen(total) for account, total in totals.items()}


def positions_from(
    balances: dict[str, int],
) -> tuple[dict[str, dict[str, int]], dict[tuple[str, str], dict[str, int]]]:
    """What ``ducha audit summary`` reports, recomputed from the Beancount balances alone."""
    funds: dict[str, dict[str, int]] = {}
    projects: dict[tuple[str, str], dict[str, int]] = {}
    for account, balance in balances.items():
        root, fund, *rest = account.split(":")
        fund = fund.lower()
        by_fund = funds.setdefault(fund, {"received_fen": 0, "pool_fen": 0})
        if root == "Income":
            by_fund["received_fen"] -= balance
            continue
        if rest == ["Pool"]:
            by_fund["pool_fen"] += balance
            continue
        project = rest[0] if root == "Expenses" else rest[1]
        kind = {"Income": "", "Expenses": "Expense", "Liabilities": "Payable", "Assets": rest[0]}[root]
        position = projects.setdefault(
            (project, fund),
            dict.fromkeys(("allocated", "disbursed", "reserved", "spent", "owed", "idle"), 0),
        )
        position["allocated"] += balance
        if kind != "Allocation":
            position["disbursed"] += balance
        position["reserved"] += balance if kind == "Reserved" else 0
        position["spent"] += balance if kind == "Expense" else 0
        position["owed"] -= balance if kind == "Payable" else 0
        position["idle"] += balance if kind == "Bank" else 0
    return funds, {key: {f"{k}_fen": v for k, v in p.items()} for key, p in projects.items()}


def test_the_beancount_ledger_passes_bean_check_and_adds_up_to_the_summary(demo: str, tmp_path: Path) -> None:
    out = tmp_path / "ledger.beancount"
    printed = ok(demo, "audit", "export", "--format", "beancount", "--out", str(out), "--at", AT)
    assert f"{out}: 311 entries in 246 accounts" in printed
    checked = bean_check(out)
    assert checked.returncode == 0 and checked.stdout.strip() == checked.stderr.strip() == "", checked
    text = out.read_text(encoding="utf-8")
    assert (
        len(re.findall(r"(?m)^\d{4}-\d\d-\d\d balance ", text)) == 436
        and "2026-12-01 balance Income:Upper:Source  -1684600.00 ~ 0 CNY" in text
    )
    summary = js(demo, "audit", "summary", "--at", AT)
    funds, projects = positions_from(beancount_balances(out))
    assert funds == {
        f["fund"]: {"received_fen": f["received_fen"], "pool_fen": f["pool_fen"]} for f in summary["funds"]
    }
    assert projects == {(p["project"], p["fund"]): p["position"] for p in summary["projects"]}
    # The same as standard output, and as of earlier: fewer entries, still balanced and checked.
    code, whole = run(demo, "audit", "export", "--format", "beancount", "--at", AT)
    assert code == 0 and whole == text
    earlier = tmp_path / "earlier.beancount"
    ok(demo, "audit", "export", "--format", "beancount", "--out", str(earlier), "--at", "2026-11-30")
    assert bean_check(earlier).returncode == 0 and "^e310" not in earlier.read_text(encoding="utf-8")


@SQLITE_ONLY
def test_bean_check_catches_a_changed_amount_and_a_wrong_balance(demo: str, tmp_path: Path) -> None:
    out = tmp_path / "ledger.beancount"
    ok(demo, "audit", "export", "--format", "beancount", "--out", str(out), "--at", AT)
    text = out.read_text(encoding="utf-8")
    posting = re.search(r"\n  (Assets:Upper:Bank:P008)  (-?\d+\.\d{2}) CNY\n", text)
    assert posting
    edited = tmp_path / "edited.beancount"
    edited.write_text(text.replace(posting.group(0), posting.group(0).replace(posting.group(2), "1.00"), 1))
    checked = bean_check(edited)
    assert checked.returncode != 0 and "does not balance" in checked.stdout + checked.stderr
    asserted = tmp_path / "asserted.beancount"
    asserted.write_text(
        text.replace("Income:Upper:Source  -1684600.00 ~", "Income:Upper:Source  -1684599.99 ~", 1)
    )
    checked = bean_check(asserted)
    assert (
        checked.returncode != 0
        and "Balance failed for 'Income:Upper:Source'" in checked.stdout + checked.stderr
    )


@SQLITE_ONLY
def test_bad_beancount_exports_are_one_line_and_exit_2(demo: str, tmp_path: Path) -> None:
    for args, message in [
        (["--format", "ledger"], "--format 'ledger': trail or beancount"),
        (["--format", "beancount", "--programme", "none such"], "none such"),
        (["--format", "beancount", "--out", "/proc/ducha.beancount"], "cannot be written"),
        ([], "--out: the folder to write the trail to"),
    ]:
        code, output = run(demo, "audit", "export", *args, "--at", AT)
        assert code == 2 and message in output and len(output.strip().splitlines()) == 1, output


# --- a project's trail as files a spreadsheet opens ----------------------------------------------


def trail_json(url: str, project: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = js(url, "audit", "trail", project, "--at", AT)["data"]
    return rows


def test_every_running_balance_adds_up_and_ends_at_the_summary(demo: str) -> None:
    summary = js(demo, "audit", "summary", "--at", AT)
    expected = {(p["project"], p["fund"]): p["position"] for p in summary["projects"]}
    for code in sorted({project for project, _ in expected}):
        balances: dict[str, int] = {}
        for row in trail_json(demo, code):
            balances[row["account"]] = balances.get(row["account"], 0) + row["amount_fen"]
            assert row["balance_fen"] == balances[row["account"]], (code, row["seq"])
        found: dict[str, dict[str, int]] = {}
        for account, balance in balances.items():
            fund, kind = account.split("/")[:2]
            position = found.setdefault(fund, dict.fromkeys(expected[(code, fund)], 0))
            position["allocated_fen"] += balance
            position["disbursed_fen"] += 0 if kind == "allocation" else balance
            position["reserved_fen"] += balance if kind == "reserved" else 0
            position["spent_fen"] += balance if kind == "expense" else 0
            position["owed_fen"] -= balance if kind == "payable" else 0
            position["idle_fen"] += balance if kind == "bank" else 0
        assert found == {fund: p for (project, fund), p in expected.items() if project == code}, code


@SQLITE_ONLY
@pytest.mark.parametrize("code", ["P004", "P008"])  # a late payable; a commitment, payments and a refund
def test_the_trail_opens_in_a_spreadsheet_with_money_as_numbers(demo: str, tmp_path: Path, code: str) -> None:
    from openpyxl import load_workbook

    rows = trail_json(demo, code)
    assert len(rows) >= 8 and any("/payable/" in r["account"] or r["kind"] == "pay" for r in rows)
    expected = [(r["seq"], r["account"], r["amount_fen"], r["balance_fen"], r["entry_hash"]) for r in rows]
    xlsx = tmp_path / "trail.xlsx"
    ok(demo, "audit", "trail", code, "--format", "xlsx", "--out", str(xlsx), "--at", AT)
    sheet = load_workbook(xlsx).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header[:8] == [
        "entry",
        "occurred_at",
        "recorded_at",
        "kind",
        "fund",
        "account",
        "amount",
        "balance",
    ]
    assert sheet.freeze_panes == "A2" and all(cell.font.bold for cell in sheet[1])
    money = [header.index("amount"), header.index("balance")]
    found = []
    for line in sheet.iter_rows(min_row=2):
        for column in money:
            assert isinstance(line[column].value, int | float) and line[column].number_format == "#,##0.00"
        values = [cell.value for cell in line]
        found.append(
            (values[0], values[5], fen(Decimal(str(values[6]))), fen(Decimal(str(values[7]))), values[-1])
        )
    assert found == expected
    csv_file = tmp_path / "trail.csv"
    ok(demo, "audit", "trail", code, "--format", "csv", "--out", str(csv_file), "--at", AT)
    raw = csv_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfentry,occurred_at,")  # the BOM: Excel reads it as UTF-8
    import csv

    lines = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert all(re.fullmatch(r"-?\d+\.\d{2}", line[key]) for line in lines for key in ("amount", "balance"))
    assert [
        (
            int(x["entry"]),
            x["account"],
            fen(Decimal(x["amount"])),
            fen(Decimal(x["balance"])),
            x["entry_hash"],
        )
        for x in lines
    ] == expected
    json_file = tmp_path / "trail.json"
    ok(demo, "audit", "trail", code, "--format", "json", "--out", str(json_file), "--at", AT)
    assert json.loads(json_file.read_text(encoding="utf-8"))["data"] == rows


@SQLITE_ONLY
def test_a_trail_file_that_cannot_be_written_is_one_line_and_exit_2(demo: str, tmp_path: Path) -> None:
    for fmt in ("csv", "xlsx", "json"):
        code, output = run(demo, "audit", "trail", "P008", "--format", fmt, "--out", f"/proc/trail.{fmt}")
        assert (
            code == 2
            and output.strip()
            == f"error: --out /proc/trail.{fmt}: cannot be written (No such file or directory)"
        ), output
    code, output = run(demo, "audit", "trail", "P008", "--format", "xlsx")
    assert code == 2 and "give --out FILE.xlsx" in output and len(output.strip().splitlines()) == 1


def test_a_milestone_as_of_a_past_day_is_due_when_it_was_then(demo: str, tmp_path: Path) -> None:
    """An extension recorded after ``--at`` had not moved the milestone yet: its due date and its
    status are the ones it had that day."""
    late = js(demo, "projects", "--stage", "approved", "--at", AT)["data"][0]["code"]
    start = next(
        d
        for d in js(demo, "deadlines", "--project", late)["data"]
        if d["subject"].startswith("milestone:start")
    )
    ok(demo, "deadlines", "extend", str(start["id"]), "--to", "2027-01-29", "--as", DEMO_OFFICE,
       "--reason", "征地延误,经批准延期", "--at", "2027-01-10")  # fmt: skip
    out = tmp_path / "oc4ids.json"

    def milestone(at: str) -> dict[str, Any]:
        ok(demo, "export", "oc4ids", "--out", str(out), "--at", at)
        project = next(p for p in json.loads(out.read_text())["projects"] if p["id"].endswith(f"-{late}"))
        found: dict[str, Any] = next(m for m in project["milestones"] if m["id"] == str(start["id"]))
        return found

    before = milestone("2027-01-05")
    assert (before["dueDate"], before["status"]) == ("2026-12-31T23:59:59+08:00", "notMet")
    after = milestone("2027-01-12")
    assert (after["dueDate"], after["status"]) == ("2027-01-29T23:59:59+08:00", "scheduled")
