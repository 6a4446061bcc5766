"""Checklist templates kept in the database: load one (exact text, versioned), find one, parse it once."""

from datetime import datetime
from functools import lru_cache

from sqlmodel import Session, col, select

from inspections.templates import ChecklistTemplate, builtin_templates, parse_template
from models import Inspection, InspectionTemplateRecord
from models.errors import NotFound
from models.versioned import keep_source, newest_source


class UnknownTemplate(NotFound):
    """No loaded checklist template has this key (and version)."""


def load_template(*, session: Session, text: str, source: str, now: datetime) -> InspectionTemplateRecord:
    """Validate a checklist template and keep its exact text; the same text again changes nothing."""
    template = parse_template(text, source)
    return _keep(session, template, text, source, now)


def _keep(
    session: Session, template: ChecklistTemplate, text: str, source: str, now: datetime
) -> InspectionTemplateRecord:
    return keep_source(
        session=session,
        record_type=InspectionTemplateRecord,
        key=template.key,
        version=template.version,
        text=text,
        source=source,
        now=now,
        title=template.title,
        kind=template.kind.value,
    )


def load_builtin_templates(*, session: Session, now: datetime) -> list[InspectionTemplateRecord]:
    """Keep every built-in template (idempotent)."""
    return [_keep(session, b.template, b.text, b.source, now) for b in builtin_templates()]


@lru_cache(maxsize=64)
def _parse_cached(text: str, source: str) -> ChecklistTemplate:
    return parse_template(text, source)


def get_template(
    *, session: Session, key: str, version: int | None = None
) -> tuple[InspectionTemplateRecord, ChecklistTemplate]:
    """A loaded template: the given version, or the newest one."""
    record = newest_source(session=session, record_type=InspectionTemplateRecord, key=key, version=version)
    if record is None:
        wanted = f"{key} version {version}" if version is not None else key
        loaded = sorted(
            set(
                session.exec(select(InspectionTemplateRecord.key).order_by(col(InspectionTemplateRecord.key)))
            )
        )
        known = f"loaded: {', '.join(loaded)}" if loaded else "none is loaded: run `ducha init`"
        raise UnknownTemplate(f"checklist template {wanted} is not loaded ({known})")
    return record, _parse_cached(record.source_text, record.source_name)


def template_of(*, session: Session, inspection: Inspection) -> ChecklistTemplate:
    """The template version an inspection was recorded against."""
    record = session.get(InspectionTemplateRecord, inspection.template_id)
    assert record is not None
    return _parse_cached(record.source_text, record.source_name)
