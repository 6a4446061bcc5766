"""Read a project register (台账) from a CSV or XLSX file and check every row, without the database.

Every bad row gets one line naming the file, the row and the field. Reading needs only the
programme's funding source codes (one budget column per source), so a register is read and checked
before the transaction that writes it begins.
"""

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from models import parse_yuan
from models.errors import Problems
from models.localtime import strict_date
from models.text import normalised
from models.text import problem as text_problem

PEOPLE_COLUMNS = [
    "leader",
    "leader_phone",
    "leader_email",
    "specialist",
    "specialist_phone",
    "specialist_email",
]
BUDGET_PREFIX = "budget_"
# Headers an office's own register is likely to use.
ALIASES = {
    "乡镇": "town",
    "村": "village",
    "行政村": "village",
    "责任领导": "leader",
    "领导电话": "leader_phone",
    "领导邮箱": "leader_email",
    "专干": "specialist",
    "专干电话": "specialist_phone",
    "专干邮箱": "specialist_email",
    "计划开工": "planned_start",
    "计划完工": "planned_finish",
}
# A budget column in Chinese: 预算_<source code>, with or without the unit, 预算_upper(元).
BUDGET_PREFIX_ZH = "预算_"
YUAN_SUFFIXES = ("(元)", "（元）")
# Columns of the programme ledger (workflows/ledger_export.py) that say how a project stands rather
# than what the register holds: a ledger read back as a register passes over them.
LEDGER_ONLY = frozenset(
    {
        "项目编号",
        "阶段",
        "实际开工",
        "实际完工",
        "最近检查日期",
        "最近检查类型",
        "最近检查得分",
        "最近检查结论",
        "未关闭整改",
        "逾期期限",
    }
)
# Column sizes of the tables the values go to (PostgreSQL enforces them; SQLite would not).
MAX_LENGTH = {
    "town": 100,
    "village": 100,
    "leader": 64,
    "specialist": 64,
    "leader_email": 254,
    "specialist_email": 254,
}
PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,18}[0-9]$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ImportRejected(Problems):
    """The file has problems; ``lines()`` names each one. Nothing was written."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines, summary=f"nothing imported ({len(lines)} problem(s))")


@dataclass(frozen=True)
class ProjectLine:
    row: int
    town: str
    village: str
    leader: str
    leader_phone: str
    leader_email: str | None
    specialist: str
    specialist_phone: str
    specialist_email: str | None
    budget_fen: dict[str, int]
    planned_start: date
    planned_finish: date


# A register of every village of a province fits; past these a file is a mistake or an attack.
MAX_ROWS = 200_000
MAX_COLUMNS = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
# Spreadsheets formatted far below the data yield empty rows: this many in a row end the sheet.
EMPTY_ROWS_THAT_END_A_SHEET = 1_000


def read_table(path: Path) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """Header cells and (spreadsheet row number, cells) for a CSV or XLSX file, within the limits."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRejected([f"{path}: cannot be read ({exc.strerror})"]) from None
    if size > MAX_FILE_BYTES:
        raise ImportRejected(
            [f"{path}: {size:,} bytes is too big for a register (at most {MAX_FILE_BYTES:,})"]
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        raise ImportRejected([f"{path}: unsupported file type {suffix or '(none)'}: use .csv or .xlsx"])
    if not rows:
        raise ImportRejected([f"{path}: the file is empty"])
    header = [cell_text(c) for c in rows[0][1]]
    return header, iter(rows[1:])


def _kept(path: Path, numbered: Iterator[tuple[int, list[Any]]]) -> list[tuple[int, list[Any]]]:
    """The non-empty rows, at most MAX_ROWS of them, MAX_COLUMNS cells each."""
    rows: list[tuple[int, list[Any]]] = []
    empty = 0
    for number, cells in numbered:
        if len(cells) > MAX_COLUMNS and any(cell_text(c) for c in cells[MAX_COLUMNS:]):
            raise ImportRejected([f"{path}: row {number}: more than {MAX_COLUMNS} columns"])
        if not any(cell_text(c) for c in cells[:MAX_COLUMNS]):
            empty += 1
            if empty >= EMPTY_ROWS_THAT_END_A_SHEET:
                break
            continue
        empty = 0
        if len(rows) > MAX_ROWS:
            raise ImportRejected([f"{path}: more than {MAX_ROWS:,} rows"])
        kept = list(cells[:MAX_COLUMNS])
        while kept and not cell_text(kept[-1]):  # a sheet pads every row to its widest one
            kept.pop()
        rows.append((number, kept))
    return rows


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    reader = csv.reader(_decode(path).splitlines())
    try:
        return _kept(path, ((n, list(cells)) for n, cells in enumerate(reader, start=1)))
    except csv.Error as exc:
        raise ImportRejected([f"{path}: row {reader.line_num}: not readable as CSV ({exc})"]) from None


def _unreadable(path: Path, exc: Exception) -> str:
    return f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})"


