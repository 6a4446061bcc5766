"""What auditors use: the office's signing key, verify, checkpoints, proofs, exports, trails, summaries.

``ducha audit verify`` exits 1 when anything is wrong (a finding), naming the first bad entry.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ducha.cli.common import (
    EXIT_FINDING,
    ActorOption,
    AtOption,
    JsonOption,
    ProgrammeOption,
    actor,
    console,
    context,
    lean_read,
    say_error,
)

if TYPE_CHECKING:
    from funds.note import Verifier
    from workflows.fund_audit import AuditRun

audit_app = typer.Typer(
    help="The fund trail for auditors: verify, export, prove, trail, summary, keys, the audit rules."
)

KeyOption = Annotated[
    list[str] | None, typer.Option("--key", help="A verifier key (NAME+HASH+KEY) to check signatures with.")
]


@audit_app.command("keygen")
def keygen(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help="The key's name, in every signature line.")
    ] = "ducha-office",
    cosign: Annotated[
        bool, typer.Option("--cosign", help="Make the co-signing key (DUCHA_AUDIT_COSIGN_KEY).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a key that exists (old checkpoints keep theirs).")
    ] = False,
) -> None:
    """Make the office's Ed25519 signing key (DUCHA_AUDIT_KEY) and print its public key for auditors."""
    import os

    from funds.note import Signer
    from models.errors import BadInput, Refused

    settings = context(ctx).settings
    path = settings.audit_cosign_key if cosign else settings.audit_key
    if path is None:
        raise BadInput("--cosign: set DUCHA_AUDIT_COSIGN_KEY to where the co-signing key goes")
    if path.exists() and not force:
        raise Refused(
            f"{path}: a key is there already (--force replaces it; auditors must then get the new one)"
        )
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(signer.text() + "\n")
    console().print(f"signing key written to {path} (keep it secret; back it up)", markup=False)
    console().print("verifier key for auditors:", markup=False)
    console().print(signer.verifier().text(), markup=False, highlight=False, soft_wrap=True)


@audit_app.command("key")
def key(ctx: typer.Context) -> None:
    """Print the verifier key(s) of the configured signing key(s)."""
    for signer in context(ctx).signers(required=True):
        console().print(signer.verifier().text(), markup=False, highlight=False, soft_wrap=True)


