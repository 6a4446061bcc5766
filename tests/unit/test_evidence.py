"""The evidence store keeps checked files by content hash and refuses anything else, storing nothing."""

import hashlib
import math
import os
import struct
import zlib
from pathlib import Path

import pytest

from inspections.evidence import (
    PDF,
    PNG,
    EvidenceRejected,
    EvidenceStore,
    GpsPoint,
    StoredEvidence,
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# Small files whose structure holds together (the store reads more than the first bytes).
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n"
    + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    + _chunk(b"IEND", b"")
)
JPEG_BYTES = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    + bytes(range(1, 200))
    + b"\xff\xd9"
)
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
_VP8 = b"VP8 " + struct.pack("<I", 32) + bytes(32)
WEBP_BYTES = b"RIFF" + struct.pack("<I", 4 + len(_VP8)) + b"WEBP" + _VP8
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(64)


def files_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("site-photo.png", PNG_BYTES, "image/png"),
        ("现场照片.JPG", JPEG_BYTES, "image/jpeg"),
        ("整改报告.pdf", PDF_BYTES, "application/pdf"),
        ("wall.webp", WEBP_BYTES, "image/webp"),
        ("scan-without-extension", PDF_BYTES, "application/pdf"),
    ],
)
def test_put_stores_the_bytes_under_their_sha256(
    tmp_path: Path, name: str, data: bytes, media_type: str
) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    sha = hashlib.sha256(data).hexdigest()

    stored = store.put(name, data)

    assert stored == StoredEvidence(sha256=sha, size_bytes=len(data), media_type=media_type)
    assert (tmp_path / "evidence" / sha[:2] / sha).read_bytes() == data
    assert files_under(tmp_path / "evidence") == [
        tmp_path / "evidence" / sha[:2],
        tmp_path / "evidence" / sha[:2] / sha,
    ]
    assert store.read(sha) == data
    assert store.verify(sha)


def test_the_same_bytes_twice_make_one_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)

    first = store.put("a.png", PNG_BYTES)
    second = store.put("b.png", PNG_BYTES)

    assert first == second
    assert [path for path in files_under(tmp_path) if path.is_file()] == [store.path_for(first.sha256)]


def test_put_repairs_a_tampered_copy(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    sha = store.put("a.png", PNG_BYTES).sha256
    store.path_for(sha).write_bytes(b"tampered")

    store.put("a.png", PNG_BYTES)

    assert store.verify(sha)


def test_a_file_over_the_limit_is_refused_with_its_size_and_the_limit(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=20 * 1024 * 1024)
    data = JPEG_BYTES + bytes(25 * 1024 * 1024)

    with pytest.raises(EvidenceRejected) as refused:
        store.put("big.jpg", data)

    assert str(refused.value) == (
        f"evidence file 'big.jpg' refused: the file is 25 MB ({len(data):,} bytes), over the 20 MB limit"
    )
    assert files_under(tmp_path) == []


def test_a_small_limit_is_stated_in_kb(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=100 * 1024)

    with pytest.raises(
        EvidenceRejected, match=r"the file is 150\.5 KB \(154,112 bytes\), over the 100 KB limit"
    ):
        store.put("a.png", PNG_BYTES[:8] + bytes(154_112 - 8))
    assert files_under(tmp_path) == []


def test_a_file_exactly_at_the_limit_is_accepted(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=len(PNG_BYTES))

    assert store.put("a.png", PNG_BYTES).size_bytes == len(PNG_BYTES)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvidenceRejected, match="'a.jpg' refused: the file is empty"):
        EvidenceStore(tmp_path).put("a.jpg", b"")
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("setup.exe", EXE_BYTES, r"the content is not a recognised type \(starts with 4d 5a 90 00"),
        ("notes.txt", "整改已完成".encode(), "the content is not a recognised type"),
        ("notes.jpg", b"just text, named like a photo", "the content is not a recognised type"),
    ],
)
def test_content_of_an_unknown_type_is_refused(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    with pytest.raises(EvidenceRejected, match=reason) as refused:
        EvidenceStore(tmp_path).put(name, data)

    assert "allowed: JPEG image, PDF document, PNG image, WebP image" in str(refused.value)
    assert files_under(tmp_path) == []


def test_a_known_type_that_is_not_allowed_is_refused(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, allowed_types=frozenset({PNG}))

    with pytest.raises(EvidenceRejected) as refused:
        store.put("report.pdf", PDF_BYTES)

    assert str(refused.value) == (
        "evidence file 'report.pdf' refused: the content is a PDF document, which is not allowed here; "
        "allowed: PNG image"
    )
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "data", "found"),
    [
        ("photo.png", PDF_BYTES, "the extension .png does not match the content, which is a PDF document"),
        ("photo.jpg", PNG_BYTES, "the extension .jpg does not match the content, which is a PNG image"),
        ("report.pdf", JPEG_BYTES, "the extension .pdf does not match the content, which is a JPEG image"),
        ("photo.png.exe", PNG_BYTES, "the extension .exe does not match the content, which is a PNG image"),
    ],
)
def test_an_extension_that_contradicts_the_content_is_refused(
    tmp_path: Path, name: str, data: bytes, found: str
) -> None:
    with pytest.raises(EvidenceRejected) as refused:
        EvidenceStore(tmp_path).put(name, data)

    assert str(refused.value) == f"evidence file {name!r} refused: {found}"
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../x.jpg", "the file name contains a path separator"),
        ("/etc/passwd", "the file name contains a path separator"),
        ("a/b.jpg", "the file name contains a path separator"),
        ("a\\b.jpg", "the file name contains a path separator"),
        ("..", "the file name contains '..' or is '.'"),
        (".", "the file name contains '..' or is '.'"),
        ("C:x.jpg", "the file name is an absolute path or starts with a drive"),
        ("\x00.jpg", r"the file name contains a control character '\\x00'"),
        ("a\nb.jpg", r"the file name contains a control character '\\n'"),
        ("gpj\u202e.exe", "the file name contains a control character"),
        ("", "the file name is empty"),
        ("照" * 86 + ".jpg", "the file name is longer than 255 bytes in UTF-8"),
    ],
)
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path: Path, name: str, reason: str) -> None:
    root = tmp_path / "evidence"

    with pytest.raises(EvidenceRejected, match=reason) as refused:
        EvidenceStore(root).put(name, JPEG_BYTES)

    assert refused.value.original_name == name
    assert files_under(tmp_path) == []


