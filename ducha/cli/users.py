"""``ducha users``: logins for the web and the API, bearer tokens, second factors, calendar feeds.

A password is never an argument (it would sit in the shell's history and in ``ps``): ducha makes one
and prints it once, or reads it from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ducha.cli.common import ActorOption, AtOption, JsonOption, actor, console, context

users_app = typer.Typer(no_args_is_help=False, help="Logins for the web and the API (admin).")
PersonArgument = Annotated[str, typer.Argument(help="The person: name, phone or id.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (else ducha makes one)."),
]


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    return sys.stdin.readline().rstrip("\r\n")


@users_app.callback(invoke_without_command=True)
def users(ctx: typer.Context, at: AtOption = None, as_json: JsonOption = False) -> None:
    """List the logins: role, second factor, open sessions, tokens in force."""
    if ctx.invoked_subcommand is not None:
        return
    from dataclasses import asdict

    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import table
    from models.localtime import local
    from workflows.accounts import list_users

    app = context(ctx)
    with app.reading() as session:
        rows = list_users(session=session, now=app.system_clock.now())
    if as_json:
        emit_json({"data": [asdict(row) for row in rows], "count": len(rows)})
        return
    cells = [
        [
            row.name,
            row.phone or "—",
            row.role,
            "yes" if row.totp else "no",
            row.open_sessions,
            row.tokens,
            f"revoked {local(row.disabled_at):%Y-%m-%d %H:%M}" if row.disabled_at else "active",
        ]
        for row in rows
    ]
    columns = ("person", "phone", "role", "TOTP", "sessions", "tokens", "state")
    console().print(table(f"logins: {len(rows)}", columns, cells))


@users_app.command("add")
def add(
    ctx: typer.Context,
    person: PersonArgument,
    role: Annotated[
        str, typer.Option("--role", help="The role the login acts in (one the person holds, or viewer).")
    ],
    actor_ref: ActorOption,
    password_stdin: PasswordStdin = False,
    at: AtOption = None,
) -> None:
    """Give a person a login (admin)."""
    from workflows.accounts import add_user

    app = context(ctx)
    now = app.now(at)
    password = _password(password_stdin)
    with app.transaction(now=now) as tx:
        made = add_user(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            person=person,
            role=role,
            password=password,
        )
    out = console()
    out.print(
        f"login added for {made.person.name} ({made.person.phone}) as {made.account.role}", markup=False
    )
    if made.generated_password:
        out.print(f"password (shown once, hand it over in person): {made.generated_password}", markup=False)


@users_app.command("password")
def password(
    ctx: typer.Context,
    person: PersonArgument,
    actor_ref: ActorOption,
    password_stdin: PasswordStdin = False,
    at: AtOption = None,
) -> None:
    """Set a new password (the admin for anyone, a person for their own); every session ends."""
    from workflows.accounts import set_password

    app = context(ctx)
    now = app.now(at)
    chosen = _password(password_stdin)
    with app.transaction(now=now) as tx:
        made = set_password(
            session=tx.session, now=now, actor=actor(tx.session, actor_ref), person=person, password=chosen
        )
    out = console()
    out.print(f"password set for {made.person.name}; their sessions ended", markup=False)
    if made.generated_password:
        out.print(f"password (shown once): {made.generated_password}", markup=False)


@users_app.command("token")
def token(
    ctx: typer.Context,
    person: PersonArgument,
    actor_ref: ActorOption,
    role: Annotated[str | None, typer.Option("--role", help="Act in a narrower role (e.g. viewer).")] = None,
    days: Annotated[int | None, typer.Option("--days", min=1, max=3650, help="Days it lives.")] = None,
    label: Annotated[str, typer.Option("--label", help="What it is for.")] = "",
    at: AtOption = None,
) -> None:
    """Make a bearer token for the API (printed once; stored only as its hash)."""
    from models.localtime import local
    from workflows.accounts import make_token

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        made = make_token(
            session=tx.session,
            now=now,
            actor=actor(tx.session, actor_ref),
            person=person,
            days=days or app.settings.api_token_days,
            role=role,
            label=label,
        )
    out = console()
    out.print(
        f"token {made.token.id} ({made.token.role}) until {local(made.token.expires_at):%Y-%m-%d %H:%M}; "
        "use it as: Authorization: Bearer TOKEN",
        markup=False,
    )
    out.print(made.secret, markup=False, highlight=False)


@users_app.command("revoke")
def revoke(
    ctx: typer.Context,
    actor_ref: ActorOption,
    person: Annotated[str | None, typer.Argument(help="The person whose login is revoked.")] = None,
    token_id: Annotated[
        int | None, typer.Option("--token", min=1, max=2**31 - 1, help="Revoke one token only.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (required to revoke a login).")] = "",
    at: AtOption = None,
) -> None:
    """Revoke a login (its sessions and tokens stop at their next request), or one token."""
    from models.errors import BadInput
    from workflows.accounts import revoke_token, revoke_user

    if (person is None) == (token_id is None):
        raise BadInput("give a PERSON to revoke a login, or --token ID to revoke one token")
    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        who = actor(tx.session, actor_ref)
        if token_id is not None:
            revoke_token(session=tx.session, now=now, actor=who, token_id=token_id)
            said = f"token {token_id} revoked"
        else:
            assert person is not None
            revoke_user(session=tx.session, now=now, actor=who, person=person, reason=reason)
            said = f"login of {person} revoked: its sessions and tokens end now"
    console().print(said, markup=False)


@users_app.command("totp")
def totp(ctx: typer.Context, person: PersonArgument, actor_ref: ActorOption, at: AtOption = None) -> None:
    """Enrol a TOTP second factor: prints the secret and the otpauth:// URI for an authenticator app."""
    from workflows.accounts import enrol_totp

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        secret, uri = enrol_totp(
            session=tx.session, now=now, actor=actor(tx.session, actor_ref), person=person
        )
    out = console()
    out.print(f"secret (shown once): {secret}", markup=False, highlight=False)
    out.print(uri, markup=False, highlight=False)


@users_app.command("feed")
def feed(ctx: typer.Context, person: PersonArgument, actor_ref: ActorOption, at: AtOption = None) -> None:
    """Make the secret address of a person's calendar of deadlines (iCal); earlier ones stop working."""
    from workflows.accounts import feed_token

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        secret = feed_token(session=tx.session, now=now, actor=actor(tx.session, actor_ref), person=person)
    base = (app.settings.public_url or "http://127.0.0.1:8000").rstrip("/")
    console().print(f"{base}/calendar/{secret}.ics", markup=False, highlight=False)
