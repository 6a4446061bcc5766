"""A long log's entries checked in two halves at once: the first by this process, the second by another
(Python holds one core per process: the screen of funds/entry_screen.py is Python work on every entry).

The second half's process starts where the first half would leave it as the database says it does:
the hash of the entry before the half and, for every account, the balance its last line before the half
records. The halves are joined only if this process, having checked the first half itself, stands exactly
there: the entry before the half is the last it passed, with that hash, and the balances it counted are
those. The join is then the pass the one process would have made: the second half's process ran the same
screen and the same explanations from the same state, over the same rows. In every other case (a
problem in either half, a state that differs, a process that failed) this process goes on with the second
half itself, so what is reported is always what the entry by entry pass reports.

Entries and lines are append-only: the halves are bounded by the log size read first (the second half
by nothing at its end, as the one pass is), so both processes read the same rows.
"""

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from funds.tree_levels import levels_of
from models.ledger import JournalEntry, JournalLine, LedgerAccount
from models.types import table_of

ENTRY, LINE = table_of(JournalEntry).c, table_of(JournalLine).c
ACCOUNTS = table_of(LedgerAccount)
ACCOUNT = ACCOUNTS.c
ROOT = str(Path(__file__).resolve().parent.parent)  # where the packages are, for the other process
SPLIT_AT = 200_000  # entries; below it a second process costs more to start than it saves
# The entries this process screens in the time the other takes to start (an interpreter, the imports,
# the state before its half: 0.7 s on a quiet machine, some 14 µs an entry): the first half is longer
# by them, so that both end together.
HEAD_START = 60_000
# The halves meet at a multiple of 2^ALIGN: each half's tree levels up to ALIGN are then the whole
# tree's, each half makes its own, and only the levels above are made after the join.
ALIGN = 14


def middle_of(size: int) -> int:
    """Where the second half of a log of ``size`` entries starts (0: it is not halved)."""
    return (size + min(HEAD_START, size // 2)) // 2 >> ALIGN << ALIGN


@dataclass
class Run:
    """Where a pass over a log's entries stands: the seq it expects next, the hash of the entry before
    it, the balances the entries so far leave (account code → fen), and the leaves they make."""

    done: int
    prev: str
    balances: dict[str, int]
    leaves: list[bytes] = field(default_factory=list)
    rechecked: int = 0
    levels: list[bytes] | None = None  # the tree's levels, when the halves made them


class Screen(Protocol):
    """funds/verify.py's pass over the entries ``start`` ≤ seq < ``stop`` (None: unbounded) from ``run``:
    (the first problem, or None; whether every entry in the range passed)."""

    def __call__(
        self, session: Session, programme_id: int, origin: str, run: Run, start: int | None, stop: int | None
    ) -> tuple[Any, bool]: ...


def split_pass(
    session: Session,
    programme_id: int,
    origin: str,
    run: Run,
    screen: Screen,
    meanwhile: Callable[[int], None] = lambda size: None,
) -> tuple[Any, bool]:
    """``screen`` over the whole log from ``run``, its second half in another process if it is long;
    ``meanwhile(size)``, while that process works, once this one has checked its half."""
    size = int(session.execute(select(func.count()).where(ENTRY.programme_id == programme_id)).scalar_one())
    url = session.connection().engine.url
    middle = middle_of(size)
    if size < SPLIT_AT or not middle or url.get_backend_name() == "sqlite" and _in_memory(url.database):
        return screen(session, programme_id, origin, run, None, None)
    # A fresh interpreter, not multiprocessing: its spawn would import the caller's main script again.
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "funds.verify_split"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
            },
        )
    except OSError:  # no process to be had: the one pass
        return screen(session, programme_id, origin, run, None, None)
    try:
        assert worker.stdin is not None and worker.stdout is not None
        try:  # the URL (with any password) goes by the pipe, not the command line others can read
            worker.stdin.write(
                pickle.dumps((url.render_as_string(hide_password=False), programme_id, origin, middle, ALIGN))
            )
            worker.stdin.close()
        except OSError:  # it died already: it sends nothing, and this process checks its half
            pass
        problem, passed = screen(session, programme_id, origin, run, None, middle)
        if problem is not None:
            if passed:  # lines past the first half's last entry: the whole log says whose they are
                run.done, run.prev, run.balances, run.leaves, run.rechecked = 0, "", {}, [], 0
                return screen(session, programme_id, origin, run, None, None)
            return problem, passed
        mine = _levels_to(ALIGN, b"".join(run.leaves)) if run.done == middle else []
        meanwhile(size)
        half = _received(worker.stdout.read())
        if half is not None and _joins(run, middle, half) and len(half.levels) == len(mine):
            levels = [first + second for first, second in zip(mine, half.levels, strict=True)]
            run.levels = levels[:-1] + levels_of(levels[-1])
            run.leaves = [levels[0]]
            run.done, run.prev, run.balances = half.done, half.prev, half.balances
            run.rechecked += half.rechecked
            return None, True
        return screen(session, programme_id, origin, run, middle, None)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()


