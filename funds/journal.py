"""Append entries to a programme's log: the lock, the balances, the hash chain and the Merkle tree.

``open_log`` locks the programme's log row (``FOR UPDATE`` on PostgreSQL; a SQLite write transaction
holds the database's write lock already) and reads its head once per transaction: the last entry's
seq and hash, the tree's right edge (O(log n) stored nodes) and the last checkpoint's size. Every
append in the transaction then goes through the same ``Log``: the accounts an entry touches are
locked in ascending id order (the log row first, then accounts by id: one order for everyone, so
two payments at once cannot deadlock), their balances read once, and the entry, its lines and the
tree nodes it completes are written with one executemany each (``flush``).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from funds.canonical import SAFE_INTEGER, VERSION, digest, encode_in_order, instant
from funds.merkle import CompactRange, Node, leaf_hash, node_key
from funds.note import Checkpoint, Signer, sign
from models.bulk import insert_many
from models.ledger import JournalEntry, JournalLine, LedgerAccount, LedgerCheckpoint, LedgerLog, MerkleNode
from models.types import table_of

# A checkpoint is signed in the appending transaction once this many entries are unsigned.
CHECKPOINT_EVERY = 64
_LOGS = "ducha.ledger.logs"
LedgerCheckpointRow = dict[str, Any]
NODE = table_of(MerkleNode)


@dataclass(frozen=True)
class Account:
    id: int
    code: str
    fund_id: int


@dataclass(frozen=True)
class Who:
    id: int
    name: str

    def plain(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class Draft:
    """An entry before it has a place in the log: what happened, and its postings (account, fen)."""

    kind: str
    fund_id: int
    fund_code: str
    op_id: str
    amount_fen: int
    postings: list[tuple[Account, int]]
    occurred_at: datetime
    recorded_at: datetime
    actor: Who | None
    op_part: int = 0
    project_id: int | None = None
    project_code: str | None = None
    vendor_id: int | None = None
    vendor: dict[str, Any] | None = None
    category: str | None = None
    voucher: str | None = None
    invoice: str | None = None
    memo: str | None = None
    documents: list[dict[str, str]] = field(default_factory=list)
    reverses: int | None = None
    settles: int | None = None
    payable: int | None = None
    linked: int | None = None
    approval: dict[str, Any] | None = None
    override: dict[str, Any] | None = None


@dataclass(frozen=True)
class Appended:
    seq: int
    entry_hash: str
    document: dict[str, Any]


def document_of(draft: Draft, *, origin: str, seq: int, prev: str, balances: list[int]) -> dict[str, Any]:
    """The canonical document of ``draft`` at ``seq`` (funds/canonical.py says what each key means)."""
    occurred = instant(draft.occurred_at)
    refs = draft.reverses, draft.settles, draft.payable, draft.linked
    # Keys in sorted order at every level: the canonical text is then written without sorting
    # (``encode_in_order``); tests/unit/test_canonical.py keeps this equal to ``encode``.
    return {
        "actor": draft.actor.plain() if draft.actor else None,
        "amount": draft.amount_fen,
        "approval": draft.approval,
        "category": draft.category,
        "documents": draft.documents,
        "fund": draft.fund_code,
        "invoice": draft.invoice,
        "kind": draft.kind,
        "lines": [
            {"account": account.code, "amount": amount, "balance": balance}
            for (account, amount), balance in zip(draft.postings, balances, strict=True)
        ],
        "log": origin,
        "memo": draft.memo,
        "occurred_at": occurred,
        "op": draft.op_id,
        "override": draft.override,
        "part": draft.op_part,
        "prev": prev,
        "project": draft.project_code,
        "recorded_at": occurred if draft.recorded_at == draft.occurred_at else instant(draft.recorded_at),
        "refs": {"linked": refs[3], "payable": refs[2], "reverses": refs[0], "settles": refs[1]},
        "seq": seq,
        "v": VERSION,
        "vendor": draft.vendor,
        "voucher": draft.voucher,
    }


def node_fetcher(session: Session, programme_id: int) -> Callable[[set[Node]], Mapping[Node, bytes]]:
    """Read stored subtree hashes of a programme's tree: one query for the O(log n) a proof needs."""

    def fetch(keys: set[Node]) -> Mapping[Node, bytes]:
        if not keys:
            return {}
        wanted = {node_key(level, idx): (level, idx) for level, idx in keys}
        rows = session.execute(
            select(NODE.c.node, NODE.c.hash).where(
                NODE.c.programme_id == programme_id, NODE.c.node.in_(sorted(wanted))
            )
        ).all()
        found = {wanted[node]: bytes(value) for node, value in rows}
        missing = keys - found.keys()
        if missing:
            raise LookupError(f"programme {programme_id}: tree nodes missing: {sorted(missing)[:3]}")
        return found

    return fetch


