"""Notices: ``dispatch`` (the system sends what is due), ``notices``, ``inbox``, ``channels test``."""

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
    from models.raw import RawReader
    from models.window import Streamed
    from notifications.notice_rows import NoticeRow

notices_app = typer.Typer(help="Notices: the outbox, every attempt, dead letters.")
channels_app = typer.Typer(help="Notice channels: e-mail, the chat robots, webhooks, SMS, apprise.")


def dispatch_command(
    ctx: typer.Context,
    at: AtOption = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Send at most this many.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Send the notices whose time has come (the scheduler does this every minute); each attempt recorded."""
    from ducha.cli.json_output import emit_json
    from ducha.jobs import run_dispatch

    app = context(ctx)
    run = run_dispatch(app, app.now(at) if (at or app.at or app.settings.now) else None, limit=limit)
    if as_json:
        emit_json(run.plain())
        return
    console().print(run.describe(), markup=False)


@notices_app.callback(invoke_without_command=True)
def notices(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only dead letters (exit 1 if any).")] = False,
    person: Annotated[str | None, typer.Option("--person", help="Only this person's.")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="queued, held, retry, accepted, failed…")
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="inbox, email, dingtalk:NAME…")] = None,
    unacknowledged: Annotated[
        bool, typer.Option("--unacknowledged", help="Escalations not yet acknowledged in the inbox.")
    ] = False,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List notices, newest first: to whom, on which channel, in which state, how many attempts."""
    if ctx.invoked_subcommand is not None:
        return
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page, when
    from notifications.notice_rows import NoticeRow

    app = context(ctx)
    created_by = app.as_of(at)
    shown = window(limit, offset, as_json=as_json)

    def emit(listing: Any) -> bool:  # a Listing or a lean_reads.LeanRows of NoticeRow
        """Print the list; whether it holds a dead letter asked for (--failed)."""
        if as_json:
            emit_list(listing.map(NoticeRow.plain))
        else:

            def cells(row: NoticeRow) -> list[object]:
                return [
                    row.id,
                    row.person,
                    row.channel,
                    row.template,
                    row.state,
                    row.attempts,
                    when(row.created_at),
                    row.subject,
                ]

            print_page(
                console(),
                listing,
                "notices",
                ("id", "to", "channel", "template", "state", "tries", "written", "subject"),
                cells,
            )
        return failed and listing.count() > 0

    from workflows import lean_reads

    found: bool | None = None
    with lean_read(
        app,
        lambda reader: lean_reads.list_notices(
            reader,
            state=state,
            failed=failed,
            person_id=lean_reads.find_person(reader, person).id if person else None,
            channel=channel,
            unacknowledged=unacknowledged,
            created_by=created_by,
            window=shown,
        ),
    ) as lean:
        if lean is not None:
            found = emit(lean)
    if found is None:
        from notifications.queries import list_notices
        from workflows.people import find_person

        with app.reading() as session:
            person_id = find_person(session=session, ref=person).id if person else None
            found = emit(
                list_notices(
                    session=session,
                    state=state,
                    failed=failed,
                    person_id=person_id,
                    channel=channel,
                    unacknowledged=unacknowledged,
                    as_of=created_by,
                    window=shown,
                )
            )
    if found:
        raise typer.Exit(EXIT_FINDING)


@notices_app.command("show")
def notices_show(ctx: typer.Context, notice_id: IdArgument, as_json: JsonOption = False) -> None:
    """One notice: its text and every attempt to deliver it."""
    from dataclasses import asdict

    from ducha.cli.json_output import emit_json
    from ducha.cli.tables import table, when
    from notifications.queries import notice_detail

    with context(ctx).reading() as session:
        detail = notice_detail(session=session, notice_id=notice_id)
    if as_json:
        emit_json(
            {
                **detail.notice.plain(),
                "body_text": detail.body_text,
                "attempts": [asdict(a) for a in detail.attempts],
            }
        )
        return
    n = detail.notice
    out = console()
    out.print(
        f"notice {n.id} to {n.person} on {n.channel} ({n.address or '—'}): {n.state}, "
        f"{n.attempts} attempt(s); {n.template}, key {n.key}",
        markup=False,
    )
    out.print(f"{n.subject}\n\n{detail.body_text}\n", markup=False, highlight=False)
    out.print(
        table(
            "attempts",
            ("at", "channel", "outcome", "detail", "retry at"),
            [(when(a.at), a.channel, a.outcome, a.detail, when(a.retry_at)) for a in detail.attempts],
        )
    )


@notices_app.command("retry")
def notices_retry(
    ctx: typer.Context, notice_id: IdArgument, actor_ref: ActorOption, at: AtOption = None
) -> None:
    """Send a failed notice again at the next dispatch (admin or office)."""
    from workflows.notice_actions import retry_notice

    app = context(ctx)
    now = app.now(at)
    with app.transaction(now=now) as tx:
        retry_notice(session=tx.session, now=now, actor=actor(tx.session, actor_ref), notice_id=notice_id)
    console().print(f"notice {notice_id} queued again: ducha dispatch sends it", markup=False)


@notices_app.command("preview")
def notices_preview(
    ctx: typer.Context,
    template: Annotated[str, typer.Argument(help="reminder, due, overdue, supervision, rectification, …")],
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "zh",
    html: Annotated[bool, typer.Option("--html", help="Show the HTML part too.")] = False,
) -> None:
    """Render a template with sample data (the office's override if it has one)."""
    from models.errors import BadInput
    from notifications.rendering import LANGS, sample_context

    if lang not in LANGS:
        raise BadInput(f"--lang {lang!r}: give one of {', '.join(LANGS)}")
    rendered = context(ctx).notices.templates.render(template, lang, sample_context(template))
    out = console()
    out.print(f"subject: {rendered.subject}\n\n{rendered.text}", markup=False, highlight=False)
    if html:
        out.print(f"\n{rendered.html}", markup=False, highlight=False)


def inbox(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="Whose inbox: name, phone or id.")],
    ack: Annotated[
        int | None, typer.Option("--ack", min=1, help="Acknowledge this notice (as the person).")
    ] = None,
    read: Annotated[int | None, typer.Option("--read", min=1, help="Mark this notice read.")] = None,
    unread: Annotated[bool, typer.Option("--unread", help="Only the unread.")] = False,
    at: AtOption = None,
    limit: LimitOption = None,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """A person's in-app inbox; --ack confirms an escalation (督办) was received."""
    from ducha.cli.json_output import emit_list
    from ducha.cli.tables import print_page, when
    from notifications.notice_rows import NoticeRow

    app = context(ctx)
    if ack is not None or read is not None:
        from workflows.notice_actions import acknowledge, mark_read
        from workflows.people import find_person

        now = app.now(at)
        with app.transaction(now=now) as tx:
            who = find_person(session=tx.session, ref=person)
            if ack is not None:
                acknowledge(session=tx.session, now=now, person=who, notice_id=ack)
            if read is not None:
                mark_read(session=tx.session, now=now, person=who, notice_id=read)
        console().print(
            f"notice {ack or read} {'acknowledged' if ack else 'read'} by {who.name}", markup=False
        )
        return
    created_by = app.as_of(at)
    shown = window(limit, offset, as_json=as_json)

    def emit(name: str, listing: Any) -> None:  # a Listing or a lean_reads.LeanRows of NoticeRow
        if as_json:
            emit_list(listing.map(NoticeRow.plain), person=name)
            return

        def cells(row: NoticeRow) -> list[object]:
            ack_state = "✓" if row.acknowledged_at else ("to acknowledge" if row.escalation else "")
            return [row.id, when(row.created_at), row.subject, "read" if row.read_at else "new", ack_state]

        print_page(console(), listing, f"inbox of {name}", ("id", "when", "subject", "", "ack"), cells)

    from notifications.notice_rows import INBOX
    from workflows import lean_reads

    def lean(reader: "RawReader") -> "tuple[str, Streamed[NoticeRow]]":
        who = lean_reads.find_person(reader, person)
        return who.name, lean_reads.list_notices(
            reader, person_id=who.id, channel=INBOX, unread=unread, created_by=created_by, window=shown
        )

    with lean_read(app, lean) as made:
        if made is not None:
            emit(*made)
            return
    from notifications.queries import list_notices
    from workflows.people import find_person

    with app.reading() as session:
        found = find_person(session=session, ref=person)
        emit(
            found.name,
            list_notices(
                session=session,
                person_id=found.id,
                channel="inbox",
                unread=unread,
                as_of=created_by,
                window=shown,
            ),
        )


