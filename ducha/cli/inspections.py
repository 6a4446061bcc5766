"""Inspections (事前审查, 事中检查, 事后验收): blank checklists, recording, signing, reading them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ducha.cli.common import (
    MAX_ID,
    ActorOption,
    AtOption,
    IdArgument,
    JsonOption,
    LimitOption,
    OffsetOption,
    actor,
    console,
    context,
    lean_read,
    window,
)
from models.errors import BadInput
from models.kinds import InspectionKind

if TYPE_CHECKING:
    from inspections.inspection_rows import InspectionRow
    from models.window import Streamed
    from workflows.lean_reads import InspectionShown
    from workflows.reads import InspectionDetail

inspect_app = typer.Typer(no_args_is_help=True, help="Inspections: blank checklists, recording, signing.")


@inspect_app.command("new")
def inspect_new(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    template: Annotated[str, typer.Option(help="Checklist template key, e.g. pre-review, in-progress.")],
    kind: Annotated[InspectionKind | None, typer.Option(help="Defaults to the template's kind.")] = None,
    follow_up: Annotated[
        int | None, typer.Option(min=1, max=MAX_ID, help="Re-inspect the flagged items of this inspection.")
    ] = None,
    inspector: Annotated[
        list[str] | None, typer.Option(help="Inspector (name, phone or id); repeat.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the form here (default: print it).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
    at: AtOption = None,
) -> None:
    """Write a blank checklist to fill in; a follow-up carries the original's flagged items forward."""
    from workflows.reads import blank_checklist

    if out is not None:
        _writable(out, force)
    app = context(ctx)
    with app.reading() as session:
        blank = blank_checklist(
            session=session,
            now=app.now(at),
            project=project,
            template=template,
            kind=kind,
            follow_up=follow_up,
            inspectors=inspector or [],
        )
    if out is None:
        typer.echo(blank.text, nl=False)
    else:
        try:
            out.write_text(blank.text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"--out {out}: cannot be written ({exc.strerror})") from None
        console().print(
            f"blank {blank.template_key} checklist for {blank.project_code} written to {out}", markup=False
        )


def _writable(out: Path, force: bool) -> None:
    """Refuse an --out that would lose a file or cannot be a file."""
    if out.is_dir():
        raise BadInput(f"--out {out} is a folder: give a file name")
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: the folder {out.parent} does not exist")
    if out.exists() and not force:
        raise BadInput(f"--out {out} exists: give --force to overwrite it")


@inspect_app.command("record")
def inspect_record(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A filled checklist.")],
    actor_ref: ActorOption,
    at: AtOption = None,
) -> None:
    """Validate a filled checklist and store it unsigned (an inspector or the office); nothing is
    stored if anything is wrong."""
    from workflows.actions import record_inspection_form

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        recorded = record_inspection_form(
            session=tx.session, now=now, evidence=tx.evidence, actor=actor(tx.session, actor_ref), path=file
        )
    card, number = recorded.card, recorded.inspection.id
    critical = " (a critical item failed)" if card.critical_failed else ""
    console().print(
        f"inspection {number} recorded (unsigned): score {card.score}, {card.outcome.value}{critical}, "
        f"{len(card.findings)} finding(s); sign it with `ducha inspect sign {number} --as …`",
        markup=False,
    )


@inspect_app.command("sign")
def inspect_sign(
    ctx: typer.Context,
    inspection_id: IdArgument,
    actor_ref: ActorOption,
    at: AtOption = None,
) -> None:
    """Sign an inspection: it becomes immutable and its failed items become rectification orders."""
    from models.localtime import local
    from workflows.actions import sign_inspection

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        person = actor(tx.session, actor_ref)
        result = sign_inspection(
            session=tx.session,
            now=now,
            calendar=app.calendar,
            actor=person,
            inspection_id=inspection_id,
            deadline_days=app.deadline_days,
            notices=app.notices,
        )
    signed = result.signed
    lines = [f"inspection {inspection_id} signed by {person.name}: {signed.inspection.outcome}"]
    lines += [
        f"  order {order.id} issued: {order.item_key} ({order.severity}), "
        f"due {local(order.due_at):%Y-%m-%d %H:%M}"
        for order in signed.issued
    ]
    lines += [f"  order {order.id} closed: {order.item_key}" for order in signed.closed]
    lines += [f"  order {order.id} still open: {order.item_key}" for order in signed.kept_open]
    if result.transition is not None:
        lines.append(f"  project returned to {result.transition.to_stage}: {result.transition.reason}")
    for line in lines:
        console().print(line, markup=False, highlight=False)


