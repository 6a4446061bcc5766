"""The office's signing key, and when checkpoints are signed: every 64 entries in the appending
transaction, by the scheduler's job when the log grew, at the end of the day whatever it did."""

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from ducha.config import Settings
from ducha.context import AppContext
from ducha.db import make_engine, writer
from ducha.demo.inspections import photo
from ducha.jobs import run_checkpoints
from funds.note import Signer, Verifier, parse_checkpoint, parse_note
from models.ledger import LedgerCheckpoint
from tests import builders
from tests.integration.conftest import DEMO_OFFICE, js, ok, run
from workflows.built_ins import load_builtins
from workflows.fund_actions import FundsSetup, Operation, record_receipt

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_keygen_writes_a_private_key_and_prints_the_verifier_key(database_url: str, tmp_path: Path) -> None:
    output = ok(database_url, "audit", "keygen", "--name", "示范区督查室")
    key_file = tmp_path / "ducha-audit.key"
    assert f"signing key written to {key_file}" in output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    verifier = Verifier.parse(output.strip().splitlines()[-1])
    assert verifier.name == "示范区督查室"
    assert Signer.parse(key_file.read_text()).verifier().text() == verifier.text()
    code, output = run(database_url, "audit", "keygen")
    assert code == 2 and "a key is there already (--force replaces it" in output
    assert ok(database_url, "audit", "key").strip() == verifier.text()


def test_a_checkpoint_every_64_entries_in_the_appending_transaction(database_url: str) -> None:
    signer = Signer.generate("office")
    engine = make_engine(database_url)
    with Session(writer(engine)) as session:
        load_builtins(session=session, now=T0)
        prog = builders.programme(session, "检查点测试")
        office = builders.office_member(session)
        for n in range(130):
            record_receipt(
                session=session,
                now=T0 + timedelta(seconds=n),
                setup=FundsSetup((signer,), None),
                op=Operation(office, f"cp-{n}", str(prog.id)),
                fund="upper",
                amount_fen=1,
            )
        session.commit()
        rows = session.exec(select(LedgerCheckpoint).order_by(col(LedgerCheckpoint.tree_size))).all()
    engine.dispose()
    assert [(row.tree_size, row.reason) for row in rows] == [(64, "entries"), (128, "entries")]
    said = parse_checkpoint(parse_note(rows[1].note).text)
    assert (said.size, said.root, said.signed_at) == (128, rows[1].root_hash, T0 + timedelta(seconds=127))
    assert parse_note(rows[1].note).signed_by([signer.verifier()]) == ["office"]


def test_the_scheduler_signs_a_grown_log_and_every_log_at_day_end(demo: str, tmp_path: Path) -> None:
    context = AppContext(
        _settings=Settings(
            database_url=demo, evidence_dir=tmp_path / "evidence", audit_key=tmp_path / "ducha-audit.key"
        )
    )
    at = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
    try:
        assert run_checkpoints(context, at) == []  # the demo signed its last day already
        ok(
            demo,
            "funds",
            "disburse",
            "P005",
            "--fund",
            "upper",
            "--amount",
            "0.01",
            "--as",
            DEMO_OFFICE,
            "--op-id",
            "late",
            "--at",
            "2026-12-10T10:00+08:00",
        )
        code, output = run(
            demo,
            "funds",
            "receive",
            "upper",
            "--amount",
            "0.01",
            "--as",
            DEMO_OFFICE,
            "--op-id",
            "late-2",
            "--at",
            "2026-12-10T10:00+08:00",
        )
        assert code == 2 and "over its budget of 1,684,600.00" in output
        signed = run_checkpoints(context, at + timedelta(minutes=5))
        assert [(s.origin, s.size) for s in signed] == [("ducha/programme/1", 312)]
        assert run_checkpoints(context, at + timedelta(minutes=10)) == []
        daily = run_checkpoints(context, at + timedelta(hours=13), daily=True)
        assert [(s.origin, s.size) for s in daily] == [("ducha/programme/1", 312)]
    finally:
        context.dispose()


def test_documents_go_to_the_evidence_store_and_their_hashes_into_the_entry(
    demo: str, tmp_path: Path, evidence_dir: Path
) -> None:
    scan = tmp_path / "发票.png"
    scan.write_bytes(photo("发票 FP-1", 90))
    code = js(demo, "projects", "--stage", "approved", "--at", "2026-12-10")["data"][1]["code"]
    ok(
        demo,
        "funds",
        "spend",
        code,
        "--fund",
        "upper",
        "--amount",
        "100",
        "--category",
        "furnishing",
        "--voucher",
        "记-1",
        "--document",
        str(scan),
        "--as",
        DEMO_OFFICE,
        "--op-id",
        "doc-1",
        "--at",
        "2026-12-10T10:00+08:00",
    )
    rows = js(demo, "audit", "trail", code)["data"]
    shas = next(row["documents"] for row in rows if row["kind"] == "spend")
    assert len(shas) == 1 and (evidence_dir / shas[0][:2] / shas[0]).read_bytes() == scan.read_bytes()


def test_a_person_without_a_role_on_the_project_cannot_spend(demo: str) -> None:
    code, output = run(
        demo,
        "funds",
        "spend",
        "P001",
        "--fund",
        "upper",
        "--amount",
        "1",
        "--category",
        "construction",
        "--voucher",
        "x",
        "--as",
        "13920000002",
        "--op-id",
        "x-1",
        "--at",
        "2026-12-10T10:00+08:00",
    )
    assert code == 2 and "is neither the specialist nor the leader of P001" in output
    code, output = run(
        demo,
        "funds",
        "allocate",
        "P001",
        "--fund",
        "upper",
        "--amount",
        "1",
        "--as",
        "13920000001",
        "--op-id",
        "x-2",
        "--at",
        "2026-12-10T10:00+08:00",
    )
    assert code == 2 and "is not admin or office: cannot allocate funds" in output
