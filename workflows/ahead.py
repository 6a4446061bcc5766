"""The CLI's read statements compiled ahead of time: writes ``workflows/ahead_sql.py``.

``ducha projects`` and ``ducha board`` run without SQLAlchemy (``workflows.lean_reads`` on
``models.raw``): the statements they run are the ones ``workflows.board`` and ``models.versioned``
build, compiled here by SQLAlchemy for each dialect and each shape (the filters given, the window,
the length of each list bound to an IN), with the parameter order and a converter per result column.
A test compiles them again and fails if the committed file differs; after changing a statement run

    .venv/bin/python -m workflows.ahead --write

A shape the file does not hold (an IN list longer than ``LONGEST``) is not an error: the command
takes SQLAlchemy's path.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, bindparam, create_engine, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Dialect, processors

from funds.reads import _balances_statement, _fund_sources_statement, _summary_statement, _trail_statement
from inspections.orders import _orders_statement, order_filters
from inspections.queries import _inspections_statement
from models import Inspection, InspectionTemplateRecord, Person, Programme, Project, WorkflowDefinitionRecord
from models.compiled import Compiled
from models.raw import UTC_BINDERS, Entry, shape
from models.scope import EVERYTHING
from models.types import UTCDateTime, table_of
from models.versioned import _newest_text
from notifications.notice_rows import INBOX, notice_filters, notices_name
from notifications.queries import _notices_statement
from workflows.alerts import _alerts_statement, _deadlines_statement, _unit_holders, deadline_filters
from workflows.board import _board_statements, _filtered_rows, _programmes_statement
from workflows.definition_rows import DEFINITION_FIELDS
from workflows.fund_audit import _findings_statement
from workflows.guards import FACT_STATEMENTS, fact_statement
from workflows.lean_reads import INSPECTION_FIELDS, PROGRAMME_FIELDS
from workflows.projects import documents_statement, history_statement, project_ref_statement
from workflows.reads import _definitions_statement, inspectors_statement, results_statement
from workflows.staff import people_roles_statement, people_statement

OUT = Path(__file__).with_name("ahead_sql.py")
# The longest list bound to an IN that has its own shape (the ended stages of a definition, the
# stages its milestones are met in).
LONGEST = 8
# The URLs whose dialects compile the statements (nothing connects to them).
DIALECTS = {"sqlite": "sqlite://", "postgresql": "postgresql+psycopg://"}
# Result processors SQLAlchemy's column types have, by the code ``models.raw.CONVERTERS`` knows.
_CODES = {processors.str_to_date: "date", processors.int_to_boolean: "bool"}
# The project list's filters that come in any combination, and the one that comes alone with the programme.
LIST_FILTERS = ("programme_id", "stage", "town")
WINDOWS = ((False, False), (False, True), (True, False), (True, True))
OPEN_OVERDUE = ((False, False), (True, False), (True, True))  # --open, --overdue (which is open)
# Parameters compared with a UTCDateTime column: the lean reads bind them with models.raw.UTC_BINDERS,
# checked here against the column type's own bind processor on these times.
UTC_PARAMETERS = frozenset(
    {"created_by", "until", "overdue_at", "recorded_by", "occurred_by", "loaded_by", "as_of"}
)
# The alert list's filters ``ducha alerts`` gives (in any combination).
ALERT_FILTERS = ("level", "project_id", "until")
_UTC_SAMPLES = (
    datetime(2026, 12, 10, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    datetime(2027, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
    datetime(1999, 3, 4, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
)


def programmes_first() -> Any:
    """The first two programmes (``find_programme`` with no name: one there must be, exactly)."""
    p = table_of(Programme).c
    return sa_select(p.id, p.name, p.definition_key, p.earmark, p.illustrative).order_by(p.id).limit(2)


def programme_by_ref() -> Any:
    """The programmes named ``ref`` or with the id ``ref_id`` (``find_programme`` with a name)."""
    p = table_of(Programme).c
    return (
        sa_select(p.id, p.name, p.definition_key, p.earmark, p.illustrative)
        .where(or_(p.name == bindparam("ref"), p.id == bindparam("ref_id")))
        .order_by(p.id)
    )


def person_by_ref() -> Any:
    """The first two people with the phone or name ``ref`` or the id ``ref_id`` (as
    ``workflows.people.find_person`` finds them: exactly one, or the full path says what is wrong)."""
    p = table_of(Person).c
    matching = or_(p.phone == bindparam("ref"), p.name == bindparam("ref"), p.id == bindparam("ref_id"))
    return sa_select(p.id, p.name).where(matching).order_by(p.id).limit(2)


def inspection_whole() -> Any:
    """An inspection's columns whole (``lean_reads.INSPECTION_FIELDS``: every field of the table), its
    project's code and the source of the template version it was recorded against."""
    inspection, project = table_of(Inspection), table_of(Project)
    template = table_of(InspectionTemplateRecord)
    if INSPECTION_FIELDS != tuple(Inspection.model_fields):
        raise ValueError(f"lean_reads.INSPECTION_FIELDS {INSPECTION_FIELDS} are not Inspection's fields")
    return (
        sa_select(*(inspection.c[name] for name in INSPECTION_FIELDS), project.c.code, template.c.source_text)
        .join_from(inspection, project, project.c.id == inspection.c.project_id)
        .join(template, template.c.id == inspection.c.template_id)
        .where(inspection.c.id == bindparam("inspection_id"))
    )


