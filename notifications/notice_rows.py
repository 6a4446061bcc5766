"""A notice's row of the list, made without SQLAlchemy.

``notifications.queries.list_notices`` (SQLAlchemy's path) and ``workflows.lean_reads`` (the
statements compiled ahead, for ``ducha notices``) read the same columns and make their rows here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

# models.notices.NoticeState's values and models.notices.INBOX (that module holds the tables; a test
# keeps these equal to them).
NOTICE_STATES = ("queued", "held", "sending", "retry", "accepted", "failed", "passed", "digested")
INBOX = "inbox"


@dataclass(frozen=True)
class NoticeRow:
    id: int
    key: str
    person_id: int
    person: str
    channel: str
    address: str | None
    template: str
    level: str | None
    escalation: bool
    subject: str
    state: str
    created_at: datetime
    not_before: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    read_at: datetime | None
    acknowledged_at: datetime | None

    def plain(self) -> dict[str, Any]:
        return asdict(self)


# The notice's columns read, in order; the person's name follows them.
NOTICE_COLUMNS = (
    "id", "key", "person_id", "channel", "address", "template", "level", "escalation", "subject", "state",
    "created_at", "not_before", "attempts", "sent_at", "last_error", "read_at", "acknowledged_at",
)  # fmt: skip


def notice_row(found: Any) -> NoticeRow:
    """The row of one result row of ``notifications.queries._notices_statement``."""
    values = dict(zip(NOTICE_COLUMNS, found[: len(NOTICE_COLUMNS)], strict=True))
    return NoticeRow(person=found[len(NOTICE_COLUMNS)], **values)


def notice_filters(
    *,
    state: str | None = None,
    failed: bool = False,
    person_id: int | None = None,
    channel: str | None = None,
    unacknowledged: bool = False,
    unread: bool = False,
    created_by: datetime | None = None,
) -> tuple[frozenset[str], dict[str, Any]]:
    """The statement's filters and their parameters for these choices."""
    given = {"state": state, "person_id": person_id, "channel": channel, "created_by": created_by}
    parameters = {name: value for name, value in given.items() if value is not None}
    flags = {"failed": failed, "unacknowledged": unacknowledged, "unread": unread}
    # A level passed over (a higher level of the deadline told the person at once) was never
    # delivered: the inbox does not show it; ``--state passed`` still finds it.
    flags["not_passed"] = channel == INBOX and state is None
    return frozenset({*parameters, *(flag for flag, chosen in flags.items() if chosen)}), parameters


def notices_name(filters: frozenset[str], parameters: Mapping[str, Any]) -> str:
    """The name the statement of these filters is compiled ahead under (workflows.ahead): the
    filters that bind nothing are in it (the shape only says what is bound)."""
    return "_".join(["notices", *sorted(filters - set(parameters))])
