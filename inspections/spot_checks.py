"""四不两直 spot-check draws on the database: gather each project's risk, draw, and record the draw."""

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from inspections.risk import RiskFacts, RiskPolicy, Weighted, draw, risk_weight
from models import Inspection, OrderStatus, Person, Project, RectificationOrder, SpotCheckDraw
from models.errors import Refused
from models.localtime import local_date


def risk_facts(
    *, session: Session, programme_id: int, now: datetime, exclude_stages: Collection[str] = ()
) -> list[RiskFacts]:
    """What is known about each project's risk as of ``now``: one query, grouped in SQL."""
    of_programme = col(Project.programme_id) == programme_id
    orders = (
        select(
            RectificationOrder.project_id,
            func.count().label("open_orders"),
            func.sum(case((col(RectificationOrder.due_at) < now, 1), else_=0)).label("overdue_orders"),
        )
        .join(Project, and_(col(Project.id) == col(RectificationOrder.project_id), of_programme))
        .where(col(RectificationOrder.status) != OrderStatus.CLOSED)
        .group_by(col(RectificationOrder.project_id))
        .subquery("orders")
    )
    ranked = (
        select(
            Inspection.project_id,
            Inspection.score_tenths,
            Inspection.inspected_at,
            func.row_number()
            .over(
                partition_by=col(Inspection.project_id),
                order_by=(col(Inspection.inspected_at).desc(), col(Inspection.id).desc()),
            )
            .label("newest"),
        )
        .join(Project, and_(col(Project.id) == col(Inspection.project_id), of_programme))
        .where(col(Inspection.signed_at).is_not(None))
        .subquery("ranked")
    )
    latest = sa_select(ranked).where(ranked.c.newest == 1).subquery("latest")
    rows = session.execute(
        sa_select(
            col(Project.id),
            col(Project.planned_start),
            col(Project.actual_start),
            orders.c.open_orders,
            orders.c.overdue_orders,
            latest.c.score_tenths,
            latest.c.inspected_at,
        )
        .outerjoin(orders, orders.c.project_id == col(Project.id))
        .outerjoin(latest, latest.c.project_id == col(Project.id))
        .where(of_programme, col(Project.stage).not_in(list(exclude_stages)))
        .order_by(col(Project.id))
    ).all()
    today = local_date(now)
    facts = []
    for (
        project_id,
        planned_start,
        actual_start,
        open_count,
        overdue_count,
        score_tenths,
        inspected_at,
    ) in rows:
        behind = 0
        if actual_start is None and planned_start < today:
            behind = (today - planned_start).days
        visited = inspected_at is not None
        facts.append(
            RiskFacts(
                project_id=project_id,
                open_orders=int(open_count or 0),
                overdue_orders=int(overdue_count or 0),
                last_score=Decimal(score_tenths) / 10 if visited else None,
                days_since_last_visit=max(0, (today - local_date(inspected_at)).days) if visited else None,
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
    seed_source: str = "secure",
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
        raise Refused("no project to draw from")
    drawn = draw(weights, count, seed)
    record = SpotCheckDraw(
        programme_id=programme_id,
        drawn_at=now,
        drawn_by_id=actor.id if actor else None,
        seed=seed,
        seed_source=seed_source,
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
