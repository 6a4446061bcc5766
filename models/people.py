"""Organisation units, people and the roles they hold on a project or a unit."""

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, Session, SQLModel, col, select


class Role(StrEnum):
    """Who a person is to a project or a unit."""

    LEADER = "leader"  # 责任领导
    SPECIALIST = "specialist"  # 专干
    INSPECTOR = "inspector"  # 督查员
    OFFICE = "office"  # 督查室
    AUDITOR = "auditor"  # 审计
    LEADERSHIP = "leadership"  # 区领导: district leadership, the last rung of escalation


# One leader and one specialist per project (一个项目,一名领导,一名专干).
SINGLE_HOLDER_ROLES = (Role.LEADER, Role.SPECIALIST)


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
