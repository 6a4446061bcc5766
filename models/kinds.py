"""Value types (roles, inspection kinds, outcomes, order states), apart from the tables that use them,
so that a front end can name them (a CLI option's choices) without loading SQLAlchemy."""

from enum import StrEnum


class InspectionKind(StrEnum):
    PRE_REVIEW = "pre_review"  # 事前审查
    IN_PROGRESS = "in_progress"  # 事中检查
    ACCEPTANCE = "acceptance"  # 事后验收
    SPOT_CHECK = "spot_check"  # 四不两直
    RE_INSPECTION = "re_inspection"  # 复查

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
