"""Databases for integration tests, the 50-village demo, and the CLI as a user drives it.

Every test gets a fresh database: on SQLite a copy of a template file, on PostgreSQL (only when
DUCHA_TEST_POSTGRES_URL is set) a ``CREATE DATABASE … TEMPLATE``. There are two templates per
backend, each built once per run: an empty migrated one (``database_url``) and one holding the demo
(``demo``), with a copy of the demo's evidence files for each test that uses it. A fresh database per
test, rather than a rollback per test, lets tests commit, open second connections and drive the CLI.
"""

import email
import email.policy
import itertools
import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from typer.testing import CliRunner

from ducha.cli import app
from ducha.db import make_engine, upgrade_to_head
from models import Mode, Role
from workflows.built_ins import load_builtins
from workflows.installation import settle_mode
from workflows.people import assign_role, ensure_unit
from workflows.staff import init_admin

INIT_AT = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
# Who acts in the fresh database (``database_url``): the office head of its supervision office, who
# is its admin too. In the demo (``demo``) the office head (admin, office) is DEMO_OFFICE.
OFFICE = "13999990001"
DEMO_OFFICE = "13900000001"
POSTGRES_URL = os.environ.get("DUCHA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
runner = CliRunner()


# --- the CLI -------------------------------------------------------------------------------------


def run(url: str, *args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    """Run ``ducha ARGS`` against the database at ``url``: (exit code, stdout and stderr)."""
    result = runner.invoke(app, list(args), env={"DUCHA_DATABASE_URL": url, **(env or {})})
    return result.exit_code, result.output


def ok(url: str, *args: str, env: dict[str, str | None] | None = None) -> str:
    """Run a command that must succeed; its output."""
    code, output = run(url, *args, env=env)
    assert code == 0, output
    return output


def js(url: str, *args: str) -> dict[str, Any]:
    """Run a read command with --json; its JSON (stdout: warnings go to stderr)."""
    result = runner.invoke(app, [*args, "--json"], env={"DUCHA_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


# --- databases -----------------------------------------------------------------------------------


def _migrate(url: str) -> None:
    """A migrated database with the built-in workflows: what the demo is loaded onto."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        load_builtins(session=session, now=INIT_AT)
        session.commit()
    engine.dispose()


def _staff(url: str) -> None:
    """Make a migrated database a simulation (tests play time ahead) with an office head, who is
    also the admin: what ``ducha init --simulation --admin`` and a ``roles assign`` give."""
    engine = make_engine(url)
    with Session(engine) as session:
        settle_mode(session=session, wanted=Mode.SIMULATION, now=INIT_AT)
        head, _ = init_admin(session=session, now=INIT_AT, name="测试督查主任", phone=OFFICE)
        office = ensure_unit(session=session, name="测试督查室", kind="office")
        assign_role(session=session, person=head, role=Role.OFFICE, unit=office, now=INIT_AT)
        session.commit()
    engine.dispose()


def _load_demo(url: str, evidence: Path) -> None:
    """The demo, its evidence files in ``evidence`` and its checkpoint signing key beside them."""
    ok(url, "demo", env={"DUCHA_EVIDENCE_DIR": str(evidence), "DUCHA_AUDIT_KEY": str(demo_key(evidence))})


def demo_key(evidence: Path) -> Path:
    """Where the signing key of a demo whose evidence is in ``evidence`` lives."""
    return evidence.parent / f"{evidence.name}.key"


@dataclass(frozen=True)
class SqliteTemplates:
    empty: Path
    demo: Path
    demo_evidence: Path


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    folder = tmp_path_factory.mktemp("templates")
    empty, demo = folder / "empty.db", folder / "demo.db"
    _migrate(f"sqlite:///{empty}")
    shutil.copyfile(empty, demo)
    _staff(f"sqlite:///{empty}")
    _load_demo(f"sqlite:///{demo}", folder / "evidence")
    return SqliteTemplates(empty, demo, folder / "evidence")


class PostgresDatabases:
    """Creates databases from migrated templates on the server in DUCHA_TEST_POSTGRES_URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.base = make_url(admin_url)
        self.prefix = f"ducha_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_template"
        self.migrated = f"{self.prefix}_migrated"
        self.counter = itertools.count()
        self.created: list[str] = []
        self._create(self.migrated, template=None)
        _migrate(self.url(self.migrated))
        self._create(self.template, template=self.migrated)
        _staff(self.url(self.template))
        self._demo: tuple[str, Path] | None = None

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)

    def fresh(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        self._create(name, template=template or self.template)
        return self.url(name)

    def demo(self, evidence: Path) -> tuple[str, Path]:
        """A template database holding the demo (made on first use), and its evidence files."""
        if self._demo is None:
            name = f"{self.prefix}_demo"
            self._create(name, template=self.migrated)
            _load_demo(self.url(name), evidence)
            self._demo = (name, evidence)
        return self._demo

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in reversed(self.created):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    if not POSTGRES_URL:
        pytest.skip("DUCHA_TEST_POSTGRES_URL is not set")
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    databases.drop_all()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, migrated database with the built-in workflows loaded."""
    if request.param == "sqlite":
        path = tmp_path / "ducha.db"
        shutil.copyfile(request.getfixturevalue("sqlite_templates").empty, path)
        return f"sqlite:///{path}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.fresh()


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    """A fresh PostgreSQL database, for what only PostgreSQL can show (parallel writers)."""
    return postgres_databases.fresh()


@pytest.fixture(params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path: Path, evidence_dir: Path) -> str:
    """The URL of a fresh copy of the 50-village demo (as ``ducha demo`` lays it out), with its
    evidence files in this test's evidence directory."""
    if request.param == "sqlite":
        templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")
        path = tmp_path / "demo.db"
        shutil.copyfile(templates.demo, path)
        shutil.copytree(templates.demo_evidence, evidence_dir)
        shutil.copyfile(demo_key(templates.demo_evidence), tmp_path / "ducha-audit.key")
        return f"sqlite:///{path}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    name, evidence = databases.demo(factory.getbasetemp() / "pg-demo-evidence")
    shutil.copytree(evidence, evidence_dir)
    shutil.copyfile(demo_key(evidence), tmp_path / "ducha-audit.key")
    return databases.fresh(template=name)


@pytest.fixture
def postgres_demo(
    postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> str:
    """A fresh copy of the demo on PostgreSQL, for what only PostgreSQL can show (parallel writers)."""
    name, evidence = postgres_databases.demo(tmp_path_factory.getbasetemp() / "pg-demo-evidence")
    shutil.copyfile(demo_key(evidence), tmp_path / "ducha-audit.key")
    return postgres_databases.fresh(template=name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as opened:
        yield opened


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence the CLI stores goes to a per-test directory, never the working directory."""
    directory = tmp_path / "evidence"
    monkeypatch.setenv("DUCHA_EVIDENCE_DIR", str(directory))
    monkeypatch.setenv("DUCHA_ERROR_LOG", str(tmp_path / "ducha-errors.log"))
    # The checkpoint signing key: the demo's copy (``demo``), or none until a test makes one.
    monkeypatch.setenv("DUCHA_AUDIT_KEY", str(tmp_path / "ducha-audit.key"))
    return directory


# --- a mail server -------------------------------------------------------------------------------


@dataclass
class Sink:
    """A real SMTP server on a free local port, keeping what it receives."""

    port: int
    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    found = Sink(free_port())
    controller = Controller(found, hostname="127.0.0.1", port=found.port)
    controller.start()
    monkeypatch.setenv("DUCHA_SMTP_URL", found.url)
    monkeypatch.setenv("DUCHA_MAIL_FROM", "ducha@office.example.org")
    try:
        yield found
    finally:
        controller.stop()
