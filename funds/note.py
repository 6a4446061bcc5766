"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), Ed25519 keys.

A checkpoint's text is the log's origin, the tree size in decimal and the root hash in base64, one a
line, then the extension line ``time <UTC, RFC 3339>``; a blank line; then one signature line per
key: ``— <key name> <base64(key id ‖ Ed25519 signature of the text)>``. A key id is the first four
bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key). Keys are written as the signed-note spec
writes them: a verifier key ``<name>+<key id hex>+<base64(0x01 ‖ public key)>`` (what an auditor
holds) and a signer key ``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ seed)>`` (the office's file).
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from models.errors import BadInput

ED25519 = 0x01
DASH = "\u2014"


class NoteError(BadInput):
    """A key, note or checkpoint that cannot be read; the message says what is wrong with it."""


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r}: must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: not base64") from None


@dataclass(frozen=True)
class Verifier:
    """A public key that checks signatures (what auditors hold)."""

    name: str
    id: bytes
    key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> "Verifier":
        parts = text.strip().split("+", 2)  # base64 holds '+' too
        if len(parts) != 3:
            raise NoteError(f"verifier key {text.strip()[:60]!r}: expected NAME+KEYID+KEY")
        name, hex_id, encoded = parts
        raw = _b64(encoded, "verifier key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError(f"verifier key {name}: not an Ed25519 key")
        if key_id(_check_name(name), raw[1:]).hex() != hex_id.lower():
            raise NoteError(f"verifier key {name}: its key id does not match the key")
        return cls(name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:]))

    def text(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + _public_bytes(self.key)).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs checkpoints (the office's; optionally a second that co-signs)."""

    name: str
    id: bytes
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> "Signer":
        key = Ed25519PrivateKey.generate()
        return cls(_check_name(name), key_id(name, _public_bytes(key.public_key())), key)

    @classmethod
    def parse(cls, text: str) -> "Signer":
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key: expected PRIVATE+KEY+NAME+KEYID+KEY")
        name, hex_id, encoded = parts[2:]
        raw = _b64(encoded, "signer key")
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError(f"signer key {name}: not an Ed25519 key")
        key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        if key_id(_check_name(name), _public_bytes(key.public_key())).hex() != hex_id.lower():
            raise NoteError(f"signer key {name}: its key id does not match the key")
        return cls(name, bytes.fromhex(hex_id), key)

    def text(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ED25519]) + seed).decode()}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.id, self.key.public_key())

    def signature_line(self, text: str) -> str:
        signature = self.key.sign(text.encode())
        return f"{DASH} {self.name} {base64.b64encode(self.id + signature).decode()}\n"


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint says: the log, its size, its root hash, and when it was signed."""

    origin: str
    size: int
    root: bytes
    signed_at: datetime

    def text(self) -> str:
        moment = self.signed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\ntime {moment}\n"


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: list[tuple[str, bytes, bytes]]  # (key name, key id, signature)

    def signed_by(self, verifiers: list[Verifier]) -> list[str]:
        """The names of the ``verifiers`` whose valid signature the note carries."""
        good = []
        for verifier in verifiers:
            for name, kid, signature in self.signatures:
                if (
                    name == verifier.name
                    and kid == verifier.id
                    and verifier.verifies(self.text.encode(), signature)
                ):
                    good.append(name)
                    break
        return good


def sign(checkpoint: Checkpoint, signers: list[Signer]) -> str:
    """The checkpoint as a signed note, signed by each of ``signers``."""
    text = checkpoint.text()
    return text + "\n" + "".join(signer.signature_line(text) for signer in signers)


def parse_note(note: str) -> SignedNote:
    """Split a signed note into its text and its signatures (not yet checked)."""
    text, sep, rest = note.partition("\n\n")
    if not sep or not text:
        raise NoteError("signed note: no blank line between the text and the signatures")
    signatures = []
    for line in rest.split("\n"):
        if not line:
            continue
        if not line.startswith(DASH + " "):
            raise NoteError(f"signed note: not a signature line: {line[:60]!r}")
        try:
            name, encoded = line[2:].split(" ")
        except ValueError:
            raise NoteError(f"signed note: malformed signature line {line[:60]!r}") from None
        raw = _b64(encoded, f"signature of {name}")
        if len(raw) < 5:
            raise NoteError(f"signed note: signature of {name} is too short")
        signatures.append((name, raw[:4], raw[4:]))
    if not signatures:
        raise NoteError("signed note: no signature")
    return SignedNote(text + "\n", signatures)


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's text (origin, size, root hash, time)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint: expected origin, size and root hash lines")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"checkpoint: tree size {size_text!r} is not a decimal number")
    root = _b64(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise NoteError("checkpoint: root hash is not 32 bytes")
    signed_at = None
    for extension in lines[3:-1]:
        if extension.startswith("time "):
            try:
                signed_at = datetime.strptime(extension[5:], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                raise NoteError(f"checkpoint: time {extension[5:]!r} is not RFC 3339 UTC") from None
    if signed_at is None:
        raise NoteError("checkpoint: no time line")
    return Checkpoint(origin, int(size_text), root, signed_at)