def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportRejected(
            [f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})"]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        if sheet.sheet_state != "visible":
            raise ImportRejected(
                [f"{path}: the first sheet, {sheet.title!r}, is hidden: put the register in the first sheet"]
            )
        # Row by row, MAX_COLUMNS (+1, to notice more) wide: one cell at XFD1048576 costs nothing.
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        return _kept(path, ((n, list(cells)) for n, cells in enumerate(rows, start=1)))
    except ImportRejected:
        raise
    except Exception as exc:  # a damaged sheet inside a readable workbook
        raise ImportRejected(
            [f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})"]
        ) from None
    finally:
        workbook.close()


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ImportRejected([f"{path}: holds NUL bytes: not a text (CSV) file"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Registers saved from Excel on Chinese Windows are GB18030 (GBK).
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportRejected([f"{path}: not UTF-8 or GB18030 text"]) from None


def cell_text(value: Any) -> str:
    """A cell as text: blank for empty, 12 not 12.0 for a number typed as one."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_register(path: Path, sources: Sequence[str]) -> list[ProjectLine]:
    """Read and check every row of a register for a programme funded by ``sources`` (their codes);
    raise ImportRejected listing all problems."""
    budget_columns = [BUDGET_PREFIX + code for code in sources]
    required = ["town", "village", *PEOPLE_COLUMNS, *budget_columns, "planned_start", "planned_finish"]
    header, rows = read_table(path)
    problems: list[str] = []
    columns: dict[str, int] = {}
    by_lower = {column.lower(): column for column in required}  # budget_UP as typed or as budget_up
    for index, raw in enumerate(header):
        if raw in LEDGER_ONLY:
            continue
        name = ALIASES.get(raw) or by_lower.get(budget_column(raw), raw.lower())
        if name not in required:
            label = raw or f"#{index + 1}"
            problems.append(
                f"{path}: row 1, column {label!r}: unknown column (expected: {', '.join(required)})"
            )
        elif name in columns:
            problems.append(f"{path}: row 1, column {raw!r}: appears twice")
        else:
            columns[name] = index
    for name in required:
        if name not in columns:
            problems.append(f"{path}: row 1, column {name!r}: missing column")
    if problems:
        raise ImportRejected(problems)

    lines: list[ProjectLine] = []
    seen_villages: dict[tuple[str, str], int] = {}
    phones: dict[str, tuple[str, int]] = {}
    for number, cells in rows:

        def cell(name: str, cells: list[Any] = cells) -> Any:
            index = columns[name]
            return cells[index] if index < len(cells) else None

        def bad(field: str, message: str, number: int = number) -> None:
            problems.append(f"{path}: row {number}, field {field}: {message}")

        before = len(problems)
        values = {name: normalised(cell_text(cell(name))) for name in ("town", "village", *PEOPLE_COLUMNS)}
        for name in ("town", "village", "leader", "leader_phone", "specialist", "specialist_phone"):
            if not values[name]:
                bad(name, "is empty")
        for name, limit in MAX_LENGTH.items():
            wrong = text_problem(values[name], max_length=limit)
            if wrong is not None:
                bad(name, wrong)
        for role in ("leader", "specialist"):
            phone, email = values[f"{role}_phone"], values[f"{role}_email"]
            if phone and not PHONE.match(phone):
                bad(f"{role}_phone", f"not a phone number: {phone!r}")
            elif phone and values[role]:
                owner = phones.setdefault(phone, (values[role], number))
                if owner[0] != values[role]:
                    bad(f"{role}_phone", f"{phone} is {owner[0]}'s phone on row {owner[1]}")
            if email and not EMAIL.match(email):
                bad(f"{role}_email", f"not an e-mail address: {email!r}")
        budget: dict[str, int] = {}
        for code, column in zip(sources, budget_columns, strict=True):
            try:
                budget[code] = parse_yuan(cell(column))
            except ValueError as exc:
                bad(column, str(exc))
        start = _date(cell("planned_start"), "planned_start", bad)
        finish = _date(cell("planned_finish"), "planned_finish", bad)
        if start and finish and finish < start:
            bad("planned_finish", f"{finish} is before planned_start {start}")
        key = (values["town"], values["village"])
        if values["village"]:
            if key in seen_villages:
                bad("village", f"duplicate village {values['village']} (also on row {seen_villages[key]})")
            else:
                seen_villages[key] = number
        if len(problems) == before and start and finish:
            lines.append(
                ProjectLine(
                    row=number,
                    town=values["town"],
                    village=values["village"],
                    leader=values["leader"],
                    leader_phone=values["leader_phone"],
                    leader_email=values["leader_email"] or None,
                    specialist=values["specialist"],
                    specialist_phone=values["specialist_phone"],
                    specialist_email=values["specialist_email"] or None,
                    budget_fen=budget,
                    planned_start=start,
                    planned_finish=finish,
                )
            )
    if not problems and not lines:
        problems.append(f"{path}: no project rows below the header")
    if problems:
        raise ImportRejected(problems)
    return lines


def budget_column(header: str) -> str:
    """A budget header as ``budget_<code>``, lower case: 预算_upper(元) and budget_UP (元) alike."""
    name = header.lower()
    for suffix in YUAN_SUFFIXES:
        name = name.removesuffix(suffix).rstrip()
    if name.startswith(BUDGET_PREFIX_ZH):
        name = BUDGET_PREFIX + name.removeprefix(BUDGET_PREFIX_ZH)
    return name


def _date(value: Any, field: str, bad: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not text:
        bad(field, "is empty")
        return None
    try:
        return strict_date(text)
    except ValueError:
        bad(field, f"not a date (YYYY-MM-DD): {text!r}")
        return None