@inspect_app.command("show")
def inspect_show(
    ctx: typer.Context,
    inspection_id: IdArgument,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """One inspection item by item; a re-inspection side by side with the original."""
    from workflows import lean_reads

    app = context(ctx)
    as_of = app.as_of(at)
    with lean_read(
        app, lambda reader: lean_reads.inspection_detail(reader, inspection_id, as_of=as_of)
    ) as lean:
        if lean is not None:
            _print_inspection(lean, as_json=as_json)
            return
    from workflows.reads import inspection_detail

    with app.reading() as session:
        detail = inspection_detail(session=session, inspection_id=inspection_id, as_of=as_of)
    _print_inspection(detail, as_json=as_json)


def _print_inspection(detail: InspectionDetail | InspectionShown, *, as_json: bool) -> None:
    """An inspection item by item (a workflows.reads.InspectionDetail or a lean_reads.InspectionShown)."""
    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import table
    from models.localtime import local

    inspection = detail.inspection
    if as_json:
        emit_json(
            {
                "inspection": inspection,
                "project_code": detail.project_code,
                "inspectors": detail.inspectors,
                "items": detail.items,
            }
        )
        return
    out = console()
    out.print(
        f"inspection {inspection.id} ({inspection.kind}) of project {detail.project_code} "
        f"by {', '.join(detail.inspectors)} "
        f"at {local(inspection.inspected_at):%Y-%m-%d %H:%M}: score {inspection.score_tenths / 10}, "
        f"{inspection.outcome}; {'signed' if inspection.signed_at else 'UNSIGNED'}",
        markup=False,
        highlight=False,
    )
    columns = ["item", *(["original"] if detail.follows_up else []), "result", "value", "notes"]
    rows = []
    for item in detail.items:
        if detail.follows_up and item.original_verdict is None:
            continue
        cells: list[object] = [f"{item.item_key} {item.text}"]
        if detail.follows_up:
            cells.append(item.original_verdict)
        cells += [item.verdict, item.value or "", item.notes]
        rows.append(cells)
    out.print(table("", columns, rows))


def inspections(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project (code, village or id).")] = None,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List inspections with score, outcome and whether they are signed (those recorded by --at)."""
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page, when

    app = context(ctx)
    now = app.now(at)
    recorded_by = app.as_of(at)
    shown = window(limit, offset, as_json=as_json)

    def emit(listing: Streamed[InspectionRow]) -> None:
        if as_json:
            emit_list(listing, as_of=now)
            return

        def cells(row: InspectionRow) -> list[object]:
            return [
                row.id,
                row.project_code,
                row.kind,
                when(row.inspected_at),
                row.score,
                row.outcome,
                "yes" if row.signed_at else "no",
            ]

        print_page(
            console(),
            listing,
            f"{listing.count()} inspections",
            ("id", "project", "kind", "when", "score", "outcome", "signed"),
            cells,
        )

    from workflows import lean_reads

    with lean_read(
        app,
        lambda reader: lean_reads.list_inspections(
            reader,
            recorded_by=recorded_by,
            project_id=lean_reads.find_project(reader, project).id if project else None,
            window=shown,
        ),
    ) as lean:
        if lean is not None:
            emit(lean)
            return
    from inspections.queries import list_inspections
    from workflows.projects import find_project

    with app.reading() as session:
        project_id = find_project(session=session, ref=project).id if project else None
        emit(list_inspections(session=session, project_id=project_id, recorded_by=recorded_by, window=shown))