def programme_whole() -> Any:
    """A programme's columns whole (``lean_reads.PROGRAMME_FIELDS``: every field of the table)."""
    p = table_of(Programme)
    if PROGRAMME_FIELDS != tuple(Programme.model_fields):
        raise ValueError(f"lean_reads.PROGRAMME_FIELDS {PROGRAMME_FIELDS} are not Programme's fields")
    return sa_select(*(p.c[name] for name in PROGRAMME_FIELDS)).where(p.c.id == bindparam("programme"))


def show_statements() -> Iterator[tuple[str, Compiled, dict[str, Any]]]:
    """What ``ducha show`` runs (workflows.lean_show): the project a reference names, its row, history
    and documents, and the guards' facts (workflows.guards.FACT_STATEMENTS)."""
    reference = {"code": "x", "name": "x", "ref_id": 1, "window_limit": 2}
    for in_programme in (False, True):
        named = project_ref_statement(in_programme).windowed(offset=False, limit=True)
        yield "show_project_ref", named, {**reference, **({"programme_id": 1} if in_programme else {})}
    project = {"project_id": 1}
    rows, _ = _filtered_rows(frozenset(project), EVERYTHING)
    yield "show_project", rows, project
    yield "show_history", history_statement(), project
    yield "show_documents", documents_statement(), project
    signed = {**project, "kind": "x", "as_of": _UTC_SAMPLES[0]}
    for name in FACT_STATEMENTS:
        yield name, fact_statement(name), signed if name == "guard_current_signed" else project


def audit_statements() -> Iterator[tuple[str, Compiled, dict[str, Any]]]:
    """The statements of ``ducha audit summary``, ``trail`` and ``findings`` (workflows.lean_audit)."""
    yield "audit_fund_sources", _fund_sources_statement(), {"programme_id": 1}
    for until in (False, True):
        by = {"until": _UTC_SAMPLES[0]} if until else {}
        yield "audit_summary", _summary_statement(until), {"programme_id": 1, **by}
        yield "audit_trail", _trail_statement(until), {"programme_id": 1, "project_id": 1, **by}
    yield "audit_findings", _findings_statement(), {"programme": 1}


