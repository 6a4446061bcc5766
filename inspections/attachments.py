"""Record stored evidence files and attach them to an item result or an order event."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inspections.evidence import GpsPoint, StoredEvidence
from models import EvidenceAttachment, EvidenceFile


@dataclass(frozen=True)
class EvidenceItem:
    """A file already put in the evidence store, with when and where it was taken."""

    stored: StoredEvidence
    original_name: str
    taken_at: datetime | None = None
    gps: GpsPoint | None = None


def attach_evidence(
    *,
    session: Session,
    items: list[EvidenceItem],
    now: datetime,
    item_result_id: int | None = None,
    order_event_id: int | None = None,
) -> list[EvidenceAttachment]:
    """Attach evidence to exactly one owner; the same bytes are recorded once."""
    attachments = []
    for item in items:
        record = session.exec(
            select(EvidenceFile).where(col(EvidenceFile.sha256) == item.stored.sha256)
        ).first()
        if record is None:
            record = EvidenceFile(
                sha256=item.stored.sha256,
                size_bytes=item.stored.size_bytes,
                media_type=item.stored.media_type,
                stored_at=now,
            )
            session.add(record)
            session.flush()
        attachment = EvidenceAttachment(
            evidence_id=record.id,  # type: ignore[arg-type]
            item_result_id=item_result_id,
            order_event_id=order_event_id,
            original_name=item.original_name,
            taken_at=item.taken_at,
            latitude=item.gps.latitude if item.gps else None,
            longitude=item.gps.longitude if item.gps else None,
        )
        session.add(attachment)
        attachments.append(attachment)
    session.flush()
    return attachments
