"""A lease in the database: of several ``ducha scheduler`` processes on one database, one runs the jobs.

The holder renews the lease well before it expires; the others wait as hot standbys, trying to take
it, and one takes it over once it has expired (the holder died, or lost its connection). Taking and
renewing are one conditional UPDATE (or the first INSERT), so two processes can never both hold it:
the database decides. Time is the system clock's: a lease is about processes, not simulated time.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ducha.clock import Clock, SystemClock

if TYPE_CHECKING:
    from sqlalchemy import Engine


def process_name() -> str:
    """This process, as a lease holder: host, process id and a random part (a reused pid differs)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """The lease ``name`` for ``holder``, valid ``seconds`` after each take or renewal."""

    def __init__(
        self,
        engine: Engine,
        *,
        name: str = "scheduler",
        holder: str | None = None,
        seconds: float = 45,
        clock: Clock | None = None,
    ) -> None:
        if seconds <= 0:
            raise ValueError("a lease lasts a positive number of seconds")
        self.engine = engine
        self.name = name
        self.holder = holder or process_name()
        self.seconds = seconds
        self.clock = clock or SystemClock()

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, renew it if ours; whether we hold it now."""
        from sqlalchemy import and_, or_, update
        from sqlmodel import Session, col

        from ducha.db import writer
        from models import SchedulerLease

        now = self.clock.now()
        until = now + timedelta(seconds=self.seconds)
        with Session(writer(self.engine)) as session:
            taken = (
                session.execute(
                    update(SchedulerLease)
                    .where(
                        and_(
                            col(SchedulerLease.name) == self.name,
                            or_(
                                col(SchedulerLease.holder) == self.holder,
                                col(SchedulerLease.expires_at) < now,
                            ),
                        )
                    )
                    .values(holder=self.holder, acquired_at=now, expires_at=until)
                    .returning(col(SchedulerLease.name))
                    .execution_options(synchronize_session=False)
                ).first()
                is not None
            )
            if not taken:
                taken = self._insert(session, now, until)
            session.commit()
        return taken

    def _insert(self, session: object, now: datetime, until: datetime) -> bool:
        """The first lease: an INSERT that does nothing if another process made the row first."""
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        from sqlmodel import Session

        from models import SchedulerLease
        from models.types import table_of

        assert isinstance(session, Session)
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(table_of(SchedulerLease))
            .values(name=self.name, holder=self.holder, acquired_at=now, expires_at=until)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(table_of(SchedulerLease).c.name)
        )
        # A row back: inserted. (psycopg reports no row count for ON CONFLICT DO NOTHING.)
        return session.execute(statement).first() is not None

    def held(self) -> bool:
        """Whether we hold the lease now (it is ours and has not expired)."""
        from sqlmodel import Session

        from models import SchedulerLease

        with Session(self.engine) as session:
            row = session.get(SchedulerLease, self.name)
            return row is not None and row.holder == self.holder and row.expires_at > self.clock.now()

    def holder_now(self) -> tuple[str, datetime] | None:
        """Who holds the lease, until when (perhaps expired), or None if nobody ever took it."""
        from sqlmodel import Session

        from models import SchedulerLease

        with Session(self.engine) as session:
            row = session.get(SchedulerLease, self.name)
            return None if row is None else (row.holder, row.expires_at)

    def release(self) -> None:
        """Give the lease up (a clean stop): a standby takes it at its next try, not after expiry."""
        from sqlalchemy import update
        from sqlmodel import Session, col

        from ducha.db import writer
        from models import SchedulerLease

        with Session(writer(self.engine)) as session:
            session.execute(
                update(SchedulerLease)
                .where(col(SchedulerLease.name) == self.name, col(SchedulerLease.holder) == self.holder)
                .values(expires_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
            session.commit()
