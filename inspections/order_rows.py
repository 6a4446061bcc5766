"""A rectification order's row of the list, made without SQLAlchemy.

``inspections.orders.list_orders`` (SQLAlchemy's path) and ``workflows.lean_reads.list_orders`` (the
statement compiled ahead, for ``ducha orders``) read the same columns and make their rows here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.kinds import OrderStatus


@dataclass(frozen=True)
class OrderRow:
    id: int
    project_id: int
    project_code: str
    village: str
    origin: str
    inspection_id: int | None
    item_key: str
    severity: str
    description: str
    responsible_person_id: int
    responsible_name: str
    status: str
    issued_at: datetime
    due_at: datetime
    closed_at: datetime | None
    overdue: bool


def order_rows(now: datetime) -> Callable[[Any], OrderRow]:
    """The row of one result row of ``inspections.orders._orders_statement``; overdue: open past ``now``."""

    def row(found: Any) -> OrderRow:
        (
            order_id, project_id, origin, inspection_id, item_key, severity, description,
            responsible_person_id, status, issued_at, due_at, closed_at, code, village, person,
        ) = found  # fmt: skip
        return OrderRow(
            id=order_id,
            project_id=project_id,
            project_code=code,
            village=village,
            origin=origin,
            inspection_id=inspection_id,
            item_key=item_key,
            severity=severity,
            description=description,
            responsible_person_id=responsible_person_id,
            responsible_name=person,
            status=status,
            issued_at=issued_at,
            due_at=due_at,
            closed_at=closed_at,
            overdue=status != OrderStatus.CLOSED and due_at < now,
        )

    return row
