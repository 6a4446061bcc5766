"""Store evidence files (photos, scans) content-addressed by SHA-256 under one directory.

A file is checked before anything is written: its original name must be a plain file name, its size
within the limit, its type (read from the magic bytes, never the extension) one of the allowed types,
and its extension, if any, must agree with that type. It is then written to `root/<sha[:2]>/<sha>`
through a temporary file in the same directory and `os.replace`, so a reader never sees half a file
and the same bytes stored twice make one file. The original name is never used as a path.
"""

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Protocol

from models.errors import BadInput

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset({JPEG, PNG, WEBP, PDF})
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_NAME_BYTES = 255

_TYPE_NAMES = {JPEG: "JPEG image", PNG: "PNG image", WEBP: "WebP image", PDF: "PDF document"}
_EXTENSIONS = {
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".jpe": JPEG,
    ".jfif": JPEG,
    ".png": PNG,
    ".webp": WEBP,
    ".pdf": PDF,
}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Bidirectional overrides can make "gpj.exe" display as "exe.jpg"; refuse them with the control characters.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_CHUNK = 1024 * 1024


class EvidenceRejected(BadInput):
    """An evidence file was refused; the message names the file and the reason. Nothing was stored."""

    def __init__(self, original_name: str, reason: str) -> None:
        shown = original_name if len(original_name) <= 80 else original_name[:77] + "..."
        super().__init__(f"evidence file {shown!r} refused: {reason}")
        self.original_name = original_name
        self.reason = reason


@dataclass(frozen=True)
class StoredEvidence:
    """A checked evidence file: the SHA-256 of its bytes (lowercase hex), its size and its media type."""

    sha256: str
    size_bytes: int
    media_type: str


@dataclass(frozen=True)
class GpsPoint:
    """Where a photo was taken, in WGS-84 degrees, as given alongside the file (EXIF is not read)."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        # Written as range checks so that NaN fails them too.
        if not -90.0 <= self.latitude <= 90.0:
            raise ValueError(f"latitude {self.latitude} is outside -90..90 degrees")
        if not -180.0 <= self.longitude <= 180.0:
            raise ValueError(f"longitude {self.longitude} is outside -180..180 degrees")


class EvidenceStore:
    """Check, store and read evidence files under one root directory."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allowed_types: frozenset[str] = DEFAULT_ALLOWED_TYPES,
    ) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        undetectable = sorted(allowed_types - _TYPE_NAMES.keys())
        if undetectable:
            raise ValueError(
                f"allowed types that cannot be recognised from content: {', '.join(undetectable)}"
            )
        self.root = root
        self.max_bytes = max_bytes
        self.allowed_types = allowed_types

    def check(self, original_name: str, data: bytes) -> StoredEvidence:
        """Return what would be stored for this file, or raise EvidenceRejected saying why."""
        _check_name(original_name)
        size = len(data)
        if size == 0:
            raise EvidenceRejected(original_name, "the file is empty")
        if size > self.max_bytes:
            raise EvidenceRejected(
                original_name,
                f"the file is {_human_size(size)} ({size:,} bytes), "
                f"over the {_human_size(self.max_bytes)} limit",
            )
        media_type = _sniff(data)
        if media_type is None:
            raise EvidenceRejected(
                original_name,
                f"the content is not a recognised type (starts with {data[:8].hex(' ')}); "
                f"allowed: {self._allowed_names()}",
            )
        if media_type not in self.allowed_types:
            raise EvidenceRejected(
                original_name,
                f"the content is a {_TYPE_NAMES[media_type]}, which is not allowed here; "
                f"allowed: {self._allowed_names()}",
            )
        extension = PurePosixPath(original_name).suffix.lower()
        if extension and _EXTENSIONS.get(extension) != media_type:
            raise EvidenceRejected(
                original_name,
                f"the extension {extension} does not match the content, which is a {_TYPE_NAMES[media_type]}",
            )
        return StoredEvidence(sha256=hashlib.sha256(data).hexdigest(), size_bytes=size, media_type=media_type)

    def put(self, original_name: str, data: bytes) -> StoredEvidence:
        """Check and store a file; storing the same bytes again leaves the one file as it is."""
        return self.put_new(original_name, data)[0]

    def put_new(self, original_name: str, data: bytes) -> tuple[StoredEvidence, Path | None]:
        """Like ``put``; also say which file this call created (None when the bytes were there)."""
        stored = self.check(original_name, data)
        target = self.path_for(stored.sha256)
        if self.verify(stored.sha256):
            return stored, None
        shard = target.parent
        created_shard = not shard.exists()
        shard.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=shard, prefix=f".{stored.sha256}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as temp_file:
                temp_file.write(data)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            if created_shard:
                with contextlib.suppress(OSError):
                    shard.rmdir()
            raise
        return stored, target

    def path_for(self, sha256: str) -> Path:
        """Return where the file with this SHA-256 lives; refuse anything but 64 lowercase hex digits."""
        if not _SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 digest (64 lowercase hex digits): {sha256!r}")
        root = self.root.resolve()
        path = (root / sha256[:2] / sha256).resolve()
        # A symlinked shard directory could still point elsewhere; the resolved path must stay inside.
        if not path.is_relative_to(root):
            raise ValueError(f"evidence path for {sha256} resolves outside the store: {path}")
        return path

    def read(self, sha256: str) -> bytes:
        """Return the stored bytes; FileNotFoundError if there are none. Use verify to check them."""
        return self.path_for(sha256).read_bytes()

    def verify(self, sha256: str) -> bool:
        """Return whether the stored file exists and its bytes still hash to its name."""
        path = self.path_for(sha256)
        digest = hashlib.sha256()
        try:
            with path.open("rb") as stored_file:
                while chunk := stored_file.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == sha256

    def _allowed_names(self) -> str:
        return ", ".join(sorted(_TYPE_NAMES[media_type] for media_type in self.allowed_types))


