"""Organisation units, people and the roles they hold on a project or a unit."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    and_,
    literal_column,
    text,
)
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, or_, select

from models.kinds import SINGLE_HOLDER_ROLES, Role  # noqa: F401  (re-exported)


class OrgUnit(SQLModel, table=True):
    """An organisation unit: the supervision office, a town government, district leadership."""

    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    place_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("place.id"), nullable=True)
    )


class Person(SQLModel, table=True):
    """Someone who acts in or is told about the work; phone numbers are unique."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    phone: str | None = Field(default=None, sa_column=Column(String(32), nullable=True, unique=True))
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    unit_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("org_unit.id"), nullable=True, index=True)
    )
    # Notice channel addresses as apprise URLs (dingtalk://…, wecom://…, mailto://…).
    notice_addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RoleAssignment(SQLModel, table=True):
    """A person's role on exactly one project or one unit."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        CheckConstraint("(project_id IS NULL) <> (unit_id IS NULL)", name="ck_role_assignment_one_scope"),
        Index(
            "uq_role_assignment_single_holder",
            "project_id",
            "role",
            unique=True,
            sqlite_where=text("role IN ('leader', 'specialist')"),
            postgresql_where=text("role IN ('leader', 'specialist')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(sa_column=Column(Integer, ForeignKey("person.id"), nullable=False, index=True))
    role: Role = Field(sa_column=Column(String(16), nullable=False))
    project_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("project.id"), nullable=True)
    )
    unit_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("org_unit.id"), nullable=True)
    )


def holds_unit_role(*, session: Session, person: Person, roles: Iterable[Role]) -> bool:
    """Whether ``person`` holds one of ``roles`` in an organisational unit (the office, leadership…)."""
    held = session.exec(
        select(RoleAssignment.id).where(
            col(RoleAssignment.person_id) == person.id,
            col(RoleAssignment.role).in_(list(roles)),
            col(RoleAssignment.unit_id).is_not(None),
        )
    ).first()
    return held is not None


@dataclass(frozen=True)
class Holder:
    """Someone holding a role: on a project (``project_id``) or on a unit (``project_id`` None)."""

    project_id: int | None
    role: Role
    person_id: int
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class HolderJoin:
    """The holder of a single-holder role (leader, specialist) of each project of a query.

    Select ``person``'s columns, then ``onto`` the query: plain outer joins, not a subquery. With
    the partial unique index's predicate spelled out in literals, SQLite looks each project's holder
    up in that index instead of first building every holder of every project in the database.
    """

    role: Role
    assignment: Any
    person: Any

    def onto(self, query: Any, project_id: Any) -> Any:
        holds = and_(
            col(self.assignment.project_id) == project_id,
            col(self.assignment.role) == self.role,
            col(self.assignment.role).in_([literal_column(f"'{r.value}'") for r in SINGLE_HOLDER_ROLES]),
        )
        return query.outerjoin(self.assignment, holds).outerjoin(
            self.person, col(self.person.id) == col(self.assignment.person_id)
        )


def holder_join(role: Role) -> HolderJoin:
    """A fresh pair of aliases for joining the holder of ``role`` (leader or specialist)."""
    assert role in SINGLE_HOLDER_ROLES
    return HolderJoin(role, aliased(RoleAssignment), aliased(Person))


def role_holders(
    *, session: Session, projects: Select[tuple[int]] | None, roles: Iterable[Role]
) -> list[Holder]:
    """Who holds ``roles``: on the projects ``projects`` selects (a subquery of ids, never a list of
    them), and on any unit (the supervision office, district leadership). One query."""
    wanted = [Role(role) for role in roles]
    on_units = col(RoleAssignment.unit_id).is_not(None)
    scope = on_units if projects is None else or_(col(RoleAssignment.project_id).in_(projects), on_units)
    rows = session.exec(
        select(RoleAssignment.project_id, RoleAssignment.role, Person)
        .join(Person, col(Person.id) == col(RoleAssignment.person_id))
        .where(col(RoleAssignment.role).in_(wanted), scope)
        .order_by(col(Person.id))
    ).all()
    out = []
    for project_id, role, person in rows:
        assert person.id is not None
        out.append(Holder(project_id, Role(role), person.id, person.name, person.phone, person.email))
    return out
