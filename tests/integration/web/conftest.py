"""The web app on a copy of the demo, driven in-process (Starlette's test client over httpx), with one
logged-in client per role; its clock runs from 4 January 2027, after the sweep of that morning."""

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ducha.api import create_app
from ducha.api.deps import SESSION_COOKIE, csrf_token_for
from ducha.clock import FixedClock
from ducha.config import get_settings
from ducha.context import AppContext
from ducha.demo.logins import DEMO_LOGINS, DEMO_PASSWORD
from tests.integration.conftest import BACKENDS, PostgresDatabases, SqliteTemplates, demo_key, ok, runner

LATE = "2027-01-04T09:00+08:00"
LATE_AT = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
PHONES = {role: phone for role, phone, _ in DEMO_LOGINS}


class SteppingClock:
    """The system clock of the tests: starts now-ish and moves only when told."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Web:
    url: str
    context: AppContext
    system: SteppingClock
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        made = TestClient(create_app(self.context), base_url="http://testserver", follow_redirects=False)
        self.clients.append(made)
        return made

    def add_login(self, phone: str, role: str) -> TestClient:
        """Give one more person of the demo a login (with the demo's password) and log it in."""
        from ducha.cli import app

        arguments = ["users", "add", phone, "--role", role, "--as", PHONES["admin"], "--password-stdin"]
        done = runner.invoke(app, arguments, input=DEMO_PASSWORD + "\n", env={"DUCHA_DATABASE_URL": self.url})
        assert done.exit_code == 0, done.output
        return self.login(phone)

    def login(self, role_or_phone: str, password: str = DEMO_PASSWORD) -> TestClient:
        """A client logged in as the demo login of ``role`` (or a phone)."""
        client = self.client()
        answer = log_in(client, PHONES.get(role_or_phone, role_or_phone), password)
        assert answer.status_code == 303, answer.text
        return client


def csrf(client: TestClient) -> str:
    session = client.cookies.get(SESSION_COOKIE)
    assert session, "not logged in"
    return csrf_token_for(session)


def log_in(client: TestClient, login: str, password: str, **headers: str) -> Any:
    form = client.get("/login")
    token = _hidden(form.text, "csrf_token")
    return client.post(
        "/login",
        data={"csrf_token": token, "login": login, "password": password, "next": "/board"},
        headers=headers,
    )


def _hidden(html: str, name: str) -> str:
    import re

    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden {name} in the page"
    return found.group(1)


def hidden(html: str, name: str) -> str:
    return _hidden(html, name)


@pytest.fixture(scope="session")
def late_sqlite(sqlite_templates: SqliteTemplates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template of the demo after the sweep of 4 January 2027 (made once per run)."""
    path = tmp_path_factory.mktemp("late") / "late.db"
    shutil.copyfile(sqlite_templates.demo, path)
    ok(f"sqlite:///{path}", "sweep", "--at", LATE)
    return path


@pytest.fixture(scope="session")
def late_postgres(postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory) -> str:
    name, _ = postgres_databases.demo(tmp_path_factory.getbasetemp() / "pg-demo-evidence")
    late = f"{postgres_databases.prefix}_late"
    postgres_databases._create(late, template=name)
    ok(postgres_databases.url(late), "sweep", "--at", LATE)
    return late


@pytest.fixture(params=BACKENDS)
def late_demo(request: pytest.FixtureRequest, tmp_path: Path, evidence_dir: Path) -> str:
    """A fresh copy of the demo after the sweep of 4 January 2027: 30 projects late, their notices
    written, the demo's evidence files in this test's evidence directory."""
    if request.param == "sqlite":
        templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")
        path = tmp_path / "late.db"
        shutil.copyfile(request.getfixturevalue("late_sqlite"), path)
        shutil.copytree(templates.demo_evidence, evidence_dir)
        shutil.copyfile(demo_key(templates.demo_evidence), demo_key(evidence_dir))
        return f"sqlite:///{path}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    late = request.getfixturevalue("late_postgres")
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    _, evidence = databases.demo(factory.getbasetemp() / "pg-demo-evidence")
    shutil.copytree(evidence, evidence_dir)
    shutil.copyfile(demo_key(evidence), demo_key(evidence_dir))
    return databases.fresh(template=late)


@pytest.fixture
def web(late_demo: str, evidence_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.setenv("DUCHA_DATABASE_URL", late_demo)
    monkeypatch.setenv("DUCHA_AUDIT_KEY", str(demo_key(evidence_dir)))  # the demo's checkpoint key
    system = SteppingClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    context = AppContext(_settings=get_settings(), system_clock=system, running_clock=FixedClock(LATE_AT))
    found = Web(late_demo, context, system)
    yield found
    for client in found.clients:
        client.close()
    context.dispose()


@pytest.fixture
def as_role(web: Web) -> Callable[[str], TestClient]:
    cache: dict[str, TestClient] = {}

    def get(role: str) -> TestClient:
        if role not in cache:
            cache[role] = web.login(role)
        return cache[role]

    return get
