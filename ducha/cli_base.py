"""What every ducha command shares: settings and clock, sessions, options, and error reporting."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from ducha.clock import Clock, clock_from
from ducha.config import Settings, get_settings
from ducha.db import SchemaBehind, make_engine, require_current_schema, session_scope
from inspections.evidence import EvidenceRejected, EvidenceStore
from inspections.orders import DEFAULT_DEADLINE_DAYS, OrderRefused
from inspections.records import InspectionRefused
from inspections.scoring import ResultError
from models.calendar import CalendarNotCovered, WorkingCalendar
from models.yaml_source import SourceError
from workflows.deadline_actions import DeadlineRefused
from workflows.deadlines import sync_deadlines
from workflows.definition import DefinitionConflict, UnknownDefinition
from workflows.engine import TransitionRefused, VersionConflict
from workflows.importer import ImportRejected
from workflows.service import Conflict, NotFound

EXIT_OK, EXIT_FINDING, EXIT_BAD_INPUT = 0, 1, 2

console = Console(width=None if sys.stdout.isatty() else 160)
# Error lines never wrap: one problem, one line, for logs and scripts.
errors = Console(stderr=True, soft_wrap=True)

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Freeze 'now' (ISO 8601; a bare date means 09:00 Asia/Shanghai)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ProgrammeOption = Annotated[str | None, typer.Option("--programme", help="Programme name or id.")]


@dataclass
class AppState:
    """What every command shares: settings, the global --at, and one engine built on demand."""

    settings: Settings
    at: str | None
    _engine: Engine | None = field(default=None, repr=False)

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar.load(self.settings.holiday_dir)

    def evidence_store(self) -> EvidenceStore:
        return EvidenceStore(self.settings.evidence_dir, max_bytes=self.settings.evidence_max_bytes)

    def deadline_days(self) -> dict[str, int]:
        return {**DEFAULT_DEADLINE_DAYS, **self.settings.rectification_days}

    def clock(self, at: str | None = None, default: str | None = None) -> Clock:
        return clock_from(at or self.at or self.settings.now or default)


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState(settings=get_settings(), at=None)
    return root.obj


class BadInput(Exception):
    """A user error with a message ready to print (exit 2)."""


P = ParamSpec("P")
R = TypeVar("R")
BAD_INPUT_ERRORS = (
    BadInput,
    NotFound,
    Conflict,
    SchemaBehind,
    TransitionRefused,
    VersionConflict,
    UnknownDefinition,
    DefinitionConflict,
    OrderRefused,
    InspectionRefused,
    EvidenceRejected,
    CalendarNotCovered,
    DeadlineRefused,
)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one clear message and exit code 2; nothing is half-written."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ImportRejected as exc:
            for line in exc.lines:
                errors.print(line, markup=False, highlight=False)
            errors.print(f"nothing imported ({len(exc.lines)} problem(s))", markup=False)
        except SourceError as exc:
            for line in exc.lines():
                errors.print(line, markup=False, highlight=False)
        except ResultError as exc:
            for problem in exc.problems:
                errors.print(f"item {problem.item_key!r}: {problem.message}", markup=False, highlight=False)
        except BAD_INPUT_ERRORS as exc:
            errors.print(f"error: {exc}", markup=False, highlight=False)
        except ValueError as exc:  # bad --at and other malformed values
            errors.print(f"error: {exc}", markup=False, highlight=False)
        except OperationalError as exc:
            errors.print(f"error: database unavailable: {exc.orig}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)

    return wrapper


def keep_deadlines_in_step(
    ctx: typer.Context, session: Session, now: datetime, project_ids: list[int] | None
) -> None:
    """After a change, open and settle the deadlines it implies (in the same transaction)."""
    sync_deadlines(session=session, now=now, calendar=state(ctx).calendar(), project_ids=project_ids)


@contextmanager
def open_session(ctx: typer.Context) -> Iterator[Session]:
    """A session on a database whose schema is current (else a clear refusal)."""
    engine = state(ctx).engine()
    require_current_schema(engine)
    with session_scope(engine) as session:
        yield session
