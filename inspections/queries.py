"""Questions the lifecycle engine asks about a project's inspections and orders."""

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from inspections.inspection_rows import InspectionRow as InspectionRow
from inspections.inspection_rows import inspection_row
from models import Inspection, InspectionKind, Outcome, Project
from models.compiled import Compiled
from models.listing import Listing, Window
from models.scope import EVERYTHING, Scope
from models.types import table_of


def current_signed(
    *, session: Session, project_id: int, kind: InspectionKind, as_of: datetime
) -> Inspection | None:
    """The latest inspection of this kind signed by ``as_of`` that no correction signed by then supersedes.

    ``as_of`` is the moment a guard asks: an inspection signed later does not count for it.
    """
    correction = aliased(Inspection)
    superseded = (
        select(correction.id)
        .where(col(correction.supersedes_id) == col(Inspection.id), col(correction.signed_at) <= as_of)
        .exists()
    )
    return session.exec(
        select(Inspection)
        .where(
            col(Inspection.project_id) == project_id,
            col(Inspection.kind) == kind,
            col(Inspection.signed_at) <= as_of,
            ~superseded,
        )
        .order_by(col(Inspection.inspected_at).desc(), col(Inspection.id).desc())
        .limit(1)
    ).first()


def passed(inspection: Inspection | None) -> bool:
    """Passing counts with or without rectification; the orders are a separate guard."""
    return inspection is not None and inspection.outcome in (Outcome.PASS, Outcome.PASS_WITH_RECTIFICATION)


@lru_cache(maxsize=16)
def _inspections_statement(filters: frozenset[str], scope: Scope) -> Compiled:
    """Inspections in the order they took place, with their project code, with ``filters``
    (``recorded_by`` and ``project_id`` bound); kept, and compiled ahead for ``ducha inspections``
    (workflows.ahead)."""
    inspection, project = table_of(Inspection), table_of(Project)
    i = inspection.c
    # Columns, not entities: a long list must not build an ORM object per row.
    query: Any = (
        sa_select(
            i.id,
            i.project_id,
            project.c.code,
            i.kind,
            i.announced,
            i.inspected_at,
            i.score_tenths,
            i.outcome,
            i.signed_at,
            i.supersedes_id,
            i.follow_up_of_id,
        )  # fmt: skip
        .join_from(inspection, project, project.c.id == i.project_id)
        .order_by(i.inspected_at, i.id)
    )
    if "recorded_by" in filters:
        query = query.where(i.recorded_at <= bindparam("recorded_by"))
    if "project_id" in filters:
        query = query.where(i.project_id == bindparam("project_id"))
    if not scope.everything:
        query = query.where(scope.projects(i.project_id))
    return Compiled(query)


def list_inspections(
    *,
    session: Session,
    project_id: int | None = None,
    recorded_by: datetime | None = None,
    window: Window = Window(),
    scope: Scope = EVERYTHING,
) -> Listing[InspectionRow]:
    """Inspections in the order they took place, with their project code; ``recorded_by`` leaves
    out those recorded after it."""
    given = {"recorded_by": recorded_by, "project_id": project_id}
    parameters = {name: value for name, value in given.items() if value is not None}
    query = _inspections_statement(frozenset(parameters), scope)
    return Listing.each(session, query, inspection_row, window, parameters)
