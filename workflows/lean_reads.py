"""``ducha projects``, ``ducha board`` and ``ducha programmes`` without SQLAlchemy, SQLModel or pydantic.

The same statements as ``workflows.board`` (compiled ahead of time: ``workflows.ahead``), run on a
driver connection (``models.raw``), making the same rows (``workflows.board_rows``). Whatever this
module does not do exactly as the full path would (a shape not compiled ahead, a programme that is
not found, or not found once) raises ``NotAhead`` before anything is printed, and the command takes
the full path, which says what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from inspections.order_rows import OrderRow, order_rows
from models.raw import Entry, NotAhead, RawReader, shape
from models.text import reference
from models.window import Streamed, Window
from workflows.alert_rows import AlertRow, DeadlineRow, alert_rows, deadline_rows, unit_holders
from workflows.board_rows import (
    Board,
    ProgrammeRow,
    ProjectRow,
    make_board,
    programme_row,
    project_rows,
    tally_towns,
)
from workflows.show_rows import ShownProject, project_ref_parameters

if TYPE_CHECKING:
    from funds.balance_rows import BalanceRow
    from inspections.inspection_rows import InspectionRow, ItemLine
    from notifications.notice_rows import NoticeRow
    from workflows.definition_rows import DefinitionRow
    from workflows.staff_rows import PersonRow

T = TypeVar("T")
U = TypeVar("U")

# Rows fetched at a time while streaming (models.listing.BATCH).
BATCH = 1000


def statement(reader: RawReader, name: str, parameters: Mapping[str, Any]) -> Entry:
    """The statement ``name`` compiled ahead for this dialect and these parameters' shape."""
    from workflows.ahead_sql import STATEMENTS

    found = STATEMENTS.get(f"{reader.dialect}|{name}|{shape(parameters)}")
    if found is None:
        raise NotAhead(f"{name} ({shape(parameters)}) is not compiled ahead")
    return found


@dataclass(frozen=True)
class ProgrammeInfo:
    """The columns of a programme the board prints."""

    id: int
    name: str
    definition_key: str
    earmark: str
    illustrative: bool


@dataclass(frozen=True)
class ProgrammeWhole:
    """A programme's table row whole, its fields in the table's order (as ``ducha.cli.json_output``
    writes a table row: ``ducha board --json``)."""

    id: int
    name: str
    district_id: int
    definition_key: str
    earmark: str
    illustrative: bool
    created_at: datetime


# The columns of ``programme_whole`` (workflows.ahead checks them against the table's fields).
PROGRAMME_FIELDS = ("id", "name", "district_id", "definition_key", "earmark", "illustrative", "created_at")


def whole_programme(reader: RawReader, programme: ProgrammeInfo) -> ProgrammeWhole:
    """The table row of a programme found (``find_programme``), for the board's JSON."""
    parameters = {"programme": programme.id}
    found = reader.first(statement(reader, "programme_whole", parameters), parameters)
    if found is None:  # removed in between: the full path says so
        raise NotAhead("the programme is gone")
    return ProgrammeWhole(*found)


def find_programme(reader: RawReader, ref: str | None) -> ProgrammeInfo:
    """As ``workflows.programmes.find_programme`` when it finds exactly one programme."""
    if ref is None:
        rows = reader.all(statement(reader, "programmes_first", {}), {})
    else:
        ref = reference(ref, field="programme")
        parameters = {"ref": ref, "ref_id": int(ref) if ref.isdecimal() and len(ref) < 10 else -1}
        rows = reader.all(statement(reader, "programme_by_ref", parameters), parameters)
    if len(rows) != 1:
        raise NotAhead("not exactly one programme")
    return ProgrammeInfo(*rows[0])


@dataclass(frozen=True)
class _Definition:
    """What the lists and the board read of a stored workflow definition (workflows.definition)."""

    key: str
    version: int
    stages: list[dict[str, Any]]
    suspension: dict[str, Any] | None
    milestones: list[dict[str, Any]]

    def stage_label(self, key: str) -> str:
        if self.suspension and key == self.suspension["stage"]:
            return f"{self.suspension['label']} {self.suspension['label_en']}"
        stage = next((stage for stage in self.stages if stage["key"] == key), None)
        return f"{stage['label']} {stage['label_en']}" if stage else key

    def stage_keys(self) -> list[str]:
        keys = [stage["key"] for stage in self.stages]
        return keys + ([self.suspension["stage"]] if self.suspension else [])

    def ended_stages(self) -> list[str]:
        return [stage["key"] for stage in self.stages if stage["phase"] == "ended"]

    def milestone(self, key: str) -> dict[str, Any] | None:
        return next((milestone for milestone in self.milestones if milestone["key"] == key), None)