def statements() -> Iterator[tuple[str, Compiled, dict[str, Any]]]:
    """Every (name, statement, parameters of one shape) the lean reads run."""
    yield from show_statements()
    yield from audit_statements()
    yield "programmes_first", Compiled(programmes_first()), {}
    yield "programme_by_ref", Compiled(programme_by_ref()), {"ref": "x", "ref_id": 1}
    yield "programme_whole", Compiled(programme_whole()), {"programme": 1}
    yield "person_by_ref", Compiled(person_by_ref()), {"ref": "x", "ref_id": 1}
    inspection = {"inspection_id": 1}
    yield "inspection_whole", Compiled(inspection_whole()), inspection
    yield "inspection_results", results_statement(), inspection
    yield "inspection_inspectors", inspectors_statement(), inspection
    yield "definition_newest", _newest_text(WorkflowDefinitionRecord, False), {"key": "x"}
    yield "definition_version", _newest_text(WorkflowDefinitionRecord, True), {"key": "x", "version": 1}
    board = _board_statements()
    programme = {"programme": 1}
    yield "board_by_town", board.by_town(EVERYTHING), programme
    yield "board_budget", board.budget(EVERYTHING), programme
    yield "board_milestones", board.milestones, programme
    for length in range(1, LONGEST + 1):
        yield "board_reached", board.reached(EVERYTHING), {**programme, "stages": ["x"] * length}
    lists: list[dict[str, Any]] = [
        dict.fromkeys(chosen, 1)
        for size in range(len(LIST_FILTERS) + 1)
        for chosen in itertools.combinations(LIST_FILTERS, size)
    ]
    lists += [{"programme_id": 1, "ended": ["x"] * length} for length in range(LONGEST + 1)]
    yield "alerts_unit_holders", _unit_holders(), {}
    for size in range(len(ALERT_FILTERS) + 1):
        for chosen in itertools.combinations(ALERT_FILTERS, size):
            filtered: dict[str, Any] = {name: _UTC_SAMPLES[0] if name == "until" else 1 for name in chosen}
            alerts = _alerts_statement(frozenset(filtered), EVERYTHING)
            yield from _listed("alerts", alerts, filtered)
    for (open_only, overdue), project in itertools.product(
        ((False, False), (True, False), (True, True)), (None, 1)
    ):
        filters, parameters = deadline_filters(
            open_only=open_only, overdue_at=_UTC_SAMPLES[0] if overdue else None, project_id=project
        )
        name = "deadlines_open" if open_only else "deadlines"
        deadlines = _deadlines_statement(filters, EVERYTHING)
        yield from _listed(name, deadlines, parameters)
    for (open_only, overdue), project in itertools.product(
        ((False, False), (True, False), (True, True)), (None, 1)
    ):
        filters, parameters = order_filters(
            project_id=project,
            open_only=open_only,
            overdue_at=_UTC_SAMPLES[0] if overdue else None,
            responsible_person_id=None,
        )
        name = "orders_open" if open_only else "orders"
        orders = _orders_statement(filters, EVERYTHING)
        yield from _listed(name, orders, parameters)
    for created_by in (False, True):
        listed = _programmes_statement(created_by, EVERYTHING)
        parameters = {"created_by": _UTC_SAMPLES[0]} if created_by else {}
        yield from _listed("programmes", listed, parameters)
    for parameters in lists:
        rows, counted = _filtered_rows(frozenset(parameters), EVERYTHING)
        yield from _windowed("projects", counted, rows, parameters)
    yield from record_lists()


def _listed(
    name: str, listed: Compiled, parameters: dict[str, Any]
) -> Iterator[tuple[str, Compiled, dict[str, Any]]]:
    """A list's count (``name_count``) and its rows in every window shape (``name``)."""
    yield from _windowed(name, listed.counting(), listed, parameters)


def _windowed(
    name: str, counted: Compiled, listed: Compiled, parameters: dict[str, Any]
) -> Iterator[tuple[str, Compiled, dict[str, Any]]]:
    """The count ``counted`` (``name_count``) and ``listed`` in every window shape (``name``)."""
    yield f"{name}_count", counted, parameters
    for offset, limit in WINDOWS:
        windowed = {**parameters}
        if offset:
            windowed["window_offset"] = 1
        if limit:
            windowed["window_limit"] = 1
        yield name, listed.windowed(offset=offset, limit=limit), windowed


# What ``ducha notices`` reads without SQLAlchemy: at most one of --state, --failed and
# --unacknowledged, with or without --channel (the inbox's own shape), --person and --at; the rarer
# combinations take the full path. ``ducha inbox``: a person's inbox notices, all or the unread.
NOTICE_KINDS = (None, "state", "failed", "unacknowledged")
NOTICE_CHANNELS = (None, "email", INBOX)


def record_lists() -> Iterator[tuple[str, Compiled, dict[str, Any]]]:
    """The statements of ``ducha inspections``, ``ducha notices``, ``ducha funds balances`` and
    ``ducha workflows``."""
    for recorded_by, project in itertools.product((False, True), (False, True)):
        parameters: dict[str, Any] = {"recorded_by": _UTC_SAMPLES[0]} if recorded_by else {}
        if project:
            parameters["project_id"] = 1
        yield from _listed(
            "inspections", _inspections_statement(frozenset(parameters), EVERYTHING), parameters
        )
    for occurred_by, project in itertools.product((False, True), (False, True)):
        parameters = {"programme_id": 1, **({"occurred_by": _UTC_SAMPLES[0]} if occurred_by else {})}
        if project:
            parameters["project_id"] = 1
        yield from _listed(
            "balances", _balances_statement(frozenset(parameters) - {"programme_id"}), parameters
        )
    notice_lists = itertools.product(NOTICE_KINDS, NOTICE_CHANNELS, (False, True), (False, True), (False,))
    inboxes = itertools.product((None,), (INBOX,), (False, True), (True,), (True,))
    for kind, channel, created_by, person, unread in itertools.chain(notice_lists, inboxes):
        if kind == "state" and channel == INBOX:  # a state given: the inbox is any channel's shape
            continue
        filters, parameters = notice_filters(
            state="queued" if kind == "state" else None,
            failed=kind == "failed",
            person_id=1 if person else None,
            unacknowledged=kind == "unacknowledged",
            channel=channel,
            unread=unread,
            created_by=_UTC_SAMPLES[0] if created_by else None,
        )
        yield from _listed(notices_name(filters, parameters), _notices_statement(filters), parameters)
    yield from _listed("people", people_statement(), {})
    yield "people_roles", people_roles_statement(), {"low": 1, "high": 2}
    yield "workflow_definitions", _definitions_statement(False), {}
    yield "workflow_definitions", _definitions_statement(True), {"loaded_by": _UTC_SAMPLES[0]}


