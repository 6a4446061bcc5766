"""The ledger's append and ``audit verify`` against their floors, and an inclusion proof at 1,000,000
entries against one at 1,000, in one run.

    .venv/bin/python bench/ledger_bench.py                        # SQLite, 1,000,000 entries
    .venv/bin/python bench/ledger_bench.py --entries 100000 --backends sqlite,postgresql

*Append*: entries of a programme with 1,000 projects (allocate, disburse, spend in turn, two lines
each) go through ``funds.journal.Log.append``, the one path every operation takes: balances, the
canonical document, its hash chained to the one before, the Merkle nodes it completes, a signed
checkpoint every 64 entries, and one executemany per table every 20,000 entries. The *floor* is the
same rows (entries, lines, nodes, checkpoints, read back from the product's database) inserted by
the driver's executemany into a fresh database of the same schema, triggers and indexes, in the same
batches: the least any ledger could pay to store them. Target: append ≤ 2× floor.

*Verify*: ``funds.verify.verify_ledger`` on that database (every entry's hash, chain, columns, lines
and balances, every stored tree node, every checkpoint's signature). The floor is a bare hashlib loop
over the same bytes: every entry's stored document streamed from the database in log order and
SHA-256'd. Target: verify ≤ 1.5× floor.

*Bound*: what any verify of this data pays before it checks anything, in one process: the rows
``audit verify`` must check read through the driver as it reads them (every entry's columns and document,
every line), each document SHA-256'd and parsed, and the tree's levels made from the entry hashes; no
comparison, no balance, no signature. Reported against the same floor, it says how close a check written
in Python can come: with the log split between the machine's cores, verify cannot beat about
bound / cores (plus the other process's start-up and the checkpoints' signatures).

*Proof*: ``funds.checkpoints.prove_inclusion`` for 500 random leaves in the tree of all the entries
and for 500 in the tree of the first 1,000 (the same database), medians. Target: ≤ 2×.

PostgreSQL comes from DUCHA_BENCH_POSTGRES_URL (default the local test server); the benchmark makes
and drops only the databases it names ``<prefix>_ledger_*``, the prefix ``ducha_bench`` unless
DUCHA_BENCH_DB_PREFIX says otherwise. SQLite files go to bench/.cache/.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path

import orjson
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from ducha.db import make_engine, upgrade_to_head, writer
from funds.accounts import Kind, account
from funds.checkpoints import prove_inclusion
from funds.entry_screen import ENTRY_RAW, LINE_RAW, raw_batches, utf8_bytes
from funds.journal import Draft, Who, open_log
from funds.note import Signer
from funds.tree_levels import leaves_of, levels_of
from funds.verify import verify_ledger
from models import FundingSource, Project
from models.bulk import insert_many
from models.ledger import JournalEntry, JournalLine, LedgerAccount, LedgerCheckpoint, LedgerLog, MerkleNode
from models.types import table_of
from workflows.built_ins import load_builtins
from workflows.people import ensure_person
from workflows.programmes import FundingSourceSpec, create_programme
from workflows.projects import create_project

HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get("DUCHA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DB_PREFIX = os.environ.get("DUCHA_BENCH_DB_PREFIX", "ducha_bench")
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
PROJECTS = 1000
BATCH = 20_000
TABLES = (JournalEntry, JournalLine, MerkleNode, LedgerCheckpoint)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Backend:
    def __init__(self, name: str) -> None:
        self.name, self.made = name, []  # type: tuple[str, list[str]]
        self.admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT") if name == "postgresql" else None

    def fresh(self, label: str) -> str:
        if self.admin is None:
            path = HERE / ".cache" / f"ledger_{label}.db"
            path.parent.mkdir(exist_ok=True)
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        database = f"{DB_PREFIX}_ledger_{os.getpid()}_{label}"
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        self.made.append(database)
        return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as connection:
                for database in self.made:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            self.admin.dispose()
        for path in (HERE / ".cache").glob("ledger_*.db*"):
            path.unlink(missing_ok=True)


def prepare(url: str) -> tuple[int, int]:
    """A migrated database with a programme of ``PROJECTS`` projects; (programme id, office person id)."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        load_builtins(session=session, now=T0)
        programme = create_programme(
            session=session, name="账本基准", district="基准区", definition_key="village-venue",
            sources=[FundingSourceSpec("upper", "上级资金", 10**15), FundingSourceSpec("district", "区级资金", 10**15)],
            milestones={}, earmark="建设和办公用品配置", now=T0,
        )  # fmt: skip
        office = ensure_person(session=session, name="督查主任", phone="13900000001", email=None)
        for n in range(PROJECTS):
            person = ensure_person(session=session, name=f"专干{n}", phone=f"138{n:08d}", email=None)
            create_project(
                session=session, programme=programme, town=f"镇{n // 100}", village=f"村{n}", leader=office,
                specialist=person, budget_fen={"upper": 10**9}, planned_start=date(2026, 12, 1),
                planned_finish=date(2027, 6, 1), now=T0, created_by="bench",
            )  # fmt: skip
        session.commit()
        assert programme.id is not None and office.id is not None
        ids = programme.id, office.id
    engine.dispose()
    return ids


