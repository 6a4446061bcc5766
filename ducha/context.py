"""The application context: everything a front end or a job needs, built from the settings once.

The CLI keeps one in the Typer context; the scheduler and the Prefect flows make one per run. The
engine, the working-day calendar and the evidence store are built on first use, so a command that
does not need the database never touches it. A front end reads in ``reading()`` and writes in
``transaction()``, which owns the commit: domain and action code never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from ducha.clock import Clock, SystemClock, clock_from

log = logging.getLogger("ducha")

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from ducha.config import Settings
    from funds.audit_rules import RuleBook
    from funds.note import Signer
    from inspections.evidence import EvidenceBatch, EvidenceStore
    from models.calendar import WorkingCalendar
    from models.installation import Mode
    from models.raw import RawReader
    from notifications.outbox import NoticeSetup
    from notifications.registry import Channels
    from workflows.fund_actions import FundsSetup


@dataclass
class Transaction:
    """One unit of work: a session, the evidence files it puts (removed again if it fails), and the
    database's mode (live or simulation)."""

    session: Session
    evidence: EvidenceBatch
    mode: Mode


@dataclass
class AppContext:
    """Settings, clock, engine, calendar, evidence store and deadline defaults of one installation."""

    # The --at given for every command (the root option); a command's own --at wins over it.
    at: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    # An engine to use instead of one built from the settings (a test's, with its own limits).
    _engine: Engine | None = field(default=None, repr=False)
    # The system clock, which a live database's writes may not be dated after.
    system_clock: Clock = field(default_factory=SystemClock, repr=False)
    # The clock of a long-running process (ducha serve): used when no --at is given.
    running_clock: Clock | None = field(default=None, repr=False)
    # Where a note for the person running the command goes (the CLI: standard error).
    note: Callable[[str], None] = field(default=lambda text: log.info("%s", text), repr=False)
    _noted: bool = field(default=False, repr=False)

    @cached_property
    def settings(self) -> Settings:
        if self._settings is not None:
            return self._settings
        from ducha.config import get_settings

        return get_settings()

    def setting(self, name: str) -> str | None:
        """A setting that is plain text (``ducha.plain_settings``): read without pydantic while no
        setting that needs checking is set and the settings were not read whole already."""
        if self._settings is None and "settings" not in self.__dict__:
            from ducha.plain_settings import plain_settings

            plain = plain_settings()
            if plain is not None:
                return plain[name]
        value = getattr(self.settings, name)
        return None if value is None else str(value)

    def clock(self, at: str | None = None, default: str | None = None) -> Clock:
        """The clock for this command: its --at, else the root --at, else DUCHA_NOW, else the system.

        A time given (not the system's) must fall in the years the working-day calendar works in.
        """
        from models.errors import BadInput
        from models.localtime import local_date

        for given in (at, self.at):
            if given is not None and not given.strip():
                raise BadInput("--at is empty: give a date or time (2026-12-10, 2026-12-10T09:00+08:00)")
        if at is None and self.at is None and self.running_clock is not None:
            return self.running_clock
        text = at or self.at or self.setting("now") or default
        clock = clock_from(text)
        if text:
            self.calendar.require_usable(local_date(clock.now()), f"the time {text!r}")
        return clock

    def now(self, at: str | None = None, default: str | None = None) -> datetime:
        return self.clock(at, default).now()

    def as_of(self, at: str | None = None) -> datetime | None:
        """The time a read was asked for (--at, DUCHA_NOW), or None: then it shows everything there is.

        A simulation may hold what the system clock calls the future; a read without a time given
        shows it, and one with a time shows what was there by then.
        """
        return self.now(at) if (at or self.at or self.setting("now")) else None

    @cached_property
    def engine(self) -> Engine:
        if self._engine is not None:
            return self._engine
        from ducha.db import make_engine

        return make_engine(self.settings.database_url)

    @cached_property
    def calendar(self) -> WorkingCalendar:
        from pathlib import Path

        from models.calendar import WorkingCalendar

        # A plain setting (a path): read without pydantic when it can be (ducha.plain_settings).
        holiday_dir = self.setting("holiday_dir")
        return WorkingCalendar.load(Path(holiday_dir) if holiday_dir is not None else None)

    @cached_property
    def evidence_store(self) -> EvidenceStore:
        from inspections.evidence import EvidenceStore

        return EvidenceStore(self.settings.evidence_dir, max_bytes=self.settings.evidence_max_bytes)

    @cached_property
    def notices(self) -> NoticeSetup:
        """The notice templates (the office's overrides checked once) and the quiet hours."""
        from notifications.outbox import NoticeSetup, Quiet
        from notifications.rendering import templates

        return NoticeSetup(templates(self.settings.template_dir), Quiet.parse(self.settings.quiet_hours))

    def channels(self) -> Channels:
        """The notice channels: e-mail from the settings, the rest from the channels file (per run:
        a channel holds a connection for one dispatch)."""
        from notifications.registry import Channels

        settings = self.settings
        return Channels.from_settings(
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            channels_file=settings.channels_file,
            channels=settings.channels,
        )

    @cached_property
    def deadline_days(self) -> Mapping[str, int]:
        """Working days to fix a finding, by severity: the defaults with the installation's changes."""
        from inspections.orders import DEFAULT_DEADLINE_DAYS

        return {**DEFAULT_DEADLINE_DAYS, **self.settings.rectification_days}

    def signers(self, *, required: bool = False) -> list[Signer]:
        """The keys that sign ledger checkpoints: the office's (DUCHA_AUDIT_KEY), then a co-signer's.

        None when the office has not made its key yet (its checkpoints wait for it), unless required.
        """
        from funds.note import Signer
        from models.errors import BadInput

        out = []
        for path in (self.settings.audit_key, self.settings.audit_cosign_key):
            if path is None:
                continue
            if not path.is_file():
                if path == self.settings.audit_key and not required:
                    return []
                raise BadInput(f"{path}: no signing key there (ducha audit keygen makes it; DUCHA_AUDIT_KEY)")
            out.append(Signer.parse(path.read_text(encoding="utf-8")))
        return out

    def audit_rules(self) -> RuleBook:
        """The fund audit rules: the shipped file, with the office's (DUCHA_AUDIT_RULES) over it."""
        from funds.audit_rules import load_rules

        return load_rules(self.settings.audit_rules)

    def funds_setup(self) -> FundsSetup:
        """What the ledger's actions need from the installation: the signing keys, the approval threshold."""
        from models.money import parse_yuan
        from workflows.fund_actions import FundsSetup

        threshold = parse_yuan(self.settings.approval_threshold)
        return FundsSetup(tuple(self.signers()), threshold)

    def checked_engine(self) -> Engine:
        """The engine, once the database is known to have this code's schema (checked once per process)."""
        from ducha.db import require_current_schema

        require_current_schema(self.engine)
        return self.engine

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; whatever it did is rolled back at the end."""
        from ducha.db import session_scope

        with session_scope(self.checked_engine()) as session:
            yield session

    @contextmanager
    def raw_reading(self) -> Iterator[RawReader | None]:
        """A driver connection for the reads compiled ahead (``workflows.lean_reads``), or None: then
        read in ``reading()`` (a test's own engine, a database that is missing or not current, a URL
        form the driver connection does not take)."""
        if self._engine is not None:
            yield None
            return
        from models.raw import open_reader

        url = self.setting("database_url")
        reader = open_reader(url) if url is not None else None
        try:
            yield reader
        finally:
            if reader is not None:
                reader.close()

    @contextmanager
    def transaction(
        self, *, now: datetime, settle: bool = False, wanted: Mode | None = None
    ) -> Iterator[Transaction]:
        """A write transaction dated ``now``: committed when the block ends, rolled back (files too)
        if it raises. A live database refuses a time after the system clock; a simulation says it is one.

        ``settle`` (init, demo) records the database's mode first if it has none: ``wanted``, else live.
        """
        from sqlmodel import Session

        from ducha.db import writer
        from inspections.evidence import EvidenceBatch
        from models.installation import Mode
        from models.localtime import local
        from workflows.installation import SKEW, check_write_time, settle_mode

        evidence = EvidenceBatch(self.evidence_store)
        with Session(writer(self.checked_engine()), expire_on_commit=False) as session:
            try:
                system_now = self.system_clock.now()
                if settle:
                    settle_mode(session=session, wanted=wanted, now=min(now, system_now))
                mode = check_write_time(session=session, now=now, system_now=system_now)
                if mode == Mode.SIMULATION and abs(now - system_now) > SKEW and not self._noted:
                    self._noted = True
                    self.note(f"simulation: this write is dated {local(now):%Y-%m-%d %H:%M} (simulated time)")
                yield Transaction(session, evidence, mode)
                session.commit()
            except BaseException:
                session.rollback()
                evidence.discard()
                raise

    def dispose(self) -> None:
        """Close the connections of the engine this context built, if it built one."""
        if "engine" in self.__dict__ and self._engine is None:
            self.engine.dispose()
