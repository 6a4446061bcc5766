"""The office's staff: ``units``, ``people`` and ``roles`` (an admin keeps them; every change recorded)."""

from pathlib import Path
from typing import Annotated, Any

import typer

from ducha.cli.common import (
    ActorOption,
    AtOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    actor,
    console,
    context,
    lean_read,
    window,
)

units_app = typer.Typer(help="Organisation units: the supervision office, leadership, towns, audit.")
people_app = typer.Typer(help="People: who acts and who is told.")
roles_app = typer.Typer(help="Who holds which role, on a unit or a project; the history of it.")

ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded).")]
UnitOption = Annotated[str | None, typer.Option("--unit", help="The unit: name or id.")]
ProjectOption = Annotated[str | None, typer.Option("--project", help="The project: code or id.")]


@units_app.callback(invoke_without_command=True)
def units(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the organisation units."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import table
    from workflows.staff import list_units

    with context(ctx).reading() as session:
        rows = list_units(session=session)
    if as_json:
        emit_json({"data": [asdict(row) for row in rows], "count": len(rows)})
        return
    console().print(
        table(
            "units",
            ("id", "name", "kind", "town", "people"),
            [(r.id, r.name, r.kind, r.town or "—", r.people) for r in rows],
            people="right",
        )
    )


@units_app.command("add")
def units_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The unit's name, e.g. 区委督查室.")],
    kind: Annotated[str, typer.Option("--kind", help="office, leadership, town or audit.")],
    actor_ref: ActorOption,
    town: Annotated[
        str | None, typer.Option("--town", help="A town unit's town (default: its name).")
    ] = None,
    at: AtOption = None,
) -> None:
    """Add an organisation unit (admin)."""
    from workflows.staff import add_unit

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        unit = add_unit(
            session=tx.session, now=now, actor=actor(tx.session, actor_ref), name=name, kind=kind, town=town
        )
    console().print(f"unit {unit.id} added: {unit.name} ({unit.kind})", markup=False)


@people_app.callback(invoke_without_command=True)
def people(
    ctx: typer.Context,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List people with their unit, phone, e-mail and the roles they hold now."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page
    from workflows import lean_reads
    from workflows.staff_rows import PersonRow

    app = context(ctx)
    shown = window(limit, offset, as_json=as_json)

    def emit(listing: Any) -> None:  # a Listing or a lean_reads.LeanRows of PersonRow
        if as_json:
            emit_list(listing.map(asdict))
            return

        def cells(row: PersonRow) -> list[object]:
            return [
                row.id,
                row.name,
                row.phone or "—",
                row.email or "—",
                row.unit or "—",
                ", ".join(row.roles) or "—",
            ]

        print_page(console(), listing, "people", ("id", "name", "phone", "e-mail", "unit", "roles"), cells)

    with lean_read(app, lambda reader: lean_reads.list_people(reader, window=shown)) as lean:
        if lean is not None:
            emit(lean)
            return
    from workflows.staff import list_people

    with app.reading() as session:
        emit(list_people(session=session, window=shown))


@people_app.command("add")
def people_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name.")],
    phone: Annotated[str, typer.Option("--phone", help="Phone (one person per number).")],
    actor_ref: ActorOption,
    email: Annotated[str | None, typer.Option("--email", help="E-mail for notices.")] = None,
    unit: UnitOption = None,
    at: AtOption = None,
) -> None:
    """Add a person (admin)."""
    from workflows.staff import add_person

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        person = add_person(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            name=name,
            phone=phone,
            email=email,
            unit=unit,
        )
    console().print(f"person {person.id} added: {person.name} ({person.phone})", markup=False)


@people_app.command("edit")
def people_edit(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="The person: name, phone or id.")],
    actor_ref: ActorOption,
    name: Annotated[str | None, typer.Option("--name", help="Corrected name.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="New phone.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="New e-mail ('' removes it).")] = None,
    unit: UnitOption = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="The language of their notices: zh or en.")
    ] = None,
    digest: Annotated[
        bool | None,
        typer.Option("--digest/--no-digest", help="The daily digest (08:30) instead of single notices."),
    ] = None,
    at: AtOption = None,
) -> None:
    """Correct a person's name, phone, e-mail or unit, or how they are told (admin); recorded."""
    from workflows.staff import edit_person

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        found = edit_person(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            person=person,
            name=name,
            phone=phone,
            email=email,
            unit=unit,
            lang=lang,
            digest=digest,
        )
    console().print(
        f"person {found.id}: {found.name} ({found.phone or 'no phone'}, {found.email or 'no e-mail'})",
        markup=False,
    )
    if lang is not None or digest is not None:
        how = "the daily digest (escalations at once)" if found.digest else "single notices"
        console().print(f"notices in {found.lang}, {how}", markup=False)


