"""Commands for inspections, rectification orders and spot checks (事前审查, 事中检查, 事后验收, 四不两直)."""

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, col, select

from ducha.cli_base import (
    EXIT_FINDING,
    AtOption,
    BadInput,
    JsonOption,
    ProgrammeOption,
    console,
    keep_deadlines_in_step,
    open_session,
    reports_errors,
    state,
)
from ducha.output import emit_json
from inspections.attachments import EvidenceItem
from inspections.forms import blank_form
from inspections.orders import get_order, list_orders, respond, verify
from inspections.queries import list_inspections
from inspections.records import get_template, template_of
from inspections.spotchecks import draw_spot_check
from models import Inspection, InspectionInspector, InspectionItemResult, InspectionKind, Person, Project
from models.localtime import local
from workflows.inspection_flow import record_form, sign
from workflows.service import find_person, find_programme, find_project

inspect_app = typer.Typer(no_args_is_help=True, help="Inspections: blank checklists, recording, signing.")
orders_app = typer.Typer(help="Rectification orders (整改通知): list, respond, verify.")
spotcheck_app = typer.Typer(no_args_is_help=True, help="四不两直 unannounced spot checks.")
ActorOption = Annotated[str, typer.Option("--as", help="Who does it: name, phone or id.")]


@inspect_app.command("new")
@reports_errors
def inspect_new(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    template: Annotated[str, typer.Option(help="Checklist template key, e.g. pre-review, in-progress.")],
    kind: Annotated[InspectionKind | None, typer.Option(help="Defaults to the template's kind.")] = None,
    follow_up: Annotated[
        int | None, typer.Option(help="Re-inspect the flagged items of this inspection.")
    ] = None,
    inspector: Annotated[
        list[str] | None, typer.Option(help="Inspector (name, phone or id); repeat.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the form here (default: print it).")] = None,
    at: AtOption = None,
) -> None:
    """Write a blank checklist to fill in; a follow-up carries the original's flagged items forward."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        found = find_project(session=session, ref=project)
        _, checklist = get_template(session=session, key=template)
        carried = None
        if follow_up is not None:
            original = session.get(Inspection, follow_up)
            if original is None or original.project_id != found.id:
                raise BadInput(f"--follow-up {follow_up}: not an inspection of {found.code}")
            checklist = template_of(session=session, inspection=original)
            carried = {
                row.item_key: row
                for row in session.exec(
                    select(InspectionItemResult).where(
                        col(InspectionItemResult.inspection_id) == original.id,
                        col(InspectionItemResult.verdict) == "failed",
                    )
                ).all()
            }
            kind = InspectionKind.RE_INSPECTION
        text = blank_form(
            template=checklist,
            project_code=found.code,
            kind=kind or checklist.kind,
            inspected_at=now,
            inspector_refs=inspector or [],
            follow_up_of=follow_up,
            carried=carried,
        )
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"blank {checklist.key} checklist for {found.code} written to {out}")


@inspect_app.command("record")
@reports_errors
def inspect_record(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="A filled checklist.")], at: AtOption = None
) -> None:
    """Validate a filled checklist and store it unsigned; nothing is stored if anything is wrong."""
    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    app_state = state(ctx)
    with open_session(ctx) as session:
        recorded = record_form(
            session=session, path=file, store=app_state.evidence_store(), now=app_state.clock(at).now()
        )
        session.commit()
    card = recorded.card
    console.print(
        f"inspection {recorded.inspection.id} recorded (unsigned): score {card.score}, {card.outcome.value}, "
        f"{len(card.findings)} finding(s); sign it with `ducha inspect sign {recorded.inspection.id} --as …`"
    )


@inspect_app.command("sign")
@reports_errors
def inspect_sign(
    ctx: typer.Context,
    inspection_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: ActorOption,
    at: AtOption = None,
) -> None:
    """Sign an inspection: it becomes immutable and its failed items become rectification orders."""
    app_state = state(ctx)
    now = app_state.clock(at).now()
    with open_session(ctx) as session:
        person = find_person(session=session, ref=actor)
        result = sign(
            session=session,
            inspection_id=inspection_id,
            actor=person,
            now=now,
            calendar=app_state.calendar(),
            deadline_days=app_state.deadline_days(),
        )
        keep_deadlines_in_step(ctx, session, now, [result.signed.inspection.project_id])
        session.commit()
    signed = result.signed
    console.print(f"inspection {inspection_id} signed by {person.name}: {signed.inspection.outcome}")
    for order in signed.issued:
        console.print(
            f"  order {order.id} issued: {order.item_key} ({order.severity}), "
            f"due {local(order.due_at):%Y-%m-%d %H:%M}"
        )
    for order in signed.closed:
        console.print(f"  order {order.id} closed: {order.item_key}")
    for order in signed.kept_open:
        console.print(f"  order {order.id} still open: {order.item_key}")
    if result.transition is not None:
        console.print(f"  project returned to {result.transition.to_stage}: {result.transition.reason}")


@inspect_app.command("show")
@reports_errors
def inspect_show(
    ctx: typer.Context,
    inspection_id: Annotated[int, typer.Argument(metavar="ID")],
    as_json: JsonOption = False,
) -> None:
    """One inspection item by item; a re-inspection side by side with the original."""
    with open_session(ctx) as session:
        inspection = session.get(Inspection, inspection_id)
        if inspection is None:
            raise BadInput(f"no inspection {inspection_id}")
        checklist = template_of(session=session, inspection=inspection)
        rows = _results(session, inspection_id)
        original = _results(session, inspection.follow_up_of_id) if inspection.follow_up_of_id else {}
        inspectors = _inspector_names(session, inspection_id)
    items = [
        {
            "item_key": item.key,
            "text": item.text,
            "verdict": rows[item.key].verdict if item.key in rows else None,
            "value": rows[item.key].value if item.key in rows else None,
            "notes": rows[item.key].notes if item.key in rows else "",
            "original_verdict": original[item.key].verdict if item.key in original else None,
        }
        for _, item in checklist.iter_items()
    ]
    if as_json:
        emit_json({"inspection": inspection, "inspectors": inspectors, "items": items})
        return
    console.print(
        f"inspection {inspection.id} ({inspection.kind}) of project {inspection.project_id} "
        f"by {', '.join(inspectors)} "
        f"at {local(inspection.inspected_at):%Y-%m-%d %H:%M}: score {inspection.score_tenths / 10}, "
        f"{inspection.outcome}; {'signed' if inspection.signed_at else 'UNSIGNED'}"
    )
    table = Table(title_justify="left")
    for name in ("item", "original" if original else None, "result", "value", "notes"):
        if name:
            table.add_column(name)
    for entry in items:
        if original and entry["original_verdict"] is None:
            continue
        cells = [f"{entry['item_key']} {entry['text']}"]
        if original:
            cells.append(str(entry["original_verdict"]))
        cells += [str(entry["verdict"]), str(entry["value"] or ""), str(entry["notes"])]
        table.add_row(*[escape(c) for c in cells])
    console.print(table)


def _results(session: Session, inspection_id: int) -> dict[str, InspectionItemResult]:
    return {
        row.item_key: row
        for row in session.exec(
            select(InspectionItemResult).where(col(InspectionItemResult.inspection_id) == inspection_id)
        ).all()
    }


def _inspector_names(session: Session, inspection_id: int) -> list[str]:
    return list(
        session.exec(
            select(Person.name)
            .join(InspectionInspector, col(InspectionInspector.person_id) == col(Person.id))
            .where(col(InspectionInspector.inspection_id) == inspection_id)
        ).all()
    )


def inspections(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project (code, village or id).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List inspections with score, outcome and whether they are signed."""
    with open_session(ctx) as session:
        project_id = find_project(session=session, ref=project).id if project else None
        rows = list_inspections(session=session, project_id=project_id)
    if as_json:
        emit_json({"data": rows})
        return
    table = Table(title=f"{len(rows)} inspections", title_justify="left")
    for name in ("id", "project", "kind", "when", "score", "outcome", "signed"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            str(row.id),
            row.project_code,
            row.kind,
            f"{local(row.inspected_at):%Y-%m-%d %H:%M}",
            str(row.score),
            row.outcome,
            "yes" if row.signed_at else "no",
        )
    console.print(table)


