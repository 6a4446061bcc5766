"""``ducha calendar``: which years the working-day calendar covers (no database needed), and a
person's deadlines as the iCalendar feed their calendar app subscribes to."""

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ducha.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    AtOption,
    JsonOption,
    console,
    context,
    errors,
    file_written,
)

if TYPE_CHECKING:
    from models.calendar import YearCoverage

calendar_app = typer.Typer(
    no_args_is_help=True,
    help="The working-day calendar (工作日, 调休) and a person's deadlines as an iCalendar feed.",
)


@calendar_app.callback()
def calendar() -> None:
    """Check the working-day calendar (extra holiday files come from DUCHA_HOLIDAY_DIR); show a feed."""


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


@calendar_app.command("feed")
def feed(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="Whose deadlines: name, phone or id.")],
    out: Annotated[Path | None, typer.Option(help="Write the .ics file here (default: print it).")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="The web address, for links to project pages (https://…).")
    ] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the iCalendar feed of PERSON's deadlines (open, or settled in the last 30 days).

    Those of their projects (as leader or specialist), of the orders they answer for, and, for the
    office and leadership, the programmes' cadences.
    """
    from ducha.cli.json_output import emit_json
    from workflows.calendar_feed import person_feed
    from workflows.people import find_person

    app = context(ctx)
    now = app.now(at)
    with app.reading() as session:
        found = find_person(session=session, ref=person)
        assert found.id is not None
        made = person_feed(
            session=session, person_id=found.id, now=now, calendar=app.calendar, base_url=base_url
        )
    for warning in made.warnings:
        errors().print(f"[yellow]calendar warning:[/yellow] {warning}", highlight=False)
    if out is not None:
        with file_written(out) as stream:
            stream.write(made.body)
    if as_json:
        emit_json(
            {
                "as_of": now,
                "person_id": found.id,
                "events": made.events,
                "etag": made.etag,
                "out": str(out) if out is not None else None,
                "ics": None if out is not None else made.body.decode("utf-8"),
            }
        )
    elif out is not None:
        console().print(f"{made.events} deadline(s) of {found.name} written to {out}", markup=False)
    else:
        typer.echo(made.body.decode("utf-8"), nl=False)