def workflow_fields() -> None:
    """``workflows.definition_rows.DEFINITION_FIELDS`` are the definition table's fields but its text."""
    fields = tuple(name for name in WorkflowDefinitionRecord.model_fields if name != "source_text")
    if DEFINITION_FIELDS != fields:
        raise ValueError(f"definition_rows.DEFINITION_FIELDS {DEFINITION_FIELDS} are not {fields}")


def dialects() -> dict[str, Dialect]:
    return {name: create_engine(url).dialect for name, url in DIALECTS.items()}


def entry(compiled: Compiled, dialect: Dialect, parameters: dict[str, Any]) -> Entry:
    plan = compiled._plan(dialect, parameters)
    process = dict(plan.processors)
    for name in UTC_PARAMETERS & set(parameters):
        for sample in _UTC_SAMPLES:
            if process[name](sample) != UTC_BINDERS[dialect.name](sample):
                raise ValueError(f"{name}: models.raw.UTC_BINDERS binds {sample!r} unlike the column type")
        del process[name]
    if any(name in process for name in parameters):
        raise ValueError(f"a parameter needs a bind processor: {sorted(set(process) & set(parameters))}")
    # The values bound in the statement itself, as the driver gets them (an enum member as its text).
    defaults = {
        name: process[name](value) if name in process else value for name, value in plan.defaults.items()
    }
    for name, value in defaults.items():
        if isinstance(value, str) and type(value) is not str:  # a StrEnum member: the driver sends its text
            defaults[name] = value = str(value)
        if type(value) not in (int, str, float, bool, type(None)):
            raise ValueError(f"{name}: {value!r} is not a plain value")
    codes: list[str | None] = []
    for column in compiled._compiled[f"{dialect.name}+{dialect.driver}"]._result_columns:
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if isinstance(column.type, UTCDateTime):
            # An aware UTC time: SQLite's text parsed (SQLAlchemy's DATETIME), PostgreSQL's timestamptz
            # moved to UTC (what UTCDateTime.process_result_value does after the dialect's own).
            inner = column.type.impl.dialect_impl(dialect).result_processor(dialect, None)
            expected = processors.str_to_datetime if dialect.name == "sqlite" else None
            if inner is not expected:
                raise ValueError(f"UTCDateTime on {dialect.name}: {inner!r}, not {expected!r}")
            codes.append(f"utc_{dialect.name}")
            continue
        if isinstance(column.type, JSON):
            # SQLite: text parsed as SQLAlchemy's JSON does (json.loads); psycopg parses it itself.
            if (process is None) != (dialect.name == "postgresql"):
                raise ValueError(f"JSON on {dialect.name}: {process!r}")
            codes.append("json" if process is not None else None)
            continue
        if process is not None and process not in _CODES:
            raise ValueError(f"no converter for {column.type!r} on {dialect.name} ({process!r})")
        codes.append(None if process is None else _CODES[process])
    return (
        plan.sql,
        plan.positional,
        defaults,
        {name: tuple(names) for name, names in plan.expansion.items()},
        tuple(codes),
    )


def generate() -> str:
    """The text of ``workflows/ahead_sql.py``."""
    workflow_fields()
    found: dict[str, Entry] = {}
    for dialect_name, dialect in dialects().items():
        for name, compiled, parameters in statements():
            found[f"{dialect_name}|{name}|{shape(parameters)}"] = entry(compiled, dialect, parameters)
    body = "{\n" + "".join(f"    {key!r}: {found[key]!r},\n" for key in sorted(found)) + "}"
    return (
        '"""The CLI\'s read statements compiled ahead of time, by dialect, statement and shape.\n\n'
        "Generated by `python -m workflows.ahead --write` (see workflows/ahead.py): do not edit.\n"
        '"""\n\n'
        "# ruff: noqa: E501\n"
        "from models.raw import Entry\n\n"
        f"STATEMENTS: dict[str, Entry] = {body}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {OUT.name} (else: say if it is current)")
    args = parser.parse_args(argv)
    text = generate()
    if args.write:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT}")
        return 0
    current = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
    print(f"{OUT} is {'current' if current else 'stale: run python -m workflows.ahead --write'}")
    return 0 if current else 1


if __name__ == "__main__":
    sys.exit(main())
