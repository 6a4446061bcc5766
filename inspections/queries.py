"""Questions the lifecycle engine asks about a project's inspections and orders."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import Inspection, InspectionKind, Project
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
    found = current_signed_statement().first(
        session, {"project_id": project_id, "kind": kind.value, "as_of": as_of}
    )
    return None if found is None else session.get(Inspection, found[0])


@cache
def current_signed_statement() -> Compiled:
    """The id and outcome of ``current_signed`` (parameters ``project_id``, ``kind``, ``as_of``): what
    the ``inspection_passed`` guard reads (workflows.guard_rules), compiled ahead for ``ducha show``."""
    inspection = table_of(Inspection)
    i, correction = inspection.c, inspection.alias("correction").c
    as_of = bindparam("as_of", type_=i.signed_at.type)
    superseded = sa_select(correction.id).where(
        correction.supersedes_id == i.id, correction.signed_at <= as_of
    )
    return Compiled(
        sa_select(i.id, i.outcome)
        .where(
            i.project_id == bindparam("project_id"),
            i.kind == bindparam("kind"),
            i.signed_at <= as_of,
            ~superseded.exists(),
        )
        .order_by(i.inspected_at.desc(), i.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class InspectionRow:
    id: int
    project_id: int
    project_code: str
    kind: str
    announced: bool
    inspected_at: datetime
    score: Decimal
    outcome: str
    signed_at: datetime | None
    supersedes_id: int | None
    follow_up_of_id: int | None


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
    query = (
        select(Inspection, Project.code)
        .join(Project, col(Project.id) == col(Inspection.project_id))
        .order_by(col(Inspection.inspected_at), col(Inspection.id))
    )
    if recorded_by is not None:
        query = query.where(col(Inspection.recorded_at) <= recorded_by)
    if project_id is not None:
        query = query.where(col(Inspection.project_id) == project_id)
    if not scope.everything:
        query = query.where(scope.projects(col(Inspection.project_id)))

    def row(found: Any) -> InspectionRow:
        inspection, code = found
        return InspectionRow(
            id=inspection.id,
            project_id=inspection.project_id,
            project_code=code,
            kind=inspection.kind,
            announced=inspection.announced,
            inspected_at=inspection.inspected_at,
            score=Decimal(inspection.score_tenths) / 10,
            outcome=inspection.outcome,
            signed_at=inspection.signed_at,
            supersedes_id=inspection.supersedes_id,
            follow_up_of_id=inspection.follow_up_of_id,
        )

    return Listing.each(session, query, row, window)
