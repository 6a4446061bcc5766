"""What the API routers share: the ``{data, count}`` page, paging parameters, role and scope checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import HTTPException, Path, Query
from pydantic import BaseModel
from sqlmodel import Session

from models import Project
from models.errors import NotFound
from models.kinds import VIEWER
from models.listing import Listing, Window
from workflows.login import Identity

T = TypeVar("T")
U = TypeVar("U")
MAX_PAGE = 500
# Roles that read and never write (the auditor writes audit findings only, through their own routes).
READ_ONLY = (VIEWER, "auditor")


class Page(BaseModel, Generic[T]):
    """One page of a list and how many rows the list holds in all (of what the login may see)."""

    data: list[T]
    count: int


MAX_ID = 2**31 - 1  # what an id column holds on both databases
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows in the page")]
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="an id")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="rows to skip first")]


def paged(listing: Listing[U], each: Callable[[U], Any] | None = None) -> dict[str, Any]:
    """A listing as the ``{data, count}`` shape every list answers with."""
    rows = list(listing)
    return {"data": [each(row) for row in rows] if each else rows, "count": listing.count()}


def window(limit: int, offset: int) -> Window:
    return Window(limit, offset)


def require_roles(user: Identity, roles: Iterable[str], doing: str) -> None:
    """Refuse (403) a login whose role is not one of ``roles``."""
    wanted = tuple(roles)
    if user.role not in wanted:
        raise HTTPException(403, f"a {user.role} login cannot {doing} (needs {' or '.join(wanted)})")


def require_whole_view(user: Identity, doing: str) -> None:
    """Refuse (403) a login that sees only some projects: programme-wide money would tell it the rest."""
    if not user.scope.everything:
        raise HTTPException(403, f"a {user.role} login sees only its own projects: cannot {doing}")


def require_writer(user: Identity, doing: str) -> None:
    if user.role in READ_ONLY:
        raise HTTPException(403, f"a {user.role} login reads only: cannot {doing}")


def scoped_project(session: Session, user: Identity, ref: str) -> Project:
    """The project ``ref`` names, if the login may see it; otherwise NotFound, as if there were none."""
    from workflows.projects import find_project

    try:
        found = find_project(session=session, ref=ref)
    except NotFound:
        raise NotFound(f"no project {ref!r}") from None
    if not user.scope.sees(session, found.id):
        raise NotFound(f"no project {ref!r}")
    return found


def require_in_scope(session: Session, user: Identity, project_id: int | None, what: str) -> None:
    """NotFound (404) for a thing whose project the login may not see, worded as for a missing one."""
    if not user.scope.sees(session, project_id):
        raise NotFound(f"no {what}")


R = TypeVar("R")


def scoped_row(session: Session, user: Identity, model: type[R], row_id: int, what: str) -> R:
    """The row ``row_id`` of ``model`` (which has a ``project_id``), if there is one and the login
    sees its project; otherwise NotFound, the same words either way."""
    found = session.get(model, row_id) if 0 < row_id <= MAX_ID else None
    if found is None or not user.scope.sees(session, getattr(found, "project_id")):  # noqa: B009
        raise NotFound(f"no {what}")
    return found
