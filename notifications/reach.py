"""Whether an alert reaches anyone: the roles its level tells, held by somebody now.

A level tells roles (``notifications.recipients``): on a project's deadline its specialist and
leader are the project's, the other roles anyone's who holds them on a unit. An alert whose roles
nobody holds is raised and recorded but tells nobody; the sweep says how many, and ``ducha check``
names the rungs and projects that cause it.
"""

from collections.abc import Iterable, Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import SINGLE_HOLDER_ROLES, Project, Role, RoleAssignment
from notifications.recipients import roles_told


def unit_roles_held(session: Session) -> set[Role]:
    """The roles somebody holds on a unit now."""
    rows = session.exec(
        select(RoleAssignment.role)
        .where(col(RoleAssignment.unit_id).is_not(None), col(RoleAssignment.revoked_at).is_(None))
        .distinct()
    ).all()
    return {Role(role) for role in rows}


def _lacking_query(role: Role, programme_id: int | None):  # type: ignore[no-untyped-def]
    held = (
        select(RoleAssignment.id)
        .where(
            col(RoleAssignment.project_id) == col(Project.id),
            col(RoleAssignment.role) == role,
            col(RoleAssignment.revoked_at).is_(None),
        )
        .exists()
    )
    query = select(Project.id).where(~held)
    if programme_id is not None:
        query = query.where(col(Project.programme_id) == programme_id)
    return query


def projects_lacking(
    session: Session, role: Role, *, programme_id: int | None = None, limit: int | None = None
) -> tuple[int, list[int]]:
    """How many projects have nobody in ``role`` (leader or specialist) now, and the first ids."""
    query = _lacking_query(role, programme_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    first = list(session.exec(query.order_by(col(Project.id)).limit(limit)).all()) if total else []
    return total, first


def _anyone_lacking(session: Session) -> bool:
    """Whether some project has no leader or no specialist: two index counts, no scan per project."""
    projects = session.exec(select(func.count()).select_from(Project)).one()
    held = dict(
        session.exec(
            select(RoleAssignment.role, func.count())
            .where(
                col(RoleAssignment.role).in_(list(SINGLE_HOLDER_ROLES)),
                col(RoleAssignment.project_id).is_not(None),
                col(RoleAssignment.revoked_at).is_(None),
            )
            .group_by(col(RoleAssignment.role))
        ).all()
    )
    return any(held.get(role, 0) < projects for role in SINGLE_HOLDER_ROLES)


def unreachable(session: Session, told: Sequence[tuple[Iterable[str], int | None]]) -> int:
    """How many of the alerts ``told`` describes ((roles told, project id or None) each) tell nobody."""
    if not told:
        return 0
    on_units = unit_roles_held(session)
    pending: list[tuple[list[Role], int]] = []
    count = 0
    decided: dict[tuple[tuple[str, ...], bool], list[Role] | None] = {}
    for roles, project_id in told:
        key = (tuple(roles), project_id is not None)
        if key not in decided:
            wanted = roles_told(key[0], on_project=key[1])
            # None: someone on a unit hears it; else the project roles it depends on (maybe none).
            decided[key] = (
                None
                if any(role in on_units for role in wanted)
                else [role for role in wanted if role in SINGLE_HOLDER_ROLES and key[1]]
            )
        needs = decided[key]
        if needs is None:
            continue
        if not needs or project_id is None:
            count += 1
        else:
            pending.append((needs, project_id))
    if pending and _anyone_lacking(session):
        lacking = {role: set(session.exec(_lacking_query(role, None)).all()) for role in SINGLE_HOLDER_ROLES}
        count += sum(1 for needs, project_id in pending if all(project_id in lacking[r] for r in needs))
    return count
