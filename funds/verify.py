"""Recompute a ledger from its rows: every entry's hash, chain, columns and balances, the Merkle tree,
every stored checkpoint's signature, and the consistency of the log with checkpoints an auditor kept.

It streams entries and their lines in log order as plain driver tuples a batch at a time, through a
screen that checks each entry's hash, chain, columns, lines and balances with its document parsed once
(funds/entry_screen.py); only an entry the screen doubts is checked again the slow way, which names
what is wrong with it (funds/entry_checks.py). A long log's second half is screened at the same time
by another process, and taken only if the first half ends exactly where it began
(funds/verify_split.py). The tree is rebuilt from the entry hashes a whole level at a time and each
stored level compared with it at once (funds/tree_levels.py). Each programme's log stops at its first
bad entry, which the report names.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session

from funds.canonical import instant
from funds.entry_checks import LEAF_PROBLEM, BadEntry, check_entry
from funds.entry_screen import ENTRY_RAW, LINE_RAW, Screen, instant_check, raw_batches, utf8_bytes
from funds.journal import node_fetcher
from funds.merkle import consistency_proof, root_hash, verify_consistency
from funds.note import Checkpoint, NoteError, Verifier, parse_checkpoint, parse_note
from funds.tree_levels import (
    HASH,
    extra_nodes,
    first_bad_leaf,
    first_bad_node,
    leaves_of,
    levels_of,
    root_at,
    stored_level,
)
from funds.verify_split import Run, split_pass
from models import FundingSource, Project
from models.ledger import (
    JournalEntry,
    JournalLine,
    LedgerAccount,
    LedgerCheckpoint,
    LedgerLog,
    MerkleNode,
    Vendor,
)
from models.types import table_of

ENTRY, LINE = table_of(JournalEntry).c, table_of(JournalLine).c
ACCOUNT, CHECKPOINT, LOG = table_of(LedgerAccount).c, table_of(LedgerCheckpoint).c, table_of(LedgerLog).c
FUND, PROJECT, VENDOR = table_of(FundingSource).c, table_of(Project).c, table_of(Vendor).c


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: a programme's log, the entry (by seq) or the checkpoint."""

    origin: str
    seq: int | None
    what: str

    def line(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "log"
        return f"{self.origin}: {where}: {self.what}"


@dataclass
class LogReport:
    programme_id: int
    origin: str
    entries: int = 0
    root: bytes = b""
    checkpoints: int = 0
    latest: str | None = None  # the latest signed checkpoint's note
    rechecked: int = 0  # entries the screen doubted and the slow check cleared
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Kept:
    """A checkpoint an auditor kept (a file): its name and its text."""

    name: str
    note: str


@dataclass
class Report:
    logs: list[LogReport]
    kept: list[str] = field(default_factory=list)  # what each kept checkpoint proved
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(not log.problems for log in self.logs)

    @property
    def entries(self) -> int:
        return sum(log.entries for log in self.logs)

    def all_problems(self) -> list[Problem]:
        return [problem for log in self.logs for problem in log.problems] + self.problems


def _names(session: Session, programme_id: int) -> dict[str, dict[int, Any]]:
    def pairs(query: Any) -> dict[int, Any]:
        return {row[0]: row[1] if len(row) == 2 else tuple(row[1:]) for row in session.execute(query)}

    return {
        "fund": pairs(select(FUND.id, FUND.code).where(FUND.programme_id == programme_id)),
        "project": pairs(select(PROJECT.id, PROJECT.code).where(PROJECT.programme_id == programme_id)),
        "vendor": pairs(select(VENDOR.id, VENDOR.name, VENDOR.small_firm)),
        "account": pairs(
            select(ACCOUNT.id, ACCOUNT.code, ACCOUNT.fund_id).where(ACCOUNT.programme_id == programme_id)
        ),
    }


def _line_rows(programme_id: int) -> Select[Any]:
    return (
        select(*[LINE[name] for name in LINE_RAW])
        .where(LINE.programme_id == programme_id)
        .order_by(LINE.entry_seq, LINE.position)
    )


ENTRY_COLUMNS = (
    "seq", "fund_id", "kind", "op_id", "op_part", "project_id", "vendor_id", "category", "amount_fen",
    "voucher", "invoice", "actor_id", "occurred_at", "recorded_at", "reverses_seq", "settles_seq",
    "payable_seq", "linked_seq", "override", "body", "entry_hash",
)  # fmt: skip


Stored = dict[tuple[int, int], bytes]  # stored tree levels read ahead, by (level, nodes)


def _explain(
    session: Session, report: LogReport, names: dict[str, dict[int, Any]], balances: dict[str, int],
    seq: int, expected: int, prev: str,
) -> Problem | None:  # fmt: skip
    """Check entry ``seq`` the slow way, through the ORM's typed rows: what is wrong with it, if anything."""
    leaf = table_of(MerkleNode).alias("leaf")
    row = session.execute(
        select(*[ENTRY[name] for name in ENTRY_COLUMNS], leaf.c.hash)
        .outerjoin(leaf, (leaf.c.programme_id == ENTRY.programme_id) & (leaf.c.node == ENTRY.seq))
        .where(ENTRY.programme_id == report.programme_id, ENTRY.seq == seq)
    ).one()
    lines = session.execute(
        select(*[LINE[name] for name in LINE_RAW])
        .where(LINE.programme_id == report.programme_id, LINE.entry_seq == seq)
        .order_by(LINE.position)
    ).all()
    try:
        check_entry(row, list(lines), expected, prev, report.origin, names, balances)
    except BadEntry as bad:
        return Problem(report.origin, seq if seq == expected else expected, bad.what)
    return None


def screen_range(
    session: Session, programme_id: int, origin: str, run: Run, start: int | None, stop: int | None
) -> tuple[Problem | None, bool]:
    """Screen the entries with ``start`` ≤ seq < ``stop`` (an end that is None: no bound) and their lines
    in log order, from where ``run`` stands, explaining one by one only those the screen doubts; ``run``
    then stands after them. (The first problem, whether the entries in the range all passed.)"""
    names = _names(session, programme_id)
    dialect = session.connection().dialect.name
    screen = Screen(origin, names, instant_check(dialect))
    screen.balances = run.balances
    columns = [utf8_bytes(ENTRY.body, dialect) if name == "body" else ENTRY[name] for name in ENTRY_RAW]
    query = select(*columns).where(ENTRY.programme_id == programme_id).order_by(ENTRY.seq)
    lines = _line_rows(programme_id)
    if start is not None:
        query, lines = query.where(ENTRY.seq >= start), lines.where(LINE.entry_seq >= start)
    if stop is not None:
        query, lines = query.where(ENTRY.seq < stop), lines.where(LINE.entry_seq < stop)
    entries = raw_batches(session, query)
    line_batches = raw_batches(session, lines)
    groups = groupby(chain.from_iterable(line_batches), key=itemgetter(0))  # each entry's lines
    pending = next(groups, None)
    report = LogReport(programme_id, origin)
    done, prev, problem = run.done, run.prev, None
    try:
        for batch in entries:
            hashes = []
            for row in batch:
                seq, mine = row[0], []
                if pending is not None and pending[0] <= seq:
                    if pending[0] < seq:
                        problem = Problem(origin, pending[0], "a line without its entry")
                        break
                    mine = list(pending[1])
                    pending = next(groups, None)
                if not screen.passes(row, mine, done, prev):
                    problem = _explain(session, report, names, screen.balances, seq, done, prev)
                    if problem is not None:
                        break
                    run.rechecked += 1
                prev = row[2]
                hashes.append(prev)
                done += 1
            run.leaves.append(leaves_of(hashes))
            if problem is not None:
                break
    finally:
        entries.close()
        line_batches.close()
    run.done, run.prev = done, prev
    if problem is None and pending is not None:
        return Problem(origin, pending[0], "a line without its entry"), True
    return problem, problem is None


def _pass_entries(session: Session, report: LogReport, stored: Stored) -> list[bytes] | None:
    """Check every entry in log order, screened in bulk (funds/entry_screen.py) and explained one by one
    only where the screen doubts it; the levels of the tree its entries make, or None at a bad entry.
    A long log's second half is screened at the same time by another process (funds/verify_split.py)."""
    run = Run(0, "", {})

    def prefetch(size: int) -> None:  # the stored tree, read while the other half is screened
        for level in range(size.bit_length()):
            stored[level, size >> level] = stored_level(session, report.programme_id, level, size >> level)

    problem, at_end = split_pass(session, report.programme_id, report.origin, run, screen_range, prefetch)
    report.rechecked += run.rechecked
    done = run.done
    levels = run.levels if run.levels is not None else levels_of(b"".join(run.leaves))
    if _stored(session, report.programme_id, 0, done, stored) != levels[0]:
        bad = first_bad_leaf(session, report.programme_id, levels[0])
        if bad is not None:  # it comes before any other problem: every entry before the stop passed
            problem, at_end = Problem(report.origin, bad, LEAF_PROBLEM), False
    if problem is not None:
        report.problems.append(problem)
    if not at_end:
        return None
    report.entries, report.root = done, root_at(levels, done)
    return levels


def _stored(session: Session, programme_id: int, level: int, size: int, stored: Stored) -> bytes:
    """``stored_level``, read already if it is in ``stored``."""
    found = stored.pop((level, size), None)
    return found if found is not None else stored_level(session, programme_id, level, size)


def _pass_tree(session: Session, report: LogReport, levels: list[bytes], stored: Stored) -> None:
    """Compare every stored level above the leaves with the one the entries make, whole; name the first
    bad node (the slow way, one node at a time) only where a level differs."""
    for level in range(1, len(levels)):
        size = len(levels[level]) // HASH
        if _stored(session, report.programme_id, level, size, stored) != levels[level] or extra_nodes(
            session, report.programme_id, level, size
        ):
            what = first_bad_node(session, report.programme_id, report.entries)
            report.problems.append(
                Problem(report.origin, None, what or f"tree level {level} is not the one its entries make")
            )
            return


def verify_ledger(*, session: Session, verifiers: Sequence[Verifier], kept: Sequence[Kept] = ()) -> Report:
    """Recompute every log of the database; with ``kept`` checkpoints, prove the logs extend them."""
    logs = session.execute(select(LOG.programme_id, LOG.origin).order_by(LOG.programme_id)).all()
    report = Report([LogReport(programme_id, origin) for programme_id, origin in logs])
    keys = list(verifiers)
    if not keys and report.logs:
        report.problems.append(
            Problem("ledger", None, "no public key to check checkpoints against (DUCHA_AUDIT_KEY)")
        )
    wanted: dict[str, list[tuple[Kept, Checkpoint]]] = {}
    for item in kept:
        try:
            note = parse_note(item.note)
            checkpoint = parse_checkpoint(note.text)
        except NoteError as exc:
            report.problems.append(Problem(item.name, None, str(exc)))
            continue
        if keys and not note.signed_by(keys):
            report.problems.append(Problem(item.name, None, "not signed by a known key"))
            continue
        wanted.setdefault(checkpoint.origin, []).append((item, checkpoint))
    for missing in sorted(set(wanted) - {log.origin for log in report.logs}):
        for item, _ in wanted[missing]:
            report.problems.append(Problem(item.name, None, f"no log {missing} in this database"))
    for log in report.logs:
        stored = session.execute(
            select(
                CHECKPOINT.tree_size,
                CHECKPOINT.root_hash,
                CHECKPOINT.signed_at,
                CHECKPOINT.note,
            )
            .where(CHECKPOINT.programme_id == log.programme_id)
            .order_by(CHECKPOINT.tree_size, CHECKPOINT.id)
        ).all()
        sizes = {row[0] for row in stored} | {c.size for _, c in wanted.get(log.origin, [])}
        stored_levels: Stored = {}
        levels = _pass_entries(session, log, stored_levels)
        if log.problems or levels is None:
            continue
        _pass_tree(session, log, levels, stored_levels)
        if log.problems:
            continue
        roots = {size: root_at(levels, size) for size in sizes if size <= log.entries}
        _stored_checkpoints(log, stored, roots, keys)
        for item, checkpoint in wanted.get(log.origin, []):
            report.kept.append(_kept(session, log, item, checkpoint, roots))
    return report


def _stored_checkpoints(
    log: LogReport, stored: Sequence[Any], roots: dict[int, bytes], keys: list[Verifier]
) -> None:
    for size, root, signed_at, note_text in stored:
        try:
            note = parse_note(note_text)
            said = parse_checkpoint(note.text)
        except NoteError as exc:
            log.problems.append(Problem(log.origin, None, f"checkpoint at {size}: {exc}"))
            return
        if keys and not note.signed_by(keys):
            log.problems.append(
                Problem(log.origin, None, f"checkpoint at {size}: its signature does not verify")
            )
            return
        if (said.origin, said.size, said.root) != (log.origin, size, bytes(root)) or _second(
            said.signed_at
        ) != _second(signed_at):
            log.problems.append(
                Problem(log.origin, None, f"checkpoint at {size}: its row differs from its signed note")
            )
            return
        if size > log.entries:
            log.problems.append(
                Problem(
                    log.origin,
                    None,
                    f"checkpoint at {size} covers more entries than the log has ({log.entries}): removed",
                )
            )
            return
        if roots.get(size) != bytes(root):
            log.problems.append(
                Problem(
                    log.origin, None, f"the first {size} entries are not the ones checkpoint at {size} signed"
                )
            )
            return
        log.checkpoints += 1
        log.latest = note_text


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _kept(
    session: Session, log: LogReport, item: Kept, checkpoint: Checkpoint, roots: dict[int, bytes]
) -> str:
    if checkpoint.size > log.entries:
        log.problems.append(
            Problem(
                log.origin, log.entries,
                f"checkpoint {item.name} (signed {instant(checkpoint.signed_at)}) covers {checkpoint.size} "
                f"entries, the log has {log.entries}: entries {log.entries}–{checkpoint.size - 1} were "
                "removed, or an older database was restored",
            )
        )  # fmt: skip
        return f"{item.name}: FAILED"
    if roots.get(checkpoint.size) != checkpoint.root:
        log.problems.append(
            Problem(
                log.origin, None,
                f"the log's first {checkpoint.size} entries are not the ones checkpoint {item.name} signed: "
                "history was rewritten",
            )
        )  # fmt: skip
        return f"{item.name}: FAILED"
    if checkpoint.size == 0:
        return f"{item.name}: an empty log, extended to {log.entries}"
    fetch = node_fetcher(session, log.programme_id)
    proof = consistency_proof(checkpoint.size, log.entries, fetch)
    assert verify_consistency(
        checkpoint.size, log.entries, checkpoint.root, root_hash(log.entries, fetch), proof
    )
    return (
        f"{item.name}: the log of {log.entries} entries extends its {checkpoint.size} "
        f"(consistency proof of {len(proof)} hashes)"
    )


def count_entries(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(JournalEntry)).scalar_one())
