"""Notices: rendering and enqueueing against raw Jinja2 plus executemany; dispatch against raw smtplib.

*Enqueue*: 100,000 overdue notices (one e-mail each, every one with its own project, person and
days late) written by ``notifications.outbox.enqueue`` in one transaction. Its floor, in the same
run: the same template files rendered by a bare Jinja2 environment (the three blocks, StrictUndefined,
the HTML escaped) and the same rows inserted by the driver's ``executemany``. Target ≤ 1.3×.

*Dispatch*: N queued e-mail notices sent by ``notifications.dispatch.dispatch`` (claims, composing,
one SMTP session, attempts recorded) to a local SMTP server (aiosmtpd's Sink handler, in its own
process). Its floor: the same messages, composed beforehand, sent by ``smtplib`` over one session
to the same server. Targets: ≥ 200 notices a second and ≤ 1.5× the floor.

    .venv/bin/python bench/notice_bench.py                                  # SQLite and PostgreSQL
    .venv/bin/python bench/notice_bench.py --backends sqlite --notices 20000 --mails 2000

PostgreSQL comes from DUCHA_BENCH_POSTGRES_URL (default the local test server); the benchmark creates
and drops only databases named ``<--db-prefix>_*`` (default ``ducha_bench_notice``).
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.db import make_engine, upgrade_to_head
from models import Person
from models.bulk import insert_new
from models.calendar import WorkingCalendar
from models.types import table_of
from notifications.channels.base import Message
from notifications.channels.email import EmailChannel, SmtpServer
from notifications.dispatch import dispatch
from notifications.outbox import Draft, NoticeSetup, Quiet, Recipient, enqueue
from notifications.redact import Redactor
from notifications.registry import Channels
from notifications.rendering import BUILT_IN, _filters

ADMIN_URL = os.environ.get("DUCHA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # 09:00 on a working Monday, Shanghai: no quiet hours
PEOPLE = 1000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Databases:
    def __init__(self, backend: str, folder: Path, prefix: str = "ducha_bench_notice") -> None:
        self.backend, self.folder, self.made = backend, folder, []  # type: tuple[str, Path, list[str]]
        self.prefix = prefix
        self.admin = (
            create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT") if backend == "postgresql" else None
        )

    def fresh(self, label: str) -> str:
        if self.admin is None:
            path = self.folder / f"{label}.db"
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        name = f"{self.prefix}_{os.getpid()}_{label}"
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as connection:
                for name in self.made:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.admin.dispose()


def prepare(url: str) -> list[Recipient]:
    """A migrated database with PEOPLE people who have e-mail addresses."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        rows: list[dict[str, Any]] = [
            {"name": f"专干{n:04d}", "phone": f"139{n:08d}", "email": f"p{n}@example.org", "unit_id": None,
             "notice_addresses": [], "lang": "zh", "digest": False}
            for n in range(PEOPLE)
        ]  # fmt: skip
        made = insert_new(session, table_of(Person), rows, key=["phone"])
        session.commit()
    engine.dispose()
    return [
        Recipient(made[(row["phone"],)], row["name"], row["email"], row["phone"])
        for row in rows
    ]


def contexts(count: int) -> Iterator[dict[str, Any]]:
    """What each overdue notice says: its own project, deadline and days late."""
    for n in range(count):
        code = f"P{n:06d}"
        yield {
            "person": {"name": f"专干{n % PEOPLE:04d}"},
            "office": "区委督查室",
            "now": NOW,
            "project": {"code": code, "name": f"村{n}村级组织活动场所", "town": f"镇{n // 2000}", "village": f"村{n}"},
            "programme": {"name": "村级组织活动场所建设"},
            "deadline": {"title": f"{code} 全部开工 by 2026-12-31", "kind": "milestone",
                         "due_at": NOW - timedelta(days=4 + n % 20)},
            "level": "overdue",
            "working_days": 1 + n % 15,
        }  # fmt: skip


