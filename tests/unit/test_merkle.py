"""The RFC 9162 tree: the RFC 6962 reference test vectors, every size 1…2,048 against an independent
oracle written from the RFC's recursive definitions, and proofs that must not verify."""

import hashlib
import random
from collections.abc import Mapping
from functools import lru_cache

import pytest

from funds.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Node,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of the RFC 6962 reference implementation's tests, and the roots of each prefix.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "a": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "b": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "c": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "d": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "e": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "f": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "g": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
}
# (leaf index, tree size, path) and (old size, new size, proof) from the reference tests.
INCLUSION = [(0, 8, "abc"), (5, 8, "feg"), (2, 3, ""), (1, 5, "")]
CONSISTENCY = [(1, 8, "abc"), (6, 8, "deg"), (2, 5, "bf")]


def stored(leaves: list[bytes]) -> dict[Node, bytes]:
    """Every complete subtree's hash, as the ledger stores them."""
    nodes: dict[Node, bytes] = {}
    tree = CompactRange()
    for leaf in leaves:
        for level, idx, value in tree.append(leaf_hash(leaf)):
            nodes[(level, idx)] = value
    return nodes


def fetcher(nodes: Mapping[Node, bytes]):  # type: ignore[no-untyped-def]
    return lambda keys: {key: nodes[key] for key in keys}


# --- the oracle: RFC 9162 section 2.1 read literally, over slices of a list ----------------------


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Oracle:
    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return hashlib.sha256(b"\x00" + self.leaves[start]).digest()
        k = k_of(n)
        return hashlib.sha256(b"\x01" + self.mth(start, start + k) + self.mth(start + k, end)).digest()

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = k_of(n)
        if m < k:
            return self.path(m, start, start + k) + [self.mth(start + k, end)]
        return self.path(m - k, start + k, end) + [self.mth(start, start + k)]

    def subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = k_of(n)
        if m <= k:
            return self.subproof(m, start, start + k, b) + [self.mth(start + k, end)]
        return self.subproof(m - k, start + k, end, False) + [self.mth(start, start + k)]


def test_the_reference_roots_of_every_prefix_of_the_eight_leaves() -> None:
    nodes = stored(LEAVES)
    tree = CompactRange()
    for size, expected in enumerate(ROOTS, start=1):
        tree.append(leaf_hash(LEAVES[size - 1]))
        assert tree.root().hex() == expected
        assert root_hash(size, fetcher(nodes)).hex() == expected
    assert (
        root_hash(0, fetcher(nodes))
        == EMPTY_ROOT
        == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    )


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_the_reference_inclusion_proofs(index: int, size: int, path: str) -> None:
    nodes = stored(LEAVES)
    proof = inclusion_proof(index, size, fetcher(nodes))
    if path:
        assert [h.hex() for h in proof] == [H[c] for c in path]
    assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_the_reference_consistency_proofs(old: int, new: int, path: str) -> None:
    proof = consistency_proof(old, new, fetcher(stored(LEAVES)))
    assert [h.hex() for h in proof] == [H[c] for c in path]
    assert verify_consistency(old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof)


def test_every_size_to_2048_against_the_oracle() -> None:
    rng = random.Random(9162)
    leaves = [rng.randbytes(rng.randrange(0, 40)) for _ in range(2048)]
    nodes = stored(leaves)
    fetch = fetcher(nodes)
    oracle = Oracle(leaves)
    for size in range(1, 2049):
        root = oracle.mth(0, size)
        assert root_hash(size, fetch) == root, size
        for index in {0, size // 2, size - 1, rng.randrange(size)}:
            proof = inclusion_proof(index, size, fetch)
            assert proof == oracle.path(index, 0, size), (index, size)
            assert verify_inclusion(index, size, leaf_hash(leaves[index]), proof, root)
        for old in {1, size // 2 or 1, size - 1 or 1, size, rng.randrange(1, size + 1)}:
            proof = consistency_proof(old, size, fetch)
            assert proof == oracle.subproof(old, 0, size, True), (old, size)
            assert verify_consistency(old, size, oracle.mth(0, old), root, proof)


def test_malformed_proofs_are_rejected() -> None:
    rng = random.Random(6962)
    leaves = [rng.randbytes(8) for _ in range(301)]
    other = [rng.randbytes(8) for _ in range(301)]
    fetch, fetch_other = fetcher(stored(leaves)), fetcher(stored(other))
    oracle = Oracle(leaves)
    for size in (2, 3, 7, 64, 100, 255, 300):
        root = oracle.mth(0, size)
        for index in (0, size // 3, size - 1):
            leaf = leaf_hash(leaves[index])
            proof = inclusion_proof(index, size, fetch)
            assert verify_inclusion(index, size, leaf, proof, root)
            # A proof checked against the tree of another size (with that tree's root) fails.
            assert not verify_inclusion(index, size + 1, leaf, proof, oracle.mth(0, size + 1))
            if index < size - 1:
                assert not verify_inclusion(index, size - 1, leaf, proof, oracle.mth(0, size - 1))
            assert not verify_inclusion(index, size, leaf, proof[:-1], root)  # truncated path
            assert not verify_inclusion(index, size, leaf, [*proof, proof[0]], root)  # a hash too many
            assert not verify_inclusion(index, size, leaf, inclusion_proof(index, size, fetch_other), root)
            assert not verify_inclusion(size, size, leaf, proof, root)  # an index outside the tree
            assert not verify_inclusion((index + 1) % size, size, leaf, proof, root) or size == 1
            flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
            assert not verify_inclusion(index, size, leaf, [flipped, *proof[1:]], root)
        for old in (1, size // 2, size - 1):
            if old < 1:
                continue
            proof = consistency_proof(old, size, fetch)
            old_root = oracle.mth(0, old)
            assert verify_consistency(old, size, old_root, root, proof)
            if proof:
                assert not verify_consistency(old, size, old_root, root, proof[:-1])
            assert not verify_consistency(old, size, old_root, root, [*proof, root])
            if old + 1 < size:
                assert not verify_consistency(old + 1, size, oracle.mth(0, old + 1), root, proof)
            assert not verify_consistency(old, size, Oracle(other).mth(0, old), root, proof)
            assert not verify_consistency(old, size, old_root, Oracle(other).mth(0, size), proof)
        assert not verify_consistency(0, size, EMPTY_ROOT, root, [])
        assert not verify_consistency(size + 1, size, root, root, [])
        assert not verify_consistency(size, size, root, root, [root])
