"""The auditor's views on the web: a programme's money by source, a project's trail, the latest signed
checkpoint and the ledger verified now; the same numbers as the CLI's, to the fen; nothing for a login
that sees only some projects."""

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.integration.conftest import ok
from tests.integration.web.conftest import Web


def test_the_funds_page_shows_every_source_and_the_ledger_verified(
    web: Web, as_role: Callable[[str], TestClient]
) -> None:
    auditor = as_role("auditor")
    summary = json.loads(ok(web.url, "audit", "summary", "--json", "--at", "2027-01-04T09:00+08:00"))
    answer = auditor.get("/funds")
    assert answer.status_code == 200, answer.text[:300]
    body = answer.text
    assert "<svg" in body and body.count('class="b-spent"') == len(summary["funds"])
    for fund in summary["funds"]:
        row = re.search(rf'<tr data-fund="{fund["fund"]}">(.*?)</tr>', body, re.S)
        assert row, fund["fund"]
        spent = fund["position"]["spent_fen"]
        assert f"{spent // 100:,}.{spent % 100:02d}" in row.group(1)
    projects = {row["project"] for row in summary["projects"]}
    assert projects and all(f'href="/projects/{code}/trail"' in body for code in projects)
    assert 'hx-get="/ledger/verify"' in body and 'hx-trigger="load"' not in body  # read the ledger when asked
    verified = auditor.get("/ledger/verify")
    assert verified.status_code == 200 and 'data-verified="ok"' in verified.text, verified.text[:500]


def test_the_api_answers_the_clis_numbers(web: Web, as_role: Callable[[str], TestClient]) -> None:
    at = "2027-01-04T09:00+08:00"
    auditor = as_role("auditor")
    cli_summary = json.loads(ok(web.url, "audit", "summary", "--json", "--at", at))
    api_summary = auditor.get("/api/v1/programmes/1/funds").json()
    assert [f["position"] for f in api_summary["funds"]] == [f["position"] for f in cli_summary["funds"]]
    assert [(p["project"], p["position"]) for p in api_summary["projects"]] == [
        (p["project"], p["position"]) for p in cli_summary["projects"]
    ]
    cli_trail = json.loads(ok(web.url, "audit", "trail", "P001", "--json", "--at", at))
    rows = cli_trail["data"] if isinstance(cli_trail, dict) else cli_trail
    page = auditor.get("/api/v1/projects/P001/trail?limit=500").json()
    assert page["count"] == len(rows) == len(page["data"]) > 0
    assert [(r["seq"], r["balance_fen"], r["entry_hash"]) for r in page["data"]] == [
        (r["seq"], r["balance_fen"], r["entry_hash"]) for r in rows
    ]
    second = auditor.get("/api/v1/projects/P001/trail?limit=1&offset=1").json()
    assert second["data"] == page["data"][1:2] and second["count"] == page["count"]
    checkpoint = auditor.get("/api/v1/programmes/1/checkpoint").json()
    verified = auditor.get("/api/v1/ledger/verify").json()
    assert verified["ok"] and verified["problems"] == []
    assert checkpoint["note"] in [log["latest_checkpoint"] for log in verified["logs"]]
    assert checkpoint["tree_size"] <= verified["entries"]


def test_a_changed_entry_shows_on_the_verify_fragment(web: Web, as_role: Callable[[str], TestClient]) -> None:
    engine = create_engine(web.url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            triggers = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='journal_line'")
            ).scalars()
            for name in list(triggers):
                connection.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            connection.execute(text("ALTER TABLE journal_line DISABLE TRIGGER USER"))
        connection.execute(
            text(
                "UPDATE journal_line SET amount_fen = amount_fen + 1 WHERE programme_id = 1 AND entry_seq = "
                "(SELECT min(entry_seq) FROM journal_line WHERE programme_id = 1 AND amount_fen > 0) "
                "AND amount_fen > 0"
            )
        )
    engine.dispose()
    fragment = as_role("auditor").get("/ledger/verify").text
    assert 'data-verified="bad"' in fragment and "entry" in fragment
    assert as_role("auditor").get("/api/v1/ledger/verify").json()["ok"] is False