def ducha_enqueue(url: str, people: list[Recipient], count: int) -> float:
    calendar = WorkingCalendar.load()
    setup = NoticeSetup()
    setup.templates.render("overdue", "zh", next(contexts(1)))  # compiled before the clock starts
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            drafts = (
                Draft(cause=f"alert:{n}", kind="alert", person=people[n % PEOPLE], template="overdue",
                      context=context, level="overdue", only=("email",))
                for n, context in enumerate(contexts(count))
            )  # fmt: skip
            written = enqueue(session=session, now=NOW, drafts=drafts, templates=setup.templates,
                              calendar=calendar, quiet=Quiet())  # fmt: skip
            session.commit()
            elapsed = time.perf_counter() - started
        assert written.notices == count, written
        return elapsed
    finally:
        engine.dispose()


COLUMNS = (
    "key", "cause", "person_id", "channel", "address", "template", "template_hash", "lang", "level", "escalation",
    "subject", "body_text", "body_html", "state", "created_at", "not_before", "attempts", "version",
)  # fmt: skip


def floor_enqueue(url: str, people: list[Recipient], count: int) -> float:
    """The same templates rendered by bare Jinja2, the same rows inserted by executemany."""
    loader = FileSystemLoader(str(BUILT_IN))
    plain = Environment(loader=loader, undefined=StrictUndefined, autoescape=False)
    html = Environment(loader=loader, undefined=StrictUndefined, autoescape=True)
    for environment in (plain, html):
        environment.filters.update(_filters("zh"))
    text_template, html_template = plain.get_template("zh/overdue.j2"), html.get_template("zh/overdue.j2")
    sqlite = url.startswith("sqlite")
    stamp = NOW.replace(tzinfo=None).isoformat(sep=" ") if sqlite else NOW
    marker = "?" if sqlite else "%s"
    statement = f"INSERT INTO notice ({', '.join(COLUMNS)}) VALUES ({', '.join([marker] * len(COLUMNS))})"
    if sqlite:
        connection: Any = sqlite3.connect(make_url(url).database or "")
    else:
        import psycopg

        parts = make_url(url)
        connection = psycopg.connect(
            dbname=parts.database, host=parts.host, port=parts.port, user=parts.username
        )
    try:
        started = time.perf_counter()
        rows: list[tuple[Any, ...]] = []
        for n, context in enumerate(contexts(count)):
            person = people[n % PEOPLE]
            text_context, html_context = (
                text_template.new_context(context),
                html_template.new_context(context),
            )
            subject = " ".join("".join(text_template.blocks["subject"](text_context)).split())
            body = "".join(text_template.blocks["text"](text_context)).strip()
            markup = "".join(html_template.blocks["html"](html_context)).strip()
            rows.append(
                (f"alert:{n}:person:{person.id}:email", "alert", person.id, "email", person.email, "overdue", "0" * 64,
                 "zh", "overdue", False, subject, body, markup, "queued", stamp, stamp, 0, 1)
            )  # fmt: skip
        cursor = connection.cursor()
        cursor.executemany(statement, rows)
        connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[int]:
    """aiosmtpd's Sink handler (it accepts and forgets) in a process of its own."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def ducha_dispatch(url: str, people: list[Recipient], count: int, port: int) -> float:
    calendar = WorkingCalendar.load()
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            drafts = (
                Draft(cause=f"alert:{n}", kind="alert", person=people[n % PEOPLE], template="overdue",
                      context=context, level="overdue", only=("email",))
                for n, context in enumerate(contexts(count))
            )  # fmt: skip
            enqueue(
                session=session, now=NOW, drafts=drafts, templates=NoticeSetup().templates, calendar=calendar
            )
            session.commit()

        @contextmanager
        def begin() -> Iterator[Session]:
            with Session(engine) as session:
                yield session
                session.commit()

        channels = Channels(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="ducha@example.org")
        started = time.perf_counter()
        result = dispatch(begin=begin, now=NOW, system_now=lambda: datetime.now(UTC), channels=channels,  # noqa: TID251
                          dispatcher="bench")  # fmt: skip
        elapsed = time.perf_counter() - started
        assert result.accepted == count, result
        return elapsed
    finally:
        engine.dispose()


def floor_dispatch(people: list[Recipient], count: int, port: int) -> float:
    """The same messages, composed first, sent by smtplib over one session."""
    from notifications.rendering import templates

    channel = EmailChannel(SmtpServer("127.0.0.1", port, "none"), "ducha@example.org", Redactor())
    rendered = templates(None)
    mails = []
    for n, context in enumerate(contexts(count)):
        person = people[n % PEOPLE]
        part = rendered.render("overdue", "zh", context)
        mails.append(
            channel.compose(
                Message(key=f"alert:{n}:person:{person.id}:email", subject=part.subject, text=part.text,
                        html=part.html, to_name=person.name, to_address=person.email)
            )
        )  # fmt: skip
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for mail in mails:
            client.send_message(mail.message)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--notices", type=int, default=100_000)
    parser.add_argument("--mails", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="Append the results to this file.")
    parser.add_argument("--db-prefix", default="ducha_bench_notice", help="PostgreSQL databases: <prefix>_*")
    args = parser.parse_args()
    lines = [
        "| backend | what | n | ducha s | floor s | ducha/floor | ducha per second | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="ducha-notice-bench-") as folder:
        for backend in args.backends.split(","):
            databases = Databases(backend, Path(folder), args.db_prefix)
            try:
                enqueues, floors = [], []
                for repeat in range(args.repeats):
                    url = databases.fresh(f"enqueue_{repeat}")
                    people = prepare(url)
                    enqueues.append(ducha_enqueue(url, people, args.notices))
                    url = databases.fresh(f"floor_{repeat}")
                    people = prepare(url)
                    floors.append(floor_enqueue(url, people, args.notices))
                    log(
                        f"{backend} enqueue {args.notices:,}: ducha {enqueues[-1]:.2f} s, floor {floors[-1]:.2f} s"
                    )
                ours, floor = statistics.median(enqueues), statistics.median(floors)
                ratio = statistics.median(a / b for a, b in zip(enqueues, floors, strict=True))
                verdict = "PASS" if ratio <= 1.3 else "FAIL"
                lines.append(f"| {backend} | render and enqueue | {args.notices:,} | {ours:.2f} | {floor:.2f} | "
                             f"{ratio:.2f}× | {args.notices / ours:,.0f} | ≤ 1.3×: {verdict} |")  # fmt: skip
                sends, raws = [], []
                with smtp_sink() as port:
                    for repeat in range(args.repeats):
                        url = databases.fresh(f"dispatch_{repeat}")
                        people = prepare(url)
                        sends.append(ducha_dispatch(url, people, args.mails, port))
                        raws.append(floor_dispatch(people, args.mails, port))
                        log(
                            f"{backend} dispatch {args.mails:,}: ducha {sends[-1]:.2f} s, smtplib {raws[-1]:.2f} s"
                        )
                ours, floor = statistics.median(sends), statistics.median(raws)
                ratio = statistics.median(a / b for a, b in zip(sends, raws, strict=True))
                verdict = "PASS" if ratio <= 1.5 and args.mails / ours >= 200 else "FAIL"
                lines.append(f"| {backend} | dispatch by e-mail | {args.mails:,} | {ours:.2f} | {floor:.2f} | "
                             f"{ratio:.2f}× | {args.mails / ours:,.0f} | ≤ 1.5×, ≥ 200/s: {verdict} |")  # fmt: skip
            finally:
                databases.close()
    print("\n".join(lines))
    if args.out is not None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")  # noqa: TID251 (when the run was)
        command = " ".join(["bench/notice_bench.py", *sys.argv[1:]])
        with args.out.open("a", encoding="utf-8") as out:
            out.write(f"\n# Notices: latest results\n\n{stamp}, `{command}` ({args.repeats} runs of each, "
                      f"medians; the ratio is the median of each run's ratio to the floor run beside it)\n\n"
                      + "\n".join(lines) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
