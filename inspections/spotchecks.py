"""四不两直 spot-check draws on the database: gather each project's risk, draw, and record the draw."""

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, col, select

from inspections.spotcheck import RiskFacts, RiskPolicy, Weighted, draw, risk_weight
from models import Inspection, OrderStatus, Person, Project, RectificationOrder, SpotCheckDraw
from models.localtime import local_date


def risk_facts(
    *, session: Session, programme_id: int, now: datetime, exclude_stages: Collection[str] = ()
) -> list[RiskFacts]:
    """What is known about each project's risk as of ``now`` (set-based: three grouped queries)."""
    projects = session.exec(
        select(Project).where(
            col(Project.programme_id) == programme_id, col(Project.stage).not_in(list(exclude_stages))
        )
    ).all()
    ids = [p.id for p in projects]
    open_orders = dict(
        session.exec(
            select(RectificationOrder.project_id, func.count())
            .where(
                col(RectificationOrder.project_id).in_(ids),
                col(RectificationOrder.status) != OrderStatus.CLOSED,
            )
            .group_by(col(RectificationOrder.project_id))
        ).all()
    )
    overdue = dict(
        session.exec(
            select(RectificationOrder.project_id, func.count())
            .where(
                col(RectificationOrder.project_id).in_(ids),
                col(RectificationOrder.status) != OrderStatus.CLOSED,
                col(RectificationOrder.due_at) < now,
            )
            .group_by(col(RectificationOrder.project_id))
        ).all()
    )
    latest: dict[int, Inspection] = {}
    for inspection in session.exec(
        select(Inspection)
        .where(col(Inspection.project_id).in_(ids), col(Inspection.signed_at).is_not(None))
        .order_by(col(Inspection.inspected_at))
    ).all():
        latest[inspection.project_id] = inspection
    today = local_date(now)
    facts = []
    for project in projects:
        assert project.id is not None
        last = latest.get(project.id)
        behind = 0
        if project.actual_start is None and project.planned_start < today:
            behind = (today - project.planned_start).days
        facts.append(
            RiskFacts(
                project_id=project.id,
                open_orders=open_orders.get(project.id, 0),
                overdue_orders=overdue.get(project.id, 0),
                last_score=Decimal(last.score_tenths) / 10 if last else None,
                days_since_last_visit=max(0, (today - local_date(last.inspected_at)).days) if last else None,
                days_behind_plan=behind,
            )
        )
    return facts


def draw_spot_check(
    *,
    session: Session,
    programme_id: int,
    count: int,
    seed: int,
    actor: Person | None,
    now: datetime,
    exclude_stages: Collection[str] = (),
    policy: RiskPolicy = RiskPolicy(),
) -> SpotCheckDraw:
    """Draw ``count`` projects weighted toward risk and record time, seed, weights and result first.

    Nobody is told: the record is for the office; no notice is written for a draw.
    """
    weights = [
        risk_weight(facts, policy)
        for facts in risk_facts(
            session=session, programme_id=programme_id, now=now, exclude_stages=exclude_stages
        )
    ]
    if not weights:
        raise ValueError("no project to draw from")
    drawn = draw(weights, count, seed)
    record = SpotCheckDraw(
        programme_id=programme_id,
        drawn_at=now,
        drawn_by_id=actor.id if actor else None,
        seed=seed,
        count=count,
        weights={str(w.project_id): {"weight": w.weight, "reasons": w.reasons} for w in weights},
        drawn_project_ids=drawn,
    )
    session.add(record)
    session.flush()
    return record


def replay(record: SpotCheckDraw) -> list[int]:
    """Draw again from the recorded weights and seed: an auditor's check that the draw was honest."""
    weights = [
        Weighted(project_id=int(pid), weight=float(entry["weight"]), reasons=list(entry["reasons"]))
        for pid, entry in record.weights.items()
    ]
    return draw(weights, record.count, record.seed)