def test_money_of_the_whole_programme_is_for_logins_that_see_it_all(
    as_role: Callable[[str], TestClient],
) -> None:
    for role in ("office", "leadership", "auditor", "admin"):
        assert as_role(role).get("/api/v1/programmes/1/funds").status_code == 200, role
    for role in ("leader", "specialist", "viewer"):
        client = as_role(role)
        for path in ("/funds", "/programmes/1/funds", "/ledger/verify", "/api/v1/programmes/1/funds",
                     "/api/v1/programmes/1/checkpoint", "/api/v1/ledger/verify"):  # fmt: skip
            assert client.get(path).status_code == 403, (role, path)
        assert 'href="/funds"' not in client.get("/todo").text
    specialist = as_role("specialist")  # P001's
    own = specialist.get("/projects/P001/trail")
    assert own.status_code == 200 and "data-seq=" in own.text and "/ledger/verify" not in own.text
    assert specialist.get("/api/v1/projects/P001/trail").json()["count"] > 0
    assert specialist.get("/projects/P002/trail").status_code == 404
    assert specialist.get("/api/v1/projects/P002/trail").status_code == 404


def test_an_auditor_runs_the_fund_audit_through_the_api_once(
    web: Web, as_role: Callable[[str], TestClient]
) -> None:
    from tests.integration.web.conftest import csrf

    auditor = as_role("auditor")
    ran = auditor.post("/api/v1/programmes/1/audit", headers={"X-CSRF-Token": csrf(auditor)})
    assert ran.status_code == 200, ran.text[:300]
    found = ran.json()["findings"]
    planted = {
        ("outside_earmark", "P017"),
        ("overspend", "P008"),
        ("split_payment", "P039"),
        ("late_payable", "P004"),
    }
    assert planted <= {(f["rule"], f["project"]) for f in found} and all(f["new"] for f in found)
    assert len(ran.json()["orders"]) == len([f for f in found if f["project"]])
    again = auditor.post("/api/v1/programmes/1/audit", headers={"X-CSRF-Token": csrf(auditor)}).json()
    assert not any(f["new"] for f in again["findings"]) and again["orders"] == []
    listed = auditor.get("/api/v1/programmes/1/audit/findings").json()
    assert listed["count"] == len(found) and {row["order_status"] for row in listed["data"]} == {"issued"}
    specialist = as_role("specialist")
    refused = specialist.post("/api/v1/programmes/1/audit", headers={"X-CSRF-Token": csrf(specialist)})
    assert refused.status_code in (403, 409) and "cannot run a fund audit" in refused.text


def test_the_trail_downloads_open_in_a_spreadsheet_with_the_apis_rows(
    as_role: Callable[[str], TestClient],
) -> None:
    import csv
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    auditor = as_role("auditor")
    page = auditor.get("/projects/P001/trail")
    assert 'href="/projects/P001/trail.xlsx"' in page.text and 'href="/projects/P001/trail.csv"' in page.text
    api = auditor.get("/api/v1/projects/P001/trail?limit=500").json()["data"]
    expected = [(r["seq"], Decimal(r["balance_fen"]).scaleb(-2), r["entry_hash"]) for r in api]
    assert expected

    answer = auditor.get("/projects/P001/trail.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="trail-P001-' in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())  # Excel reads the Chinese right
    lines = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(int(r["entry"]), Decimal(r["balance"]), r["entry_hash"]) for r in lines] == expected

    answer = auditor.get("/projects/P001/trail.xlsx")
    assert answer.status_code == 200 and "spreadsheetml" in answer.headers["content-type"]
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True)["trail"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    at = {name: header.index(name) for name in ("entry", "balance", "entry_hash")}
    got = [
        (r[at["entry"]], Decimal(str(r[at["balance"]])).quantize(Decimal("0.01")), r[at["entry_hash"]])
        for r in rows
    ]
    assert got == expected

    specialist = as_role("specialist")  # P001's, not P002's
    assert specialist.get("/projects/P001/trail.csv").status_code == 200
    for path in ("/projects/P002/trail.csv", "/projects/P002/trail.xlsx"):
        assert specialist.get(path).status_code == 404, path