def append(url: str, programme_id: int, office_id: int, entries: int, signer: Signer) -> float:
    """Append ``entries`` through the product's log; the seconds it took (account set-up excluded)."""
    engine = writer(make_engine(url))
    with Session(engine, expire_on_commit=False) as session:
        fund = session.query(FundingSource).filter_by(programme_id=programme_id, code="upper").one()
        projects = session.query(Project).filter_by(programme_id=programme_id).order_by(Project.id).all()
        log_ = open_log(session=session, programme_id=programme_id, now=T0, signers=[signer])
        log_.bulk = True
        pool = account(log_, fund, Kind.POOL)
        plans = []
        for project in projects:
            alloc, bank = (
                account(log_, fund, Kind.ALLOCATION, project),
                account(log_, fund, Kind.BANK, project),
            )
            spent = account(log_, fund, Kind.EXPENSE, project, category="construction")
            plans.append(((project.id, project.code), [(alloc, pool), (bank, alloc), (spent, bank)]))
        log_.flush()
        session.commit()
        fund_id = fund.id
    actor = Who(office_id, "督查主任")
    kinds = ("allocate", "disburse", "spend")
    started = time.perf_counter()
    with Session(engine) as session:
        log_ = open_log(session=session, programme_id=programme_id, now=T0, signers=[signer])
        log_.bulk = True
        for n in range(entries):
            project, moves = plans[(n // 3) % PROJECTS]
            debit, credit = moves[n % 3]
            amount = 1000 + n % 997
            moment = T0 + timedelta(seconds=n)
            log_.append(
                Draft(
                    kind=kinds[n % 3], fund_id=fund_id, fund_code="upper", op_id=f"bench-{n}", amount_fen=amount,
                    postings=[(debit, amount), (credit, -amount)], occurred_at=moment, recorded_at=moment,
                    actor=actor, project_id=project[0], project_code=project[1],
                    category="construction" if n % 3 == 2 else None, voucher=f"V{n}" if n % 3 == 2 else None,
                )
            )  # fmt: skip
            if (n + 1) % BATCH == 0:
                log_.flush()
                log(f"  appended {n + 1:,}")
        log_.flush()
        session.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def floor_insert(source_url: str, target_url: str) -> float:
    """Insert the product's rows again into a fresh database by executemany; the seconds of the inserts."""
    source, target = make_engine(source_url), writer(make_engine(target_url))
    spent = 0.0
    with Session(source) as reading, Session(target) as writing:
        for model in (LedgerLog, LedgerAccount, *TABLES):  # the log and its accounts first, untimed
            table = table_of(model)
            # The product writes checkpoints without their id (the database numbers them): so does the floor.
            columns = [c for c in table.columns if not (model is LedgerCheckpoint and c.name == "id")]
            names = [c.name for c in columns]
            # Read through the table's types, so that the rows are what the product hands executemany.
            query = select(*columns).execution_options(yield_per=BATCH)
            for partition in reading.execute(query).partitions(BATCH):
                rows = [dict(zip(names, row, strict=True)) for row in partition]
                began = time.perf_counter()
                insert_many(writing, table, rows)
                if model in TABLES:
                    spent += time.perf_counter() - began
        began = time.perf_counter()
        writing.commit()
        spent += time.perf_counter() - began
    source.dispose()
    target.dispose()
    return spent


def verify(url: str, signer: Signer) -> tuple[float, float]:
    """(verify_ledger seconds, bare hashlib loop seconds) on the same database."""
    engine = make_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        report = verify_ledger(session=session, verifiers=[signer.verifier()])
        product = time.perf_counter() - started
        assert report.ok, [p.line() for p in report.all_problems()][:3]
    with Session(engine) as session:
        started = time.perf_counter()
        query = text("SELECT body FROM journal_entry ORDER BY programme_id, seq").execution_options(
            yield_per=BATCH
        )
        count = 0
        for (body,) in session.execute(query):
            hashlib.sha256(body.encode()).digest()
            count += 1
        floor = time.perf_counter() - started
    engine.dispose()
    assert count == report.entries
    return product, floor


def bound(url: str) -> float:
    """Seconds to read, hash and parse what verify checks, and to make the tree, with no check at all."""
    engine = make_engine(url)
    with Session(engine) as session:
        programme_id = session.execute(select(LedgerLog.programme_id)).scalars().first()
        dialect = session.connection().dialect.name
        entry, line = table_of(JournalEntry).c, table_of(JournalLine).c
        columns = [utf8_bytes(entry.body, dialect) if name == "body" else entry[name] for name in ENTRY_RAW]
        entries = select(*columns).where(entry.programme_id == programme_id).order_by(entry.seq)
        lines = (
            select(*[line[name] for name in LINE_RAW])
            .where(line.programme_id == programme_id)
            .order_by(line.entry_seq, line.position)
        )
        started = time.perf_counter()
        groups = groupby(chain.from_iterable(raw_batches(session, lines)), key=itemgetter(0))
        sha256, leaves = hashlib.sha256, []
        for batch in raw_batches(session, entries):
            for row in batch:
                list(next(groups)[1])  # its lines, as verify pairs them
                sha256(row[1]).hexdigest()
                orjson.loads(row[1])
            leaves.append(leaves_of(row[2] for row in batch))
        levels_of(b"".join(leaves))
        seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def proofs(url: str, programme_id: int, entries: int) -> tuple[float, float]:
    """Median seconds of an inclusion proof in the whole tree and in the tree of the first 1,000."""
    engine = make_engine(url)
    rng = random.Random(9162)
    times: dict[int, list[float]] = {entries: [], 1000: []}
    with Session(engine) as session:
        for _ in range(500):
            for size in (entries, 1000):
                seq = rng.randrange(size)
                started = time.perf_counter()
                prove_inclusion(session, programme_id, seq, size)
                times[size].append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times[entries]), statistics.median(times[1000])


def run(backend_name: str, entries: int) -> dict[str, float]:
    backend = Backend(backend_name)
    try:
        signer = Signer.generate("bench-office")
        product_url, floor_url = backend.fresh("product"), backend.fresh("floor")
        programme_id, office_id = prepare(product_url)
        prepare(floor_url)  # the same schema and programme; its ledger tables stay empty for the floor
        log(f"{backend_name}: appending {entries:,} entries …")
        appended = append(product_url, programme_id, office_id, entries, signer)
        log(f"{backend_name}: the floor: the same rows by executemany …")
        floor = floor_insert(product_url, floor_url)
        log(f"{backend_name}: verify …")
        verified, hashed = verify(product_url, signer)
        log(f"{backend_name}: the bound (read, hash, parse and tree, no checks) …")
        bounded = bound(product_url)
        log(f"{backend_name}: proofs …")
        big, small = proofs(product_url, programme_id, entries)
        return {"append": appended, "floor": floor, "verify": verified, "hash": hashed, "bound": bounded, "proof_big": big,
                "proof_small": small}  # fmt: skip
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--out", type=Path, default=None, help="Append the table to this file.")
    args = parser.parse_args()
    lines = [
        f"entries: {args.entries:,}; {PROJECTS:,} projects; batches of {BATCH:,}; a checkpoint every 64 entries",
        "",
        "| backend | append s | floor s | append/floor | verify s | hashlib s | verify/hashlib | bound/hashlib | proof at "
        f"{args.entries:,} ms | proof at 1,000 ms | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for name in args.backends.split(","):
        r = run(name, args.entries)
        a, v, p = r["append"] / r["floor"], r["verify"] / r["hash"], r["proof_big"] / r["proof_small"]
        lines.append(
            f"| {name} | {r['append']:.1f} | {r['floor']:.1f} | {a:.2f}× | {r['verify']:.1f} | {r['hash']:.2f} | "
            f"{v:.2f}× | {r['bound'] / r['hash']:.2f}× | {r['proof_big'] * 1000:.3f} | {r['proof_small'] * 1000:.3f} | {p:.2f}× |"
        )
        verdicts += [
            f"{name}: append ≤ 2× floor: {'PASS' if a <= 2 else 'FAIL'} ({a:.2f}×)",
            f"{name}: verify ≤ 1.5× hashlib: {'PASS' if v <= 1.5 else 'FAIL'} ({v:.2f}×)",
            f"{name}: proof at {args.entries:,} ≤ 2× at 1,000: {'PASS' if p <= 2 else 'FAIL'} ({p:.2f}×)",
        ]
    report = "\n".join(lines + [""] + verdicts) + "\n"
    print(report)
    if args.out:
        with args.out.open("a", encoding="utf-8") as out:
            out.write(report)


if __name__ == "__main__":
    main()
