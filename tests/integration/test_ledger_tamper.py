"""Tampering with the ledger, each caught and named by ``ducha audit verify`` (both backends): a raw SQL
change with the triggers out of the way, a deleted entry, two entries swapped, the newest entries
removed (caught with a checkpoint the auditor kept), an older database restored. And the triggers."""

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from funds import tree_levels, verify_split
from funds.merkle import LEVEL, verify_consistency
from funds.note import Signer
from funds.verify import Report, screen_range, verify_ledger
from funds.verify_split import Run, split_pass
from models.ledger import LEDGER_TABLES
from tests.integration.conftest import DEMO_OFFICE, POSTGRES_URL, js, ok, run

AT = "2026-12-10T10:00+08:00"


@pytest.fixture(autouse=True, params=["one pass", "two halves"])
def halves(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every case both ways: the log checked in one pass, and in two halves by two processes (which
    only long logs are: funds/verify_split.py), each edit then on either side of the split or astride."""
    if request.param == "two halves":
        monkeypatch.setattr(verify_split, "SPLIT_AT", 2)
        monkeypatch.setattr(verify_split, "HEAD_START", 0)
        monkeypatch.setattr(verify_split, "ALIGN", 3)  # the demo's 311 entries halved at 152
    return str(request.param)


def halved_at(size: int) -> int:
    """Where a log of ``size`` entries is halved with the settings above (the same entries are edited
    in the one pass)."""
    return size // 2 >> 3 << 3


@pytest.fixture
def db(demo: str) -> Iterator[Engine]:
    engine = create_engine(demo)
    yield engine
    engine.dispose()


def size_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM journal_entry")).scalar_one())


def tamper(engine: Engine, *statements: str) -> None:
    """Run ``statements`` with the append-only triggers out of the way (and, on PostgreSQL, the foreign
    keys, as a superuser restoring rows can)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in LEDGER_TABLES:
                for action in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()


def verify(url: str, *args: str) -> tuple[int, str]:
    return run(url, "audit", "verify", *args)


def latest(url: str, tmp_path: Path, name: str = "kept.note") -> Path:
    """Keep the latest signed checkpoint, as an auditor would."""
    note = js(url, "audit", "verify")["logs"][0]["latest_checkpoint"]
    path = tmp_path / name
    path.write_text(note, encoding="utf-8")
    return path


def test_the_triggers_refuse_update_and_delete_on_every_ledger_table(db: Engine) -> None:
    for table in LEDGER_TABLES:
        column = {"merkle_node": "hash", "ledger_log": "origin", "journal_line": "amount_fen"}.get(
            table, "id"
        )
        column = "seq" if table == "journal_entry" else column
        for statement in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError) as refused, db.begin() as connection:
                connection.execute(text(statement))
            assert f"{table} is append-only" in str(refused.value), statement


@pytest.mark.postgres
def test_postgresql_refuses_truncate_on_every_ledger_table(postgres_demo: str) -> None:
    engine = create_engine(postgres_demo)
    try:
        for table in LEDGER_TABLES:
            with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {table} CASCADE"))
            assert "TRUNCATE refused" in str(refused.value)
    finally:
        engine.dispose()


CHANGES = [
    ("UPDATE journal_entry SET amount_fen = amount_fen + 1 WHERE seq = 40", 40, "its amount column says"),
    (
        'UPDATE journal_entry SET body = replace(body, \'"memo":null\', \'"memo":"改"\') WHERE seq = 40',
        40,
        "its hash does not match its document: the entry was edited after it was recorded",
    ),
    (
        "UPDATE journal_line SET amount_fen = amount_fen + 100, balance_fen = balance_fen + 100 "
        "WHERE entry_seq = 40 AND position = 0",
        40,
        "line 0 says",
    ),
    (
        "UPDATE journal_entry SET voucher = 'V-forged' WHERE seq = 200",
        200,
        "its voucher column says 'V-forged'",
    ),
    ("UPDATE journal_entry SET amount_fen = amount_fen + 1 WHERE seq = 250", 250, "its amount column says"),
    (
        "UPDATE journal_line SET amount_fen = amount_fen + 100, balance_fen = balance_fen + 100 "
        "WHERE entry_seq = 260 AND position = 1",
        260,
        "line 1 says",
    ),
    (
        "UPDATE journal_entry SET entry_hash = (SELECT entry_hash FROM journal_entry WHERE seq = 41) "
        "WHERE seq = 40",
        40,
        "its hash does not match its document",
    ),
]