def test_a_name_of_255_utf8_bytes_is_accepted_and_256_refused(tmp_path: Path) -> None:
    longest = "照" * 80 + "abcdefghijk.jpg"
    too_long = "照" * 80 + "abcdefghijkl.jpg"
    assert (len(longest.encode()), len(too_long.encode())) == (255, 256)
    store = EvidenceStore(tmp_path)

    with pytest.raises(EvidenceRejected, match="longer than 255 bytes"):
        store.put(too_long, JPEG_BYTES)
    assert store.put(longest, JPEG_BYTES).media_type == "image/jpeg"


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "evidence"
    store = EvidenceStore(root)

    def full_disk(source: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        store.put("a.png", PNG_BYTES)

    assert files_under(root) == []


@pytest.mark.parametrize(
    "sha",
    [
        "",
        "abc",
        "A" * 64,
        "g" * 64,
        "0" * 63,
        "0" * 65,
        "../" + "0" * 61,
        "0" * 64 + "\n",
        "/" + "0" * 63,
    ],
)
def test_path_for_refuses_anything_but_a_lowercase_hex_digest(tmp_path: Path, sha: str) -> None:
    store = EvidenceStore(tmp_path)

    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        store.path_for(sha)
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        store.read(sha)


def test_path_for_is_inside_the_root(tmp_path: Path) -> None:
    sha = "ab" + "cd" * 31

    path = EvidenceStore(tmp_path / "evidence").path_for(sha)

    assert path == (tmp_path / "evidence").resolve() / "ab" / sha


def test_path_for_refuses_a_shard_that_links_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    root.mkdir()
    (root / "ab").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    with pytest.raises(ValueError, match="resolves outside the store"):
        EvidenceStore(root).path_for("ab" + "0" * 62)


def test_verify_detects_a_tampered_or_missing_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    sha = store.put("a.pdf", PDF_BYTES).sha256
    store.path_for(sha).write_bytes(PDF_BYTES.replace(b"Catalog", b"Catalag"))

    assert not store.verify(sha)
    assert not store.verify("0" * 64)
    with pytest.raises(FileNotFoundError):
        store.read("0" * 64)


def test_the_store_refuses_settings_it_cannot_honour(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be recognised from content: image/heic"):
        EvidenceStore(tmp_path, allowed_types=frozenset({PDF, "image/heic"}))
    with pytest.raises(ValueError, match="max_bytes must be at least 1"):
        EvidenceStore(tmp_path, max_bytes=0)


def test_gps_point_accepts_the_full_range() -> None:
    assert GpsPoint(latitude=30.2741, longitude=120.1551) == GpsPoint(30.2741, 120.1551)
    assert GpsPoint(-90.0, -180.0).latitude == -90.0
    assert GpsPoint(90.0, 180.0).longitude == 180.0


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        (90.5, 120.0, "latitude 90.5 is outside -90..90 degrees"),
        (-91.0, 120.0, "latitude -91.0 is outside -90..90 degrees"),
        (30.0, 180.1, "longitude 180.1 is outside -180..180 degrees"),
        (30.0, -200.0, "longitude -200.0 is outside -180..180 degrees"),
        (math.nan, 120.0, "latitude nan is outside"),
    ],
)
def test_gps_point_refuses_coordinates_off_the_globe(latitude: float, longitude: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GpsPoint(latitude, longitude)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"<html><script>alert(1)</script></html>"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"<html></html>" * 10),
        ("photo.png", PNG_BYTES[:-6]),  # cut short: no IEND
        ("photo.jpg", JPEG_BYTES[:-2]),  # no end-of-image marker
        ("scan.pdf", b"%PDF-1.7\n<html></html>"),
        ("wall.webp", WEBP_BYTES + bytes(100)),  # the RIFF size no longer matches
    ],
)
def test_a_header_followed_by_something_else_is_refused(tmp_path: Path, name: str, data: bytes) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    with pytest.raises(EvidenceRejected, match="the content is not a recognised type"):
        store.put(name, data)
    assert files_under(tmp_path / "evidence") == []


def test_a_jpeg_may_carry_what_a_phone_appends_after_the_image(tmp_path: Path) -> None:
    motion_photo = JPEG_BYTES + b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    assert EvidenceStore(tmp_path).put("motion.jpg", motion_photo).media_type == "image/jpeg"