class EvidenceWriter(Protocol):
    """Where domain code checks and puts evidence: a store, or one transaction's batch of it."""

    @property
    def max_bytes(self) -> int: ...

    def check(self, original_name: str, data: bytes) -> StoredEvidence: ...

    def put(self, original_name: str, data: bytes) -> StoredEvidence: ...


@dataclass
class EvidenceBatch:
    """The evidence one transaction puts in a store; ``discard`` removes the files it created.

    The transaction's owner calls ``discard`` when it rolls back, so that a refused or failed write
    leaves no file behind. Files that were already there (the same bytes, stored before) are never
    touched. Known limit: if another transaction stores the same new bytes at the same moment and
    commits while this one rolls back, its file goes too (``EvidenceStore.verify`` shows it missing).
    """

    store: EvidenceStore
    created: list[Path] = field(default_factory=list)

    @property
    def max_bytes(self) -> int:
        return self.store.max_bytes

    def check(self, original_name: str, data: bytes) -> StoredEvidence:
        return self.store.check(original_name, data)

    def put(self, original_name: str, data: bytes) -> StoredEvidence:
        stored, path = self.store.put_new(original_name, data)
        if path is not None:
            self.created.append(path)
        return stored

    def discard(self) -> None:
        """Remove every file this batch created (the transaction did not commit)."""
        for path in reversed(self.created):
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only if the shard is empty now
        self.created.clear()


def read_evidence_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of an evidence file given by path, its size checked before a byte is read."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise EvidenceRejected(path.name, f"no such file: {path}") from None
    except OSError as exc:
        raise EvidenceRejected(path.name, f"cannot be read: {exc.strerror}") from None
    if not path.is_file():
        raise EvidenceRejected(path.name, f"{path} is not a file")
    if size > max_bytes:
        raise EvidenceRejected(
            path.name,
            f"the file is {_human_size(size)} ({size:,} bytes), over the {_human_size(max_bytes)} limit",
        )
    with path.open("rb") as opened:
        return opened.read(max_bytes + 1)


def _check_name(original_name: str) -> None:
    if not original_name:
        raise EvidenceRejected(original_name, "the file name is empty")
    for char in original_name:
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            raise EvidenceRejected(original_name, f"the file name contains a control character {char!r}")
    if "/" in original_name or "\\" in original_name:
        raise EvidenceRejected(original_name, "the file name contains a path separator (/ or \\)")
    if PurePosixPath(original_name).is_absolute() or PureWindowsPath(original_name).drive:
        raise EvidenceRejected(original_name, "the file name is an absolute path or starts with a drive")
    if ".." in original_name or original_name == ".":
        raise EvidenceRejected(original_name, "the file name contains '..' or is '.'")
    if len(original_name.encode("utf-8")) > MAX_NAME_BYTES:
        raise EvidenceRejected(original_name, f"the file name is longer than {MAX_NAME_BYTES} bytes in UTF-8")


def _sniff(data: bytes) -> str | None:
    """The type the content is, read from its structure: a JPEG header followed by HTML is no JPEG."""
    if data.startswith(b"\xff\xd8\xff") and _jpeg_holds_together(data):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n") and _png_holds_together(data):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and _webp_holds_together(data):
        return WEBP
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return PDF
    return None


def _jpeg_holds_together(data: bytes) -> bool:
    """Marker segments with consistent lengths up to the scan, and an end-of-image marker after it.

    Bytes after the end-of-image marker are allowed: phones append a motion clip or a thumbnail there.
    """
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            return False  # an end or restart marker before any scan
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return False
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the end-of-image marker
            return data.find(b"\xff\xd9", i + 2 + length) != -1
        i += 2 + length
    return False


def _png_holds_together(data: bytes) -> bool:
    """Chunks from IHDR to IEND, each with its declared length and a correct CRC."""
    i, first = 8, True
    while i + 12 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 8 + length
        if end + 4 > len(data) or (first and kind != b"IHDR"):
            return False
        if zlib.crc32(data[i + 4 : end]) != int.from_bytes(data[end : end + 4], "big"):
            return False
        if kind == b"IEND":
            return True
        i, first = end + 4, False
    return False


def _webp_holds_together(data: bytes) -> bool:
    """A RIFF container whose size is the file's, holding a VP8, VP8L or VP8X chunk that fits in it."""
    declared = int.from_bytes(data[4:8], "little")
    if declared + 8 not in (len(data), len(data) - 1) or len(data) < 20:
        return False
    chunk, size = data[12:16], int.from_bytes(data[16:20], "little")
    return chunk in (b"VP8 ", b"VP8L", b"VP8X") and 20 + size <= len(data)


def _human_size(size: int) -> str:
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit:
            return f"{size / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{size} bytes"
