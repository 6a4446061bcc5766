"""Write a programme's trail for auditors to check offline, with nothing of ducha.

The folder holds:

    entries.jsonl      every entry's canonical document, one a line, in log order (up to the checkpoint)
    checkpoints/       every signed checkpoint of the log, ``<tree size>-<n>.note``
    proofs.jsonl       per entry: {"seq", "tree_size", "leaf_hash", "path"}: its inclusion proof
                       (base64 hashes) in the tree of the latest checkpoint
    keys.txt           the verifier keys (signed-note form) whose signatures the checkpoints carry
    verify_trail.py    the standalone verifier (standard library and ``cryptography``)
    README.txt         what these are and how to check them

Only the entries the latest checkpoint covers are written: a signed root stands behind each one.
"""

import base64
import json
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from funds.canonical import digest
from funds.journal import node_fetcher
from funds.merkle import inclusion_proof, leaf_hash
from funds.note import Verifier
from funds.reads import body_lines
from models import Programme
from models.errors import BadInput, NotFound
from models.ledger import LedgerCheckpoint
from models.types import table_of

CHECKPOINT = table_of(LedgerCheckpoint).c
README = """An export of the fund ledger of {programme} ({origin}).

entries.jsonl   {entries} entries, each its canonical RFC 8785 JSON document; the SHA-256 of a line
                (without its newline) is the entry's hash, a leaf of the log's RFC 9162 Merkle tree
checkpoints/    signed checkpoints (C2SP tlog-checkpoint in a signed note); the latest covers {size} entries
proofs.jsonl    an inclusion proof per entry against the latest checkpoint
keys.txt        the office's verifier key(s)

Check it (Python 3.11 and the cryptography package):

    python verify_trail.py .                 # with the keys in keys.txt
    python verify_trail.py . --key KEY       # with a key you got from the office yourself (better)
"""


@dataclass(frozen=True)
class Exported:
    entries: int
    checkpoints: int
    tree_size: int
    left_out: int


@contextmanager
def trail_folder(out: Path) -> Iterator[Path]:
    """The folder to write a trail into, in place of ``out`` (a new or empty folder): one beside it,
    renamed to ``out`` when the block ends, removed if it fails; so a failure (no such parent, no
    permission, a full disk) leaves no half of a trail behind. Refused before anything is written."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: a file, not a folder")
    if out.exists() and any(out.iterdir()):
        raise BadInput(f"{out}: the folder is not empty")
    made = [folder for folder in reversed(out.parents) if not folder.exists()]  # removed on failure
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.parent / f".{out.name}.{secrets.token_hex(4)}.part"
        part.mkdir()  # with the mode the umask leaves, as the folder itself would be made
    except OSError as exc:
        _remove(made)
        raise BadInput(f"{out}: cannot be written ({exc.strerror or exc})") from None
    try:
        yield part
        if out.exists():
            out.rmdir()  # empty, as checked above
        part.rename(out)
    except OSError as exc:
        raise BadInput(f"{out}: cannot be written ({exc.strerror or exc})") from None
    finally:
        if part.exists():
            shutil.rmtree(part, ignore_errors=True)
            _remove(made)


def _remove(folders: list[Path]) -> None:
    """Remove the folders made for a trail that was not written, deepest first, while they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


def export_trail(
    *, session: Session, programme: Programme, out: Path, verifiers: list[Verifier], log_size: int
) -> Exported:
    """Write the programme's trail into the folder ``out`` (see ``trail_folder``)."""
    assert programme.id is not None
    rows = session.execute(
        select(CHECKPOINT.tree_size, CHECKPOINT.note)
        .where(CHECKPOINT.programme_id == programme.id)
        .order_by(CHECKPOINT.tree_size, CHECKPOINT.id)
    ).all()
    if not rows:
        raise NotFound(f"{programme.name}: no signed checkpoint yet (ducha audit checkpoint)")
    size = int(rows[-1][0])
    count = _write_trail(session, programme, out, rows, size, verifiers)
    return Exported(count, len(rows), size, log_size - size)


def _write_trail(
    session: Session,
    programme: Programme,
    out: Path,
    rows: Sequence[Any],
    size: int,
    verifiers: list[Verifier],
) -> int:
    """Write the trail's files into the folder ``out``; the number of entries written."""
    assert programme.id is not None
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    for number, (tree_size, note) in enumerate(rows, start=1):
        (out / "checkpoints" / f"{tree_size:09d}-{number:06d}.note").write_text(note, encoding="utf-8")
    fetch = node_fetcher(session, programme.id)
    count = 0
    with (
        (out / "entries.jsonl").open("w", encoding="utf-8") as entries,
        (out / "proofs.jsonl").open("w", encoding="utf-8") as proofs,
    ):
        for seq, body in enumerate(body_lines(session, programme, size)):
            entries.write(body + "\n")
            path = inclusion_proof(seq, size, fetch)
            proof = {
                "seq": seq,
                "tree_size": size,
                "leaf_hash": base64.b64encode(leaf_hash(bytes.fromhex(digest(body)))).decode(),
                "path": [base64.b64encode(h).decode() for h in path],
            }
            proofs.write(json.dumps(proof, sort_keys=True, separators=(",", ":")) + "\n")
            count += 1
    (out / "keys.txt").write_text("".join(v.text() + "\n" for v in verifiers), encoding="utf-8")
    shutil.copyfile(Path(__file__).with_name("verify_trail.py"), out / "verify_trail.py")
    origin = f"ducha/programme/{programme.id}"
    (out / "README.txt").write_text(
        README.format(programme=programme.name, origin=origin, entries=count, size=size), encoding="utf-8"
    )
    return count