@orders_app.callback(invoke_without_command=True)
@reports_errors
def orders(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders not yet closed.")] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open orders past their deadline (exit 1 if any).")
    ] = False,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """List rectification orders with their deadline and who answers for them."""
    if ctx.invoked_subcommand is not None:
        return
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        project_id = find_project(session=session, ref=project).id if project else None
        rows = list_orders(
            session=session, now=now, project_id=project_id, open_only=open_only, overdue_only=overdue
        )
    if as_json:
        emit_json({"data": rows, "count": len(rows), "as_of": now})
    else:
        table = Table(
            title=f"{len(rows)} rectification orders, as of {local(now):%Y-%m-%d %H:%M}", title_justify="left"
        )
        for name in ("id", "project", "village", "item", "severity", "responsible", "status", "due", ""):
            table.add_column(name)
        for row in rows:
            table.add_row(
                str(row.id),
                row.project_code,
                row.village,
                escape(row.item_key),
                row.severity,
                row.responsible_name,
                row.status,
                f"{local(row.due_at):%Y-%m-%d %H:%M}",
                "[red]OVERDUE[/red]" if row.overdue else "",
            )
        console.print(table)
    if overdue and rows:
        raise typer.Exit(EXIT_FINDING)


@orders_app.command("respond")
@reports_errors
def orders_respond(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(metavar="ID")],
    evidence: Annotated[list[Path], typer.Option(help="Evidence file of the fix; repeat for several.")],
    actor: ActorOption,
    note: Annotated[str, typer.Option(help="What was done.")] = "",
    at: AtOption = None,
) -> None:
    """Report a fix with evidence; the order waits for the office to verify it."""
    app_state = state(ctx)
    store = app_state.evidence_store()
    for path in evidence:
        if not path.is_file():
            raise BadInput(f"{path}: no such file")
        store.check(path.name, path.read_bytes())
    with open_session(ctx) as session:
        order = get_order(session=session, order_id=order_id)
        person = find_person(session=session, ref=actor)
        items = [EvidenceItem(store.put(path.name, path.read_bytes()), path.name) for path in evidence]
        respond(
            session=session,
            order=order,
            actor=person,
            now=app_state.clock(at).now(),
            note=note,
            evidence=items,
        )
        session.commit()
    console.print(
        f"order {order_id}: response with {len(evidence)} evidence file(s) recorded; awaiting verification"
    )


