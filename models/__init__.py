"""ducha's tables and value types, shared by every package.

Names are re-exported lazily (PEP 562): importing ``models.localtime`` or ``models.errors`` must not
load SQLAlchemy and every table, so that a command that needs neither starts fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.deadlines import (
        Alert as Alert,
    )
    from models.deadlines import (
        Cadence as Cadence,
    )
    from models.deadlines import (
        Deadline as Deadline,
    )
    from models.deadlines import (
        DeadlineKind as DeadlineKind,
    )
    from models.deadlines import (
        DeadlineLevel as DeadlineLevel,
    )
    from models.deadlines import (
        DeadlineRevision as DeadlineRevision,
    )
    from models.deadlines import (
        DeadlineStatus as DeadlineStatus,
    )
    from models.fund_audit import (
        FundAuditFinding as FundAuditFinding,
    )
    from models.generation import (
        DataGeneration as DataGeneration,
    )
    from models.generation import (
        DataGenerationPending as DataGenerationPending,
    )
    from models.inspections import (
        EvidenceAttachment as EvidenceAttachment,
    )
    from models.inspections import (
        EvidenceFile as EvidenceFile,
    )
    from models.inspections import (
        Inspection as Inspection,
    )
    from models.inspections import (
        InspectionInspector as InspectionInspector,
    )
    from models.inspections import (
        InspectionItemResult as InspectionItemResult,
    )
    from models.inspections import (
        InspectionTemplateRecord as InspectionTemplateRecord,
    )
    from models.inspections import (
        OrderEvent as OrderEvent,
    )
    from models.inspections import (
        RectificationOrder as RectificationOrder,
    )
    from models.inspections import (
        SpotCheckDraw as SpotCheckDraw,
    )
    from models.installation import (
        Activity as Activity,
    )
    from models.installation import (
        Installation as Installation,
    )
    from models.installation import (
        Mode as Mode,
    )
    from models.installation import (
        SchedulerLease as SchedulerLease,
    )
    from models.kinds import (
        SINGLE_HOLDER_ROLES as SINGLE_HOLDER_ROLES,
    )
    from models.kinds import (
        Holder as Holder,
    )
    from models.kinds import (
        InspectionKind as InspectionKind,
    )
    from models.kinds import (
        OrderAction as OrderAction,
    )
    from models.kinds import (
        OrderOrigin as OrderOrigin,
    )
    from models.kinds import (
        OrderStatus as OrderStatus,
    )
    from models.kinds import (
        Outcome as Outcome,
    )
    from models.kinds import (
        Role as Role,
    )
    from models.kinds import (
        Verdict as Verdict,
    )
    from models.ledger import (
        ExpenseCategory as ExpenseCategory,
    )
    from models.ledger import (
        JournalEntry as JournalEntry,
    )
    from models.ledger import (
        JournalLine as JournalLine,
    )
    from models.ledger import (
        LedgerAccount as LedgerAccount,
    )
    from models.ledger import (
        LedgerCheckpoint as LedgerCheckpoint,
    )
    from models.ledger import (
        LedgerLog as LedgerLog,
    )
    from models.ledger import (
        MerkleNode as MerkleNode,
    )
    from models.ledger import (
        Vendor as Vendor,
    )
    from models.money import (
        format_yuan as format_yuan,
    )
    from models.money import (
        parse_yuan as parse_yuan,
    )
    from models.notices import (
        Notice as Notice,
    )
    from models.notices import (
        NoticeAttempt as NoticeAttempt,
    )
    from models.notices import (
        NoticeState as NoticeState,
    )
    from models.people import (
        HolderJoin as HolderJoin,
    )
    from models.people import (
        OrgUnit as OrgUnit,
    )
    from models.people import (
        Person as Person,
    )
    from models.people import (
        RoleAssignment as RoleAssignment,
    )
    from models.people import (
        holder_join as holder_join,
    )
    from models.people import (
        holds_unit_role as holds_unit_role,
    )
    from models.people import (
        role_holders as role_holders,
    )
    from models.places import (
        Place as Place,
    )
    from models.places import (
        PlaceKind as PlaceKind,
    )
    from models.programmes import (
        FundingSource as FundingSource,
    )
    from models.programmes import (
        Programme as Programme,
    )
    from models.programmes import (
        ProgrammeMilestone as ProgrammeMilestone,
    )
    from models.programmes import (
        Project as Project,
    )
    from models.programmes import (
        ProjectDocument as ProjectDocument,
    )
    from models.programmes import (
        ProjectFunding as ProjectFunding,
    )
    from models.users import (
        ApiToken as ApiToken,
    )
    from models.users import (
        CalendarFeedToken as CalendarFeedToken,
    )
    from models.users import (
        LoginAttempt as LoginAttempt,
    )
    from models.users import (
        UserAccount as UserAccount,
    )
    from models.users import (
        WebAudit as WebAudit,
    )
    from models.users import (
        WebSession as WebSession,
    )
    from models.workflow import (
        WorkflowDefinitionRecord as WorkflowDefinitionRecord,
    )
    from models.workflow import (
        WorkflowEvent as WorkflowEvent,
    )

_WHERE = {
    "Alert": "models.deadlines",
    "Cadence": "models.deadlines",
    "Deadline": "models.deadlines",
    "DeadlineKind": "models.deadlines",
    "DeadlineLevel": "models.deadlines",
    "DeadlineStatus": "models.deadlines",
    "DeadlineRevision": "models.deadlines",
    "Activity": "models.installation",
    "Installation": "models.installation",
    "Mode": "models.installation",
    "SchedulerLease": "models.installation",
    "Notice": "models.notices",
    "NoticeAttempt": "models.notices",
    "NoticeState": "models.notices",
    "EvidenceAttachment": "models.inspections",
    "EvidenceFile": "models.inspections",
    "Inspection": "models.inspections",
    "InspectionInspector": "models.inspections",
    "InspectionItemResult": "models.inspections",
    "InspectionKind": "models.kinds",
    "InspectionTemplateRecord": "models.inspections",
    "OrderAction": "models.kinds",
    "OrderEvent": "models.inspections",
    "OrderOrigin": "models.kinds",
    "OrderStatus": "models.kinds",
    "Outcome": "models.kinds",
    "RectificationOrder": "models.inspections",
    "SpotCheckDraw": "models.inspections",
    "Verdict": "models.kinds",
    "FundAuditFinding": "models.fund_audit",
    "DataGeneration": "models.generation",
    "DataGenerationPending": "models.generation",
    "ExpenseCategory": "models.ledger",
    "JournalEntry": "models.ledger",
    "JournalLine": "models.ledger",
    "LedgerAccount": "models.ledger",
    "LedgerCheckpoint": "models.ledger",
    "LedgerLog": "models.ledger",
    "MerkleNode": "models.ledger",
    "Vendor": "models.ledger",
    "format_yuan": "models.money",
    "parse_yuan": "models.money",
    "SINGLE_HOLDER_ROLES": "models.kinds",
    "OrgUnit": "models.people",
    "Person": "models.people",
    "Role": "models.kinds",
    "RoleAssignment": "models.people",
    "holds_unit_role": "models.people",
    "Holder": "models.kinds",
    "holder_join": "models.people",
    "HolderJoin": "models.people",
    "role_holders": "models.people",
    "Place": "models.places",
    "PlaceKind": "models.places",
    "FundingSource": "models.programmes",
    "Programme": "models.programmes",
    "ProgrammeMilestone": "models.programmes",
    "Project": "models.programmes",
    "ProjectDocument": "models.programmes",
    "ProjectFunding": "models.programmes",
    "WorkflowDefinitionRecord": "models.workflow",
    "WorkflowEvent": "models.workflow",
    "UserAccount": "models.users",
    "WebSession": "models.users",
    "ApiToken": "models.users",
    "CalendarFeedToken": "models.users",
    "LoginAttempt": "models.users",
    "WebAudit": "models.users",
}
__all__ = sorted(_WHERE)


# The table modules, and the ones each refers to by name ("person.id"): a table is registered on the
# metadata together with every table its foreign keys reach, so that SQLAlchemy can resolve them
# (in a flush, a join). A command loads only the tables it uses and what they reach: `ducha
# projects` never builds the ledger's, the notices' or the logins' classes (start-up time).
TABLE_NEEDS: dict[str, tuple[str, ...]] = {
    "models.places": (),
    "models.people": ("models.places", "models.programmes"),
    "models.programmes": ("models.places", "models.people"),
    "models.workflow": ("models.programmes",),
    "models.inspections": ("models.programmes",),
    "models.deadlines": ("models.programmes", "models.inspections"),
    "models.installation": ("models.people",),
    "models.notices": ("models.deadlines",),
    "models.users": ("models.people",),
    "models.ledger": ("models.programmes",),
    "models.fund_audit": ("models.programmes", "models.people", "models.inspections"),
    "models.generation": (),
}
TABLE_MODULES = tuple(TABLE_NEEDS)


def load_tables(*modules: str) -> None:
    """Register the tables of ``modules`` (default: every table; Alembic needs them all) and of every
    module they refer to."""
    wanted, seen = list(modules or TABLE_MODULES), set()
    while wanted:
        module = wanted.pop()
        if module not in seen:
            seen.add(module)
            wanted.extend(TABLE_NEEDS[module])
    for module in TABLE_MODULES:  # always in one order, whatever was asked first
        if module in seen:
            import_module(module)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    if module in TABLE_NEEDS:
        load_tables(module)
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