@pytest.mark.parametrize(("statement", "seq", "said"), CHANGES)
def test_a_single_raw_change_is_named(demo: str, db: Engine, statement: str, seq: int, said: str) -> None:
    assert verify(demo)[0] == 0
    tamper(db, statement)
    code, output = verify(demo)
    assert code == 1
    assert f"FAILED: ducha/programme/1: entry {seq}: {said}" in output, output
    assert "audit verify: " in output and "1 problem(s)" in output


def test_a_changed_tree_node_vendor_or_checkpoint_is_named(demo: str, db: Engine) -> None:
    tamper(
        db,
        "UPDATE merkle_node SET hash = (SELECT hash FROM merkle_node WHERE node = 0) "
        "WHERE node = 3 * 1099511627776 + 2",
    )
    code, output = verify(demo)
    assert code == 1 and "log: tree node (3, 2) differs from its children: changed" in output


def test_a_renamed_vendor_is_named_at_its_first_entry(demo: str, db: Engine) -> None:
    with db.connect() as connection:
        first = connection.execute(
            text("SELECT MIN(seq) FROM journal_entry WHERE vendor_id IS NOT NULL")
        ).scalar()
    tamper(db, "UPDATE vendor SET name = name || '(改)'")
    code, output = verify(demo)
    assert code == 1 and f"entry {first}: its vendor column says" in output


def test_a_deleted_entry_is_named(demo: str, db: Engine) -> None:
    tamper(db, "DELETE FROM journal_line WHERE entry_seq = 57", "DELETE FROM journal_entry WHERE seq = 57")
    code, output = verify(demo)
    assert code == 1
    assert "entry 57: missing: the log jumps from entry 56 to 58 (an entry was removed)" in output


def test_two_entries_swapped_are_named(demo: str, db: Engine) -> None:
    swap = [
        f"UPDATE {table} SET {column} = {new} WHERE {column} = {old}"
        for old, new in ((60, -1), (61, 60), (-1, 61))
        for table, column in (("journal_line", "entry_seq"), ("journal_entry", "seq"))
    ]
    tamper(db, *swap)
    code, output = verify(demo)
    assert code == 1 and "entry 60: its document says it is entry 61 of ducha/programme/1" in output


def test_the_newest_entries_removed_are_caught_with_a_kept_checkpoint(
    demo: str, db: Engine, tmp_path: Path
) -> None:
    kept = latest(demo, tmp_path)
    n = size_of(db)
    cut = n - 5
    tamper(
        db,
        f"DELETE FROM journal_line WHERE entry_seq >= {cut}",
        f"DELETE FROM journal_entry WHERE seq >= {cut}",
        *(f"DELETE FROM merkle_node WHERE node = {node}" for node in beyond(db, cut)),
        f"DELETE FROM ledger_checkpoint WHERE tree_size > {cut}",
    )
    code, output = verify(demo)
    assert code == 0, output  # what is left is a consistent, shorter log: only a kept checkpoint shows it
    code, output = verify(demo, "--checkpoint", str(kept))
    assert code == 1
    assert (
        f"covers {n} entries, the log has {cut}: entries {cut}–{n - 1} were removed, or an older " in output
    )


