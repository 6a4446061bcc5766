"""Databases for integration tests: a fresh, migrated database per test, on SQLite and PostgreSQL.

SQLite tests copy a template file migrated once per run; PostgreSQL tests (only when
DUCHA_TEST_POSTGRES_URL is set) clone a template database. A fresh database per test, rather than
a rollback per test, lets tests commit, open second connections and drive the CLI like a user.
"""

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.db import make_engine, upgrade_to_head
from workflows.builtins import load_builtins

INIT_AT = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("DUCHA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _initialise(url: str) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        load_builtins(session=session, now=INIT_AT)
        session.commit()
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _initialise(f"sqlite:///{path}")
    return path


class PostgresDatabases:
    """Creates databases from one migrated template on the server in DUCHA_TEST_POSTGRES_URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.base = make_url(admin_url)
        self.prefix = f"ducha_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_template"
        self.counter = itertools.count()
        self.created: list[str] = []
        self._create(self.template, template=None)
        _initialise(self.url(self.template))

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)

    def fresh(self) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        self._create(name, template=self.template)
        return self.url(name)

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
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.fresh()


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
    return directory
