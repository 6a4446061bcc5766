"""ducha's tables and value types, shared by every package."""

from models.deadlines import Alert, Deadline, DeadlineKind, DeadlineLevel, DeadlineStatus
from models.inspections import (
    EvidenceAttachment,
    EvidenceFile,
    Inspection,
    InspectionInspector,
    InspectionItemResult,
    InspectionKind,
    InspectionTemplateRecord,
    OrderAction,
    OrderEvent,
    OrderStatus,
    Outcome,
    RectificationOrder,
    SpotCheckDraw,
    Verdict,
)
from models.money import format_yuan, parse_yuan
from models.people import SINGLE_HOLDER_ROLES, OrgUnit, Person, Role, RoleAssignment, holds_unit_role
from models.places import Place, PlaceKind
from models.programmes import (
    FundingSource,
    Programme,
    ProgrammeMilestone,
    Project,
    ProjectDocument,
    ProjectFunding,
)
from models.workflow import WorkflowDefinitionRecord, WorkflowEvent

__all__ = [
    "SINGLE_HOLDER_ROLES",
    "Alert",
    "Deadline",
    "DeadlineKind",
    "DeadlineLevel",
    "DeadlineStatus",
    "EvidenceAttachment",
    "EvidenceFile",
    "Inspection",
    "InspectionInspector",
    "InspectionItemResult",
    "InspectionKind",
    "InspectionTemplateRecord",
    "OrderAction",
    "OrderEvent",
    "OrderStatus",
    "Outcome",
    "RectificationOrder",
    "SpotCheckDraw",
    "Verdict",
    "FundingSource",
    "OrgUnit",
    "Person",
    "Place",
    "PlaceKind",
    "Programme",
    "ProgrammeMilestone",
    "Project",
    "ProjectDocument",
    "ProjectFunding",
    "Role",
    "RoleAssignment",
    "holds_unit_role",
    "WorkflowDefinitionRecord",
    "WorkflowEvent",
    "format_yuan",
    "parse_yuan",
]