@cache
def _parse(text: str) -> _Definition:
    """A stored definition: checked in full when it was loaded, so read as it is (the C parser, as
    ``workflows.definition`` reads a stored one)."""
    import yaml

    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return _Definition(
        key=data["key"],
        version=data["version"],
        stages=data["stages"],
        suspension=data.get("suspension"),
        milestones=data.get("milestones") or [],
    )


def find_project(reader: RawReader, ref: str, programme_id: int | None = None) -> ShownProject:
    """As ``workflows.projects.find_project`` when it finds exactly one project; else ``NotAhead``, and
    the full path says what is wrong."""
    parameters = {**project_ref_parameters(ref, programme_id), "window_limit": 2}
    rows = reader.all(statement(reader, "show_project_ref", parameters), parameters)
    if len(rows) != 1:
        raise NotAhead("not exactly one project")
    return ShownProject(*rows[0])


@dataclass(frozen=True)
class PersonInfo:
    """What the lists read of a person a reference names (``find_person``)."""

    id: int
    name: str


def find_person(reader: RawReader, ref: str) -> PersonInfo:
    """As ``workflows.people.find_person`` when it finds exactly one person (by phone, name or id);
    else ``NotAhead``, and the full path says what is wrong."""
    ref = reference(ref, field="person")
    parameters = {"ref": ref, "ref_id": int(ref) if ref.isdecimal() and len(ref) < 9 else -1}
    rows = reader.all(statement(reader, "person_by_ref", parameters), parameters)
    if len(rows) != 1:
        raise NotAhead("not exactly one person")
    return PersonInfo(*rows[0])


# The columns of ``inspection_whole`` (workflows.ahead checks them against the table's fields).
INSPECTION_FIELDS = (
    "id", "project_id", "template_id", "kind", "announced", "inspected_at", "recorded_at", "score_tenths",
    "outcome", "notes", "signed_at", "signed_by_id", "supersedes_id", "follow_up_of_id",
)  # fmt: skip


@dataclass(frozen=True)
class InspectionWhole:
    """An inspection's table row whole, its fields in the table's order (as ``ducha.cli.json_output``
    writes a table row: ``ducha inspect show --json``)."""

    id: int
    project_id: int
    template_id: int
    kind: str
    announced: bool
    inspected_at: datetime
    recorded_at: datetime
    score_tenths: int
    outcome: str
    notes: str
    signed_at: datetime | None
    signed_by_id: int | None
    supersedes_id: int | None
    follow_up_of_id: int | None


@dataclass(frozen=True)
class InspectionShown:
    """As ``workflows.reads.InspectionDetail``, the inspection its row whole."""

    inspection: InspectionWhole
    project_code: str
    inspectors: list[str]
    items: list[ItemLine]
    follows_up: bool


@cache
def _template_items(text: str) -> list[tuple[str, str]] | None:
    """The items (key, text) of a stored checklist template in its order (checked in full when it was
    loaded, so read as it is); None if they are not plainly what validating them gives."""
    import yaml

    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    items = [(item.get("key"), item.get("text")) for section in data["sections"] for item in section["items"]]
    if not all(type(key) is str and type(text) is str for key, text in items):
        return None
    return items


def inspection_detail(reader: RawReader, inspection_id: int, *, as_of: datetime | None) -> InspectionShown:
    """As ``workflows.reads.inspection_detail``; an inspection not found (or recorded after ``as_of``)
    or a template not plainly read: ``NotAhead``, and the full path says what it says."""
    from inspections.inspection_rows import ResultLine, item_lines

    parameters = {"inspection_id": inspection_id}
    found = reader.first(statement(reader, "inspection_whole", parameters), parameters)
    if found is None:
        raise NotAhead("no such inspection")
    inspection = InspectionWhole(*found[: len(INSPECTION_FIELDS)])
    code, source_text = found[len(INSPECTION_FIELDS) :]
    if as_of is not None and inspection.recorded_at > as_of:
        raise NotAhead("recorded after --at")
    items = _template_items(source_text)
    if items is None:
        raise NotAhead("a template item not plainly read")

    def results(of: int) -> dict[str, ResultLine]:
        bound = {"inspection_id": of}
        rows = reader.all(statement(reader, "inspection_results", bound), bound)
        return {key: ResultLine(verdict, value, notes) for key, verdict, value, notes in rows}

    rows = results(inspection_id)
    original = results(inspection.follow_up_of_id) if inspection.follow_up_of_id else {}
    inspectors = [
        name for (name,) in reader.all(statement(reader, "inspection_inspectors", parameters), parameters)
    ]
    return InspectionShown(inspection, code, inspectors, item_lines(items, rows, original), bool(original))