@orders_app.command("verify")
@reports_errors
def orders_verify(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: ActorOption,
    accept: Annotated[bool, typer.Option("--accept/--reject", help="Accept the fix (closes) or reject it.")],
    reason: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    at: AtOption = None,
) -> None:
    """Accept a fix (the order closes) or reject it back to issued, with a reason."""
    with open_session(ctx) as session:
        order = get_order(session=session, order_id=order_id)
        person = find_person(session=session, ref=actor)
        verify(
            session=session,
            order=order,
            actor=person,
            now=state(ctx).clock(at).now(),
            accept=accept,
            reason=reason,
        )
        keep_deadlines_in_step(ctx, session, state(ctx).clock(at).now(), [order.project_id])
        session.commit()
    console.print(
        f"order {order_id}: {'accepted and closed' if accept else 'rejected back to issued'} by {person.name}"
    )


@spotcheck_app.command("draw")
@reports_errors
def spotcheck_draw(
    ctx: typer.Context,
    programme: ProgrammeOption,
    count: Annotated[int, typer.Option(min=1, help="How many projects to draw.")],
    actor: Annotated[str | None, typer.Option("--as", help="Who draws (recorded).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Replay a draw with this seed (default: a fresh random seed).")
    ] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw projects for unannounced visits, weighted toward risk; recorded first, told to nobody."""
    now = state(ctx).clock(at).now()
    with open_session(ctx) as session:
        target = find_programme(session=session, ref=programme)
        person = find_person(session=session, ref=actor) if actor else None
        record = draw_spot_check(
            session=session,
            programme_id=target.id,  # type: ignore[arg-type]
            count=count,
            seed=seed if seed is not None else int.from_bytes(os.urandom(8)) >> 1,
            actor=person,
            now=now,
            exclude_stages=("closed", "rejected", "suspended"),
        )
        session.commit()
        codes = {
            p.id: p.code
            for p in session.exec(select(Project).where(col(Project.id).in_(record.drawn_project_ids))).all()
        }
    drawn = [
        {"project_id": pid, "code": codes[pid], **record.weights[str(pid)]}
        for pid in record.drawn_project_ids
    ]
    if as_json:
        emit_json({"id": record.id, "seed": record.seed, "drawn_at": record.drawn_at, "data": drawn})
        return
    console.print(
        f"spot-check draw {record.id} (seed {record.seed}) recorded at {local(now):%Y-%m-%d %H:%M}; "
        "no one attached to these projects is told"
    )
    for entry in drawn:
        console.print(f"  {entry['code']}: weight {entry['weight']:.2f} — {', '.join(entry['reasons'])}")
