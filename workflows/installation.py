"""Live or simulated time: what kind of database this is, and which write times it accepts.

A live database keeps the system clock's time: a write dated after it (beyond a few minutes of skew
between machines) is refused, so ``--at 9999-12-31`` cannot freeze a project or raise every alert at
once. A simulation (the demo, training, a programme played ahead of time) accepts any time.
"""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import Installation, Mode, Programme
from models.compiled import Compiled
from models.errors import Refused
from models.localtime import local

# How far a write may be dated after the system clock on a live database (clocks of two machines).
SKEW = timedelta(minutes=5)


# Read at the start of every write transaction (a job run, a command): compiled once, run on the
# driver's cursor, no ORM object loaded.
_MODE = Compiled(select(col(Installation.mode)).where(col(Installation.id) == 1))


def mode_of(session: Session) -> Mode:
    """The database's mode; one made before modes were kept, with no row yet, is live."""
    loaded = session.identity_map.get(session.identity_key(Installation, 1))
    if loaded is not None:  # settle_mode's, just written
        return Mode(loaded.mode)
    found = _MODE.first(session)
    return Mode(found[0]) if found is not None else Mode.LIVE


def recorded_mode(session: Session) -> Mode | None:
    row = session.get(Installation, 1)
    return Mode(row.mode) if row is not None else None


def settle_mode(*, session: Session, wanted: Mode | None, now: datetime) -> Mode:
    """Record the mode on first use (``wanted``, live by default); afterwards it never changes.

    A database that already holds programmes but no mode was made before modes were kept: it is live.
    """
    row = session.get(Installation, 1)
    if row is None:
        has_data = session.exec(select(col(Programme.id)).limit(1)).first() is not None
        mode = wanted or Mode.LIVE
        if has_data and mode == Mode.SIMULATION:
            raise Refused(
                "this database already holds programmes: it is live; a simulation needs a database of its "
                "own (set DUCHA_DATABASE_URL to a new file and run ducha init --simulation or ducha demo)"
            )
        session.add(Installation(id=1, mode=mode, created_at=now))
        session.flush()
        return mode
    mode = Mode(row.mode)
    if wanted is not None and wanted != mode:
        raise Refused(
            f"this database is {mode.value} and stays so; a {wanted.value} database needs a database of its "
            "own (set DUCHA_DATABASE_URL to a new file)"
        )
    return mode


def check_write_time(*, session: Session, now: datetime, system_now: datetime) -> Mode:
    """Refuse a write dated after the system clock on a live database; return the mode."""
    mode = mode_of(session)
    if mode == Mode.LIVE and now > system_now + SKEW:
        raise Refused(
            f"this database is live: a write dated {local(now):%Y-%m-%d %H:%M} is after the system clock "
            f"({local(system_now):%Y-%m-%d %H:%M}); drop --at/DUCHA_NOW, or play it ahead in a simulation "
            "(ducha init --simulation on a database of its own)"
        )
    return mode
