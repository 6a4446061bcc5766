"""Files through the web: the calendar feed at its secret address, the ledger download (scoped), and a
register uploaded for import, all or nothing."""

import io
from typing import Any

import icalendar
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.integration.conftest import ok
from tests.integration.web.conftest import PHONES, Web, csrf

ADMIN = PHONES["admin"]


def _events(body: bytes) -> list[Any]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def _feed_path(web: Web, phone: str) -> str:
    url = ok(web.url, "users", "feed", phone, "--as", ADMIN).strip()
    return url[url.index("/calendar/") :]


def test_a_calendar_feed_holds_its_persons_deadlines_and_answers_304_when_unchanged(web: Web) -> None:
    path = _feed_path(web, PHONES["leader"])
    client = web.client()  # no login: the address is the key
    answer = client.get(path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    events = _events(answer.content)
    codes = {str(event["SUMMARY"]).split()[0] for event in events}
    assert codes and codes <= {"P001", "P002", "P003", "P004", "P005"}
    again = client.get(path, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_an_extension_moves_the_event_instead_of_adding_one(web: Web) -> None:
    path = _feed_path(web, PHONES["leader"])
    client = web.client()
    before = client.get(path)
    office = web.login("office")
    deadline = office.get("/api/v1/deadlines?overdue=true&project=P004").json()["data"][0]
    extended = office.post(
        f"/api/v1/deadlines/{deadline['id']}/extend",
        json={"to": "2027-01-29", "reason": "雨雪天气"},
        headers={"X-CSRF-Token": csrf(office)},
    )
    assert extended.status_code == 200
    after = client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    uid = f"deadline-{deadline['id']}@"
    old = [e for e in _events(before.content) if str(e["UID"]).startswith(uid)]
    new = [e for e in _events(after.content) if str(e["UID"]).startswith(uid)]
    assert len(old) == len(new) == 1 and int(new[0]["SEQUENCE"]) == int(old[0].get("SEQUENCE", 0)) + 1
    assert len(_events(after.content)) == len(_events(before.content))


def test_a_new_address_revokes_the_old_one(web: Web) -> None:
    old = _feed_path(web, PHONES["leader"])
    new = _feed_path(web, PHONES["leader"])
    client = web.client()
    assert client.get(old).status_code == 404 and client.get(new).status_code == 200
    assert client.get("/calendar/not-a-token-at-all-xxxxxxxx.ics").status_code == 404


def test_my_calendar_address_from_the_to_do_page(web: Web) -> None:
    leader = web.login("leader")
    shown = leader.post("/calendar/new", data={"csrf_token": csrf(leader)})
    assert shown.status_code == 200
    url = shown.text.split("<code>")[1].split("</code>")[0]
    assert web.client().get(url[url.index("/calendar/") :]).status_code == 200


def _ledger(client: TestClient) -> list[tuple[Any, ...]]:
    answer = client.get("/programmes/1/ledger.xlsx")
    assert answer.status_code == 200 and "spreadsheetml" in answer.headers["content-type"]
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True).worksheets[0]
    return [row for row in sheet.iter_rows(values_only=True)][1:]


def test_the_ledger_download_holds_what_the_login_sees(as_role: Any) -> None:
    assert len(_ledger(as_role("office"))) == 50
    town = _ledger(as_role("viewer"))
    assert len(town) == 8 and {row[0] for row in town} == {f"P00{n}" for n in range(1, 9)}


def test_a_register_uploaded_imports_all_or_nothing(web: Web, as_role: Any) -> None:
    office = as_role("office")
    ledger = office.get("/programmes/1/ledger.xlsx").content
    budget = ["--budget", "upper=1684600=上级资金", "--budget", "district=162400=区级资金"]
    ok(web.url, "programmes", "create", "第二批", "--district", "示范区", *budget, "--as", PHONES["office"])
    form = office.get("/programmes/第二批/import")
    assert form.status_code == 200
    bad = (
        "town,village,leader,leader_phone,leader_email,specialist,specialist_phone,specialist_email,"
        "budget_upper,budget_district,planned_start,planned_finish\n"
        "城关镇,新村,甲,13811112222,,乙,13811113333,,abc,1,2027-01-01,2027-06-01\n"
    )
    refused = office.post(
        "/programmes/2/import",
        data={"csrf_token": csrf(office)},
        files={"file": ("bad.csv", bad.encode("utf-8"), "text/csv")},
    )
    assert refused.status_code == 422
    assert "bad.csv: row 2, field budget_upper: is not a number" in refused.text
    assert "/tmp" not in refused.text
    assert office.get("/api/v1/projects?programme=2").json()["count"] == 0
    done = office.post(
        "/programmes/2/import",
        data={"csrf_token": csrf(office)},
        files={"file": ("台账.xlsx", ledger, "application/octet-stream")},
    )
    assert done.status_code == 200 and "已导入 50 个项目" in done.text
    assert office.get("/api/v1/projects?programme=2").json()["count"] == 50
    specialist = as_role("specialist")
    assert specialist.get("/programmes/2/import").status_code == 403
