"""``ducha calendar``: which years the working-day calendar covers, and from what. No database needed."""

from dataclasses import asdict
from typing import Annotated

import typer

from ducha.config import get_settings
from ducha.output import emit_json
from models.calendar import WorkingCalendar, YearCoverage
from models.yaml_source import SourceError

EXIT_OK, EXIT_FINDING, EXIT_BAD_INPUT = 0, 1, 2

calendar_app = typer.Typer(
    no_args_is_help=True,
    help="The working-day calendar (工作日, 调休): China's official calendar plus holiday files.",
)


@calendar_app.callback()
def calendar() -> None:
    """Check the working-day calendar; extra holiday files come from DUCHA_HOLIDAY_DIR."""


@calendar_app.command("check")
def check(
    year: Annotated[int, typer.Argument(min=1, max=9998, help="The year to check, e.g. 2027.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Say whether YEAR is covered, by chinese-calendar or a holiday file; exit 1 when it is not."""
    try:
        working_calendar = WorkingCalendar.load(get_settings().holiday_dir)
    except SourceError as exc:
        for line in exc.lines():
            typer.echo(line, err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    coverage = working_calendar.coverage(year)
    if as_json:
        payload = asdict(coverage)
        payload["file"] = str(coverage.file) if coverage.file else None
        emit_json(payload)
    else:
        for line in describe(coverage):
            typer.echo(line)
    raise typer.Exit(EXIT_OK if coverage.covered else EXIT_FINDING)


def describe(coverage: YearCoverage) -> list[str]:
    """The lines that ``ducha calendar check`` prints for a year."""
    if not coverage.covered:
        return [f"{coverage.year}: not covered", f"  {coverage.problem}"]
    where = f"{coverage.source} ({coverage.file})" if coverage.file else f"{coverage.reference}"
    status = "provisional" if coverage.provisional else "final"
    lines = [
        f"{coverage.year}: covered by {where}, {status}",
        f"  holidays: {coverage.holiday_count} days; "
        f"adjusted working days: {coverage.adjusted_working_day_count}",
    ]
    if coverage.file:
        lines.append(f"  source: {coverage.reference}")
    if coverage.warning:
        lines.append(f"  warning: {coverage.warning}")
    return lines
