"""Who may do what: the unit roles a write needs, checked in the action before anything is written,
and the record of attributed writes that have no history table of their own."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import Activity, Person, Role, holds_unit_role
from models.errors import Refused

ADMIN = (Role.ADMIN,)
ADMIN_OR_OFFICE = (Role.ADMIN, Role.OFFICE)
OFFICE = (Role.OFFICE,)
OFFICE_OR_LEADERSHIP = (Role.OFFICE, Role.LEADERSHIP)


class NotPermitted(Refused):
    """The person acting does not hold a role the write needs."""


def require_role(*, session: Session, actor: Person, roles: Iterable[Role], doing: str) -> None:
    """Refuse unless ``actor`` holds one of ``roles`` on a unit (in force now)."""
    wanted = tuple(roles)
    if not holds_unit_role(session=session, person=actor, roles=wanted):
        held = " or ".join(role.value for role in wanted)
        raise NotPermitted(f"{actor.name} (id {actor.id}) is not {held}: cannot {doing}")


def record_activity(
    *,
    session: Session,
    now: datetime,
    actor: Person | None,
    action: str,
    subject: str,
    reason: str | None = None,
    **detail: Any,
) -> Activity:
    """Keep who did ``action`` to ``subject``, when and why (``actor`` None: the system)."""
    entry = Activity(
        at=now,
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject=subject[:200],
        reason=reason or None,
        detail=detail,
    )
    session.add(entry)
    session.flush()
    return entry