def _verifiers(ctx: typer.Context, keys: list[str] | None) -> list["Verifier"]:
    from funds.note import Verifier

    if keys:
        return [Verifier.parse(text) for text in keys]
    return [signer.verifier() for signer in context(ctx).signers()]


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A checkpoint you kept: prove the log extends it."),
    ] = None,
    keys: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every entry's hash and balances, the tree, every checkpoint's signature (exit 1: bad)."""
    from ducha.cli.json_output import emit_json
    from funds.verify import Kept, verify_ledger
    from models.errors import BadInput

    kept = []
    for path in checkpoint or []:
        if not path.is_file():
            raise BadInput(f"{path}: no such file")
        kept.append(Kept(str(path), path.read_text(encoding="utf-8")))
    app = context(ctx)
    verifiers = _verifiers(ctx, keys)
    with app.reading() as session:
        report = verify_ledger(session=session, verifiers=verifiers, kept=kept)
    problems = report.all_problems()
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "logs": [
                    {
                        "origin": log.origin,
                        "entries": log.entries,
                        "checkpoints": log.checkpoints,
                        "latest_checkpoint": log.latest,
                    }
                    for log in report.logs
                ],
                "kept": report.kept,
                "problems": [problem.line() for problem in problems],
            }
        )
    else:
        out = console()
        for problem in problems:
            say_error(f"FAILED: {problem.line()}")
        for log in report.logs:
            state = "bad" if log.problems else "ok"
            out.print(
                f"{log.origin}: {log.entries} entries {state}, {log.checkpoints} signed checkpoints",
                markup=False,
            )
            if log.latest and not log.problems:
                out.print(
                    "latest signed checkpoint:\n" + log.latest, markup=False, highlight=False, soft_wrap=True
                )
        for line in report.kept:
            out.print(line, markup=False)
        verdict = "verified" if report.ok else f"{len(problems)} problem(s)"
        out.print(f"audit verify: {report.entries} entries, {verdict}", markup=False)
    if not report.ok:
        raise typer.Exit(EXIT_FINDING)


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context, programme: ProgrammeOption = None, at: AtOption = None) -> None:
    """Sign a checkpoint of every log that grew since its last one (the scheduler does this too)."""
    from funds.checkpoints import sign_checkpoints
    from workflows.programmes import find_programme

    app = context(ctx)
    now = app.now(at)
    signers = app.signers(required=True)
    with app.transaction(now=now) as tx:
        programme_id = find_programme(session=tx.session, ref=programme).id if programme else None
        signed = sign_checkpoints(
            session=tx.session, now=now, signers=signers, reason="manual", programme_id=programme_id
        )
    for item in signed:
        console().print(f"{item.origin}: checkpoint of {item.size} entries signed", markup=False)
    if not signed:
        console().print("every log's latest checkpoint is current: nothing signed", markup=False)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="trail: a new or empty folder; beancount: a file (else standard output)."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="trail (entries, checkpoints, proofs, keys, the verifier) or beancount."
        ),
    ] = "trail",
    programme: ProgrammeOption = None,
    at: AtOption = None,
) -> None:
    """Write the programme's verifiable trail (entries, checkpoints, proofs, keys, the offline verifier),
    or its ledger as a Beancount file with month-end balance assertions (--format beancount)."""
    from models.errors import BadInput

    if fmt == "beancount":
        _export_beancount(ctx, out, programme, at)
        return
    if fmt != "trail":
        raise BadInput(f"--format {fmt!r}: trail or beancount")
    if out is None:
        raise BadInput("--out: the folder to write the trail to")
    from funds.checkpoints import sign_checkpoints
    from funds.export import export_trail, trail_folder
    from funds.journal import open_log
    from workflows.programmes import find_programme

    app = context(ctx)
    now = app.now(at)
    signers = app.signers()
    with trail_folder(out) as folder:  # refused before anything is signed or written
        with app.transaction(now=now) as tx:
            found = find_programme(session=tx.session, ref=programme)
            assert found.id is not None
            if signers:  # sign what the latest checkpoint does not cover yet, so that all of it goes out
                sign_checkpoints(
                    session=tx.session, now=now, signers=signers, reason="export", programme_id=found.id
                )
            size = open_log(session=tx.session, programme_id=found.id, now=now).size
        with app.reading() as session:
            done = export_trail(
                session=session,
                programme=found,
                out=folder,
                verifiers=[s.verifier() for s in signers],
                log_size=size,
            )
    left = f"; {done.left_out} newer entries left out (no key to sign them)" if done.left_out else ""
    console().print(
        f"exported {done.entries} entries, {done.checkpoints} checkpoints (latest: {done.tree_size}) "
        f"to {out}{left}",
        markup=False,
    )


def _export_beancount(ctx: typer.Context, out: Path | None, programme: str | None, at: str | None) -> None:
    import io
    import sys

    from ducha.cli.common import file_written
    from funds.ledger_beancount import write_beancount
    from workflows.programmes import find_programme

    app = context(ctx)
    as_of = app.as_of(at)
    with app.reading() as session:
        found = find_programme(session=session, ref=programme)
        if out is None:
            write_beancount(session=session, programme=found, at=as_of, out=sys.stdout)
            return
        with file_written(out) as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            done = write_beancount(session=session, programme=found, at=as_of, out=text)
    console().print(
        f"{out}: {done.entries} entries in {done.accounts} accounts, {done.assertions} balance assertions "
        "(check it: bean-check)",
        markup=False,
    )


@audit_app.command("prove")
def prove(
    ctx: typer.Context,
    from_: Annotated[Path, typer.Option("--from", help="A checkpoint file you kept.")],
    as_json: JsonOption = False,
) -> None:
    """Print the consistency proof from a checkpoint you kept to the log as it is now."""
    import base64

    from ducha.cli.json_output import emit_json
    from funds.checkpoints import log_by_origin, prove_consistency, tree_root
    from funds.journal import open_log
    from funds.note import parse_checkpoint, parse_note
    from models.errors import BadInput, Refused

    if not from_.is_file():
        raise BadInput(f"{from_}: no such file")
    said = parse_checkpoint(parse_note(from_.read_text(encoding="utf-8")).text)
    app = context(ctx)
    with app.reading() as session:
        log = log_by_origin(session, said.origin)
        size = open_log(session=session, programme_id=log.programme_id, now=said.signed_at).size
        if said.size > size or said.size == 0:
            raise Refused(f"{from_}: covers {said.size} entries, the log has {size}: no proof can extend it")
        proof = prove_consistency(session, log.programme_id, said.size, size)
        root = tree_root(session, log.programme_id, size)
    payload = {
        "origin": said.origin,
        "old_size": said.size,
        "old_root": base64.b64encode(said.root).decode(),
        "new_size": size,
        "new_root": base64.b64encode(root).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
    }
    if as_json:
        emit_json(payload)
        return
    console().print(json.dumps(payload, indent=2), markup=False, highlight=False)


@audit_app.command("trail")
def trail(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="Project code, village or id.")],
    fmt: Annotated[
        str, typer.Option("--format", help="table, csv, json or xlsx (xlsx needs --out).")
    ] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    programme: ProgrammeOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every movement of a project's money with its running balance, voucher, evidence, actor and hash."""
    from ducha.cli.trail_output import write_trail
    from workflows import lean_audit

    app = context(ctx)
    as_of = app.as_of(at)
    fmt = "json" if as_json else fmt
    with lean_read(
        app, lambda reader: lean_audit.trail(reader, project=project, programme=programme, at=as_of)
    ) as lean:
        if lean is not None:
            info, streamed = lean
            write_trail(streamed, fmt, out, title=f"{info.code} {info.name}", as_of=as_of)
            return
    from funds.reads import trail as read_trail
    from workflows.programmes import find_programme
    from workflows.projects import find_project

    with app.reading() as session:
        found = find_programme(session=session, ref=programme) if programme else None
        target = find_project(session=session, ref=project, programme_id=found.id if found else None)
        rows = read_trail(session=session, project=target, at=as_of)
        write_trail(rows, fmt, out, title=f"{target.code} {target.name}", as_of=as_of)


