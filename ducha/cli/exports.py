"""``ducha export``: the office's files for people and other systems (the programme ledger, 台账)."""

from pathlib import Path
from typing import Annotated

import typer

from ducha.cli.common import AtOption, JsonOption, ProgrammeOption, console, context, file_written

export_app = typer.Typer(no_args_is_help=True, help="Export files: the programme ledger (台账) as XLSX.")


@export_app.command("ledger")
def export_ledger(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The .xlsx file to write (replaced if it exists).")],
    programme: ProgrammeOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the programme ledger (台账) as XLSX: one row per project, importable as a register."""
    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import when
    from workflows.ledger_export import programme_ledger_xlsx
    from workflows.programmes import find_programme

    app = context(ctx)
    now = app.now(at)
    with app.reading() as session:
        found = find_programme(session=session, ref=programme)
        assert found.id is not None
        with file_written(out) as stream:
            written = programme_ledger_xlsx(session=session, programme_id=found.id, now=now, out=stream)
    if as_json:
        emit_json({"as_of": now, **vars(written), "out": str(out)})
        return
    console().print(
        f"{out}: ledger of {written.programme_name}, {written.projects} projects, as of {when(now)}",
        markup=False,
    )
