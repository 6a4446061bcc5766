"""Answers a process keeps while the data they come from has not changed.

A read that is asked again and again with the same inputs (the project list's exact count over every
project a login sees, the battle map of a programme, the programme list) is kept here, per process,
under its inputs (scope included: a login never gets an answer made for another's scope) and the
data generation (``models.generation``) read first, in the same transaction as the answer. A write to
any table the reads depend on moves the generation, in whichever process or connection it happens,
and the next read misses and asks the database again: the answers stay exact.

An answer that depends on the clock (what is overdue at ``now``) says until when it holds (the next
due time or the next alert to come into view); it is kept for times from ``now`` up to then only.

Only sessions that have written nothing may use these (the web's read sessions): an answer made
from uncommitted writes must never be kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlmodel import Session

from models.generation import data_generation

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    since: datetime | None  # the time it was made for (None: it does not depend on the clock)
    until: datetime | None  # the first time it may no longer hold (None: while the data stays)

    def holds_at(self, now: datetime | None) -> bool:
        if self.since is None or now is None:
            return self.since is None
        return self.since <= now and (self.until is None or now < self.until)


class ReadCache(Generic[T]):
    """At most ``size`` answers, the least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Kept[T]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def answer(
        self,
        session: Session,
        key: Hashable,
        make: Callable[[], tuple[T, datetime | None]],
        now: datetime | None = None,
    ) -> T:
        """The answer for ``key`` at ``now`` (None: one that does not depend on the clock): kept, or
        made by ``make`` (the answer and until when it holds) and kept."""
        # The database too: a process (a test run) may read more than one, each with its own numbers.
        # The generation is read before the answer: never an older answer kept under it.
        full = (str(session.connection().engine.url), key, data_generation(session))
        with self._lock:
            kept = self._kept.get(full)
            if kept is not None and kept.holds_at(now):
                self._kept.move_to_end(full)
                self.hits += 1
                return kept.value
            self.misses += 1
        value, until = make()
        with self._lock:
            self._kept[full] = Kept(value, now, until)
            self._kept.move_to_end(full)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