@channels_app.command("test")
def channels_test(
    ctx: typer.Context,
    person: Annotated[str, typer.Argument(help="Whose channels: name, phone or id.")],
    actor_ref: ActorOption,
    as_json: JsonOption = False,
) -> None:
    """Send a test message on each of a person's channels and say what each answered (admin or office)."""
    from ducha.cli.json_output import emit_json
    from notifications.channels.base import Message
    from notifications.outbox import Recipient
    from workflows.authority import ADMIN_OR_OFFICE, require_role
    from workflows.people import find_person

    app = context(ctx)
    with app.reading() as session:
        require_role(
            session=session, actor=actor(session, actor_ref), roles=ADMIN_OR_OFFICE, doing="test channels"
        )
        who = find_person(session=session, ref=person)
        assert who.id is not None
        recipient = Recipient(who.id, who.name, who.email, who.phone, tuple(who.notice_addresses))
    registry = app.channels()
    answers = []
    try:
        for channel, address in recipient.channels():
            if channel == "inbox":
                continue
            message = Message(
                key=f"test:{who.id}:{channel}:{app.system_clock.now().isoformat()}",
                subject="ducha 测试消息 test message",
                text=f"{who.name}：这是一条测试消息。This is a test message.",
                html=f"<p>{who.name}：这是一条测试消息。This is a test message.</p>",
                to_name=who.name,
                to_address=address,
                template="overdue",
            )
            outcome = registry.get(channel).send(message)
            answers.append({"channel": channel, "result": outcome.result.value, "detail": outcome.detail})
    finally:
        registry.close()
    if as_json:
        emit_json({"person": who.name, "data": answers, "count": len(answers)})
    else:
        if not answers:
            console().print(f"{who.name} has no channel besides the inbox", markup=False)
        for answer in answers:
            console().print(f"{answer['channel']}: {answer['result']} — {answer['detail']}", markup=False)
    if any(answer["result"] != "accepted" for answer in answers):
        raise typer.Exit(EXIT_FINDING)
