"""``ducha audit summary``, ``ducha audit trail`` and ``ducha audit findings`` without SQLAlchemy.

The same statements as ``funds.reads`` and ``workflows.fund_audit`` (compiled ahead of time:
``workflows.ahead.audit_statements``), run on a driver connection (``models.raw``), making the same
rows and the same summary (``funds.summary_rows``, ``funds.trail_rows``, ``workflows.finding_rows``).
Whatever this module does not do exactly as the full path would (a programme or a project that is
not found, or not found once) raises ``NotAhead`` before anything is printed, and the command takes
the full path, which says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from funds.summary_rows import Summary, make_summary
from funds.trail_rows import TrailRow, trail_row
from models.raw import Entry, RawReader
from workflows.finding_rows import FindingRow, finding_row
from workflows.lean_reads import BATCH, find_programme, find_project, statement
from workflows.show_rows import ShownProject


def summary(reader: RawReader, *, programme: str | None, at: datetime | None) -> Summary:
    """As ``funds.reads.summary`` of the programme ``find_programme`` finds."""
    found = find_programme(reader, programme)
    parameters: dict[str, Any] = {"programme_id": found.id}
    sources = reader.all(statement(reader, "audit_fund_sources", parameters), parameters)
    if at is not None:
        parameters["until"] = reader.utc(at)
    totals = reader.all(statement(reader, "audit_summary", parameters), parameters)
    return make_summary(found.name, at, sources, totals)


def trail(
    reader: RawReader, *, project: str, programme: str | None, at: datetime | None
) -> tuple[ShownProject, Iterator[TrailRow]]:
    """The project ``find_project`` finds (in the programme named, if one is) and, as
    ``funds.reads.trail``, its movements, streamed while the reader is open."""
    programme_id = find_programme(reader, programme).id if programme else None
    target = find_project(reader, project, programme_id)
    parameters: dict[str, Any] = {"programme_id": target.programme_id, "project_id": target.id}
    if at is not None:
        parameters["until"] = reader.utc(at)
    # Looked up now: a shape not compiled ahead is found before anything is printed.
    return target, _rows(reader, statement(reader, "audit_trail", parameters), parameters)


def _rows(reader: RawReader, entry: Entry, parameters: dict[str, Any]) -> Iterator[TrailRow]:
    for batch in reader.stream(entry, parameters, BATCH):
        for found in batch:
            yield trail_row(found)


def findings(reader: RawReader, *, programme: str | None) -> list[FindingRow]:
    """As ``workflows.fund_audit.audit_findings``."""
    parameters = {"programme": find_programme(reader, programme).id}
    rows = reader.all(statement(reader, "audit_findings", parameters), parameters)
    return [finding_row(row) for row in rows]