def get_definition(reader: RawReader, key: str, version: int | None = None) -> _Definition:
    parameters: dict[str, Any] = {"key": key} if version is None else {"key": key, "version": version}
    name = "definition_newest" if version is None else "definition_version"
    found = reader.first(statement(reader, name, parameters), parameters)
    if found is None:
        raise NotAhead(f"no definition {key}")  # the full path says it is not loaded
    return _parse(found[0])


class LeanListing(Streamed[ProjectRow]):
    """As ``models.listing.Listing`` over ``workflows.board.list_projects``'s statement."""

    def __init__(
        self, reader: RawReader, parameters: dict[str, Any], window: Window, known: _Definition | None
    ):
        self._reader = reader
        self.window = window
        self._parameters = parameters
        windowed = dict(parameters)
        if window.offset:
            windowed["window_offset"] = window.offset
        if window.limit is not None:
            windowed["window_limit"] = window.limit
        self._windowed = windowed
        # Both looked up now: a shape not compiled ahead is found before anything is printed.
        self._rows = statement(reader, "projects", windowed)
        self._counted = statement(reader, "projects_count", parameters)
        self._definitions: dict[tuple[str, int], _Definition] = {}
        if known is not None:
            self._definitions[(known.key, known.version)] = known
        self._streamed: int | None = None

    def _label(self, key: str, version: int, stage: str) -> str:
        definition = self._definitions.get((key, version))
        if definition is None:
            definition = self._definitions[(key, version)] = get_definition(self._reader, key, version)
        return definition.stage_label(stage)

    def __iter__(self) -> Iterator[ProjectRow]:
        window, streamed = self.window, 0
        row = project_rows(self._label)
        if window.limit is not None and window.limit <= BATCH:
            partitions: Any = [self._reader.all(self._rows, self._windowed)]
        else:
            partitions = self._reader.stream(self._rows, self._windowed, BATCH)
        for partition in partitions:
            batch = [row(found) for found in partition]
            streamed += len(batch)
            yield from batch
        self._streamed = streamed

    def count(self) -> int:
        if self.window.everything and self._streamed is not None:
            return self._streamed
        found = self._reader.first(self._counted, self._parameters)
        assert found is not None
        return int(found[0])


def list_projects(
    reader: RawReader,
    *,
    programme_id: int | None = None,
    stage: str | None = None,
    town: str | None = None,
    not_started_by: list[str] | None = None,
    window: Window = Window(),
    definition: _Definition | None = None,
) -> LeanListing:
    """As ``workflows.board.list_projects`` with these filters and every project in scope."""
    given = {"programme_id": programme_id, "stage": stage, "town": town, "ended": not_started_by}
    parameters = {name: value for name, value in given.items() if value is not None}
    return LeanListing(reader, parameters, window, definition)


