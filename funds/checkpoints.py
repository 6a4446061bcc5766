"""Signed checkpoints of every programme's log, and the proofs an auditor checks against them.

The appending transaction signs one once 64 entries are unsigned (funds/journal.py); the scheduler
signs one within ten minutes of any new entry (``reason="interval"``, only logs that grew) and one
for every log at the end of each day (``reason="daily"``, grown or not: it shows the log was there,
as it was, that day).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from funds.journal import node_fetcher, open_log
from funds.merkle import consistency_proof, inclusion_proof, root_hash
from funds.note import Signer
from models.errors import BadInput, NotFound
from models.ledger import LedgerCheckpoint, LedgerLog
from models.types import table_of

REASONS = ("entries", "interval", "daily", "export", "manual")


@dataclass(frozen=True)
class Signed:
    origin: str
    size: int
    note: str


def sign_checkpoints(
    *, session: Session, now: datetime, signers: list[Signer], reason: str, programme_id: int | None = None
) -> list[Signed]:
    """Sign a checkpoint of each log (one programme's, or all); only grown logs unless ``daily``."""
    assert reason in REASONS
    if not signers:
        raise BadInput("no signing key: make one with `ducha audit keygen` (DUCHA_AUDIT_KEY says where)")
    logs = table_of(LedgerLog).c
    query = select(logs.programme_id).order_by(logs.programme_id)
    if programme_id is not None:
        query = query.where(logs.programme_id == programme_id)
    out = []
    for (found,) in session.execute(query).all():
        log = open_log(session=session, programme_id=found, now=now, signers=signers)
        if log.size == 0 or (log.size == log.signed_size and reason != "daily"):
            continue
        row = log.checkpoint(now, reason)
        log.flush()
        out.append(Signed(log.origin, log.size, row["note"]))
    return out


def latest_checkpoint(session: Session, programme_id: int) -> LedgerCheckpoint | None:
    return session.scalars(
        select(LedgerCheckpoint)
        .where(col(LedgerCheckpoint.programme_id) == programme_id)
        .order_by(col(LedgerCheckpoint.tree_size).desc(), col(LedgerCheckpoint.id).desc())
        .limit(1)
    ).first()


def log_by_origin(session: Session, origin: str) -> LedgerLog:
    found = session.scalars(select(LedgerLog).where(col(LedgerLog.origin) == origin)).first()
    if found is None:
        raise NotFound(f"no log {origin!r} in this database")
    return found


def prove_inclusion(session: Session, programme_id: int, seq: int, size: int) -> list[bytes]:
    return inclusion_proof(seq, size, node_fetcher(session, programme_id))


def prove_consistency(session: Session, programme_id: int, old: int, new: int) -> list[bytes]:
    return consistency_proof(old, new, node_fetcher(session, programme_id))


def tree_root(session: Session, programme_id: int, size: int) -> bytes:
    return root_hash(size, node_fetcher(session, programme_id))
