"""Questions the lifecycle engine asks about a project's inspections and orders."""

from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from inspections.inspection_rows import InspectionRow as InspectionRow
from inspections.inspection_rows import inspection_row
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
