"""A dispatcher killed at any moment loses no notice, and a mail it may have sent twice is one mail.

A thousand notices are enqueued through the outbox; a dispatcher process (what ``ducha dispatch``
runs) is killed with SIGKILL at random points, sometimes while a mail is on the wire (the server has
it, the dispatcher never hears so), sometimes at a random moment (claiming, recording, starting).
Each restart runs later on the system clock than the leases of the one before (as a dispatcher
started after the lease time would), so it finds the dead one's notices in doubt and sends them
again under the same key. In the end every notice has been delivered, the mails received carry
exactly as many distinct keys and Message-IDs as there are notices, and every mail received twice
has the same key and Message-ID both times.
"""

import email
import email.policy
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlmodel import Session, col

from ducha.db import make_engine
from models import Notice, NoticeAttempt, NoticeState
from models.calendar import WorkingCalendar
from notifications.channels.email import message_id
from notifications.outbox import Draft, Recipient, enqueue
from notifications.rendering import sample_context, templates
from tests.integration.conftest import SqliteTemplates, free_port
from workflows.people import ensure_person

NOTICES = 1000
PEOPLE = 100
AT = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 09:00 on a working Thursday in Shanghai
DOMAIN = "office.example.org"
# The dispatcher as `ducha dispatch` runs it, on a system clock `offset` minutes ahead of the
# machine's: a restart comes after the leases (ten minutes) of the one killed before it.
DISPATCHER = """
import sys
from datetime import UTC, datetime, timedelta
from ducha.context import AppContext
from ducha.jobs import run_dispatch

class Ahead:
    def __init__(self, minutes: float) -> None:
        self.offset = timedelta(minutes=minutes)
    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

context = AppContext(system_clock=Ahead(float(sys.argv[1])))
print(run_dispatch(context, datetime.fromisoformat(sys.argv[2])).describe(), flush=True)
"""


class KillingSink:
    """An SMTP server that keeps every mail and can SIGKILL the dispatcher on the n-th mail of its
    life, before answering: the mail is delivered, the dispatcher never learns it was."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.victim: subprocess.Popen[bytes] | None = None
        self.kill_after: int | None = None
        self.seen = 0  # mails received in the current dispatcher's life
        self.killed_sending = 0
        self.sending = threading.Event()  # the current dispatcher has sent its first mail

    def arm(self, process: subprocess.Popen[bytes], kill_after: int | None) -> None:
        with self.lock:
            self.victim, self.kill_after, self.seen = process, kill_after, 0
            self.sending.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.mails.append(message)
            self.seen += 1
            self.sending.set()
            if self.victim is not None and self.seen == self.kill_after:
                os.kill(self.victim.pid, signal.SIGKILL)
                self.killed_sending += 1
        return "250 OK"


def seed(url: str) -> set[str]:
    """NOTICES overdue e-mail notices, ten to each of PEOPLE people, written by the outbox; their keys."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            people = [
                ensure_person(
                    session=session, name=f"专干{n:03d}", phone=f"1391000{n:04d}", email=f"p{n}@example.org"
                )
                for n in range(PEOPLE)
            ]
            drafts = []
            for n in range(NOTICES):
                person = people[n % PEOPLE]
                assert person.id is not None and person.email is not None
                context = sample_context("overdue")
                context["person"] = {"name": person.name}
                context["project"] = context["project"] | {"code": f"P{n:04d}"}
                context["deadline"] = context["deadline"] | {"title": f"P{n:04d} 全部开工 by 2026-12-31"}
                recipient = Recipient(person.id, person.name, person.email)
                drafts.append(
                    Draft(cause=f"alert:{n}", kind="alert", person=recipient, template="overdue",
                          context=context, level="overdue", only=("email",))
                )  # fmt: skip
            written = enqueue(session=session, now=AT, drafts=drafts, templates=templates(None),
                              calendar=WorkingCalendar.load())  # fmt: skip
            session.commit()
            assert written.notices == NOTICES
            return set(session.execute(select(col(Notice.key))).scalars())
    finally:
        engine.dispose()