@audit_app.command("summary")
def summary(
    ctx: typer.Context, programme: ProgrammeOption = None, at: AtOption = None, as_json: JsonOption = False
) -> None:
    """Allocated, disbursed, reserved, spent, owed and idle money by fund and by project."""
    from ducha.cli.json_output import emit_json
    from ducha.cli.trail_output import print_summary
    from workflows import lean_audit

    app = context(ctx)
    as_of = app.as_of(at)
    with lean_read(app, lambda reader: lean_audit.summary(reader, programme=programme, at=as_of)) as lean:
        report = lean
    if report is None:
        from funds.reads import summary as read_summary
        from workflows.programmes import find_programme

        with app.reading() as session:
            report = read_summary(
                session=session, programme=find_programme(session=session, ref=programme), at=as_of
            )
    if as_json:
        emit_json(report)
        return
    print_summary(console(), report)


@audit_app.command("run")
def run(
    ctx: typer.Context,
    actor_ref: ActorOption,
    programme: ProgrammeOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the audit rules in force as of --at; new findings become orders (exit 1: findings)."""
    from ducha.cli.json_output import emit_json
    from workflows.fund_audit import run_fund_audit

    app = context(ctx)
    now = app.now(at)
    rules = app.audit_rules()  # a bad rules file stops here: exit 2, nothing written
    with app.transaction(now=now) as tx:
        runs = run_fund_audit(
            session=tx.session,
            now=now,
            calendar=app.calendar,
            rules=rules,
            actor=actor(tx.session, actor_ref),
            programme=programme,
            deadline_days=app.deadline_days,
            notices=app.notices,
        )
    if as_json:
        emit_json({"runs": [_run_plain(item) for item in runs]})
    else:
        _print_runs(runs)
    if any(item.found for item in runs):
        raise typer.Exit(EXIT_FINDING)


def _run_plain(item: "AuditRun") -> dict[str, Any]:
    return {
        "programme": item.programme,
        "as_of": item.as_of.isoformat(),
        "rules": [rule.plain() for rule in item.rules],
        "findings": [
            {
                "id": found.record_id,
                "rule": found.rule.key,
                "rule_effective": found.rule.effective.isoformat(),
                "subject": found.finding.subject,
                "project": found.finding.project,
                "fund": found.finding.fund,
                "severity": found.rule.severity,
                "amount_fen": found.finding.amount_fen,
                "evidence": list(found.finding.evidence),
                "description": found.finding.description,
                "detail": found.finding.detail,
                "new": found.new,
                "order_id": found.order_id,
            }
            for found in item.found
        ],
        "cleared": item.cleared,
        "inspections": item.inspections,
        "orders": item.orders,
        "notices": item.notices.notices,
    }


def _print_runs(runs: "list[AuditRun]") -> None:
    from rich.table import Table

    from models.localtime import local
    from models.money import format_yuan

    out = console()
    for item in runs:
        if item.found:
            table = Table("rule", "project", "fund", "amount", "entries", "order", "", title=item.programme)
            for found in item.found:
                f = found.finding
                table.add_row(
                    found.rule.key,
                    f.project or "—",
                    f.fund or "—",
                    format_yuan(f.amount_fen),
                    ", ".join(map(str, f.evidence)),
                    str(found.order_id) if found.order_id else "—",
                    "new" if found.new else "recorded before",
                )
            out.print(table)
            for found in item.new:
                out.print(f"new: {found.finding.description}", markup=False, highlight=False, soft_wrap=True)
        out.print(
            f"audit run of {item.programme} as of {local(item.as_of):%Y-%m-%d %H:%M}: "
            f"{len(item.rules)} rules in force, {len(item.found)} finding(s), {len(item.new)} new, "
            f"{len(item.cleared)} cleared; {len(item.orders)} order(s) issued, "
            f"{item.notices.notices} notice(s) written",
            markup=False,
        )


@audit_app.command("findings")
def findings(ctx: typer.Context, programme: ProgrammeOption = None, as_json: JsonOption = False) -> None:
    """Every finding the fund audits recorded, with its evidence and its order (exit 1: one not closed)."""
    from rich.table import Table

    from ducha.cli.json_output import emit_json
    from models.localtime import local
    from models.money import format_yuan
    from workflows import lean_audit

    app = context(ctx)
    with lean_read(app, lambda reader: lean_audit.findings(reader, programme=programme)) as lean:
        rows = lean
    if rows is None:
        from workflows.fund_audit import audit_findings

        with app.reading() as session:
            rows = audit_findings(session=session, programme=programme)
    if as_json:
        emit_json({"findings": rows})
    else:
        table = Table(
            "id", "rule", "project", "fund", "amount", "entries", "found as of", "cleared as of", "order",
            "status",
        )  # fmt: skip
        for row in rows:
            table.add_row(
                str(row.id),
                row.rule if row.occurrence == 1 else f"{row.rule} (#{row.occurrence})",
                row.project or "—",
                row.fund or "—",
                format_yuan(row.amount_fen),
                ", ".join(map(str, row.evidence)),
                f"{local(row.as_of):%Y-%m-%d}",
                f"{local(row.cleared_at):%Y-%m-%d}" if row.cleared_at else "—",
                str(row.order_id) if row.order_id else "—",
                row.order_status or "—",
            )
        console().print(table)
        for row in rows:
            console().print(f"{row.id}: {row.description}", markup=False, highlight=False, soft_wrap=True)
    if any(row.order_status != "closed" for row in rows):
        raise typer.Exit(EXIT_FINDING)
