"""The only place in ducha that reads the time.

Domain code takes ``now`` as an argument; the shell gets it from a :class:`Clock`.
``DUCHA_NOW`` or the global ``--at`` option give a :class:`FixedClock`, so an office can ask
"what happens on 5 January?" without touching the machine's clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from models.errors import BadInput
from models.localtime import LOCAL_TZ, OFFICE_DAY_START, local

__all__ = [
    "LOCAL_TZ",
    "Clock",
    "FixedClock",
    "RunningClock",
    "SystemClock",
    "clock_from",
    "local",
    "parse_instant",
]


class Clock(Protocol):
    """Something that says what time it is, as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock frozen at one instant (simulation and tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at


class RunningClock:
    """A clock that starts at a given instant and runs on with the machine's: a simulation served to
    people (``ducha serve --at``), where time must still pass between one click and the next."""

    def __init__(self, at: datetime, system: Clock | None = None) -> None:
        if at.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self._system = system or SystemClock()
        self._offset = at.astimezone(UTC) - self._system.now()

    def now(self) -> datetime:
        return self._system.now() + self._offset


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are Asia/Shanghai local time.

    A date alone (``2026-12-10`` or ``20261210``) means 09:00 local time that day.
    """
    raw = text.strip()
    try:
        if raw.isdecimal() or len(raw) == 10:  # 2026-12-10 or the basic format 20261210
            day = date.fromisoformat(raw)
            return datetime.combine(day, OFFICE_DAY_START, LOCAL_TZ).astimezone(UTC)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadInput(
            f"not an ISO 8601 date or time: {text!r} (examples: 2026-12-10, 2026-12-10T09:00+08:00)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed.astimezone(UTC)


def clock_from(at: str | None) -> Clock:
    """A fixed clock for ``at`` (``--at`` or ``DUCHA_NOW``), else the system clock."""
    return FixedClock(parse_instant(at)) if at else SystemClock()
