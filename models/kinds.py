"""Value types (roles, inspection kinds, outcomes, order states), apart from the tables that use them,
so that a front end can name them (a CLI option's choices) without loading SQLAlchemy."""

from dataclasses import dataclass
from enum import StrEnum


class InspectionKind(StrEnum):
    PRE_REVIEW = "pre_review"  # 事前审查
    IN_PROGRESS = "in_progress"  # 事中检查
    ACCEPTANCE = "acceptance"  # 事后验收
    SPOT_CHECK = "spot_check"  # 四不两直
    RE_INSPECTION = "re_inspection"  # 复查
    FUND_AUDIT = "fund_audit"  # 资金审计: the audit rules run over a programme's ledger

    @property
    def failed(self) -> str:
        """What a failed inspection of this kind is called: 验收不合格 acceptance failed."""
        return f"{_FAILED[self]} {self.value.replace('_', ' ')} failed"


_FAILED = {
    InspectionKind.PRE_REVIEW: "审查不合格",
    InspectionKind.IN_PROGRESS: "检查不合格",
    InspectionKind.ACCEPTANCE: "验收不合格",
    InspectionKind.SPOT_CHECK: "抽查不合格",
    InspectionKind.RE_INSPECTION: "复查不合格",
    InspectionKind.FUND_AUDIT: "审计发现问题",
}


class Outcome(StrEnum):
    PASS = "pass"
    PASS_WITH_RECTIFICATION = "pass_with_rectification"
    FAIL = "fail"


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WAIVED = "waived"


class OrderOrigin(StrEnum):
    """Where a rectification order comes from."""

    INSPECTION = "inspection"  # a failed checklist item
    FUND_AUDIT = "fund_audit"  # a finding of a fund audit rule


class OrderStatus(StrEnum):
    ISSUED = "issued"
    RESPONDED = "responded"
    CLOSED = "closed"


class OrderAction(StrEnum):
    ISSUED = "issued"
    RESPONDED = "responded"
    REJECTED = "rejected"
    VERIFIED = "verified"
    CLOSED_BY_REINSPECTION = "closed_by_reinspection"
    WITHDRAWN = "withdrawn"  # a signed correction found the item passing
    EXTENDED = "extended"  # an approved extension moved its due time
    REASSIGNED = "reassigned"  # the project's leader or specialist changed: the new one answers


class Role(StrEnum):
    """Who a person is to a project or a unit."""

    LEADER = "leader"  # 责任领导
    SPECIALIST = "specialist"  # 专干
    INSPECTOR = "inspector"  # 督查员
    OFFICE = "office"  # 督查室
    AUDITOR = "auditor"  # 审计
    LEADERSHIP = "leadership"  # 区领导: district leadership, the last rung of escalation
    ADMIN = "admin"  # 系统管理员: keeps the office's units, people and roles


# The roles a login acts in: a person's roles, and ``viewer`` (reads what its unit may see, writes nothing).
VIEWER = "viewer"
ACCOUNT_ROLES: tuple[str, ...] = (*(role.value for role in Role), VIEWER)
# Roles whose logins see every project (a town unit's staff see their town's only).
SEE_ALL_ROLES = ("admin", "office", "leadership", "inspector", "auditor")

# One leader and one specialist per project (一个项目,一名领导,一名专干).
SINGLE_HOLDER_ROLES = (Role.LEADER, Role.SPECIALIST)
PROJECT_ROLES = SINGLE_HOLDER_ROLES


@dataclass(frozen=True)
class Holder:
    """Someone holding a role: on a project (``project_id``) or on a unit (``project_id`` None)."""

    project_id: int | None
    role: Role
    person_id: int
    name: str
    phone: str | None
    email: str | None


class UnitKind(StrEnum):
    """What an organisation unit is; it decides which roles its people may hold on it."""

    OFFICE = "office"  # 督查室: the supervision office, its inspectors, the office admins
    LEADERSHIP = "leadership"  # 区委办公室 …: district leadership
    TOWN = "town"  # 乡镇: a town government (its people lead or handle projects)
    AUDIT = "audit"  # 审计: auditors
    ADMIN = "admin"  # the installation's own unit, made by ``ducha init --admin``


# The roles a person may hold on a unit of each kind.
UNIT_ROLES: dict[UnitKind, tuple[Role, ...]] = {
    UnitKind.OFFICE: (Role.OFFICE, Role.INSPECTOR, Role.ADMIN),
    UnitKind.LEADERSHIP: (Role.LEADERSHIP,),
    UnitKind.TOWN: (),
    UnitKind.AUDIT: (Role.AUDITOR,),
    UnitKind.ADMIN: (Role.ADMIN,),
}
