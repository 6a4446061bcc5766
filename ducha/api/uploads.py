"""Uploaded files, saved under their own names into a folder of the request's, within a size limit,
so that the same readers the CLI uses (a checklist beside its evidence, a response's files) read them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from fastapi import UploadFile

from models.errors import BadInput

CHUNK = 1 << 20


def _name(upload: UploadFile, index: int) -> str:
    given = upload.filename or f"upload-{index}"
    # A browser may send a whole path (old Internet Explorer did): keep the last part only.
    name = PureWindowsPath(PurePosixPath(given).name).name.strip()
    if not name or name in (".", "..") or "\x00" in name:
        raise BadInput(f"file {index + 1}: no usable file name ({given!r})")
    return name


def save_uploads(folder: Path, uploads: Sequence[UploadFile], *, limit: int) -> list[Path]:
    """Write each upload to ``folder`` under its name (at most ``limit`` bytes each); their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index, upload in enumerate(uploads):
        name = _name(upload, index)
        target = folder / name
        if target.exists():
            raise BadInput(f"{name}: given twice")
        written = 0
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise BadInput(f"{name}: larger than {limit // (1 << 20)} MB")
                out.write(chunk)
        paths.append(target)
    return paths
