"""What the daily-job and board benchmarks share: cached generated databases, rolled-back runs, reports.

Templates are generated once per size and cached: a SQLite file in ``bench/.cache/<name>_<size>.db``
with a ``.json`` beside it, a PostgreSQL database ``ducha_bench_<name>_tpl_<size>`` with the metadata
in its comment (``prefix`` replaces ``ducha_bench_``, so that a benchmark run from a worktree names
its databases after it). Each measurement works on a copy (a file copy, ``CREATE DATABASE … TEMPLATE``) that
is removed afterwards; ``close()`` removes this benchmark's templates too, unless ``keep``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.clock import SystemClock
from ducha.db import head_revision, make_engine

HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("DUCHA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The names of the PostgreSQL databases a benchmark makes start with this: two checkouts benchmarking
# on one server at once each set their own (DUCHA_BENCH_DB_PREFIX=wt_a_bench) and never meet.
DB_PREFIX = os.environ.get("DUCHA_BENCH_DB_PREFIX", "ducha_bench")
M = TypeVar("M")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Databases:
    """Generated templates of one benchmark (``name``), cached, and the working copies measured."""

    def __init__(
        self, name: str, backend: str, cache_dir: Path, keep: bool, version: str,
        generate: Callable[[str, int], Any], meta: Callable[..., M], prefix: str | None = None,
    ) -> None:  # fmt: skip
        self.name, self.backend, self.cache_dir, self.keep = name, backend, cache_dir, keep
        self.prefix = prefix if prefix is not None else f"{DB_PREFIX}_"
        self.version = f"{version} schema {head_revision()}"
        self.generate, self.meta = generate, meta
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.admin: Engine | None = None
        if backend == "postgresql":
            self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")

    def _pg_url(self, database: str) -> str:
        return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)

    def _pg(self, sql: str, **params: Any) -> list[Any]:
        assert self.admin is not None
        with self.admin.connect() as connection:
            result = connection.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []

    def template(self, projects: int) -> M:
        """The generated database for ``projects``: generated now unless a current one is cached."""
        if self.backend == "sqlite":
            path = self.cache_dir / f"{self.name}_{projects}.db"
            meta = path.with_suffix(".json")
            if path.exists() and meta.exists():
                stored = json.loads(meta.read_text())
                if stored.pop("version", None) == self.version:
                    return self.meta(**stored)
            for stale in (path, meta, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
            log(f"generating sqlite {self.name} {projects:,} projects …")
            generated = self.generate(f"sqlite:///{path}", projects)
            meta.write_text(json.dumps({"version": self.version, **asdict(generated)}))
            return generated  # type: ignore[no-any-return]
        database = f"{self.prefix}{self.name}_tpl_{projects}"
        rows = self._pg(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name",
            name=database,
        )
        if rows and rows[0][0]:
            stored = json.loads(rows[0][0])
            if stored.pop("version", None) == self.version:
                return self.meta(**stored)
        self._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self._pg(f'CREATE DATABASE "{database}"')
        log(f"generating postgresql {self.name} {projects:,} projects …")
        generated = self.generate(self._pg_url(database), projects)
        comment = json.dumps({"version": self.version, **asdict(generated)}).replace("'", "''")
        self._pg(f"COMMENT ON DATABASE \"{database}\" IS '{comment}'")
        return generated  # type: ignore[no-any-return]

    @contextmanager
    def working_copy(self, projects: int) -> Iterator[str]:
        """A fresh copy of the template for ``projects``, removed afterwards."""
        if self.backend == "sqlite":
            source = self.cache_dir / f"{self.name}_{projects}.db"
            path = self.cache_dir / f"{self.name}_work_{projects}.db"
            files = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
            for stale in files:
                stale.unlink(missing_ok=True)
            shutil.copyfile(source, path)
            try:
                yield f"sqlite:///{path}"
            finally:
                for stale in files:
                    stale.unlink(missing_ok=True)
            return
        database = f"{self.prefix}{self.name}_{projects}"
        self._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        template = f"{self.prefix}{self.name}_tpl_{projects}"
        self._pg(f'CREATE DATABASE "{database}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        try:
            yield self._pg_url(database)
        finally:
            self._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def close(self) -> None:
        """Remove this benchmark's templates (unless ``keep``); working copies are gone already."""
        if self.backend == "sqlite":
            if not self.keep:
                for path in self.cache_dir.glob(f"{self.name}_*"):
                    path.unlink()
        elif self.admin is not None:
            if not self.keep:
                pattern = f"{self.prefix}{self.name}_".replace("_", "\\_") + "%"
                for (database,) in self._pg(
                    "SELECT datname FROM pg_database WHERE datname LIKE :p", p=pattern
                ):
                    self._pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            self.admin.dispose()