class Log:
    """One programme's log inside one transaction, its lock held: appends take turns here."""

    def __init__(self, session: Session, programme_id: int, origin: str, signers: list[Signer]) -> None:
        self.session = session
        self.programme_id = programme_id
        self.origin = origin
        self.signers = signers
        head = session.execute(
            select(JournalEntry.seq, JournalEntry.entry_hash)
            .where(col(JournalEntry.programme_id) == programme_id)
            .order_by(col(JournalEntry.seq).desc())
            .limit(1)
        ).first()
        self.size = 0 if head is None else head[0] + 1
        self.head = "" if head is None else head[1]
        self.tree = CompactRange.at(self.size, node_fetcher(session, programme_id))
        signed = session.execute(
            select(LedgerCheckpoint.tree_size)
            .where(col(LedgerCheckpoint.programme_id) == programme_id)
            .order_by(col(LedgerCheckpoint.tree_size).desc())
            .limit(1)
        ).scalar()
        self.signed_size = int(signed or 0)
        self.balances: dict[int, int] = {}
        self.accounts: dict[str, Account] = {}
        self.bulk = False
        self._entries: list[dict[str, Any]] = []
        self._lines: list[dict[str, Any]] = []
        self._nodes: list[dict[str, Any]] = []
        self._checkpoints: list[dict[str, Any]] = []

    def lock(self, account_ids: Iterable[int]) -> dict[int, int]:
        """Lock the accounts (ascending id) and return their balances, read once per transaction."""
        ids = list(account_ids)
        balances = self.balances
        if all(account_id in balances for account_id in ids):
            return {account_id: balances[account_id] for account_id in ids}
        wanted = sorted(set(ids) - balances.keys())
        if wanted:
            self.session.execute(
                select(LedgerAccount.id)
                .where(col(LedgerAccount.id).in_(wanted))
                .order_by(col(LedgerAccount.id))
                .with_for_update()
            ).all()
            for account_id in wanted:
                found = self.session.execute(
                    select(JournalLine.balance_fen)
                    .where(col(JournalLine.account_id) == account_id)
                    .order_by(col(JournalLine.entry_seq).desc())
                    .limit(1)
                ).scalar()
                self.balances[account_id] = int(found or 0)
        return {account_id: self.balances[account_id] for account_id in ids}

    def append(self, draft: Draft) -> Appended:
        """Give ``draft`` the next place in the log: balances, document, hash, tree nodes."""
        if sum(amount for _, amount in draft.postings) != 0:
            raise ValueError(f"{draft.kind} {draft.op_id}: lines do not balance")
        if any(account.fund_id != draft.fund_id for account, _ in draft.postings):
            raise ValueError(f"{draft.kind} {draft.op_id}: a line outside fund {draft.fund_code}")
        self.lock(account.id for account, _ in draft.postings)
        balances = []
        for account, amount in draft.postings:
            self.balances[account.id] += amount
            balances.append(self.balances[account.id])
        seq = self.size
        for amount in (draft.amount_fen, *balances):
            if abs(amount) > SAFE_INTEGER:  # the only numbers beside seq: RFC 8785 keeps them exact
                raise ValueError(f"{draft.kind} {draft.op_id}: {amount} fen is beyond ±(2^53 − 1)")
        document = document_of(draft, origin=self.origin, seq=seq, prev=self.head, balances=balances)
        body = encode_in_order(document)
        entry_hash = digest(body)
        self._entries.append(
            {
                "programme_id": self.programme_id,
                "seq": seq,
                "fund_id": draft.fund_id,
                "kind": draft.kind,
                "op_id": draft.op_id,
                "op_part": draft.op_part,
                "project_id": draft.project_id,
                "vendor_id": draft.vendor_id,
                "category": draft.category,
                "amount_fen": draft.amount_fen,
                "voucher": draft.voucher,
                "invoice": draft.invoice,
                "actor_id": draft.actor.id if draft.actor else None,
                "occurred_at": draft.occurred_at,
                "recorded_at": draft.recorded_at,
                "reverses_seq": draft.reverses,
                "settles_seq": draft.settles,
                "payable_seq": draft.payable,
                "linked_seq": draft.linked,
                "override": draft.override is not None,
                "body": body,
                "entry_hash": entry_hash,
            }
        )
        for position, ((account, amount), balance) in enumerate(zip(draft.postings, balances, strict=True)):
            self._lines.append(
                {
                    "programme_id": self.programme_id,
                    "entry_seq": seq,
                    "position": position,
                    "account_id": account.id,
                    "amount_fen": amount,
                    "balance_fen": balance,
                }
            )
        for level, idx, value in self.tree.append(leaf_hash(bytes.fromhex(entry_hash))):
            self._nodes.append(
                {"programme_id": self.programme_id, "node": node_key(level, idx), "hash": value}
            )
        self.size, self.head = seq + 1, entry_hash
        if self.signers and self.size - self.signed_size >= CHECKPOINT_EVERY:
            self.checkpoint(draft.recorded_at, "entries")
        if not self.bulk:
            self.flush()
        return Appended(seq, entry_hash, document)

    def checkpoint(self, now: datetime, reason: str) -> LedgerCheckpointRow:
        """Sign the tree as it stands (written with the next flush)."""
        root = self.tree.root()
        note = sign(Checkpoint(self.origin, self.size, root, now), self.signers)
        row: LedgerCheckpointRow = {
            "programme_id": self.programme_id,
            "tree_size": self.size,
            "root_hash": root,
            "signed_at": now,
            "reason": reason,
            "note": note,
        }
        self._checkpoints.append(row)
        self.signed_size = self.size
        return row

    def flush(self) -> None:
        """Write what was appended since the last flush: entries, lines, nodes, checkpoints."""
        for model, rows in (
            (JournalEntry, self._entries),
            (JournalLine, self._lines),
            (MerkleNode, self._nodes),
            (LedgerCheckpoint, self._checkpoints),
        ):
            if rows:
                insert_many(self.session, table_of(model), rows)
                rows.clear()


