"""Rectification orders (整改通知, 限期整改): list them, respond with evidence, verify a response."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ducha.cli.common import (
    EXIT_FINDING,
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

if TYPE_CHECKING:
    from inspections.order_rows import OrderRow

orders_app = typer.Typer(help="Rectification orders (整改通知): list, respond, verify.")


@orders_app.callback(invoke_without_command=True)
def orders(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders not yet closed.")] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open orders past their deadline (exit 1 if any).")
    ] = False,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List rectification orders with their deadline and who answers for them."""
    if ctx.invoked_subcommand is not None:
        return
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import late, print_page, when

    app = context(ctx)
    now = app.now(at)
    shown = window(limit, offset, as_json=as_json)

    def emit(listing: Any) -> int:  # a Listing or a lean_reads.LeanRows of OrderRow
        if as_json:
            emit_list(listing, as_of=now)
            return int(listing.count())

        def cells(row: "OrderRow") -> list[object]:
            return [
                row.id,
                row.project_code,
                row.village,
                row.item_key,
                row.severity,
                row.responsible_name,
                row.status,
                when(row.due_at),
                late(row.overdue),
            ]

        return print_page(
            console(),
            listing,
            f"{listing.count()} rectification orders, as of {when(now)}",
            ("id", "project", "village", "item", "severity", "responsible", "status", "due", ""),
            cells,
        )

    from workflows import lean_reads

    found: int | None = None
    with lean_read(
        app,
        lambda reader: lean_reads.list_orders(
            reader,
            now=now,
            open_only=open_only,
            overdue_only=overdue,
            project_id=lean_reads.find_project(reader, project).id if project else None,
            window=shown,
        ),
    ) as lean:
        if lean is not None:
            found = emit(lean)
    if found is None:
        from inspections.orders import list_orders
        from workflows.projects import find_project

        with app.reading() as session:
            project_id = find_project(session=session, ref=project).id if project else None
            found = emit(
                list_orders(
                    session=session,
                    now=now,
                    project_id=project_id,
                    open_only=open_only,
                    overdue_only=overdue,
                    window=shown,
                )
            )
    if overdue and found:
        raise typer.Exit(EXIT_FINDING)


@orders_app.command("respond")
def orders_respond(
    ctx: typer.Context,
    order_id: IdArgument,
    evidence: Annotated[list[Path], typer.Option(help="Evidence file of the fix; repeat for several.")],
    actor_ref: ActorOption,
    note: Annotated[str, typer.Option(help="What was done.")] = "",
    at: AtOption = None,
) -> None:
    """Report a fix with evidence; the order waits for the office to verify it."""
    from workflows.actions import respond_to_order

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        respond_to_order(
            session=tx.session,
            now=now,
            evidence=tx.evidence,
            actor=actor(tx.session, actor_ref),
            order_id=order_id,
            files=evidence,
            note=note,
        )
    console().print(
        f"order {order_id}: response with {len(evidence)} evidence file(s) recorded; awaiting verification",
        markup=False,
    )


@orders_app.command("verify")
def orders_verify(
    ctx: typer.Context,
    order_id: IdArgument,
    actor_ref: ActorOption,
    accept: Annotated[bool, typer.Option("--accept/--reject", help="Accept the fix (closes) or reject it.")],
    reason: Annotated[str, typer.Option(help="Why (required to reject).")] = "",
    at: AtOption = None,
) -> None:
    """Accept a fix (the order closes) or reject it back to issued, with a reason."""
    from workflows.actions import verify_order

    app = context(ctx)
    now = app.now(at)  # read once: the verification and the deadline it settles share one time
    with app.transaction(now=now) as tx:
        person = actor(tx.session, actor_ref)
        verify_order(
            session=tx.session,
            now=now,
            calendar=app.calendar,
            actor=person,
            order_id=order_id,
            accept=accept,
            reason=reason,
        )
    outcome = "accepted and closed" if accept else "rejected back to issued"
    console().print(f"order {order_id}: {outcome} by {person.name}", markup=False)
