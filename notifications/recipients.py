"""Who is told at each rung of the escalation ladder (specialist, leader, supervision office, leadership).

A level names the roles it tells. On a project's deadline a role is answered by whoever holds it on
the project (its one specialist, its one leader); a role nobody holds on the project (the office,
district leadership) by whoever holds it on a unit. A programme's own obligation (a cadence) has no
project specialist or leader: the supervision office, which owns it, hears the rungs meant for them.
"""

from collections.abc import Iterable, Mapping, Sequence

from models.kinds import SINGLE_HOLDER_ROLES, Holder, Role


def roles_told(level_roles: Iterable[str], *, on_project: bool) -> list[Role]:
    """The roles a level tells, in order and once each (the office for a project's roles on a
    programme's own deadline)."""
    roles = [Role(role) for role in level_roles]
    if not on_project:
        roles = [Role.OFFICE if role in SINGLE_HOLDER_ROLES else role for role in roles]
    return list(dict.fromkeys(roles))


def recipients(
    level_roles: Iterable[str],
    *,
    on_project: bool,
    project_holders: Mapping[Role, Sequence[Holder]],
    unit_holders: Mapping[Role, Sequence[Holder]],
) -> list[Holder]:
    """The people a level tells, each once (by the first role that names them)."""
    told: dict[int, Holder] = {}
    for role in roles_told(level_roles, on_project=on_project):
        for holder in project_holders.get(role) or unit_holders.get(role, ()):
            told.setdefault(holder.person_id, holder)
    return list(told.values())


def by_role(holders: Iterable[Holder]) -> dict[Role, list[Holder]]:
    """Holders grouped by the role they hold."""
    grouped: dict[Role, list[Holder]] = {}
    for holder in holders:
        grouped.setdefault(holder.role, []).append(holder)
    return grouped
