"""A project's fund trail as a file for a spreadsheet: CSV or an XLSX workbook.

The CLI (``ducha audit trail --format csv|xlsx``) and the web (``/projects/{code}/trail.csv`` and
``.xlsx``) write the same files from the same rows. Money is yuan with two decimals (CSV: plain
numbers like ``-1234.50``, written UTF-8 with a byte order mark by the caller so that Excel reads the
Chinese right; XLSX: number cells shown ``#,##0.00``, exact to the fen below 10^15 fen as in the
ledger workbook, text above); times are Asia/Shanghai, ISO 8601 with their offset. ``balance`` is
the account's balance after the movement.
"""

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import BinaryIO, TextIO

from funds.trail_rows import TrailRow
from models.localtime import local
from models.money import EXACT_BELOW_FEN

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


def trail_cells(row: TrailRow) -> list[str | int | Decimal]:
    """One movement as the file's cells, in ``HEADER``'s order."""
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


def trail_csv(rows: Iterable[TrailRow], target: TextIO) -> None:
    """The trail as CSV with a header row (the caller opens ``target`` with ``newline=""``)."""
    writer = csv.writer(target)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(trail_cells(row))


def trail_workbook(rows: Iterable[TrailRow], stream: BinaryIO) -> None:
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
        for number, value in enumerate(trail_cells(row)):
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
