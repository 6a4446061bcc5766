"""The Merkle tree of a log rebuilt from its entry hashes one whole level at a time, and the stored tree
compared with it a level at a time: each level is one byte string of 32-byte hashes, hashed with
C-level ``map`` calls and compared in one ``==``, so no node becomes a Python object of its own.

Only when a level differs does funds/verify.py look for the first node that does, to name it.
"""

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from operator import itemgetter, methodcaller
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from funds.entry_screen import raw_batches
from funds.merkle import EMPTY_ROOT, LEVEL, node_hash, pieces
from models.ledger import MerkleNode
from models.types import table_of

NODE = table_of(MerkleNode).c
HASH = 32
_digest = methodcaller("digest")
_first = itemgetter(0)


def leaves_of(entry_hashes: Iterable[str]) -> bytes:
    """The leaf hashes (RFC 9162: SHA-256(0x00 ‖ entry hash)) of hex entry hashes, end to end."""
    return b"".join(map(_digest, map(hashlib.sha256, map(b"\x00".__add__, map(bytes.fromhex, entry_hashes)))))


def levels_of(leaves: bytes) -> list[bytes]:
    """Every level of the tree's complete subtrees, from the leaves up: level k holds n >> k hashes."""
    levels = [leaves]
    while len(level := levels[-1]) >= 2 * HASH:
        pairs = [level[at : at + 2 * HASH] for at in range(0, len(level) - 2 * HASH + 1, 2 * HASH)]
        levels.append(b"".join(map(_digest, map(hashlib.sha256, map(b"\x01".__add__, pairs)))))
    return levels


def root_at(levels: list[bytes], size: int) -> bytes:
    """The root of the first ``size`` leaves, from the complete subtrees that make it up."""
    if size == 0:
        return EMPTY_ROOT
    parts = [levels[level][idx * HASH : (idx + 1) * HASH] for level, idx in pieces(0, size)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def stored_level(session: Session, programme_id: int, level: int, size: int) -> bytes:
    """The stored hashes of nodes 0 … size − 1 of ``level`` (those there are), end to end, in order:
    aggregated by the database a range of nodes at a time, not a Python row per node."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None
    base = level * LEVEL
    parts = []
    for low in range(0, size, NODES):
        high = min(low + NODES, size)
        bounds = {"programme": programme_id, "low": base + low, "high": base + high}
        if connection.dialect.name == "postgresql":
            with driver.cursor() as cursor:
                cursor.execute(_AGGREGATED_PG, bounds)
                row = cursor.fetchone()
            parts.append(bytes(row[0] or b"") if row is not None else b"")
            continue
        nodes, blobs, hashes = driver.execute(_AGGREGATED_SQLITE, bounds).fetchone()
        # The nodes' list proves the order the hashes came in (SQLite 3.40 has no ORDER BY inside an
        # aggregate); a level with a node missing, or not a blob, is read row by row as it is.
        if nodes != ",".join(map(str, range(base + low, base + high))) or blobs != high - low:
            return _stored_rows(session, programme_id, level, size)
        parts.append(bytes.fromhex(hashes))
    return b"".join(parts)


NODES = 100_000
_AGGREGATED_SQLITE = """SELECT group_concat(node), sum(typeof(hash) = 'blob'), group_concat(hex(hash), '')
FROM merkle_node WHERE programme_id = :programme AND node >= :low AND node < :high"""
_AGGREGATED_PG = """SELECT string_agg(hash, ''::bytea ORDER BY node) FROM merkle_node
WHERE programme_id = %(programme)s AND node >= %(low)s AND node < %(high)s"""


def _stored_rows(session: Session, programme_id: int, level: int, size: int) -> bytes:
    """``stored_level`` one row at a time."""
    query = (
        select(NODE.hash)
        .where(
            NODE.programme_id == programme_id,
            NODE.node >= level * LEVEL,
            NODE.node < level * LEVEL + size,
        )
        .order_by(NODE.node)
    )
    return b"".join(map(_first, chain.from_iterable(raw_batches(session, query))))


def extra_nodes(session: Session, programme_id: int, level: int, size: int) -> int:
    """How many nodes the level stores beyond the ``size`` the log makes."""
    query = select(func.count()).where(
        NODE.programme_id == programme_id,
        NODE.node >= level * LEVEL + size,
        NODE.node < (level + 1) * LEVEL,
    )
    return int(session.execute(query).scalar_one())


def first_bad_leaf(session: Session, programme_id: int, leaves: bytes) -> int | None:
    """The first entry whose stored leaf is missing or is not ``leaves`` says it should be."""
    size = len(leaves) // HASH
    query = (
        select(NODE.node, NODE.hash)
        .where(NODE.programme_id == programme_id, NODE.node >= 0, NODE.node < size)
        .order_by(NODE.node)
    )
    expected = 0
    batches = raw_batches(session, query)
    try:
        for node, value in chain.from_iterable(batches):
            if node != expected or bytes(value) != leaves[expected * HASH : (expected + 1) * HASH]:
                return expected
            expected += 1
    finally:
        batches.close()
    return expected if expected < size else None


def first_bad_node(session: Session, programme_id: int, entries: int) -> str | None:
    """What is wrong with the first stored interior node that is not the hash of the two below it,
    checked one node at a time, one level at a time (what the whole-level compare does not say)."""
    below, level = entries, 1
    while below > 1:
        made = 0
        with (
            _level_rows(session, programme_id, level - 1) as children,
            _level_rows(session, programme_id, level) as parents,
        ):
            for idx, value in parents:
                left, right = next(children, None), next(children, None)
                if left is None or right is None or (left[0], right[0]) != (2 * idx, 2 * idx + 1):
                    return f"tree node ({level}, {idx}) has no children"
                if node_hash(bytes(left[1]), bytes(right[1])) != bytes(value):
                    return f"tree node ({level}, {idx}) differs from its children: changed"
                made += 1
        if made != below // 2:
            return f"tree level {level} has {made} nodes, not {below // 2}"
        below, level = made, level + 1
    return None


@contextmanager
def _level_rows(session: Session, programme_id: int, level: int) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The stored nodes of ``level`` as (index, hash), in order."""
    query = (
        select(NODE.node - level * LEVEL, NODE.hash)
        .where(NODE.programme_id == programme_id, NODE.node >= level * LEVEL, NODE.node < (level + 1) * LEVEL)
        .order_by(NODE.node)
    )
    batches = raw_batches(session, query)
    try:
        yield chain.from_iterable(batches)
    finally:
        batches.close()