@dataclass
class Half:
    """What the second half's process found: where it started and where it stopped."""

    start_prev: str
    start_balances: dict[str, int]
    done: int
    prev: str
    balances: dict[str, int]
    levels: list[bytes]  # levels 0 … ALIGN (as the first process says it) of the tree its entries make
    rechecked: int


def _levels_to(top: int, leaves: bytes) -> list[bytes]:
    """Levels 0 … ``top`` of the tree of ``leaves`` (those with no node empty)."""
    levels = levels_of(leaves)[: top + 1]
    return levels + [b""] * (top + 1 - len(levels))


def _joins(run: Run, middle: int, half: Half) -> bool:
    return run.done == middle and run.prev == half.start_prev and run.balances == half.start_balances


def _received(data: bytes) -> Half | None:
    try:
        half = pickle.loads(data)  # noqa: S301  (from the process this one started, by its own pipe)
    except Exception:  # noqa: BLE001  (the process died before it said: check the half here)
        return None
    return half if isinstance(half, Half) else None


def _second_half(url: str, programme_id: int, origin: str, middle: int, align: int) -> Half | None:
    """In the other process: the entries from ``middle`` on, from the state the rows say precedes them;
    a ``Half``, or None if any entry of them has a problem (the first process then checks them)."""
    from funds.verify import screen_range  # the screen itself, as the first process runs it

    engine = create_engine(url, connect_args=_connect_args(url))
    try:
        with Session(engine) as session:
            prev, balances = _state_before(session, programme_id, middle)
            if prev is None:
                return None
            run = Run(middle, prev, dict(balances))
            problem, passed = screen_range(session, programme_id, origin, run, middle, None)
            if problem is not None or not passed:
                return None
            levels = _levels_to(align, b"".join(run.leaves))
            return Half(prev, balances, run.done, run.prev, run.balances, levels, run.rechecked)
    finally:
        engine.dispose()


def _state_before(session: Session, programme_id: int, middle: int) -> tuple[str | None, dict[str, int]]:
    """The stored hash of entry ``middle`` − 1 and each account's balance after its last line before
    ``middle``: what the one pass would stand on there if every entry before is good."""
    prev = session.execute(
        select(ENTRY.entry_hash).where(ENTRY.programme_id == programme_id, ENTRY.seq == middle - 1)
    ).scalar_one_or_none()
    last = (
        select(LINE.account_id, func.max(LINE.entry_seq).label("seq"))
        .where(LINE.programme_id == programme_id, LINE.entry_seq < middle)
        .group_by(LINE.account_id)
        .subquery()
    )
    rows = session.execute(
        select(ACCOUNT.code, LINE.position, LINE.balance_fen)
        .select_from(table_of(JournalLine))
        .join(last, (LINE.account_id == last.c.account_id) & (LINE.entry_seq == last.c.seq))
        .join(ACCOUNTS, (ACCOUNT.id == LINE.account_id) & (ACCOUNT.programme_id == programme_id))
        .where(LINE.programme_id == programme_id)
        .order_by(ACCOUNT.code, LINE.position)
    ).all()
    balances = {code: balance for code, _, balance in rows}  # the last position of the entry wins
    return prev, balances


def _connect_args(url: str) -> dict[str, Any]:
    """As ducha/db.py connects: no JIT on PostgreSQL (it compiled for long scans like these to save
    nothing), a busy timeout on SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"timeout": 30}
    return {"options": " ".join(filter(None, [str(parsed.query.get("options") or ""), "-c jit=off"]))}


def _in_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or database.startswith("file::memory:")


def main() -> None:
    """The other process: its arguments by stdin, its ``Half`` (or None) by stdout, both pickled."""
    # This module by its name: run as __main__, the classes it sends would not unpickle in the other.
    from funds import verify_split

    try:
        url, programme_id, origin, middle, align = pickle.loads(sys.stdin.buffer.read())  # noqa: S301
        half = verify_split._second_half(url, programme_id, origin, middle, align)
    except Exception:  # noqa: BLE001  (the first process checks the half itself; no traceback)
        half = None
    sys.stdout.buffer.write(pickle.dumps(half))


if __name__ == "__main__":
    main()