def beyond(engine: Engine, cut: int) -> list[int]:
    """The tree nodes that cover a leaf at or after ``cut``: what a clean cut of the log removes."""
    with engine.connect() as connection:
        nodes = connection.execute(text("SELECT node FROM merkle_node")).scalars().all()
    return [node for node in nodes if (node % LEVEL + 1) << (node // LEVEL) > cut]


def snapshot(url: str, tmp_path: Path) -> str:
    """A copy of the database as it is now (a backup to restore later)."""
    if url.startswith("sqlite"):
        source = Path(make_url(url).database or "")
        target = tmp_path / "backup.db"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    assert POSTGRES_URL is not None
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{make_url(url).database}_backup"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_snapshot(url: str) -> None:
    if url.startswith("postgresql") and POSTGRES_URL is not None:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def test_an_older_database_restored_is_caught_and_a_kept_checkpoint_is_extended(
    demo: str, tmp_path: Path
) -> None:
    older = snapshot(demo, tmp_path)
    try:
        kept_old = latest(demo, tmp_path, "old.note")
        code = js(demo, "projects", "--stage", "approved", "--at", AT)["data"][0]["code"]
        for n in range(3):
            ok(
                demo,
                "funds",
                "disburse",
                code,
                "--fund",
                "upper",
                "--amount",
                "100",
                "--as",
                DEMO_OFFICE,
                "--op-id",
                f"later-{n}",
                "--at",
                AT,
            )
        assert "checkpoint of" in ok(demo, "audit", "checkpoint", "--at", AT)
        code_, output = verify(demo, "--checkpoint", str(kept_old))
        assert code_ == 0 and "extends its" in output and "consistency proof of" in output
        proof = json.loads(ok(demo, "audit", "prove", "--from", str(kept_old), "--json"))
        assert verify_consistency(
            proof["old_size"],
            proof["new_size"],
            base64.b64decode(proof["old_root"]),
            base64.b64decode(proof["new_root"]),
            [base64.b64decode(h) for h in proof["proof"]],
        )
        kept_new = latest(demo, tmp_path, "new.note")
        code_, output = verify(older, "--checkpoint", str(kept_new))
        assert code_ == 1 and "were removed, or an older database was restored" in output
    finally:
        drop_snapshot(older)


# The verifier screens entries in bulk and checks one again the slow way only when the screen doubts it
# (funds/entry_screen.py); the tree is compared a whole level at a time (funds/tree_levels.py). These
# edits are each caught by the bulk checks, and named as the slow check names them.
SCREENED = [
    (
        "UPDATE journal_line SET account_id = (SELECT account_id FROM journal_line WHERE entry_seq = 41 "
        "AND position = 1) WHERE entry_seq = 40 AND position = 0",
        40,
        "line 0 says",
    ),
    ("UPDATE journal_line SET position = 2 WHERE entry_seq = 40 AND position = 1", 40, "it has 2 line rows"),
    ("UPDATE journal_entry SET op_part = 1 WHERE seq = 40", 40, "its op column says"),
    ("UPDATE journal_entry SET project_id = NULL WHERE seq = 40", 40, "its project column says None"),
    (
        "UPDATE merkle_node SET hash = (SELECT hash FROM merkle_node WHERE node = 41) WHERE node = 40",
        40,
        "its leaf in the Merkle tree is missing or differs from its hash",
    ),
    ("DELETE FROM merkle_node WHERE node = 40", 40, "its leaf in the Merkle tree is missing or differs"),
]


@pytest.mark.parametrize(("statement", "seq", "said"), SCREENED)
def test_an_edit_the_bulk_screen_catches_is_named(
    demo: str, db: Engine, statement: str, seq: int, said: str
) -> None:
    tamper(db, statement)
    code, output = verify(demo)
    assert code == 1
    assert f"FAILED: ducha/programme/1: entry {seq}: {said}" in output, output
    assert "1 problem(s)" in output


def test_a_changed_time_is_named(demo: str, db: Engine) -> None:
    later = (
        "occurred_at + interval '1 second'"
        if db.dialect.name == "postgresql"
        else "strftime('%Y-%m-%d %H:%M:%f000', occurred_at, '+1 second')"
    )
    tamper(db, f"UPDATE journal_entry SET occurred_at = {later} WHERE seq = 40")
    code, output = verify(demo)
    assert code == 1 and "entry 40: its occurred_at column says" in output, output


def test_the_first_bad_entry_is_named_when_a_leaf_comes_before_a_column(demo: str, db: Engine) -> None:
    tamper(
        db,
        "UPDATE journal_entry SET amount_fen = amount_fen + 1 WHERE seq = 40",
        "UPDATE merkle_node SET hash = (SELECT hash FROM merkle_node WHERE node = 31) WHERE node = 30",
    )
    code, output = verify(demo)
    assert code == 1
    assert "entry 30: its leaf in the Merkle tree is missing or differs from its hash" in output, output
    assert "entry 40" not in output


def verified(engine: Engine) -> Report:
    """``verify_ledger`` itself, with the demo's key (the report says what the screen left to recheck)."""
    signer = Signer.parse(Path(os.environ["DUCHA_AUDIT_KEY"]).read_text(encoding="utf-8"))
    with Session(engine) as session:
        return verify_ledger(session=session, verifiers=[signer.verifier()])


def test_the_screen_clears_every_entry_of_a_clean_ledger_at_first_sight(demo: str, db: Engine) -> None:
    report = verified(db)
    assert report.ok and report.entries == size_of(db) > 0
    assert [log.rechecked for log in report.logs] == [0]


def test_a_time_stored_in_another_form_of_the_same_instant_is_not_a_change(demo: str, db: Engine) -> None:
    """The screen expects SQLite times as SQLAlchemy writes them; another text of the same instant is
    doubted by the screen and cleared by the slow check, as the application reads it."""
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores times, not their text")
    tamper(
        db,
        "UPDATE journal_entry SET occurred_at = replace(occurred_at, ' ', 'T') WHERE seq = 40",
        "UPDATE journal_entry SET recorded_at = substr(recorded_at, 1, 19) WHERE seq = 41",
    )
    code, output = verify(demo)
    assert code == 0, output
    report = verified(db)
    assert report.ok and [log.rechecked for log in report.logs] == [2]


def test_a_removed_tree_node_is_named(demo: str, db: Engine) -> None:
    """A level with a node missing differs as a whole; the node-by-node walk then says where."""
    tamper(db, f"DELETE FROM merkle_node WHERE node = {LEVEL} + 5")
    code, output = verify(demo)
    assert code == 1 and "log: tree node (1, 6) has no children" in output, output


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_an_entry_removed_next_to_where_the_log_is_halved_is_named(
    demo: str, db: Engine, offset: int
) -> None:
    seq = halved_at(size_of(db) - 1) + offset
    tamper(
        db,
        f"DELETE FROM journal_line WHERE entry_seq = {seq}",
        f"DELETE FROM journal_entry WHERE seq = {seq}",
    )
    code, output = verify(demo)
    assert code == 1
    assert f"entry {seq}: missing: the log jumps from entry {seq - 1} to {seq + 1}" in output, output


def test_a_balance_changed_just_before_the_half_is_named(demo: str, db: Engine) -> None:
    """The second half starts from the balances the rows record before it: a changed one there is the
    first half's last entry's problem, and the halves do not join."""
    seq = halved_at(size_of(db)) - 1
    tamper(
        db, f"UPDATE journal_line SET balance_fen = balance_fen + 1 WHERE entry_seq = {seq} AND position = 0"
    )
    code, output = verify(demo)
    assert code == 1 and f"entry {seq}: line 0 says" in output, output


def test_the_halves_join_into_the_one_pass(demo: str, db: Engine, halves: str) -> None:
    """On a clean log the second process's half is taken as it is (this process checks only the
    first), and what the two make is what the one pass makes."""
    if halves == "one pass":
        pytest.skip("the split itself")
    calls: list[tuple[int | None, int | None]] = []

    def recorded(
        session: Session, programme_id: int, origin: str, run: Run, start: int | None, stop: int | None
    ) -> tuple[object, bool]:
        calls.append((start, stop))
        return screen_range(session, programme_id, origin, run, start, stop)

    with Session(db) as session:
        split, one = Run(0, "", {}), Run(0, "", {})
        assert split_pass(session, 1, "ducha/programme/1", split, recorded) == (None, True)
        assert screen_range(session, 1, "ducha/programme/1", one, None, None) == (None, True)
    assert calls == [(None, verify_split.middle_of(size_of(db)))] == [(None, halved_at(size_of(db)))]
    assert (split.done, split.prev, split.balances, split.rechecked) == (
        one.done,
        one.prev,
        one.balances,
        one.rechecked,
    )
    assert b"".join(split.leaves) == b"".join(one.leaves) and one.done == size_of(db)
    assert split.levels == tree_levels.levels_of(b"".join(one.leaves))  # made by halves, then above


def test_a_stored_level_read_aggregated_is_the_one_read_row_by_row(demo: str, db: Engine) -> None:
    """funds/tree_levels.py reads a level by ranges the database aggregates; row by row (its fallback
    when a node is missing) it is the same bytes, a node removed or not."""
    for removed in (False, True):
        if removed:
            tamper(db, f"DELETE FROM merkle_node WHERE node = {LEVEL} + 5")
        with Session(db) as session:
            size = size_of(db)
            for level in range(0, 9):
                got = tree_levels.stored_level(session, 1, level, size >> level)
                assert got == tree_levels._stored_rows(session, 1, level, size >> level)
                assert len(got) == 32 * ((size >> level) - (removed and level == 1))


@pytest.mark.parametrize("interpreter", ["/nonexistent/python", "/bin/false"])
def test_a_second_process_that_cannot_start_or_dies_leaves_the_one_pass(
    demo: str, db: Engine, halves: str, interpreter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if halves == "one pass":
        pytest.skip("the split itself")
    tamper(db, "UPDATE journal_entry SET amount_fen = amount_fen + 1 WHERE seq = 250")
    monkeypatch.setattr(verify_split.sys, "executable", interpreter)
    code, output = verify(demo)
    assert code == 1 and "entry 250: its amount column says" in output, output
