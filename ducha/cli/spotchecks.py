"""四不两直 unannounced spot checks: draw projects to visit, and replay a recorded draw."""

from typing import Annotated

import typer

from ducha.cli.common import (
    EXIT_FINDING,
    AtOption,
    IdArgument,
    JsonOption,
    ProgrammeOption,
    actor,
    console,
    context,
)

spotcheck_app = typer.Typer(no_args_is_help=True, help="四不两直 unannounced spot checks.")


@spotcheck_app.command("draw")
def spotcheck_draw(
    ctx: typer.Context,
    programme: ProgrammeOption,
    count: Annotated[int, typer.Option(min=1, max=100_000, help="How many projects to draw.")],
    actor_ref: Annotated[str, typer.Option("--as", help="Who draws (the supervision office; recorded).")],
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=2**63 - 1,
            help="A simulation only: draw with this seed (live: a secure seed, recorded after the draw).",
        ),
    ] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw projects for unannounced visits, weighted toward risk; recorded first, told to nobody."""
    from ducha.cli.json_output import emit_json
    from models.localtime import local
    from workflows.actions import draw_spot_check

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        drawn = draw_spot_check(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            programme=programme,
            count=count,
            seed=seed,
        )
    record = drawn.draw
    if as_json:
        emit_json({"id": record.id, "seed": record.seed, "drawn_at": record.drawn_at, "data": drawn.drawn})
        return
    out = console()
    out.print(
        f"spot-check draw {record.id} (seed {record.seed}) recorded at {local(now):%Y-%m-%d %H:%M}; "
        "no one attached to these projects is told",
        markup=False,
    )
    for entry in drawn.drawn:
        out.print(
            f"  {entry['code']}: weight {entry['weight']:.2f} — {', '.join(entry['reasons'])}", markup=False
        )


@spotcheck_app.command("replay")
def spotcheck_replay(
    ctx: typer.Context,
    draw_id: IdArgument,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a recorded draw again from its weights and seed; exit 1 if it does not draw the same projects."""
    from ducha.cli.json_output import emit_json
    from workflows.reads import spot_check_draw

    app = context(ctx)
    with app.reading() as session:
        detail = spot_check_draw(session=session, draw_id=draw_id, as_of=app.as_of(at))
    record = detail.draw
    if as_json:
        emit_json(
            {
                "id": record.id,
                "seed": record.seed,
                "drawn_at": record.drawn_at,
                "data": detail.drawn,
                "replayed": detail.replayed,
                "same": detail.honest,
            }
        )
    else:
        codes = ", ".join(entry["code"] for entry in detail.drawn)
        verdict = "the same projects, in the same order" if detail.honest else "DIFFERENT projects"
        console().print(
            f"spot-check draw {record.id} (seed {record.seed}, {record.count} of {len(record.weights)}): "
            f"{codes}; replayed from its recorded weights and seed: {verdict}",
            markup=False,
        )
    if not detail.honest:
        raise typer.Exit(EXIT_FINDING)
