"""Two dispatchers at once on PostgreSQL: each notice is claimed by one of them and sent once.

The claim is ``FOR UPDATE SKIP LOCKED``: a dispatcher passes over the notices another is claiming
instead of waiting for them or taking them too. Two dispatcher processes start at the same moment
on a thousand notices, claiming five at a time (so that their claims meet often); the SMTP server
counts what arrives.
"""

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlmodel import Session, col

from ducha.db import make_engine
from models import Notice, NoticeState
from tests.integration.conftest import free_port
from tests.integration.test_dispatch_crash import AT, DOMAIN, NOTICES, KillingSink, seed

# ``ducha dispatch``'s dispatcher with a small batch, started when the file argv[3] appears.
DISPATCHER = """
import os, sys, time
from contextlib import contextmanager
from datetime import datetime
from ducha.context import AppContext
from ducha.lease import process_name
from notifications.dispatch import dispatch

context = AppContext()
now = datetime.fromisoformat(sys.argv[1])

@contextmanager
def begin():
    with context.transaction(now=now) as tx:
        yield tx.session

channels = context.channels()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
result = dispatch(begin=begin, now=now, system_now=context.system_clock.now, channels=channels,
                  dispatcher=process_name(), batch=int(sys.argv[2]), setup=context.notices)
print(f"{result.claimed} claimed, {result.accepted} accepted", flush=True)
"""


def test_two_dispatchers_at_once_send_each_notice_once(postgres_url: str, tmp_path: Path) -> None:
    keys = seed(postgres_url)
    sink = KillingSink()  # it kills no one unless armed
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {
        **os.environ, "DUCHA_DATABASE_URL": postgres_url, "DUCHA_SMTP_URL": f"smtp://127.0.0.1:{controller.port}",
        "DUCHA_MAIL_FROM": f"ducha@{DOMAIN}",
    }  # fmt: skip
    go = tmp_path / "go"
    try:
        dispatchers = [
            subprocess.Popen(
                [sys.executable, "-c", DISPATCHER, AT.isoformat(), "5", str(go)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
            for _ in range(2)
        ]
        go.touch()
        said = [process.communicate(timeout=180)[0] for process in dispatchers]
    finally:
        controller.stop()
    assert [process.returncode for process in dispatchers] == [0, 0], said
    claimed = [int(re.search(r"(\d+) claimed, (\d+) accepted", out)[1]) for out in said]  # type: ignore[index]
    assert sum(claimed) == NOTICES and min(claimed) > 0, said  # both worked, neither took the other's
    received = Counter(mail["X-Ducha-Key"] for mail in sink.mails)
    assert set(received) == keys and set(received.values()) == {1}, received.most_common(3)
    engine = make_engine(postgres_url)
    try:
        with Session(engine) as session:
            states = session.execute(
                select(col(Notice.state), func.count()).group_by(col(Notice.state))
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in states] == [(NoticeState.ACCEPTED.value, NOTICES)]
