"""What every command shares: the context, the common options, consoles, and the one error mapping.

Nothing here imports SQLAlchemy or a table: ``ducha --help`` builds every command from these
modules, so a command module imports its domain code inside the function that runs it.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from ducha.context import AppContext
from models.errors import BadInput, DuchaError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlmodel import Session

    from models import Person
    from models.raw import RawReader
    from models.window import Window

T = TypeVar("T")

EXIT_OK, EXIT_FINDING, EXIT_BAD_INPUT, EXIT_BUG = 0, 1, 2, 3
# What a shell reports for a process stopped by SIGPIPE (128 + 13): the reader closed the pipe.
EXIT_PIPE_CLOSED = 141
# Rows a table shows unless --limit says otherwise; --json streams every row.
PAGE = 100

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Freeze 'now' (ISO 8601; a bare date means 09:00 Asia/Shanghai)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
ProgrammeOption = Annotated[str | None, typer.Option("--programme", help="Programme name or id.")]
ActorOption = Annotated[str, typer.Option("--as", help="Who does it: name, phone or id.")]
LimitOption = Annotated[
    int | None,
    typer.Option(
        "--limit", min=0, help=f"Rows to show (a table shows {PAGE}, --json every row; 0: every row)."
    ),
]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="Rows to skip first.")]
# The largest id a column holds on both databases (models.types.MAX_ID; PostgreSQL's INTEGER).
MAX_ID = 2**31 - 1
IdArgument = Annotated[int, typer.Argument(metavar="ID", min=1, max=MAX_ID)]


def context(ctx: typer.Context) -> AppContext:
    """The application context the root command made (one per process)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def window(limit: int | None, offset: int, *, as_json: bool) -> Window:
    """The rows a list command shows: a page for a table, every row for --json, unless told."""
    from models.window import Window

    if limit == 0:
        return Window(None, offset)
    if limit is None and not as_json:
        return Window(PAGE, offset)
    return Window(limit, offset)


@contextmanager
def lean_read(app: AppContext, make: Callable[[RawReader], T], *, when: bool = True) -> Iterator[T | None]:
    """What ``make`` reads on a driver connection without SQLAlchemy (``workflows.lean_reads``), the
    connection open while the block prints it; None where the lean path cannot answer exactly as the
    full one (not ``when``, no driver connection, a statement or shape not compiled ahead): the block
    then reads in ``app.reading()``, before anything was printed."""
    if not when:
        yield None
        return
    with app.raw_reading() as reader:
        if reader is None:
            yield None
            return
        from models.raw import NotAhead

        try:
            made: T | None = make(reader)
        except NotAhead:
            made = None
        yield made


def actor(session: Session, ref: str) -> Person:
    """The person named by --as."""
    from workflows.people import find_person

    return find_person(session=session, ref=ref)


@contextmanager
def file_written(out: Path) -> Iterator[BinaryIO]:
    """Write ``out`` whole or not at all: into a file beside it, renamed over it only at the end.

    A failed export leaves the previous file as it was, never half of a new one.
    """
    import os
    import secrets

    if out.is_dir():
        raise BadInput(f"--out {out} is a folder: give a file name")
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: the folder {out.parent} does not exist")
    part = out.parent / f".{out.name}.{secrets.token_hex(4)}.part"
    try:
        # Made as open() would make the file itself: with the mode the umask leaves.
        handle = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise BadInput(f"--out {out}: cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


_consoles: dict[str, Console] = {}


def console() -> Console:
    """Where tables and messages go (stdout, wide enough for a table when it is not a terminal)."""
    import os

    # A terminal's own width; COLUMNS when set (a script's or a test's); else wide enough for a table.
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdecimal() else (None if sys.stdout.isatty() else 160)
    key = f"out:{width}"
    if key not in _consoles:
        from rich.console import Console

        _consoles[key] = Console(width=width)
    return _consoles[key]


def errors() -> Console:
    """Where error lines go: stderr, never wrapped (one problem, one line, for logs and scripts)."""
    if "err" not in _consoles:
        from rich.console import Console

        _consoles["err"] = Console(stderr=True, soft_wrap=True)
    return _consoles["err"]


def warn_provisional(app: AppContext, years: Iterable[int]) -> None:
    """Say, on stderr (the JSON on stdout stays clean), which years used come from a provisional file."""
    from datetime import date

    for year in sorted(set(years)):
        for warning in app.calendar.warnings_for(date(year, 1, 1), date(year, 1, 1)):
            errors().print(f"[yellow]calendar warning:[/yellow] {warning}", highlight=False)


def say_error(line: str) -> None:
    errors().print(line, markup=False, highlight=False)


def report(exc: DuchaError) -> None:
    """Print an error the way a person reads it: each line names its file, row or field."""
    for line in exc.lines():
        say_error(line if exc.located else f"error: {line}")
    if exc.summary:
        say_error(exc.summary)


def _database_trouble(exc: Exception) -> str | None:
    """What a person should hear about a database that cannot be reached or read, if that is it."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None
    from sqlalchemy.exc import DatabaseError, OperationalError

    cause = getattr(exc, "orig", exc)
    if isinstance(exc, OperationalError):
        return f"database unavailable: {cause}"
    if isinstance(exc, DatabaseError) and any(
        sign in str(cause) for sign in ("malformed", "not a database", "file is encrypted")
    ):
        return f"the database file is damaged ({cause}): restore it from a backup"
    return None


def internal_error(exc: BaseException, ctx: typer.Context | None) -> Path:
    """Write the traceback to the error log and return where it went."""
    path = Path("./ducha-errors.log")
    app = ctx.find_root().obj if ctx is not None else None
    if isinstance(app, AppContext):
        try:
            path = app.settings.error_log
        except DuchaError:
            pass
    text = "".join(traceback.format_exception(exc))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- ducha {' '.join(sys.argv[1:])}\n{text}\n")
    except OSError:
        path = Path("(stderr)")
        sys.stderr.write(text)
    return path


class DuchaGroup(TyperGroup):
    """The root command: maps every error a command raises to its message and exit code, once.

    A ``DuchaError`` is the user's to fix: its lines, exit 2. A database that cannot be reached:
    one line, exit 2. Anything else is a bug: one line naming the log file that holds the
    traceback, exit 3 (never a traceback on screen, never the "finding" code 1).
    """

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return list(self.commands)  # the registration order, which the help panels follow

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (Exit, Abort, TyperException):  # an exit code, Ctrl-C, a usage error: Typer's own
            raise
        except DuchaError as exc:
            report(exc)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except BrokenPipeError:
            # The reader stopped early (``ducha alerts --json | head``): stop quietly, as a shell tool
            # killed by SIGPIPE would, and let nothing more reach the closed pipe.
            import os

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_PIPE_CLOSED) from None
        except Exception as exc:
            trouble = _database_trouble(exc)
            if trouble is not None:
                say_error(f"error: {trouble}")
                raise typer.Exit(EXIT_BAD_INPUT) from None
            where = internal_error(exc, ctx)
            message = str(exc).splitlines()[0] if str(exc) else ""
            say_error(f"internal error: {type(exc).__name__}: {message}, details in {where}")
            raise typer.Exit(EXIT_BUG) from None