def programme_board(
    reader: RawReader, *, programme: ProgrammeInfo | ProgrammeWhole, now: datetime, window: Window
) -> Board:
    """As ``workflows.board.programme_board`` with every project in scope."""
    definition = get_definition(reader, programme.definition_key)
    stage_order = definition.stage_keys()
    ended = definition.ended_stages()
    parameters: dict[str, Any] = {"programme": programme.id}
    by_town_rows = statement(reader, "board_by_town", parameters)
    budget_rows = statement(reader, "board_budget", parameters)
    milestone_rows = statement(reader, "board_milestones", parameters)
    projects = list_projects(reader, programme_id=programme.id, window=window, definition=definition)
    not_started = list_projects(
        reader, programme_id=programme.id, not_started_by=ended, window=window, definition=definition
    )
    tally = tally_towns(reader.all(by_town_rows, parameters), stage_order, ended)
    declared = [
        (key, milestone["title"], milestone["title_en"], milestone["stage"], due_date)
        for key, due_date in reader.all(milestone_rows, parameters)
        if (milestone := definition.milestone(key)) is not None
    ]
    reached: dict[str, int] = {}
    if declared:
        stages = sorted({stage for _, _, _, stage, _ in declared})
        reached_parameters = {**parameters, "stages": stages}
        reached = dict(reader.all(statement(reader, "board_reached", reached_parameters), reached_parameters))
    return make_board(
        programme=programme,
        now=now,
        tally=tally,
        stage_order=stage_order,
        stage_label=definition.stage_label,
        budget_rows=reader.all(budget_rows, parameters),
        declared=declared,
        reached=reached,
        projects=projects,
        not_started=not_started,
    )


class LeanRows(Streamed[T]):
    """As ``models.listing.Listing.each`` over a statement compiled ahead (``name``) and its count
    (``name_count``): the window bound as parameters, each result row made by ``row``."""

    def __init__(
        self,
        reader: RawReader,
        name: str,
        parameters: dict[str, Any],
        window: Window,
        row: Callable[[Any], T] | None = None,
        *,
        batch: Callable[[list[Any]], list[T]] | None = None,
    ):
        self._reader = reader
        self.window = window
        self._parameters = parameters
        windowed = dict(parameters)
        if window.offset:
            windowed["window_offset"] = window.offset
        if window.limit is not None:
            windowed["window_limit"] = window.limit
        self._windowed = windowed
        # Each result row made by ``row``, or a batch of them at once by ``batch`` (what the rows need
        # from elsewhere read once per batch, as ``models.listing.Listing`` does).
        if batch is None:
            assert row is not None
            made = row
            batch = lambda found: [made(each) for each in found]  # noqa: E731
        self._batch = batch
        self._name = name
        # Both looked up now: a shape not compiled ahead is found before anything is printed.
        self._rows = statement(reader, name, windowed)
        self._counted = statement(reader, f"{name}_count", parameters)
        self._streamed: int | None = None

    def __iter__(self) -> Iterator[T]:
        window, streamed, made = self.window, 0, self._batch
        if window.limit is not None and window.limit <= BATCH:
            partitions: Any = [self._reader.all(self._rows, self._windowed)]
        else:
            partitions = self._reader.stream(self._rows, self._windowed, BATCH)
        for partition in partitions:
            batch = made(partition)
            streamed += len(batch)
            yield from batch
        self._streamed = streamed

    def count(self) -> int:
        if self.window.everything and self._streamed is not None:
            return self._streamed
        found = self._reader.first(self._counted, self._parameters)
        assert found is not None
        return int(found[0])

    def map(self, each: Callable[[T], U]) -> LeanRows[U]:
        """The same rows passed through ``each`` as they stream (``models.listing.Listing.map``)."""
        made = self._batch
        return LeanRows(
            self._reader,
            self._name,
            self._parameters,
            self.window,
            batch=lambda found: [each(row) for row in made(found)],
        )


def list_programmes(
    reader: RawReader, *, created_by: datetime | None = None, window: Window = Window()
) -> LeanRows[ProgrammeRow]:
    """As ``workflows.board.list_programmes`` with every project in scope."""
    parameters = {} if created_by is None else {"created_by": reader.utc(created_by)}
    return LeanRows(reader, "programmes", parameters, window, programme_row)


def list_alerts(
    reader: RawReader,
    *,
    level: str | None = None,
    project_id: int | None = None,
    until: datetime | None = None,
    window: Window = Window(),
) -> LeanRows[AlertRow]:
    """As ``workflows.alerts.list_alerts`` with every project in scope."""
    parameters: dict[str, Any] = {}
    if project_id is not None:
        parameters["project_id"] = project_id
    if level is not None:
        parameters["level"] = level
    if until is not None:
        parameters["until"] = reader.utc(until)
    holders = reader.all(statement(reader, "alerts_unit_holders", {}), {})
    return LeanRows(reader, "alerts", parameters, window, alert_rows(unit_holders(holders)))