class Runner:
    """Runs operations on one working database, each in a transaction rolled back afterwards.

    On PostgreSQL a VACUUM of the written tables clears the dead rows a rollback leaves, and a
    CHECKPOINT writes out the dirty pages, so that no run pays for the run before it.
    """

    def __init__(self, url: str, written: Sequence[str]) -> None:
        self.engine = make_engine(url)
        self.backend = self.engine.dialect.name
        self.written = written
        self.admin = (
            create_engine(url, isolation_level="AUTOCOMMIT") if self.backend == "postgresql" else None
        )

    def close(self) -> None:
        self.engine.dispose()
        if self.admin is not None:
            self.admin.dispose()

    def vacuum(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as connection:
                connection.execute(text(f"VACUUM {', '.join(self.written)}"))
                connection.execute(text("CHECKPOINT"))

    def once(
        self,
        operation: Callable[[Session], Any],
        *,
        inspect: Callable[[Session], Any] | None = None,
        commit: bool = False,
        vacuum: bool = True,
        setup: Callable[[Session], Any] | None = None,
    ) -> tuple[float, Any, Any]:
        """(seconds, what ``operation`` returned, what ``inspect`` saw before the rollback);
        ``setup`` runs in the same session first, outside the timing."""
        with Session(self.engine) as session:
            session.connection()  # check out the connection and begin, outside the timing
            if setup is not None:
                setup(session)
            started = time.perf_counter()
            value = operation(session)
            seconds = time.perf_counter() - started
            seen = inspect(session) if inspect is not None else None
            if commit:
                session.commit()
            else:
                session.rollback()
        if vacuum and not commit:
            self.vacuum()
        return seconds, value, seen


def seconds(value: float) -> str:
    """Three significant digits below 10 s."""
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}" if value >= 0.001 else f"{value:.6f}"


def environment() -> str:
    versions = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect() as connection:
            versions.append(f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar_one()}")
        engine.dispose()
    except Exception:  # noqa: BLE001 - PostgreSQL is optional for a SQLite-only run
        pass
    return f"Run {SystemClock().now():%Y-%m-%d %H:%M UTC} on {os.cpu_count()} cores; {', '.join(versions)}"


def replace_section(path: Path, title: str, lines: Sequence[str]) -> None:
    """Write the section ``# title`` of a markdown file, in place of the old one or at the end.

    Sections are the text from one top-level heading (``# …``, outside code blocks) to the next.
    """
    sections: list[list[str]] = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("# ") and not fenced or not sections:
            sections.append([])
        sections[-1].append(line)
    new = [f"# {title}", "", *lines]
    if new[-1].strip():
        new.append("")
    for index, section in enumerate(sections):
        if section and section[0] == f"# {title}":
            sections[index] = new
            break
    else:
        if sections and sections[-1] and sections[-1][-1].strip():
            sections[-1].append("")
        sections.append(new)
    body = "\n".join(line for section in sections for line in section).rstrip("\n")
    path.write_text(body + "\n", encoding="utf-8")


def patched_module(module: Any, diff: Path, name: str) -> Any:
    """A copy of the product ``module`` with ``diff`` applied (paths relative to the repository),
    imported under ``name``; None if there is no such diff or it no longer applies to the module's file."""
    import importlib.util
    import subprocess
    import tempfile

    if not diff.exists():
        return None
    source = Path(module.__file__)
    relative = source.relative_to(HERE.parent)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / relative
        target.parent.mkdir(parents=True)
        shutil.copyfile(source, target)
        done = subprocess.run(
            ["patch", "-s", "-p1", "-d", tmp, "-i", str(diff)], capture_output=True, text=True
        )
        if done.returncode != 0:
            log(f"{diff.name} does not apply to {relative}: {done.stdout}{done.stderr}")
            return None
        spec = importlib.util.spec_from_file_location(name, target)
        assert spec is not None and spec.loader is not None
        patched = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(patched)
    return patched
