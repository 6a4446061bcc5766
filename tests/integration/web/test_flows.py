"""The office's work through the web and the API: advancing a project, recording and signing a
checklist with photos, responding to an order and verifying it, acknowledging a notice, extending a
deadline; every write in the audit log; errors that name the field."""

import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from ducha.demo.inspections import photo
from tests.integration.conftest import js
from tests.integration.web.conftest import PHONES, Web, csrf

CHECKLISTS = Path(__file__).parents[3] / "inspections" / "checklist_templates"


def _audit(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT action, subject, status, before, after, address FROM web_audit ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_advance_refused_with_every_unmet_guard_then_done_and_logged(web: Web) -> None:
    specialist = web.add_login("13920000004", "specialist")  # P004's: approved, no contract yet
    headers = {"X-CSRF-Token": csrf(specialist)}
    refused = specialist.post(
        "/api/v1/projects/P004/transitions", json={"to": "in_construction"}, headers=headers
    )
    assert refused.status_code == 409
    assert "construction_contract" in refused.json()["detail"]
    page = specialist.get("/projects/P004").text
    assert "required document not recorded: construction_contract" in page  # shown before anyone clicks
    added = specialist.post(
        "/projects/P004/documents", data={"csrf_token": csrf(specialist), "kind": "construction_contract"}
    )
    assert added.status_code == 303
    done = specialist.post(
        "/api/v1/projects/P004/transitions", json={"to": "in_construction", "reason": "开工"}, headers=headers
    )
    assert done.status_code == 200 and done.json()["to_stage"] == "in_construction"
    assert js(web.url, "show", "P004")["project"]["stage"] == "in_construction"
    log = _audit(web.url)
    assert [(a, s, st) for a, s, st, *_ in log] == [
        ("advance", "P004", 409),
        ("document", "P004", 200),
        ("advance", "P004", 200),
    ]
    before, after = log[-1][3], log[-1][4]
    assert "approved" in str(before) and "in_construction" in str(after) and log[-1][5] == "testclient"


def test_a_malformed_request_names_the_field(as_role: Any) -> None:
    office = as_role("office")
    headers = {"X-CSRF-Token": csrf(office)}
    answer = office.post("/api/v1/projects/P004/transitions", json={"reason": "x"}, headers=headers)
    assert answer.status_code == 422 and answer.json()["detail"].startswith("to:")
    assert office.get("/api/v1/projects?limit=0").json()["detail"].startswith("limit:")
    assert office.get("/api/v1/orders/abc").status_code in (404, 405)


def _fill(client: TestClient, project: str, *, failing: str | None = None) -> Any:
    form = client.get(f"/inspections/new?project={project}&template=in-progress")
    assert form.status_code == 200, form.text
    checklist = yaml.safe_load((CHECKLISTS / "in-progress.v1.yaml").read_text(encoding="utf-8"))
    data: dict[str, Any] = {
        "csrf_token": csrf(client),
        "project": project,
        "template": "in-progress",
        "inspected_at": "2027-01-04T08:30",
        "inspectors": PHONES["inspector"],
    }
    files: list[tuple[str, Any]] = []
    for section in checklist["sections"]:
        for item in section["items"]:
            key, kind = item["key"], item["kind"]
            assert f'name="notes.{key}"' in form.text
            if kind == "pass_fail":
                data[f"verdict.{key}"] = "fail" if key == failing else "pass"
            elif kind == "score":
                data[f"value.{key}"] = str(item["max"])
            elif kind == "measurement":
                data[f"value.{key}"] = str(item["target"])
            for n in range(item.get("min_files", 0) if kind == "evidence" else 0):
                files.append(
                    (f"evidence.{key}", (f"{key}{n}.png", photo(f"{project}{key}{n}", n), "image/png"))
                )
    return client.post("/inspections/new", data=data, files=files)


def test_an_inspector_records_a_checklist_with_photos_in_the_browser_and_signs_it(web: Web) -> None:
    inspector = web.login("inspector")
    recorded = _fill(inspector, "P020", failing="earmark")
    assert recorded.status_code == 303, recorded.text
    page = inspector.get(recorded.headers["location"])
    inspection_id = int(recorded.headers["location"].rsplit("/", 1)[1])
    assert "未签署" in page.text and "P020" in page.text
    signed = inspector.post(f"/inspections/{inspection_id}/sign", data={"csrf_token": csrf(inspector)})
    assert signed.status_code == 303
    orders = inspector.get("/api/v1/orders?project=P020&open=true").json()["data"]
    assert [order["item_key"] for order in orders if order["inspection_id"] == inspection_id] == ["earmark"]
    shown = inspector.get("/projects/P020").text
    thumbnails = re.findall(r'src="/evidence/([0-9a-f]{64})"', shown)
    assert thumbnails
    image = inspector.get(f"/evidence/{thumbnails[0]}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_a_checklist_with_a_missing_answer_is_refused_naming_the_item(web: Web) -> None:
    inspector = web.login("inspector")
    form = {
        "csrf_token": csrf(inspector),
        "project": "P020",
        "template": "in-progress",
        "inspectors": "13900000002",
        "inspected_at": "2027-01-04T08:30",
    }
    answer = inspector.post("/inspections/new", data=form)
    assert (
        answer.status_code == 422
        and "wall_verticality" in answer.text
        or "choose pass or fail" in answer.text
    )
    assert js(web.url, "inspections", "--project", "P020")["count"] == 1  # nothing recorded


def test_a_specialist_responds_with_a_photo_and_the_office_verifies(web: Web) -> None:
    orders = js(web.url, "orders", "--open")["data"]
    order = next(o for o in orders if o["status"] == "issued")
    people = js(web.url, "people", "--limit", "0")["data"]
    person = next(p for p in people if p["id"] == order["responsible_person_id"])
    role = next(r.split("@")[0] for r in person["roles"] if r.endswith("@" + order["project_code"]))
    specialist = web.add_login(person["phone"], role)
    todo = specialist.get("/todo").text
    assert f'data-order="{order["id"]}"' in todo
    answer = specialist.post(
        f"/orders/{order['id']}/respond",
        data={"csrf_token": csrf(specialist), "note": "已整改"},
        files=[("evidence", ("fix.png", photo("fixed", 9), "image/png"))],
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/todo?done=responded"
    office = web.login("office")
    verified = office.post(
        f"/api/v1/orders/{order['id']}/verify",
        json={"accept": True, "reason": "复查合格"},
        headers={"X-CSRF-Token": csrf(office)},
    )
    assert verified.status_code == 200 and verified.json()["status"] == "closed"


def test_a_notice_is_acknowledged_from_the_to_do_list(web: Web) -> None:
    leader = web.login("leader")
    inbox = leader.get("/api/v1/inbox").json()["data"]
    notice = inbox[0]
    fragment = leader.post(
        f"/inbox/{notice['id']}/ack", headers={"X-CSRF-Token": csrf(leader), "HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "已签收" in fragment.text and "<html" not in fragment.text
    again = leader.get("/api/v1/inbox").json()["data"]
    assert next(n for n in again if n["id"] == notice["id"])["acknowledged_at"] is not None
    other = web.login("specialist")
    stolen = other.post(f"/api/v1/inbox/{notice['id']}/ack", headers={"X-CSRF-Token": csrf(other)})
    assert stolen.status_code == 404


def test_the_office_extends_a_deadline_and_the_specialist_may_not(web: Web) -> None:
    office = web.login("office")
    deadline = office.get("/api/v1/deadlines?overdue=true&project=P004").json()["data"][0]
    specialist = web.add_login("13920000004", "specialist")
    refused = specialist.post(
        f"/api/v1/deadlines/{deadline['id']}/extend",
        json={"to": "2027-01-29", "reason": "雨雪天气"},
        headers={"X-CSRF-Token": csrf(specialist)},
    )
    assert refused.status_code == 409
    extended = office.post(
        f"/api/v1/deadlines/{deadline['id']}/extend",
        json={"to": "2027-01-29", "reason": "雨雪天气"},
        headers={"X-CSRF-Token": csrf(office)},
    )
    assert extended.status_code == 200 and extended.json()["revision"] == deadline["revision"] + 1


def test_the_board_marks_the_late_villages(as_role: Any) -> None:
    board = as_role("office").get("/board").text
    assert re.search(r'id="overdue-count">30 个项目有逾期事项', board)
    late = re.findall(r'class="tile [a-z-]+ late" href="/projects/(P\d+)"', board)
    assert len(late) == 30 and "P004" in late
    wall = as_role("office").get("/board?wall=true").text
    assert 'http-equiv="refresh"' in wall
    only_late = as_role("office").get("/board?overdue=true").text
    assert only_late.count('class="tile ') == 30
