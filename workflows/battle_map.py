"""The battle map (挂图作战): every project of a programme as a tile, grouped by town, with its stage,
how many of its deadlines are overdue and the highest escalation level raised. One query."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import Alert, Deadline, DeadlineStatus, Place, Programme, Project, RectificationOrder
from models.kinds import OrderStatus
from models.scope import EVERYTHING, Scope
from workflows.definition import get_definition


@dataclass(frozen=True)
class Tile:
    project_id: int
    code: str
    village: str
    stage: str
    stage_label: str
    overdue: int  # open deadlines past due
    level: str | None  # the highest escalation level raised on an open deadline (None: none)
    open_orders: int


@dataclass
class TownTiles:
    town: str
    tiles: list[Tile] = field(default_factory=list)

    @property
    def overdue_projects(self) -> int:
        return sum(1 for tile in self.tiles if tile.overdue)


@dataclass(frozen=True)
class BattleMap:
    programme: Programme
    as_of: datetime
    towns: list[TownTiles]
    stage_labels: dict[str, str]
    projects: int
    overdue_projects: int


def battle_map(
    *,
    session: Session,
    programme: Programme,
    now: datetime,
    scope: Scope = EVERYTHING,
    town: str | None = None,
    stage: str | None = None,
    overdue_only: bool = False,
) -> BattleMap:
    """The tiles of ``programme`` as of ``now`` that ``scope`` sees, filtered by town, stage, overdue."""
    assert programme.id is not None
    definition = get_definition(session=session, key=programme.definition_key)
    village, town_place = aliased(Place), aliased(Place)
    open_deadline = and_(
        col(Deadline.project_id) == col(Project.id),
        col(Deadline.status) == DeadlineStatus.OPEN,
    )
    overdue = sa_select(func.count()).where(open_deadline, col(Deadline.due_at) < now).scalar_subquery()
    level = (
        sa_select(col(Alert.name))
        .join(
            Deadline,
            and_(col(Deadline.id) == col(Alert.deadline_id), col(Deadline.revision) == col(Alert.revision)),
        )
        .where(open_deadline, col(Alert.raised_at) <= now)
        .order_by(col(Alert.level).desc())
        .limit(1)
        .scalar_subquery()
    )
    orders = (
        sa_select(func.count())
        .where(
            col(RectificationOrder.project_id) == col(Project.id),
            col(RectificationOrder.status) != OrderStatus.CLOSED,
        )
        .scalar_subquery()
    )
    query: Any = (
        sa_select(
            col(Project.id),
            col(Project.code),
            col(village.name),
            col(town_place.name),
            col(Project.stage),
            overdue.label("overdue"),
            level.label("level"),
            orders.label("orders"),
        )
        .join(village, col(village.id) == col(Project.village_id))
        .join(town_place, col(town_place.id) == col(village.parent_id))
        .where(col(Project.programme_id) == programme.id)
        .order_by(col(town_place.name), col(Project.code))
    )
    if not scope.everything:
        query = query.where(scope.projects(col(Project.id)))
    if town:
        query = query.where(col(town_place.name) == town)
    if stage:
        query = query.where(col(Project.stage) == stage)
    if overdue_only:
        query = query.where(overdue > 0)
    towns: dict[str, TownTiles] = {}
    labels = {key: definition.stage_label(key) for key in definition.stage_keys()}
    count = late = 0
    # Through the session's connection: plain rows, without the ORM's result processing per row.
    rows = session.connection().execute(query)
    for project_id, code, village_name, town_name, stage_key, late_items, top, open_orders in rows:
        tiles = towns.get(town_name)
        if tiles is None:
            tiles = towns[town_name] = TownTiles(town_name)
        tiles.tiles.append(
            Tile(
                project_id,
                code,
                village_name,
                stage_key,
                labels.get(stage_key, stage_key),
                int(late_items),
                top,
                int(open_orders),
            )
        )
        count += 1
        late += 1 if late_items else 0
    return BattleMap(programme, now, list(towns.values()), labels, count, late)
