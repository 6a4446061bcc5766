"""The battle map (挂图作战): every project of a programme as a tile, grouped by town, with its stage,
how many of its deadlines are overdue and the highest escalation level raised. One query: the
programme's projects joined to their open deadlines, alerts and open orders, each grouped by project
once (not three subqueries per tile).

A read session may keep the map (``cached``): per process, under the programme, the filters, the
scope and the data generation (``workflows.read_cache``), and only until the clock reaches the next
time the map could change by itself (an open deadline falling due, an alert coming into view)."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import Alert, Deadline, DeadlineStatus, Place, Programme, Project, RectificationOrder
from models.kinds import OrderStatus
from models.scope import EVERYTHING, Scope
from workflows.definition import get_definition
from workflows.read_cache import ReadCache


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
    # The tiles as the page writes them, once per kept map (ducha.web.templating).
    rendered: Any = field(default=None, repr=False, compare=False)
    _late: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def overdue_projects(self) -> int:
        late = self._late
        if late is None or late[0] != len(self.tiles):  # counted once per kept map, not per page
            late = self._late = (len(self.tiles), sum(1 for tile in self.tiles if tile.overdue))
        return late[1]


@dataclass(frozen=True)
class BattleMap:
    programme: Programme
    as_of: datetime
    towns: list[TownTiles]
    stage_labels: dict[str, str]
    projects: int
    overdue_projects: int


# Battle maps kept per process: a map of 5,000 tiles is a few MB with its page's HTML.
MAPS: ReadCache["BattleMap"] = ReadCache(16)
# Levels are ranked in SQL as text: the level number, padded by adding this, then the name.
_RANK = 100_000


def battle_map(
    *,
    session: Session,
    programme: Programme,
    now: datetime,
    scope: Scope = EVERYTHING,
    town: str | None = None,
    stage: str | None = None,
    overdue_only: bool = False,
    cached: bool = False,
) -> BattleMap:
    """The tiles of ``programme`` as of ``now`` that ``scope`` sees, filtered by town, stage, overdue.

    ``cached``: only from a session that has written nothing (see ``workflows.read_cache``)."""
    assert programme.id is not None
    if not cached:
        return _battle_map(session, programme, now, scope, town, stage, overdue_only)[0]
    key = ("battle_map", programme.id, town, stage, overdue_only, scope)
    found = MAPS.answer(
        session, key, lambda: _battle_map(session, programme, now, scope, town, stage, overdue_only), now
    )
    # The kept map, as of now, with this session's programme (the one it was made with is detached).
    return replace(found, programme=programme, as_of=now)


def _battle_map(
    session: Session,
    programme: Programme,
    now: datetime,
    scope: Scope,
    town: str | None,
    stage: str | None,
    overdue_only: bool,
) -> tuple[BattleMap, datetime | None]:
    """The map, and the first time after ``now`` it could change with no write (None: never)."""
    definition = get_definition(session=session, key=programme.definition_key)
    village, town_place = aliased(Place), aliased(Place)
    in_programme = and_(
        col(Project.id) == col(Deadline.project_id), col(Project.programme_id) == programme.id
    )
    open_deadlines = (col(Deadline.status) == DeadlineStatus.OPEN,)
    deadlines = (
        sa_select(
            col(Deadline.project_id).label("project_id"),
            func.sum(case((col(Deadline.due_at) < now, 1), else_=0)).label("overdue"),
            func.min(case((col(Deadline.due_at) >= now, col(Deadline.due_at)))).label("next_due"),
        )
        .join(Project, in_programme)
        .where(*open_deadlines)
        .group_by(col(Deadline.project_id))
        .subquery("deadlines")
    )
    ranked = cast(col(Alert.level) + _RANK, String) + literal(":") + col(Alert.name)
    alerts = (
        sa_select(
            col(Deadline.project_id).label("project_id"),
            func.max(case((col(Alert.raised_at) <= now, ranked))).label("top"),
            func.min(case((col(Alert.raised_at) > now, col(Alert.raised_at)))).label("next_alert"),
        )
        .select_from(Alert)
        .join(
            Deadline,
            and_(col(Deadline.id) == col(Alert.deadline_id), col(Deadline.revision) == col(Alert.revision)),
        )
        .join(Project, in_programme)
        .where(*open_deadlines)
        .group_by(col(Deadline.project_id))
        .subquery("alerts")
    )
    orders = (
        sa_select(col(RectificationOrder.project_id).label("project_id"), func.count().label("orders"))
        .join(
            Project,
            and_(
                col(Project.id) == col(RectificationOrder.project_id),
                col(Project.programme_id) == programme.id,
            ),
        )
        .where(col(RectificationOrder.status) != OrderStatus.CLOSED)
        .group_by(col(RectificationOrder.project_id))
        .subquery("orders")
    )
    query: Any = (
        sa_select(
            col(Project.id),
            col(Project.code),
            col(village.name),
            col(town_place.name),
            col(Project.stage),
            deadlines.c.overdue,
            deadlines.c.next_due,
            alerts.c.top,
            alerts.c.next_alert,
            orders.c.orders,
        )
        .join(village, col(village.id) == col(Project.village_id))
        .join(town_place, col(town_place.id) == col(village.parent_id))
        .outerjoin(deadlines, deadlines.c.project_id == col(Project.id))
        .outerjoin(alerts, alerts.c.project_id == col(Project.id))
        .outerjoin(orders, orders.c.project_id == col(Project.id))
        .where(col(Project.programme_id) == programme.id)
        .order_by(col(town_place.name), col(Project.code))
    )
    if not scope.everything:
        query = query.where(scope.projects(col(Project.id)))
    if town:
        query = query.where(col(town_place.name) == town)
    if stage:
        query = query.where(col(Project.stage) == stage)
    towns: dict[str, TownTiles] = {}
    labels = {key: definition.stage_label(key) for key in definition.stage_keys()}
    count = late = 0
    changes: datetime | None = None
    # Through the session's connection: plain rows, without the ORM's result processing per row.
    # Overdue only is applied here, not in SQL: a tile left out now may fall due later, and the
    # time it does is when the map changes.
    rows = session.connection().execute(query)
    for (
        project_id,
        code,
        village_name,
        town_name,
        stage_key,
        late_items,
        due,
        top,
        alert_at,
        open_orders,
    ) in rows:
        for moment in (due, alert_at):
            if moment is not None and (changes is None or moment < changes):
                changes = moment
        late_items = int(late_items or 0)
        if overdue_only and not late_items:
            continue
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
                late_items,
                top.split(":", 1)[1] if top else None,
                int(open_orders or 0),
            )
        )
        count += 1
        late += 1 if late_items else 0
    return BattleMap(programme, now, list(towns.values()), labels, count, late), changes
