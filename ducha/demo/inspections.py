"""The demo's inspections: real forms, scored, signed and turned into orders by the real services."""

import struct
import tempfile
import zlib
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session

from inspections.evidence import EvidenceWriter
from inspections.forms import EvidenceFileRef, FilledForm
from inspections.loaded_templates import get_template
from inspections.orders import DEFAULT_DEADLINE_DAYS
from inspections.recording import record_inspection
from inspections.scoring import ItemResult
from inspections.signing import sign_inspection
from inspections.templates import ChecklistItem, ItemKind
from models import InspectionKind, Person, Project
from models.calendar import WorkingCalendar
from notifications.inspection_notices import inspection_drafts
from notifications.outbox import NoticeSetup, enqueue


def photo(label: str, shade: int) -> bytes:
    """A small real PNG (a grey square with a text chunk), unique per label."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    size = 8
    raw = b"".join(b"\x00" + bytes([shade % 256]) * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + label.encode("utf-8"))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _result(item: ChecklistItem, fail: bool, notes: str) -> ItemResult:
    if item.kind == ItemKind.PASS_FAIL:
        return ItemResult(item_key=item.key, passed=not fail, notes=notes)
    if item.kind == ItemKind.SCORE:
        assert item.max is not None and item.pass_at is not None
        return ItemResult(item_key=item.key, value=item.pass_at - 1 if fail else item.max, notes=notes)
    if item.kind == ItemKind.MEASUREMENT:
        assert item.target is not None and item.tolerance is not None
        off = item.tolerance * 2 if fail else item.tolerance / 2
        return ItemResult(item_key=item.key, value=Decimal(item.target) + off, notes=notes)
    assert item.min_files is not None
    return ItemResult(item_key=item.key, evidence_count=0 if fail else item.min_files, notes=notes)


def inspect(
    *,
    session: Session,
    project: Project,
    template_key: str,
    inspectors: list[Person],
    at: datetime,
    failing: Collection[str],
    evidence: EvidenceWriter,
    calendar: WorkingCalendar,
    deadline_days: Mapping[str, int] = DEFAULT_DEADLINE_DAYS,
) -> None:
    """Record and sign one inspection whose items all pass except ``failing``.

    The demo lays its story out directly, as the domain would record it: signing here issues the
    orders but takes no transition and opens no deadline (the demo opens them all at the end).
    """
    _, template = get_template(session=session, key=template_key)
    results, photos = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for _, item in template.iter_items():
            fail = item.key in failing
            results.append(_result(item, fail, "问题待整改 finding to fix" if fail else ""))
            if item.kind == ItemKind.EVIDENCE and not fail:
                assert item.min_files is not None
                refs = []
                for n in range(item.min_files):
                    path = Path(scratch) / f"{project.code}-{item.key}-{n + 1}.png"
                    path.write_bytes(photo(f"{project.code} {template_key} {item.key} {n + 1}", 96 + 16 * n))
                    refs.append(EvidenceFileRef(path, path.name, at, None))
                photos[item.key] = refs
        form = FilledForm(
            source=f"demo {template_key} {project.code}",
            draft_id=None,
            project_ref=project.code,
            template_key=template.key,
            template_version=template.version,
            kind=InspectionKind(template.kind),
            inspected_at=at,
            announced=True,
            inspector_refs=[person.name for person in inspectors],
            supersedes_id=None,
            follow_up_of_id=None,
            notes="",
            results=results,
            evidence=photos,
        )
        recorded = record_inspection(
            session=session, form=form, project=project, inspectors=inspectors, store=evidence, now=at
        )
    signed = sign_inspection(
        session=session,
        inspection=recorded.inspection,
        actor=inspectors[0],
        now=at,
        calendar=calendar,
        deadline_days=deadline_days,
    )
    # Its rectification notices, as signing through the front ends writes them.
    drafts = inspection_drafts(
        session=session, now=at, calendar=calendar, inspection=recorded.inspection, issued=signed.issued
    )
    setup = NoticeSetup()
    enqueue(
        session=session,
        now=at,
        drafts=drafts,
        templates=setup.templates,
        calendar=calendar,
        quiet=setup.quiet,
    )
