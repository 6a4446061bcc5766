"""``ducha export``: the office's files for people and other systems (the programme ledger, 台账)."""

from pathlib import Path
from typing import Annotated, TextIO

import typer

from ducha.cli.common import AtOption, JsonOption, ProgrammeOption, console, context, file_written

export_app = typer.Typer(
    no_args_is_help=True,
    help="Export files: the programme ledger (台账) as XLSX, the projects as OC4IDS open data.",
)


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


@export_app.command("oc4ids")
def export_oc4ids(
    ctx: typer.Context,
    programme: ProgrammeOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="The .json file to write (replaced); else standard output.")
    ] = None,
    at: AtOption = None,
) -> None:
    """Write the programme as an OC4IDS 0.9.5 project package: one project per village venue."""
    import io
    import sys

    from ducha.cli.tables import when
    from workflows.oc4ids import write_package
    from workflows.programmes import find_programme

    app = context(ctx)
    now, as_of = app.now(at), app.as_of(at)
    prefix = app.settings.oc4ids_prefix
    with app.reading() as session:
        found = find_programme(session=session, ref=programme)
        public = app.settings.public_url
        uri = (
            f"{public.rstrip('/')}/oc4ids/{prefix}{found.id}.json"
            if public
            else f"urn:ducha:{prefix}{found.id}"
        )

        def write(stream: TextIO) -> int:
            return write_package(
                session=session, programme=found, at=as_of, now=now, prefix=prefix, uri=uri, out=stream
            )

        if out is None:
            write(sys.stdout)
            return
        with file_written(out) as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            count = write(text)
    console().print(
        f"{out}: OC4IDS package of {found.name}, {count} projects, as of {when(now)}", markup=False
    )
