"""Roles and scope that leak nothing, over every route the application has (read from its own route
list, so a new route without a sample here fails the test until it gets one)."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from ducha.api import create_app
from ducha.context import AppContext
from tests.integration.conftest import ok
from tests.integration.web.conftest import PHONES, Web, csrf

# Routes anyone may reach: the login itself, static files, the API's description.
PUBLIC = {"/login", "/login/code", "/api/openapi.json", "/docs/oauth2-redirect", "/calendar/{token}.ics"}
# Path parameters that name no project's thing (every login sees the programmes, in its own scope).
UNSCOPED = {"programme": "1"}
# The projects each scoped login sees: a specialist (P001), a leader (P001–P005), a town's staff
# (城关镇: P001–P008). Everything else is out of their scope.
SCOPED = {
    "specialist": {"P001"},
    "leader": {f"P00{n}" for n in range(1, 6)},
    "viewer": {f"P00{n}" for n in range(1, 9)},
}
ROLES = ["office", "admin", "leadership", "inspector", "auditor", "leader", "specialist", "viewer"]


def routes() -> Iterator[tuple[str, str]]:
    """(method, path) of every route the application serves."""
    app = create_app(AppContext())
    for route in app.routes:
        included = getattr(route, "original_router", None)
        if included is None:
            for method in getattr(route, "methods", None) or {"GET"}:
                yield method, getattr(route, "path", "")
            continue
        prefix = route.include_context.prefix  # type: ignore[attr-defined]
        for inner in included.routes:
            for method in inner.methods:
                yield method, prefix + inner.path


ALL = sorted(set(routes()))
PROTECTED = [(m, p) for m, p in ALL if p not in PUBLIC and not p.startswith("/static") and m != "HEAD"]
WITH_IDS = [(m, p) for m, p in PROTECTED if "{" in p and "{programme}" not in p]


def outside(url: str) -> dict[str, str]:
    """An object of each kind belonging to a project none of the scoped logins sees."""
    engine = create_engine(url)
    far = "('P001','P002','P003','P004','P005','P006','P007','P008')"
    of_far = f"JOIN project p ON p.id = x.project_id WHERE p.code NOT IN {far}"
    queries = {
        "project": f"SELECT code FROM project WHERE code NOT IN {far} ORDER BY code DESC",
        "code": f"SELECT code FROM project WHERE code NOT IN {far} ORDER BY code DESC",
        "inspection_id": f"SELECT x.id FROM inspection x {of_far}",
        "order_id": f"SELECT x.id FROM rectification_order x {of_far}",
        "deadline_id": f"SELECT x.id FROM deadline x {of_far}",
        "notice_id": f"SELECT x.id FROM notice x {of_far} AND x.channel = 'inbox'",
        "draw_id": "SELECT id FROM spot_check_draw",
        "sha256": "SELECT f.sha256 FROM evidence_file f JOIN evidence_attachment a ON a.evidence_id = f.id "
        "JOIN inspection_item_result r ON r.id = a.item_result_id "
        f"JOIN inspection x ON x.id = r.inspection_id {of_far}",
        "what": "SELECT 'person'",
    }
    with engine.connect() as connection:
        found = {
            name: str(connection.execute(text(query)).scalars().first()) for name, query in queries.items()
        }
    engine.dispose()
    return found


NOWHERE = {
    "project": "P999", "code": "P999", "inspection_id": "999999", "order_id": "999999",
    "deadline_id": "999999", "notice_id": "999999", "draw_id": "999999", "sha256": "0" * 64, "what": "person",
}  # fmt: skip


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    for name, value in UNSCOPED.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample for {path}: add one to this test"
    return path


# A well-formed body for each route that takes one: past validation, the answer is about scope.
JSON: dict[str, dict[str, Any]] = {
    "/api/v1/projects/{project}/transitions": {"to": "in_construction", "reason": "开工"},
    "/api/v1/projects/{project}/documents": {"kind": "design"},
    "/api/v1/orders/{order_id}/verify": {"accept": True, "reason": "ok"},
    "/api/v1/deadlines/{deadline_id}/extend": {"to": "2027-03-01", "reason": "雨季"},
    "/api/v1/spotchecks": {"programme": "1", "count": 2},
    "/api/v1/people": {"name": "新人", "phone": "13712345678"},
    "/api/v1/roles": {"person": "13712345678", "role": "inspector", "unit": "区委督查室"},
    "/api/v1/roles/revoke": {
        "person": "13900000002",
        "role": "inspector",
        "unit": "区委督查室",
        "reason": "x",
    },
}
FORM: dict[str, dict[str, str]] = {
    "/projects/{code}/advance": {"to": "in_construction", "reason": "开工"},
    "/projects/{code}/documents": {"kind": "design"},
    "/orders/{order_id}/verify": {"verdict": "accept"},
    "/admin/{what}": {"name": "x", "phone": "13712345670"},
    "/inspections/new": {"project": "P050", "template": "in-progress"},
    "/programmes/{programme}/import": {},
}
PHOTO = ("fix.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
FILES: dict[str, list[tuple[str, Any]]] = {
    "/api/v1/orders/{order_id}/respond": [("evidence", PHOTO)],
    "/orders/{order_id}/respond": [("evidence", PHOTO)],
    "/api/v1/inspections": [("form", ("form.yaml", b"project: P050\n", "text/yaml"))],
    "/programmes/{programme}/import": [("file", ("register.csv", b"town,village\n", "text/csv"))],
}


def call(client: TestClient, method: str, template: str, path: str) -> Any:
    if method == "GET":
        return client.get(path)
    headers = {"X-CSRF-Token": csrf(client)} if "ducha_session" in client.cookies else {}
    if template in FILES:
        return client.post(path, files=FILES[template], data=FORM.get(template, {}), headers=headers)
    if template in FORM:
        return client.post(path, data=FORM[template], headers=headers)
    return client.post(path, json=JSON.get(template), headers=headers)


@pytest.fixture
def drawn(web: Web) -> Web:
    """The demo with a spot-check draw (the office's)."""
    office = PHONES["office"]
    at = "2027-01-04T10:00+08:00"
    ok(
        web.url,
        "spotcheck",
        "draw",
        "--programme",
        "1",
        "--count",
        "3",
        "--as",
        office,
        "--seed",
        "7",
        "--at",
        at,
    )
    return web


def test_every_route_is_covered() -> None:
    assert len(PROTECTED) > 40
    for _, path in PROTECTED:
        fill(path, NOWHERE)  # raises for a path parameter this test does not know


def test_without_a_login_every_route_answers_401(web: Web) -> None:
    client = web.client()
    for method, path in PROTECTED:
        answer = call(client, method, path, fill(path, NOWHERE))
        assert answer.status_code == 401, (method, path, answer.status_code, answer.text[:200])


@pytest.mark.parametrize("role", ["specialist", "leader", "viewer"])
def test_out_of_scope_answers_exactly_like_nothing(
    drawn: Web, as_role: Callable[[str], TestClient], role: str
) -> None:
    client = as_role(role)
    far = outside(drawn.url)
    for method, path in WITH_IDS:
        there = call(client, method, path, fill(path, far))
        nowhere = call(client, method, path, fill(path, NOWHERE))
        assert there.status_code == nowhere.status_code, (
            role,
            method,
            path,
            there.text[:300],
            nowhere.text[:300],
        )
        assert there.status_code in (403, 404), (role, method, path, there.status_code, there.text[:300])
        if method == "GET":
            assert there.status_code == 404, (role, path)
        # The same words, but for the name asked for: nothing about the thing that is there.
        assert _masked(there.text, path, far) == _masked(nowhere.text, path, NOWHERE), (role, method, path)


def _masked(body: str, path: str, values: dict[str, str]) -> str:
    if "<main>" in body:  # a page: what it says, without the header every page has
        body = body.split("<main>", 1)[1]
    for name, value in values.items():
        if "{" + name + "}" in path:
            body = re.sub(rf"(?<![0-9A-Za-z.]){re.escape(value)}(?![0-9A-Za-z.])", "<" + name + ">", body)
    return body


@pytest.mark.parametrize("role", ["specialist", "leader", "viewer"])
def test_lists_and_counts_hold_only_what_the_login_sees(
    web: Web, as_role: Callable[[str], TestClient], role: str
) -> None:
    client = as_role(role)
    mine = SCOPED[role]
    for path in ("/api/v1/projects?limit=500", "/api/v1/deadlines?limit=500", "/api/v1/alerts?limit=500",
                 "/api/v1/inspections?limit=500", "/api/v1/orders?limit=500",
                 "/api/v1/projects?overdue=true&limit=500"):  # fmt: skip
        page = client.get(path).json()
        codes = {row.get("project_code") or row.get("code") for row in page["data"]}
        assert codes <= mine, (role, path, codes - mine)
        assert page["count"] == len(page["data"]), (role, path)
    projects = client.get("/api/v1/projects").json()
    assert {row["code"] for row in projects["data"]} == mine and projects["count"] == len(mine)
    [programme] = client.get("/api/v1/programmes").json()["data"]
    assert programme["projects"] == len(mine)
    board = client.get("/board").text
    assert all(f'data-code="{code}"' in board for code in mine)
    assert 'data-code="P050"' not in board and 'data-code="P009"' not in board


def test_the_whole_office_sees_every_project(as_role: Callable[[str], TestClient]) -> None:
    for role in ("office", "leadership", "inspector", "auditor", "admin"):
        page = as_role(role).get("/api/v1/projects?limit=1").json()
        assert page["count"] == 50 and len(page["data"]) == 1, role


def test_a_draw_is_the_offices_alone(drawn: Web, as_role: Callable[[str], TestClient]) -> None:
    draw_id = outside(drawn.url)["draw_id"]
    assert as_role("office").get(f"/api/v1/spotchecks/{draw_id}").status_code == 200
    for role in ROLES:
        if role != "office":
            assert as_role(role).get(f"/api/v1/spotchecks/{draw_id}").status_code == 404, role


def test_a_notice_of_someone_else_is_not_there(web: Web, as_role: Callable[[str], TestClient]) -> None:
    leader = as_role("leader")  # P004 and P005 are late: their leader has been told
    me = leader.get("/api/v1/me").json()["person_id"]
    mine = leader.get("/api/v1/notices?limit=500").json()
    assert mine["count"] > 0 and {row["person_id"] for row in mine["data"]} == {me}
    everyone = as_role("office").get("/api/v1/notices?limit=1").json()["count"]
    assert everyone > mine["count"]


def test_admin_routes_refuse_other_roles(as_role: Callable[[str], TestClient]) -> None:
    for role in ROLES:
        client = as_role(role)
        people = client.get("/api/v1/people")
        assert people.status_code == (200 if role in ("office", "admin", "leadership", "auditor") else 403), (
            role
        )
        person = {"name": "新人", "phone": f"1371234567{ROLES.index(role)}"}
        added = client.post("/api/v1/people", json=person, headers={"X-CSRF-Token": csrf(client)})
        assert added.status_code == (200 if role == "admin" else 403), (role, added.text)