@pytest.fixture
def database_url(sqlite_templates: SqliteTemplates, tmp_path: Path) -> str:
    """A fresh migrated SQLite database (a simulation): one backend shows a crash; what only
    PostgreSQL can show, two dispatchers at once, is in test_dispatch_parallel."""
    path = tmp_path / "ducha.db"
    shutil.copyfile(sqlite_templates.empty, path)
    return f"sqlite:///{path}"


def test_a_dispatcher_killed_at_random_points_delivers_every_notice_once_as_the_recipient_sees_it(
    database_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    keys = seed(database_url)
    lives = [f"seeded in {time.monotonic() - started:.1f} s"]
    sink = KillingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {
        **os.environ, "DUCHA_DATABASE_URL": database_url, "DUCHA_SMTP_URL": f"smtp://127.0.0.1:{controller.port}",
        "DUCHA_MAIL_FROM": f"ducha@{DOMAIN}",
    }  # fmt: skip
    seed_value = random.SystemRandom().randrange(2**32)
    chance = random.Random(seed_value)
    try:
        for life in range(10):
            # The first kills come while a mail is on the wire, then at random moments; from the
            # seventh life on the dispatcher is left to finish.
            how = "mail" if life < 2 else chance.choice(["mail", "time"]) if life < 6 else "none"
            log = tmp_path / f"dispatcher-{life}.log"
            began = time.monotonic()
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-c", DISPATCHER, str(life * 11), AT.isoformat()],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
                sink.arm(process, chance.randint(1, 250) if how == "mail" else None)
                if how == "time":  # somewhere in sending, claiming the next batch or recording
                    while not sink.sending.wait(timeout=0.1) and process.poll() is None:
                        pass
                    try:
                        process.wait(timeout=chance.uniform(0, 1.5))
                    except subprocess.TimeoutExpired:
                        process.kill()
                code = process.wait(timeout=120)
            said = log.read_text(encoding="utf-8", errors="replace")
            took = time.monotonic() - began
            lives.append(
                f"life {life} ({how}): {sink.seen} mails in {took:.1f} s, exit {code}: {said.strip()[-300:]}"
            )
            assert code in (0, -signal.SIGKILL), "\n".join(lives)
            if code == 0:
                break
        context = f"seed {seed_value}\n" + "\n".join(lives)
        assert code == 0, context
        # Once one has finished, another finds nothing to send.
        again = subprocess.run(
            [sys.executable, "-c", DISPATCHER, str(len(lives) * 11), AT.isoformat()],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        assert ": 0 claimed, 0 accepted" in again.stdout, again.stdout + again.stderr
        assert sink.killed_sending >= 2, context
    finally:
        controller.stop()

    # Every notice was delivered, and recorded so.
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            states = {
                state: count
                for state, count in session.execute(
                    select(col(Notice.state), func.count()).group_by(col(Notice.state))
                ).all()
            }
            in_doubt = session.execute(
                select(func.count())
                .select_from(NoticeAttempt)
                .where(col(NoticeAttempt.outcome) == "in_doubt")
            ).scalar_one()
    finally:
        engine.dispose()
    assert states == {NoticeState.ACCEPTED.value: NOTICES}, context
    assert in_doubt > 0, context

    # As many distinct keys and Message-IDs as notices; a mail received twice is the same mail.
    by_key: dict[str, list[EmailMessage]] = defaultdict(list)
    for mail in sink.mails:
        by_key[mail["X-Ducha-Key"]].append(mail)
    assert set(by_key) == keys, context
    assert len({mail["Message-ID"] for mail in sink.mails}) == NOTICES, context
    repeated = {key: mails for key, mails in by_key.items() if len(mails) > 1}
    assert len(repeated) >= sink.killed_sending, context  # at least the mails a dispatcher died sending
    for key, mails in by_key.items():
        assert {m["Message-ID"] for m in mails} == {message_id(key, DOMAIN)}, key
        assert len({(m["Subject"], m["To"], m.get_body(("plain",)).get_content()) for m in mails}) == 1, key  # type: ignore[union-attr]
    assert len(sink.mails) > NOTICES, context
    print(f"{context}\n{len(sink.mails)} mails for {NOTICES} notices, {len(repeated)} keys more than once")
