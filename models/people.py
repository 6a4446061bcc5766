"""Organisation units, people and the roles they hold on a project or a unit."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    and_,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, or_, select

from models.kinds import SINGLE_HOLDER_ROLES, Holder, Role  # noqa: F401  (re-exported)
from models.types import UTCDateTime, table_of


class OrgUnit(SQLModel, table=True):
    """An organisation unit: the supervision office, a town government, district leadership."""

    __tablename__ = "org_unit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    # A town unit's town (乡镇), as the registers name it.
    town: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
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
    # Channels the person is told on besides the inbox and e-mail, by name in the channels file:
    # "dingtalk:town-east", "wecom-app:district/USERID", "sms:gov", "apprise:ops". Never a secret.
    notice_addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The language of the person's notices ("zh" or "en").
    lang: str = Field(default="zh", sa_column=Column(String(5), nullable=False, server_default="zh"))
    # A daily digest (08:30 on working days) instead of single notices; escalations come at once.
    digest: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


# An assignment in force: not yet closed. Spelled out in literals so that SQLite matches the partial
# indexes' predicates (it looks holders up in them only when the query repeats them word for word).
ACTIVE = "revoked_at IS NULL"


class RoleAssignment(SQLModel, table=True):
    """A person's role on exactly one project or one unit, from when it was granted until it was
    revoked: history, never edited (a trigger lets an open assignment be closed, once) or deleted."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        CheckConstraint("(project_id IS NULL) <> (unit_id IS NULL)", name="ck_role_assignment_one_scope"),
        CheckConstraint(
            "(revoked_at IS NULL AND revoked_by_id IS NULL AND revoke_reason IS NULL)"
            " OR (revoked_at IS NOT NULL AND revoke_reason IS NOT NULL)",
            name="ck_role_assignment_revoked",
        ),
        Index(
            "uq_role_assignment_single_holder",
            "project_id",
            "role",
            unique=True,
            sqlite_where=text(f"role IN ('leader', 'specialist') AND {ACTIVE}"),
            postgresql_where=text(f"role IN ('leader', 'specialist') AND {ACTIVE}"),
        ),
        Index(
            "uq_role_assignment_unit_active",
            "unit_id",
            "person_id",
            "role",
            unique=True,
            sqlite_where=text(f"unit_id IS NOT NULL AND {ACTIVE}"),
            postgresql_where=text(f"unit_id IS NOT NULL AND {ACTIVE}"),
        ),
        Index(
            "ix_role_assignment_person_active",
            "person_id",
            "role",
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
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
    # Granted when, by whom (NULL: the system, as ``init`` or an import), why; NULL when for an
    # assignment made before ducha kept this history.
    granted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    granted_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    grant_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("person.id"), nullable=True)
    )
    revoke_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


def active() -> Any:
    """The condition "this assignment is in force", on the RoleAssignment table."""
    return col(RoleAssignment.revoked_at).is_(None)


def holds_unit_role(*, session: Session, person: Person, roles: Iterable[Role]) -> bool:
    """Whether ``person`` holds one of ``roles`` in an organisational unit (the office, leadership…)."""
    held = session.exec(
        select(RoleAssignment.id).where(
            col(RoleAssignment.person_id) == person.id,
            col(RoleAssignment.role).in_(list(roles)),
            col(RoleAssignment.unit_id).is_not(None),
            active(),
        )
    ).first()
    return held is not None


@dataclass(frozen=True)
class HolderJoin:
    """The holder of a single-holder role (leader, specialist) of each project of a query.

    Select ``person``'s columns, then ``onto`` the query: plain outer joins, not a subquery. With
    the partial unique index's predicate spelled out in literals, SQLite looks each project's holder
    up in that index instead of first building every holder of every project in the database.
    """

    role: Role
    # Their columns by attribute: ORM aliases, or the ``.c`` of Core aliases (see ``joined``).
    assignment: Any
    person: Any
    # What the joins join when ``assignment`` and ``person`` are column collections: the Core aliases.
    joined: tuple[Any, Any] | None = None

    def onto(self, query: Any, project_id: Any) -> Any:
        assignment, person = self.joined or (self.assignment, self.person)
        holds = and_(
            col(self.assignment.project_id) == project_id,
            col(self.assignment.role) == self.role,
            col(self.assignment.role).in_([literal_column(f"'{r.value}'") for r in SINGLE_HOLDER_ROLES]),
            col(self.assignment.revoked_at).is_(None),
        )
        return query.outerjoin(assignment, holds).outerjoin(
            person, col(self.person.id) == col(self.assignment.person_id)
        )


def holder_join(role: Role, *, core: bool = False) -> HolderJoin:
    """A fresh pair of aliases for joining the holder of ``role`` (leader or specialist).

    ``core``: aliases of the tables themselves, for a Core query whose rows are read as plain tuples
    (no ORM work per row: a list of 500,000 projects).
    """
    assert role in SINGLE_HOLDER_ROLES
    if core:
        assignment, person = table_of(RoleAssignment).alias(), table_of(Person).alias()
        return HolderJoin(role, assignment.c, person.c, (assignment, person))
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
        .where(col(RoleAssignment.role).in_(wanted), scope, active())
        .order_by(col(Person.id))
    ).all()
    out = []
    for project_id, role, person in rows:
        assert person.id is not None
        out.append(Holder(project_id, Role(role), person.id, person.name, person.phone, person.email))
    return out


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
