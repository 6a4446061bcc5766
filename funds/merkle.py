"""The RFC 9162 (Certificate Transparency 2.0) Merkle tree: hashes, proofs and their verification.

Leaf hash ``SHA-256(0x00 ‖ leaf)``, interior node ``SHA-256(0x01 ‖ left ‖ right)``; the tree over n
leaves splits at the largest power of two below n (section 2.1.1). A complete subtree, leaves
``idx·2^level … (idx+1)·2^level − 1``, is named by ``(level, idx)``: every range a proof needs is
made of such subtrees, which the ledger stores (``merkle_node``), so a proof reads O(log n) of them.
Generation follows section 2.1.3.1 / 2.1.4.1, verification 2.1.3.2 / 2.1.4.2, word for word.
"""

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Node = tuple[int, int]  # (level, idx)
LEVEL = 1 << 40  # a stored node's key is level·2^40 + idx: a tree of up to 2^40 leaves


def node_key(level: int, idx: int) -> int:
    return level * LEVEL + idx


Fetch = Callable[[set[Node]], Mapping[Node, bytes]]


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of a leaf: SHA-256(0x00 ‖ leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def pieces(start: int, end: int) -> list[Node]:
    """The complete subtrees that make up leaves ``start … end − 1`` of an RFC 9162 range, largest first.

    ``start`` is a multiple of the largest piece, as it is for every range the tree's recursion makes.
    """
    out: list[Node] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1 if size & (size - 1) == 0 else split(size).bit_length() - 1
        out.append((level, start >> level))
        start += 1 << level
    return out


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from its complete subtrees (a right fold: each split is left ‖ the rest)."""
    parts = [nodes[key] for key in pieces(start, end)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the inclusion proof of leaf ``index`` in a tree of ``size``,
    in the proof's order (PATH of RFC 9162 section 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    out: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = split(end - start)
        if m < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m = start + k, m - k
    return list(reversed(out))


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges of the consistency proof from a tree of ``old`` to one of ``new`` leaves
    (PROOF / SUBPROOF of RFC 9162 section 2.1.4.1), in the proof's order."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new} leaves")
    out: list[tuple[int, int]] = []
    start, end, m, whole = 0, new, old, True
    while m != end - start:
        k = split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        out.append((start, end))
    return list(reversed(out))


def needed(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {key for start, end in ranges for key in pieces(start, end)}


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    ranges = inclusion_ranges(index, size)
    nodes = fetch(needed(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]


def consistency_proof(old: int, new: int, fetch: Fetch) -> list[bytes]:
    ranges = consistency_ranges(old, new)
    nodes = fetch(needed(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]


def root_hash(size: int, fetch: Fetch) -> bytes:
    """The root of the first ``size`` leaves (the empty tree's is SHA-256 of nothing)."""
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, fetch(set(pieces(0, size))))


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` under ``root``?"""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: does ``proof`` show the tree of ``old`` leaves is a prefix of ``new``?"""
    if old < 1 or old > new:
        return False
    if old == new:
        return not proof and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


@dataclass
class CompactRange:
    """The right edge of a growing tree: the complete subtrees covering leaves 0 … size − 1.

    ``append`` returns the nodes a new leaf completes (its own, then each parent it closes), which
    is what the ledger stores; ``root`` folds the edge into the tree's root hash.
    """

    size: int = 0
    edge: list[tuple[int, bytes]] = field(default_factory=list)  # (level, hash), largest first

    @classmethod
    def at(cls, size: int, fetch: Fetch) -> "CompactRange":
        keys = pieces(0, size)
        nodes = fetch(set(keys))
        return cls(size, [(level, nodes[(level, idx)]) for level, idx in keys])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        index = self.size
        made = [(0, index, leaf)]
        level, current = 0, leaf
        while self.edge and self.edge[-1][0] == level:
            _, left = self.edge.pop()
            current = node_hash(left, current)
            level += 1
            made.append((level, index >> level, current))
        self.edge.append((level, current))
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        result = self.edge[-1][1]
        for _, left in reversed(self.edge[:-1]):
            result = node_hash(left, result)
        return result
