"""People, units and roles (the admin writes; the office, leadership, auditors and admins read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import Limit, Offset, Page, paged, require_roles, window
from ducha.api.schemas import PersonIn, RevokeIn, RoleIn
from workflows.staff import PersonRow, RoleRow

router = APIRouter(tags=["people and roles"])
STAFF_READERS = ("admin", "office", "leadership", "auditor")


@router.get("/people", response_model=Page[PersonRow])
def people(user: CurrentUser, session: ReadSession, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    from workflows.staff import list_people

    require_roles(user, STAFF_READERS, "list people")
    return paged(list_people(session=session, window=window(limit, offset)))


@router.post("/people", response_model=PersonRow, dependencies=[CsrfChecked])
def add_person(
    body: PersonIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> PersonRow:
    from workflows.staff import add_person as add

    require_roles(user, ("admin",), "add a person")
    with web_transaction(request, context, user, action="person added", subject=body.name, at=now) as (
        session,
        write,
    ):
        person = add(
            session=session,
            now=now,
            actor=user.person,
            name=body.name,
            phone=body.phone,
            email=body.email,
            unit=body.unit,
        )
        write.after = {"id": person.id, "name": person.name, "phone": person.phone, "email": person.email}
    assert person.id is not None
    return PersonRow(person.id, person.name, person.phone, person.email, body.unit, [])


@router.get("/roles", response_model=Page[RoleRow])
def roles(
    user: CurrentUser,
    session: ReadSession,
    person: str | None = None,
    project: str | None = None,
    history: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    from workflows.staff import list_roles

    require_roles(user, STAFF_READERS, "list roles")
    return paged(
        list_roles(
            session=session, person=person, project=project, history=history, window=window(limit, offset)
        )
    )


@router.post("/roles", dependencies=[CsrfChecked])
def assign(
    body: RoleIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    """Grant a role on a unit or a project (a project's leader or specialist replaces the one before)."""
    from workflows.staff import assign_role

    require_roles(user, ("admin",), "assign roles")
    with web_transaction(request, context, user, action="role assigned", subject=body.person, at=now) as (
        session,
        write,
    ):
        done = assign_role(
            session=session,
            now=now,
            actor=user.person,
            person=body.person,
            role=body.role,
            unit=body.unit,
            project=body.project,
            reason=body.reason,
        )
        write.after = {"role": body.role, "unit": body.unit, "project": body.project}
        assignment = done.assignment
    return {"id": assignment.id, "person_id": assignment.person_id, "role": assignment.role}


@router.post("/roles/revoke", dependencies=[CsrfChecked])
def revoke(
    body: RevokeIn, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    from workflows.staff import revoke_role

    require_roles(user, ("admin",), "revoke roles")
    with web_transaction(request, context, user, action="role revoked", subject=body.person, at=now) as (
        session,
        write,
    ):
        closed = revoke_role(
            session=session,
            now=now,
            actor=user.person,
            person=body.person,
            role=body.role,
            reason=body.reason,
            unit=body.unit,
            project=body.project,
        )
        write.after = {"revoked": closed.id, "reason": body.reason}
    return {"id": closed.id, "revoked_at": closed.revoked_at}
