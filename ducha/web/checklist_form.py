"""A checklist filled in a browser, turned into the same filled form file `ducha inspect new` makes,
with its photos beside it, so that the one reader checks it (and names what is wrong) for both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from fastapi import UploadFile

from ducha.api.uploads import save_uploads
from inspections.templates import ChecklistTemplate, ItemKind
from models.errors import BadInput

FORM_NAME = "checklist.yaml"


def _text(fields: Mapping[str, Any], name: str, limit: int = 2000) -> str:
    value = fields.get(name, "")
    if not isinstance(value, str):
        raise BadInput(f"{name}: not text")
    if len(value) > limit:
        raise BadInput(f"{name}: longer than {limit} characters")
    return value.strip()


def write_form(
    *,
    folder: Path,
    template: ChecklistTemplate,
    project_code: str,
    inspectors: Sequence[str],
    inspected_at: str,
    fields: Mapping[str, Any],
    files: Mapping[str, Sequence[UploadFile]],
    max_bytes: int,
) -> Path:
    """Write the filled form and its evidence into ``folder``; the form's path.

    ``fields``: ``verdict.<item>`` (pass, fail, waived), ``value.<item>``, ``notes.<item>``, ``notes``,
    ``announced``; ``files``: ``evidence.<item>`` → uploaded photos.
    """
    if not inspectors:
        raise BadInput("inspectors: choose at least one inspector")
    results: dict[str, dict[str, Any]] = {}
    for _, item in template.iter_items():
        verdict = _text(fields, f"verdict.{item.key}", 10)
        entry: dict[str, Any] = {"notes": _text(fields, f"notes.{item.key}")}
        if verdict == "waived":
            entry["waived"] = True
        if item.kind == ItemKind.PASS_FAIL:
            if verdict not in ("pass", "fail", "waived"):
                raise BadInput(f"{item.key}: choose pass or fail ({item.text})")
            entry["passed"] = None if verdict == "waived" else verdict == "pass"
        elif item.kind in (ItemKind.SCORE, ItemKind.MEASUREMENT):
            raw = _text(fields, f"value.{item.key}", 40)
            if item.kind == ItemKind.SCORE and raw:
                if not (raw.isascii() and raw.isdecimal()):
                    raise BadInput(f"{item.key}: a whole number 0..{item.max} ({item.text})")
                entry["value"] = int(raw)
            else:
                entry["value"] = raw or None
        uploads = [upload for upload in files.get(f"evidence.{item.key}", []) if upload.filename]
        saved = save_uploads(folder / item.key, uploads, limit=max_bytes) if uploads else []
        entry["evidence"] = [{"file": f"{item.key}/{path.name}"} for path in saved]
        results[item.key] = entry
    document = {
        "project": project_code,
        "template": template.key,
        "template_version": template.version,
        "kind": template.kind.value,
        "inspected_at": inspected_at,
        "announced": fields.get("announced", "yes") != "no",
        "inspectors": list(inspectors),
        "notes": _text(fields, "notes"),
        "results": results,
    }
    path = folder / FORM_NAME
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
