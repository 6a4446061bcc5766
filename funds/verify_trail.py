"""Check an export of a ducha fund ledger offline: python verify_trail.py DIR [--key VERIFIER-KEY …].

Needs Python 3.11+ and the ``cryptography`` package, nothing of ducha: an auditor can read all of it.
It checks that every checkpoint carries a valid Ed25519 signature of a key given (or in keys.txt);
that every entry is canonical JSON (RFC 8785), in order, chained to the one before by its hash,
balanced, with each account's balance as recorded; that the Merkle tree (RFC 9162) of the entry
hashes has, at every checkpoint's size, the root that checkpoint signed; and that every inclusion
proof in proofs.jsonl leads from its entry to the latest signed root. Exit 0 if all holds, 1 if not
(the first problem is named).
"""

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Key = tuple[str, bytes, Ed25519PublicKey]


class Failed(Exception):
    pass


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def parse_key(text: str) -> Key:
    name, key_hash, encoded = text.strip().split("+", 2)
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise Failed(f"key {name}: not an Ed25519 verifier key")
    if sha256(name.encode() + b"\n" + raw)[:4].hex() != key_hash:
        raise Failed(f"key {name}: the key hash does not match")
    return name, bytes.fromhex(key_hash), Ed25519PublicKey.from_public_bytes(raw[1:])


def read_checkpoint(
    path: Path, keys: list[tuple[str, bytes, Ed25519PublicKey]]
) -> tuple[str, int, bytes, str]:
    """(origin, size, root, signer) of a signed checkpoint, or Failed."""
    note = path.read_text(encoding="utf-8")
    text, _, signatures = note.partition("\n\n")
    text += "\n"
    signer = None
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise Failed(f"{path.name}: not a signature line: {line[:40]!r}")
        name, encoded = line[2:].split(" ")
        raw = base64.b64decode(encoded, validate=True)
        for key_name, key_hash, key in keys:
            if key_name == name and raw[:4] == key_hash:
                try:
                    key.verify(raw[4:], text.encode())
                    signer = name
                except InvalidSignature:
                    raise Failed(f"{path.name}: the signature of {name} is not valid") from None
    if signer is None:
        raise Failed(f"{path.name}: not signed by any key given")
    lines = text.split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True), signer


def fold(stack: list[tuple[int, bytes]]) -> bytes:
    """The root of the tree whose complete subtrees (size, hash) are ``stack``, largest first."""
    if not stack:
        return sha256(b"")
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = sha256(b"\x01" + left + root)
    return root


def check_entries(folder: Path, origin: str, sizes: set[int]) -> tuple[list[bytes], dict[int, bytes]]:
    """Every entry's leaf hash, and the tree's root at each size in ``sizes``."""
    leaves: list[bytes] = []
    roots: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []
    balances: dict[str, int] = {}
    prev = ""
    with (folder / "entries.jsonl").open("rb") as entries:
        for seq, raw in enumerate(entries):
            line = raw.rstrip(b"\n")
            where = f"entry {seq}"
            document = json.loads(line)
            again = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
            if again != line:
                raise Failed(f"{where}: not canonical JSON (edited by hand?)")
            if document["seq"] != seq or document["log"] != origin:
                raise Failed(f"{where}: says it is entry {document['seq']} of {document['log']}")
            if document["prev"] != prev:
                raise Failed(f"{where}: does not follow entry {seq - 1} (its prev hash differs)")
            if sum(item["amount"] for item in document["lines"]) != 0:
                raise Failed(f"{where}: its lines do not add up to zero")
            for item in document["lines"]:
                if not item["account"].startswith(document["fund"] + "/"):
                    raise Failed(f"{where}: a line in another fund's account {item['account']}")
                balances[item["account"]] = balances.get(item["account"], 0) + item["amount"]
                if balances[item["account"]] != item["balance"]:
                    raise Failed(
                        f"{where}: {item['account']} holds {balances[item['account']]}, not {item['balance']}"
                    )
            entry_hash = sha256(line)
            prev = entry_hash.hex()
            leaf = sha256(b"\x00" + entry_hash)
            leaves.append(leaf)
            size, value = 1, leaf
            while stack and stack[-1][0] == size:
                value = sha256(b"\x01" + stack.pop()[1] + value)
                size *= 2
            stack.append((size, value))
            if len(leaves) in sizes:
                roots[len(leaves)] = fold(stack)
    return leaves, roots


def proof_leads(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def verify(folder: Path, key_texts: list[str]) -> str:
    texts = key_texts or (folder / "keys.txt").read_text(encoding="utf-8").split()
    keys = [parse_key(text) for text in texts]
    checkpoints = [read_checkpoint(path, keys) for path in sorted((folder / "checkpoints").glob("*.note"))]
    if not checkpoints:
        raise Failed("no checkpoint")
    origins = {origin for origin, _, _, _ in checkpoints}
    if len(origins) != 1:
        raise Failed(f"checkpoints of several logs: {sorted(origins)}")
    origin = origins.pop()
    leaves, roots = check_entries(folder, origin, {size for _, size, _, _ in checkpoints})
    for _, size, root, _ in checkpoints:
        if size > len(leaves):
            raise Failed(
                f"a checkpoint covers {size} entries, the export has {len(leaves)}: entries are missing"
            )
        if roots.get(size) != root:
            raise Failed(f"the first {size} entries do not have the root their checkpoint signed")
    latest_size, latest_root = checkpoints[-1][1], checkpoints[-1][2]
    if len(leaves) != latest_size:
        raise Failed(f"the export has {len(leaves)} entries, its latest checkpoint {latest_size}")
    proved = 0
    with (folder / "proofs.jsonl").open(encoding="utf-8") as proofs:
        for line in proofs:
            proof = json.loads(line)
            seq = proof["seq"]
            path = [base64.b64decode(item, validate=True) for item in proof["path"]]
            if proof["tree_size"] != latest_size or not proof_leads(
                seq, latest_size, leaves[seq], path, latest_root
            ):
                raise Failed(f"entry {seq}: its inclusion proof does not lead to the latest signed root")
            proved += 1
    if proved != len(leaves):
        raise Failed(f"{proved} inclusion proofs for {len(leaves)} entries")
    signer = checkpoints[-1][3]
    return (
        f"OK: {len(leaves)} entries of {origin}, {len(checkpoints)} checkpoints; the latest, signed by "
        f"{signer}: {latest_size} entries, root {base64.b64encode(latest_root).decode()}; "
        f"{proved} inclusion proofs hold"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an export of a ducha fund ledger.")
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--key", action="append", default=[], help="A verifier key (NAME+HASH+KEY); repeatable."
    )
    args = parser.parse_args(argv)
    try:
        print(verify(args.folder, args.key))
    except Failed as failed:
        print(f"FAILED: {failed}")
        return 1
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        print(f"FAILED: the export cannot be read: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
