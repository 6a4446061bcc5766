"""A project's trail as a table, CSV, JSON or an XLSX workbook; the programme's money summary as tables.

CSV and XLSX open in a spreadsheet: money is yuan there, with two decimals (CSV: plain numbers like
``-1234.50``, UTF-8 with a byte order mark so that Excel reads the Chinese right; XLSX: number cells
shown ``#,##0.00``, exact to the fen below 10^15 fen as in the ledger workbook), fen in JSON; times
are Asia/Shanghai on screen and in the files, ISO 8601 with their offset. ``balance`` is the
account's balance after the movement. A file (CSV, XLSX, or JSON with ``--out``) is written whole or
not at all.
"""

import csv
import io
import sys
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, TextIO

from rich.console import Console

from ducha.cli.common import console, file_written
from ducha.cli.tables import table, when
from funds.reads import FundSummary, Summary, TrailRow
from models import format_yuan
from models.errors import BadInput
from models.localtime import local
from workflows.ledger_export import EXACT_BELOW_FEN

FORMATS = ("table", "csv", "json", "xlsx")
HEADER = (
    "entry",
    "occurred_at",
    "recorded_at",
    "kind",
    "fund",
    "account",
    "amount",
    "balance",
    "voucher",
    "invoice",
    "vendor",
    "category",
    "documents",
    "actor",
    "memo",
    "refs",
    "override",
    "entry_hash",
)


YUAN = "#,##0.00"
EXACT_BELOW_YUAN = Decimal(EXACT_BELOW_FEN).scaleb(-2)
WIDTHS = {"occurred_at": 26, "recorded_at": 26, "account": 34, "documents": 40, "memo": 30, "entry_hash": 66}


def yuan(fen: int) -> Decimal:
    """Fen as exact yuan, two decimals: what a spreadsheet cell holds (openpyxl writes it as is)."""
    return Decimal(fen).scaleb(-2)


def _cells(row: TrailRow) -> list[str | int | Decimal]:
    refs = ", ".join(f"{key} {value}" for key, value in row.refs.items())
    return [
        row.seq,
        local(row.occurred_at).isoformat(),
        local(row.recorded_at).isoformat(),
        row.kind,
        row.fund,
        row.account,
        yuan(row.amount_fen),
        yuan(row.balance_fen),
        row.voucher or "",
        row.invoice or "",
        row.vendor or "",
        row.category or "",
        " ".join(row.documents),
        row.actor or "",
        row.memo or "",
        refs,
        row.override or "",
        row.entry_hash,
    ]


def write_trail(
    rows: Iterable[TrailRow], fmt: str, out: Path | None, *, title: str, as_of: datetime | None
) -> None:
    """Write the trail in ``fmt`` to ``out`` (or the screen; xlsx needs a file)."""
    if fmt not in FORMATS:
        raise BadInput(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        if out is None:
            raise BadInput("--format xlsx writes a file: give --out FILE.xlsx")
        with file_written(out) as stream:
            _workbook(rows, stream)
        console().print(f"trail of {title} written to {out}", markup=False)
        return
    if fmt == "json":
        from ducha.cli.json_output import emit_json, write_json

        payload = {"project": title, "as_of": as_of, "data": iter(rows)}
        if out is None:
            emit_json(payload)
            return
        with file_written(out) as stream, io.TextIOWrapper(stream, encoding="utf-8") as text:
            write_json(text, payload)
        console().print(f"trail of {title} written to {out}", markup=False)
        return
    if fmt == "csv":
        if out is None:
            _csv(rows, sys.stdout)
            return
        with file_written(out) as stream, io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
            _csv(rows, text)
        return
    code = title.split(" ")[0]
    shown = [
        [
            row.seq,
            f"{local(row.occurred_at):%Y-%m-%d}",
            row.kind,
            row.account.replace(f"/{code}", ""),
            format_yuan(row.amount_fen),
            format_yuan(row.balance_fen),
        ]
        for row in rows
    ]
    columns = ("entry", "date", "kind", "account", "amount", "balance")
    console().print(
        table(
            f"trail of {title} (the rest: --format csv)",
            columns,
            shown,
            amount="right",
            balance="right",
        )
    )


def _csv(rows: Iterable[TrailRow], target: TextIO) -> None:
    writer = csv.writer(target)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(_cells(row))


def _workbook(rows: Iterable[TrailRow], stream: BinaryIO) -> None:
    """The trail as one sheet: a bold, frozen header, money as number cells in yuan."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("trail")
    sheet.freeze_panes = "A2"
    for number, name in enumerate(HEADER, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = WIDTHS.get(name, 12)
    bold = Font(bold=True)
    header = []
    for name in HEADER:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    money = {HEADER.index("amount"), HEADER.index("balance")}
    for row in rows:
        cells: list[object] = []
        for number, value in enumerate(_cells(row)):
            if number in money:
                # A spreadsheet number is a double: exact to the fen below EXACT_BELOW_FEN; beyond
                # (no real budget), text that reads back exactly.
                exact = isinstance(value, Decimal) and abs(value) < EXACT_BELOW_YUAN
                cell = WriteOnlyCell(sheet, value=value if exact else str(value))
                cell.number_format = YUAN
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    book.save(stream)


def print_summary(out: Console, report: Summary) -> None:
    """The money of a programme by fund (a column each, and their total), then by project."""
    measures = ("budget", "received", "pool", "allocated", "disbursed", "reserved", "spent", "owed", "idle")

    def value(fund: FundSummary, measure: str) -> int:
        if measure in ("budget", "received", "pool"):
            return int(getattr(fund, f"{measure}_fen"))
        return int(getattr(fund.position, f"{measure}_fen"))

    rows = []
    for measure in measures:
        values = [value(fund, measure) for fund in report.funds]
        rows.append([measure, *(format_yuan(v) for v in values), format_yuan(sum(values))])
    columns = ("", *(fund.fund for fund in report.funds), "total")
    title = f"{report.programme}: money by fund" + (f", as of {when(report.as_of)}" if report.as_of else "")
    out.print(table(title, columns, rows, **{name: "right" for name in columns[1:]}))
    money = ("allocated", "disbursed", "spent", "idle")
    projects = [
        [p.project, p.fund] + [format_yuan(getattr(p.position, f"{name}_fen")) for name in money]
        for p in report.projects
    ]
    out.print(
        table(
            "by project (reserved and owed: --json)",
            ("project", "fund", *money),
            projects,
            **{n: "right" for n in money},
        )
    )