@people_app.command("channels")
def people_channels(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="The person: name, phone or id.")],
    actor_ref: ActorOption,
    add: Annotated[
        list[str] | None,
        typer.Option(
            "--add", help="A channel of the channels file: dingtalk:NAME, wecom-app:NAME/USERID, sms:NAME…"
        ),
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A channel to stop telling them on.")
    ] = None,
    at: AtOption = None,
) -> None:
    """Choose the channels a person is told on besides the inbox and e-mail (admin)."""
    from workflows.notice_actions import change_channels

    app = context(ctx)
    now = app.now(at)
    config = app.channels().config
    with app.transaction(now=now) as tx:
        found = change_channels(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            person=person,
            add=add or [],
            remove=remove or [],
            channels=config,
        )
    told = ", ".join(["inbox", *(["email"] if found.email else []), *found.notice_addresses])
    console().print(f"{found.name} is told on: {told}", markup=False)


@people_app.command("import")
def people_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Staff register: CSV or XLSX with name, phone[, email, unit, role].")
    ],
    actor_ref: ActorOption,
    at: AtOption = None,
) -> None:
    """Import a staff register, all or nothing (admin): new people added, unit roles granted."""
    from models.errors import BadInput
    from workflows.staff import import_staff, read_staff_register

    if not file.is_file():
        raise BadInput(f"{file}: no such file")
    lines = read_staff_register(file)  # read and checked before the write transaction
    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        done = import_staff(
            session=tx.session, now=now, actor=actor(tx.session, actor_ref), path=file, lines=lines
        )
    console().print(
        f"{file}: {len(done.added)} people added, {len(done.known)} already known, "
        f"{len(done.granted)} role(s) granted",
        markup=False,
    )


@roles_app.callback(invoke_without_command=True)
def roles(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Option("--person", help="Only this person's roles.")] = None,
    project: ProjectOption = None,
    history: Annotated[bool, typer.Option("--history", help="Revoked assignments too.")] = False,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List role assignments in force (--history: with the revoked ones, who and why)."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page, when
    from workflows.staff import RoleRow, list_roles

    with context(ctx).reading() as session:
        listing = list_roles(
            session=session,
            person=person,
            project=project,
            history=history,
            window=window(limit, offset, as_json=as_json),
        )
        if as_json:
            emit_list(listing.map(asdict))
            return

        def cells(row: RoleRow) -> list[object]:
            granted = f"{when(row.granted_at)} {row.granted_by or ''}".strip()
            cells: list[object] = [
                row.id,
                f"{row.person} ({row.phone or 'no phone'})",
                row.role,
                row.scope,
                granted,
            ]
            if history:
                revoked = (
                    "—"
                    if row.revoked_at is None
                    else f"{when(row.revoked_at)} {row.revoked_by or ''}: {row.revoke_reason}"
                )
                cells.append(revoked)
            return cells

        columns = ["id", "person", "role", "on", "granted"] + (["revoked"] if history else [])
        print_page(console(), listing, "roles", columns, cells)


@roles_app.command("assign")
def roles_assign(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="The person: name, phone or id.")],
    role: Annotated[
        str, typer.Argument(help="leader, specialist, inspector, office, auditor, leadership, admin.")
    ],
    actor_ref: ActorOption,
    unit: UnitOption = None,
    project: ProjectOption = None,
    reason: ReasonOption = "",
    at: AtOption = None,
) -> None:
    """Grant a role on a unit or a project (admin); a project's new leader or specialist replaces the
    one before, who keeps the history, and takes over the project's open orders of that role."""
    from workflows.staff import assign_role

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        done = assign_role(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            person=person,
            role=role,
            unit=unit,
            project=project,
            reason=reason,
        )
    who = f"{done.person.name} ({done.person.phone or 'no phone'})"
    line = f"{who} is now {done.assignment.role} on {done.scope}"
    if done.replaced is not None:
        line += f", replacing {done.replaced.name}"
        if done.reassigned_orders:
            line += f"; open orders {', '.join(map(str, done.reassigned_orders))} go to {done.person.name}"
    console().print(line, markup=False)


@roles_app.command("revoke")
def roles_revoke(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="The person: name, phone or id.")],
    role: Annotated[str, typer.Argument(help="The role to revoke.")],
    actor_ref: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why (required, recorded).")],
    unit: UnitOption = None,
    project: ProjectOption = None,
    at: AtOption = None,
) -> None:
    """Revoke a role assignment in force (admin); it stays in the history with who and why."""
    from workflows.staff import revoke_role

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        closed = revoke_role(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            person=person,
            role=role,
            reason=reason,
            unit=unit,
            project=project,
        )
        number = closed.id
    console().print(f"role assignment {number} revoked: {role} of {person}", markup=False)
