"""The ledger's latest signed checkpoints, sent to the auditors each day (审计留存), so that a copy of
every log's signed tree head lives outside the database: with it an auditor can later prove that
no entry was removed or changed (``ducha audit verify --checkpoint``)."""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from models import Role
from models.ledger import LedgerCheckpoint, LedgerLog
from models.types import table_of
from notifications.alert_notices import office_name, unit_holders
from notifications.outbox import Draft

CHECKPOINT, LOG = table_of(LedgerCheckpoint), table_of(LedgerLog)


def checkpoint_drafts(*, session: Session, now: datetime) -> Iterator[Draft]:
    """A notice to every auditor of each log's latest checkpoint signed by ``now``; a checkpoint
    already sent is not sent again (its key is the same), so a day without entries sends nothing."""
    auditors = unit_holders(session).get(Role.AUDITOR, [])
    if not auditors:
        return
    latest = (
        select(CHECKPOINT.c.programme_id, func.max(CHECKPOINT.c.id).label("id"))
        .where(CHECKPOINT.c.signed_at <= now)
        .group_by(CHECKPOINT.c.programme_id)
        .subquery()
    )
    rows = session.execute(
        select(
            CHECKPOINT.c.id, LOG.c.origin, CHECKPOINT.c.tree_size, CHECKPOINT.c.signed_at, CHECKPOINT.c.note
        )
        .join(latest, latest.c.id == CHECKPOINT.c.id)
        .join(LOG, LOG.c.programme_id == CHECKPOINT.c.programme_id)
        .order_by(CHECKPOINT.c.programme_id)
    ).all()
    office = office_name(session)
    for checkpoint_id, origin, size, signed_at, note in rows:
        for auditor in auditors:
            yield Draft(
                cause=f"checkpoint:{checkpoint_id}",
                kind="checkpoint",
                person=auditor,
                template="checkpoint",
                context={
                    "person": {"name": auditor.name},
                    "office": office,
                    "now": now,
                    "checkpoint": {"origin": origin, "size": int(size), "signed_at": signed_at, "note": note},
                },
            )