def origin_of(programme_id: int) -> str:
    return f"ducha/programme/{programme_id}"


def open_log(
    *, session: Session, programme_id: int, now: datetime, signers: list[Signer] | None = None
) -> Log:
    """The programme's log for this transaction, its row locked (made on the first entry)."""
    logs = _logs(session)
    log = logs.get(programme_id)
    if log is not None:
        if signers and not log.signers:
            log.signers = signers
        return log
    if session.get(LedgerLog, programme_id) is None:
        _create_log(session, programme_id, now)
    origin = session.execute(
        select(LedgerLog.origin).where(col(LedgerLog.programme_id) == programme_id).with_for_update()
    ).scalar_one()
    log = Log(session, programme_id, origin, list(signers or []))
    logs[programme_id] = log
    return log


def _logs(session: Session) -> dict[int, Log]:
    """The logs opened in the session's current transaction: a new transaction starts with none (what
    a rolled-back one cached, accounts it made, balances it read, is gone with it)."""
    current = session.get_transaction()
    held = session.info.get(_LOGS)
    if held is None or held[0] is not current:
        held = (current, {})
        session.info[_LOGS] = held
    logs: dict[int, Log] = held[1]
    return logs


def _create_log(session: Session, programme_id: int, now: datetime) -> None:
    table = table_of(LedgerLog)
    values = {"programme_id": programme_id, "origin": origin_of(programme_id), "created_at": now}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(table).values(values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(table).values(values).on_conflict_do_nothing())


def pending_flush(session: Session) -> None:
    """Write every log's buffered rows (bulk appends) before the transaction reads or commits."""
    for log in _logs(session).values():
        log.flush()