def list_orders(
    reader: RawReader,
    *,
    now: datetime,
    open_only: bool,
    overdue_only: bool,
    project_id: int | None = None,
    window: Window = Window(),
) -> LeanRows[OrderRow]:
    """As ``inspections.orders.list_orders`` with every project in scope."""
    parameters: dict[str, Any] = {"overdue_at": reader.utc(now)} if overdue_only else {}
    if project_id is not None:
        parameters["project_id"] = project_id
    name = "orders_open" if open_only or overdue_only else "orders"
    return LeanRows(reader, name, parameters, window, order_rows(now))


def list_deadlines(
    reader: RawReader,
    *,
    now: datetime,
    open_only: bool,
    overdue_only: bool,
    project_id: int | None = None,
    window: Window = Window(),
) -> LeanRows[DeadlineRow]:
    """As ``workflows.alerts.list_deadlines`` with every project in scope."""
    parameters: dict[str, Any] = {"overdue_at": reader.utc(now)} if overdue_only else {}
    if project_id is not None:
        parameters["project_id"] = project_id
    name = "deadlines_open" if open_only or overdue_only else "deadlines"
    return LeanRows(reader, name, parameters, window, deadline_rows(now))


# ``ducha inspections``, ``ducha notices``, ``ducha funds balances`` and ``ducha workflows``: their
# rows' modules are imported here, where they are used, so the other commands do not load them.


def list_inspections(
    reader: RawReader,
    *,
    recorded_by: datetime | None,
    project_id: int | None = None,
    window: Window = Window(),
) -> LeanRows[InspectionRow]:
    """As ``inspections.queries.list_inspections`` with every project in scope."""
    from inspections.inspection_rows import inspection_row

    parameters: dict[str, Any] = {} if recorded_by is None else {"recorded_by": reader.utc(recorded_by)}
    if project_id is not None:
        parameters["project_id"] = project_id
    return LeanRows(reader, "inspections", parameters, window, inspection_row)


def list_notices(
    reader: RawReader,
    *,
    state: str | None = None,
    failed: bool = False,
    person_id: int | None = None,
    channel: str | None,
    unacknowledged: bool = False,
    unread: bool = False,
    created_by: datetime | None,
    window: Window = Window(),
) -> LeanRows[NoticeRow]:
    """As ``notifications.queries.list_notices`` for the filters compiled ahead (``workflows.ahead``;
    a state it does not know is the full path's to refuse)."""
    from notifications.notice_rows import NOTICE_STATES, notice_filters, notice_row, notices_name

    if state is not None and state not in NOTICE_STATES:
        raise NotAhead(f"no notice state {state!r}")
    filters, parameters = notice_filters(
        state=state,
        failed=failed,
        person_id=person_id,
        channel=channel,
        unacknowledged=unacknowledged,
        unread=unread,
        created_by=created_by,
    )
    if created_by is not None:
        parameters["created_by"] = reader.utc(created_by)
    return LeanRows(reader, notices_name(filters, parameters), parameters, window, notice_row)


def list_people(reader: RawReader, *, window: Window = Window()) -> LeanRows[PersonRow]:
    """As ``workflows.staff.list_people``."""
    from workflows.staff_rows import people_rows

    def held(low: int, high: int) -> list[Any]:
        bound = {"low": low, "high": high}
        return reader.all(roles, bound)

    roles = statement(reader, "people_roles", {"low": 1, "high": 1})
    return LeanRows(reader, "people", {}, window, batch=people_rows(held))


def balances(
    reader: RawReader,
    *,
    programme_id: int,
    project_id: int | None = None,
    at: datetime | None,
    window: Window = Window(),
) -> LeanRows[BalanceRow]:
    """As ``funds.reads.balances`` of every account of the programme, or of one of its projects."""
    from funds.balance_rows import balance_row

    parameters: dict[str, Any] = {"programme_id": programme_id}
    if project_id is not None:
        parameters["project_id"] = project_id
    if at is not None:
        parameters["occurred_by"] = reader.utc(at)
    return LeanRows(reader, "balances", parameters, window, balance_row)


def workflow_definitions(reader: RawReader, *, loaded_by: datetime | None) -> list[DefinitionRow]:
    """As ``workflows.reads.workflow_definitions``."""
    from workflows.definition_rows import DefinitionRow

    parameters = {} if loaded_by is None else {"loaded_by": reader.utc(loaded_by)}
    found = reader.all(statement(reader, "workflow_definitions", parameters), parameters)
    return [DefinitionRow(*row) for row in found]
