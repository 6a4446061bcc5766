"""Everything the project page shows, in a few queries: the project in full, its deadlines, its
inspections with their orders and evidence, and the notices sent about it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, union
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from inspections.orders import OrderRow, list_orders
from inspections.queries import InspectionRow, list_inspections
from models import (
    EvidenceAttachment,
    EvidenceFile,
    Inspection,
    InspectionItemResult,
    Notice,
    OrderEvent,
    Person,
    Project,
    RectificationOrder,
)
from models.scope import Scope
from workflows.alerts import DeadlineRow, list_deadlines
from workflows.reads import ProjectDetail, project_detail


@dataclass(frozen=True)
class EvidenceLink:
    sha256: str
    media_type: str
    name: str
    inspection_id: int | None
    order_id: int | None


@dataclass(frozen=True)
class NoticeLine:
    id: int
    person: str
    channel: str
    template: str
    level: str | None
    subject: str
    state: str
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None


@dataclass(frozen=True)
class ProjectPage:
    detail: ProjectDetail
    deadlines: list[DeadlineRow]
    inspections: list[InspectionRow]
    orders: list[OrderRow]
    evidence: list[EvidenceLink]
    notices: list[NoticeLine]


def project_page(*, session: Session, now: datetime, project: Project) -> ProjectPage:
    assert project.id is not None
    return ProjectPage(
        detail=project_detail(session=session, now=now, project=str(project.id)),
        deadlines=list(list_deadlines(session=session, now=now, project_id=project.id)),
        inspections=list(list_inspections(session=session, project_id=project.id)),
        orders=list(list_orders(session=session, now=now, project_id=project.id)),
        evidence=project_evidence(session=session, project_id=project.id),
        notices=project_notices(session=session, project_id=project.id),
    )


def project_evidence(*, session: Session, project_id: int) -> list[EvidenceLink]:
    """The project's evidence files: those of its inspections' items and of its orders' responses."""
    of_items = (
        sa_select(
            col(EvidenceFile.sha256),
            col(EvidenceFile.media_type),
            col(EvidenceAttachment.original_name),
            col(InspectionItemResult.inspection_id),
            col(EvidenceAttachment.order_event_id),
        )
        .join(EvidenceFile, col(EvidenceFile.id) == col(EvidenceAttachment.evidence_id))
        .join(InspectionItemResult, col(InspectionItemResult.id) == col(EvidenceAttachment.item_result_id))
        .join(Inspection, col(Inspection.id) == col(InspectionItemResult.inspection_id))
        .where(col(Inspection.project_id) == project_id)
    )
    of_orders = (
        sa_select(
            col(EvidenceFile.sha256),
            col(EvidenceFile.media_type),
            col(EvidenceAttachment.original_name),
            col(RectificationOrder.inspection_id),
            col(OrderEvent.order_id),
        )
        .join(EvidenceFile, col(EvidenceFile.id) == col(EvidenceAttachment.evidence_id))
        .join(OrderEvent, col(OrderEvent.id) == col(EvidenceAttachment.order_event_id))
        .join(RectificationOrder, col(RectificationOrder.id) == col(OrderEvent.order_id))
        .where(col(RectificationOrder.project_id) == project_id)
    )
    rows = session.execute(of_items).all()
    order_rows = session.execute(of_orders).all()
    return [EvidenceLink(sha, media, name, inspection, None) for sha, media, name, inspection, _ in rows] + [
        EvidenceLink(sha, media, name, None, order) for sha, media, name, _, order in order_rows
    ]


def evidence_projects(sha256: str) -> Any:
    """The ids of the projects an evidence file belongs to (a subquery)."""
    of_items = (
        sa_select(col(Inspection.project_id))
        .join(InspectionItemResult, col(InspectionItemResult.inspection_id) == col(Inspection.id))
        .join(EvidenceAttachment, col(EvidenceAttachment.item_result_id) == col(InspectionItemResult.id))
        .join(EvidenceFile, col(EvidenceFile.id) == col(EvidenceAttachment.evidence_id))
        .where(col(EvidenceFile.sha256) == sha256)
    )
    of_orders = (
        sa_select(col(RectificationOrder.project_id))
        .join(OrderEvent, col(OrderEvent.order_id) == col(RectificationOrder.id))
        .join(EvidenceAttachment, col(EvidenceAttachment.order_event_id) == col(OrderEvent.id))
        .join(EvidenceFile, col(EvidenceFile.id) == col(EvidenceAttachment.evidence_id))
        .where(col(EvidenceFile.sha256) == sha256)
    )
    return union(of_items, of_orders).subquery()


def evidence_visible(*, session: Session, sha256: str, scope: Scope) -> str | None:
    """The media type of an evidence file the scope sees (through a project of its), else None."""
    projects = evidence_projects(sha256)
    seen = exists().where(projects.c[0].is_not(None), scope.projects(projects.c[0]))
    found = session.execute(
        sa_select(col(EvidenceFile.media_type)).where(col(EvidenceFile.sha256) == sha256, seen)
    ).first()
    return found[0] if found else None


def project_notices(*, session: Session, project_id: int) -> list[NoticeLine]:
    """The notices written about the project, newest first (every channel, the inbox included)."""
    rows = session.exec(
        select(Notice, Person.name)
        .join(Person, col(Person.id) == col(Notice.person_id))
        .where(col(Notice.project_id) == project_id)
        .order_by(col(Notice.id).desc())
        .limit(200)
    ).all()
    return [
        NoticeLine(
            n.id or 0,
            name,
            n.channel,
            n.template,
            n.level,
            n.subject,
            n.state,
            n.created_at,
            n.sent_at,
            n.acknowledged_at,
        )
        for n, name in rows
    ]
