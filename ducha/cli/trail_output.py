"""A project's trail as a table, CSV, JSON or an XLSX workbook; the programme's money summary as tables.

CSV and XLSX are `workflows.trail_files`' (the web serves the same files); fen in JSON; times are
Asia/Shanghai on screen and in the files. A file (CSV, XLSX, or JSON with ``--out``) is written whole
or not at all.
"""

import io
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from rich.console import Console

from ducha.cli.common import console, file_written
from ducha.cli.tables import table, when
from funds.summary_rows import FundSummary, Summary
from funds.trail_rows import TrailRow
from models import format_yuan
from models.errors import BadInput
from models.localtime import local
from workflows.trail_files import trail_csv, trail_workbook

FORMATS = ("table", "csv", "json", "xlsx")


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
            trail_workbook(rows, stream)
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
            trail_csv(rows, sys.stdout)
            return
        with file_written(out) as stream, io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
            trail_csv(rows, text)
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
