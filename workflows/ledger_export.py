"""The programme ledger (台账) as an XLSX workbook: one row per project, streamed as it is read.

The register columns (乡镇, 村, 责任领导 … 预算_<source>(元), 计划开工, 计划完工) carry the names the
register importer reads, so ``import(export(x))`` gives the same register; the other columns say
how the project stands (stage, actual dates, last inspection, open orders, overdue deadlines) and
are passed over by the importer.

Amounts: money is integer fen; a cell gets ``fen / 100`` as a number in 元 with the format
``#,##0.00``. IEEE division is correctly rounded and every fen count below 2**53 is an exact double,
so ``fen / 100`` is the double nearest the exact amount, the one Excel (or openpyxl, which writes the
number with 16 significant digits) reads back from the file. A double keeps 15 significant decimal
digits exactly, so up to ``EXACT_BELOW_FEN`` (10**15 fen, ten trillion 元) the cell shows and gives
back the amount to the fen. Above that (far beyond any budget) two amounts a fen apart can share a
double, so such an amount is written as text (``12345678901234567.89``), which the importer reads
exactly too.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import (
    Deadline,
    DeadlineStatus,
    FundingSource,
    Inspection,
    OrderStatus,
    Place,
    Programme,
    Project,
    ProjectFunding,
    RectificationOrder,
    Role,
    format_yuan,
    holder_join,
)
from models.errors import NotFound
from models.listing import BATCH
from models.localtime import local, local_date
from models.money import EXACT_BELOW_FEN as EXACT_BELOW_FEN
from models.types import table_of
from workflows.definition import WorkflowDefinition, get_definition
from workflows.programmes import funding_sources

ScopePredicate = Callable[[ColumnElement[int]], ColumnElement[bool]]
YUAN = "#,##0.00"
DAY = "yyyy-mm-dd"
SCORE = "0.0"
BUDGET_HEADER = "预算_{code}(元)"
# (header, column width): the register's columns under the names the importer reads.
COLUMNS = [
    ("项目编号", 10),
    ("乡镇", 10),
    ("村", 10),
    ("阶段", 16),
    ("计划开工", 12),
    ("计划完工", 12),
    ("实际开工", 12),
    ("实际完工", 12),
    ("责任领导", 10),
    ("领导电话", 14),
    ("领导邮箱", 24),
    ("专干", 10),
    ("专干电话", 14),
    ("专干邮箱", 24),
    ("最近检查日期", 13),
    ("最近检查类型", 13),
    ("最近检查得分", 13),
    ("最近检查结论", 14),
    ("未关闭整改", 11),
    ("逾期期限", 10),
]
BUDGET_WIDTH = 16
INSPECTION_KINDS = {
    "pre_review": "事前审查",
    "in_progress": "事中检查",
    "acceptance": "事后验收",
    "spot_check": "四不两直抽查",
    "re_inspection": "复查",
    "fund_audit": "资金审计",
}
OUTCOMES = {"pass": "通过", "pass_with_rectification": "通过(限期整改)", "fail": "不通过"}


@dataclass(frozen=True)
class LedgerExport:
    """What was written: the programme, its funding source codes in column order, and how many
    project rows."""

    programme_id: int
    programme_name: str
    sources: list[str]
    projects: int


def programme_ledger_xlsx(
    *,
    session: Session,
    programme_id: int,
    now: datetime,
    out: BinaryIO,
    scope_predicate: ScopePredicate | None = None,
) -> LedgerExport:
    """Write the ledger of ``programme_id`` as of ``now`` to ``out``; ``scope_predicate`` (given the
    project id column) keeps only the projects a user may see."""
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound(f"no programme with id {programme_id}")
    sources = funding_sources(session=session, programme_id=programme_id)
    query = _ledger_query(programme_id, [s.id for s in sources if s.id is not None], now)
    if scope_predicate is not None:
        query = query.where(scope_predicate(table_of(Project).c.id))
    workbook = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = workbook.create_sheet("台账")
    headers = [*COLUMNS, *((BUDGET_HEADER.format(code=s.code), BUDGET_WIDTH) for s in sources)]
    for index, (_, width) in enumerate(headers, start=1):
        sheet.column_dimensions[_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, header, font=bold) for header, _ in headers])
    labels = _StageLabels(session)
    written = 0
    for row in _stream(session, query):
        sheet.append(_cells(sheet, row, labels))
        written += 1
    sheet.auto_filter.ref = f"A1:{_letter(len(headers))}{written + 1}"
    _about(workbook, programme, now, sources, written)
    workbook.save(out)
    return LedgerExport(programme_id, programme.name, [s.code for s in sources], written)


def _ledger_query(programme_id: int, source_ids: list[int], now: datetime) -> Any:
    """One query for every row: the last inspection by a join on a correlated subquery, the counts
    and each source's budget line by correlated scalar subqueries (one per source, never per row)."""
    village, town = aliased(Place), aliased(Place)
    leader, specialist = holder_join(Role.LEADER), holder_join(Role.SPECIALIST)
    earlier = aliased(Inspection)
    last_signed = (
        sa_select(col(earlier.id))
        .where(
            col(earlier.project_id) == col(Project.id),
            col(earlier.signed_at) <= now,
            col(earlier.inspected_at) <= now,
        )
        .order_by(col(earlier.inspected_at).desc(), col(earlier.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    open_orders = (
        sa_select(func.count())
        .select_from(RectificationOrder)
        .where(
            col(RectificationOrder.project_id) == col(Project.id),
            col(RectificationOrder.status) != OrderStatus.CLOSED.value,
        )
        .scalar_subquery()
    )
    overdue = (
        sa_select(func.count())
        .select_from(Deadline)
        .where(
            col(Deadline.project_id) == col(Project.id),
            col(Deadline.status) == DeadlineStatus.OPEN.value,
            col(Deadline.due_at) < now,
        )
        .scalar_subquery()
    )
    # A source the project has no line from funds it with nothing: 0.00, which a register holds.
    budget = [
        func.coalesce(
            sa_select(col(ProjectFunding.amount_fen))
            .where(
                col(ProjectFunding.project_id) == col(Project.id),
                col(ProjectFunding.source_id) == source_id,
            )
            .scalar_subquery(),
            0,
        )
        for source_id in source_ids
    ]
    query = (
        sa_select(
            col(Project.code),
            col(town.name),
            col(village.name),
            col(Project.definition_key),
            col(Project.definition_version),
            col(Project.stage),
            col(Project.planned_start),
            col(Project.planned_finish),
            col(Project.actual_start),
            col(Project.actual_finish),
            col(leader.person.name),
            col(leader.person.phone),
            col(leader.person.email),
            col(specialist.person.name),
            col(specialist.person.phone),
            col(specialist.person.email),
            col(Inspection.inspected_at),
            col(Inspection.kind),
            col(Inspection.score_tenths),
            col(Inspection.outcome),
            open_orders,
            overdue,
            *budget,
        )
        .join(village, col(village.id) == col(Project.village_id))
        .join(town, col(town.id) == col(village.parent_id))
        .outerjoin(Inspection, col(Inspection.id) == last_signed)
    )
    query = specialist.onto(leader.onto(query, col(Project.id)), col(Project.id))
    return query.where(col(Project.programme_id) == programme_id).order_by(col(Project.code))


def _stream(session: Session, query: Any) -> Iterator[Any]:
    """The rows as the database hands them over, a batch at a time (a server-side cursor on PostgreSQL)."""
    for partition in session.execute(query.execution_options(yield_per=BATCH)).partitions():
        yield from partition


class _StageLabels:
    """Stage labels, each workflow definition version read once per export."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._definitions: dict[tuple[str, int], WorkflowDefinition] = {}

    def get(self, key: str, version: int, stage: str) -> str:
        definition = self._definitions.get((key, version))
        if definition is None:
            definition = get_definition(session=self._session, key=key, version=version)
            self._definitions[(key, version)] = definition
        return definition.stage_label(stage)


def _cells(sheet: WriteOnlyWorksheet, row: Any, labels: _StageLabels) -> list[Any]:
    (
        code, town, village, definition_key, definition_version, stage, planned_start, planned_finish,
        actual_start, actual_finish, leader, leader_phone, leader_email, specialist, specialist_phone,
        specialist_email, inspected_at, kind, score_tenths, outcome, open_orders, overdue,
    ) = row[:22]  # fmt: skip
    return [
        code,
        town,
        village,
        labels.get(definition_key, definition_version, stage),
        _day(sheet, planned_start),
        _day(sheet, planned_finish),
        _day(sheet, actual_start),
        _day(sheet, actual_finish),
        leader,
        leader_phone,  # text: a phone is not a number (a leading 0 or + must stay)
        leader_email,
        specialist,
        specialist_phone,
        specialist_email,
        _day(sheet, local_date(inspected_at) if inspected_at is not None else None),
        INSPECTION_KINDS.get(kind, kind) if kind is not None else None,
        _cell(sheet, score_tenths / 10, number_format=SCORE) if score_tenths is not None else None,
        OUTCOMES.get(outcome, outcome) if outcome is not None else None,
        int(open_orders),
        int(overdue),
        *(_yuan(sheet, fen) for fen in row[22:]),
    ]


def _yuan(sheet: WriteOnlyWorksheet, fen: int | None) -> Any:
    if fen is None:
        return None
    if fen >= EXACT_BELOW_FEN:
        return format_yuan(fen).replace(",", "")
    return _cell(sheet, fen / 100, number_format=YUAN)


def _day(sheet: WriteOnlyWorksheet, day: date | None) -> Any:
    return None if day is None else _cell(sheet, day, number_format=DAY)


def _cell(
    sheet: WriteOnlyWorksheet, value: Any, *, number_format: str | None = None, font: Font | None = None
) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
        cell.alignment = Alignment(horizontal="center")
    return cell


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def _about(
    workbook: Workbook, programme: Programme, now: datetime, sources: list[FundingSource], rows: int
) -> None:
    """A second sheet saying what the ledger is: the programme, as of when, its funding sources."""
    sheet: WriteOnlyWorksheet = workbook.create_sheet("说明")
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 60
    sheet.column_dimensions["C"].width = 18
    bold = Font(bold=True)
    sheet.append([_cell(sheet, "项目计划", font=bold), programme.name])
    sheet.append([_cell(sheet, "截至", font=bold), f"{local(now):%Y-%m-%d %H:%M} (Asia/Shanghai)"])
    sheet.append([_cell(sheet, "项目数", font=bold), rows])
    sheet.append([])
    sheet.append([_cell(sheet, header, font=bold) for header in ("资金来源代码", "名称", "计划预算(元)")])
    for source in sources:
        sheet.append([source.code, source.name, _yuan(sheet, source.amount_fen)])
