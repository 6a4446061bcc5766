"""``ducha calendar``: which years the working-day calendar covers, and from what. No database needed."""

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from ducha.cli.common import EXIT_FINDING, EXIT_OK, JsonOption, context

if TYPE_CHECKING:
    from models.calendar import YearCoverage

calendar_app = typer.Typer(
    no_args_is_help=True,
    help="The working-day calendar (工作日, 调休): China's official calendar plus holiday files.",
)


@calendar_app.callback()
def calendar() -> None:
    """Check the working-day calendar; extra holiday files come from DUCHA_HOLIDAY_DIR."""


@calendar_app.command("check")
def check(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(min=1, max=9998, help="The year to check, e.g. 2027.")],
    as_json: JsonOption = False,
) -> None:
    """Say whether YEAR is covered, by chinese-calendar or a holiday file; exit 1 when it is not."""
    from ducha.cli.json_output import emit_json

    coverage = context(ctx).calendar.coverage(year)
    if as_json:
        payload = asdict(coverage)
        payload["file"] = str(coverage.file) if coverage.file else None
        emit_json(payload)
    else:
        for line in describe(coverage):
            typer.echo(line)
    raise typer.Exit(EXIT_OK if coverage.covered else EXIT_FINDING)


def describe(coverage: "YearCoverage") -> list[str]:
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
