"""The fast screen of a log's entries: hash, chain, columns, lines and balances checked on plain DBAPI
tuples, each document parsed once, with no ORM rows and no per-column type processing.

The screen only says yes or "look closer": an entry it doubts goes to ``check_entry``
(funds/entry_checks.py), which names what is wrong, or clears the entry when the screen was merely
stricter (a timestamp stored in another text form, say). It is never laxer: every entry it passes,
``check_entry`` would pass too, except the leaf in the tree, which funds/tree_levels.py checks for the
whole log at once.
"""

import hashlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from itertools import count
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Select
from sqlmodel import Session

from funds.canonical import instant

BATCH = 5000
_cursors = count()
Row = tuple[Any, ...]


def raw_batches(session: Session, query: Select[Any]) -> Generator[list[Row], None, None]:
    """``query``'s rows as the driver gives them, a batch at a time, read as they come (a server-side
    cursor on PostgreSQL), in the session's transaction. Its binds are rendered inline: only ids."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        cursor = driver.cursor(name=f"ducha_verify_{next(_cursors)}")
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()


def _sqlite_instant(stored: Any, documented: Any) -> bool:
    # SQLAlchemy writes SQLite times as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC); any other text goes to
    # check_entry, which parses it as the application would.
    if not isinstance(stored, str) or len(stored) != 26 or stored[10] != " " or stored[19] != ".":
        return False
    fraction = stored[19:]
    return bool(
        documented == stored[:10] + "T" + stored[11:19] + ("" if fraction == ".000000" else fraction) + "Z"
    )


def _driver_instant(stored: Any, documented: Any) -> bool:
    return stored is not None and instant(stored) == documented


def instant_check(dialect: str) -> Callable[[Any, Any], bool]:
    """Whether a stored time (as the driver returns it) is the instant a document writes."""
    return _sqlite_instant if dialect == "sqlite" else _driver_instant


# The entry's columns, in the order ``Screen.passes`` unpacks them.
ENTRY_RAW = (
    "seq", "body", "entry_hash", "kind", "amount_fen", "category", "voucher", "invoice", "op_id", "op_part",
    "fund_id", "project_id", "occurred_at", "recorded_at", "reverses_seq", "settles_seq", "payable_seq",
    "linked_seq", "actor_id", "override", "vendor_id",
)  # fmt: skip
LINE_RAW = ("entry_seq", "position", "account_id", "amount_fen", "balance_fen")

_DOCUMENTED = itemgetter("kind", "amount", "category", "voucher", "invoice", "op", "part", "fund", "project")
_REFS = itemgetter("reverses", "settles", "payable", "linked")
_NO_ACCOUNT = (None, None)
_NOT_STORED = object()
_sha256 = hashlib.sha256


@dataclass
class Screen:
    """What the screen compares with: the log's origin and the names its columns refer to."""

    origin: str
    names: dict[str, dict[int, Any]]
    same_instant: Callable[[Any, Any], bool]
    balances: dict[str, int] = field(default_factory=dict)  # account code → balance so far

    def __post_init__(self) -> None:
        self.funds = self.names["fund"]
        self.projects = self.names["project"]
        self.accounts = self.names["account"]
        self.vendors = {
            vendor_id: {"name": name, "small_firm": bool(small)}
            for vendor_id, (name, small) in self.names["vendor"].items()
        }

    def passes(self, row: Row, lines: list[Row], expected_seq: int, prev: str) -> bool:
        """Whether entry ``row`` with its line rows is certainly good; its balances are then counted."""
        try:
            return self._passes(row, lines, expected_seq, prev)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return False  # a document of another shape: check_entry says what is wrong with it

    def _passes(self, row: Row, lines: list[Row], expected_seq: int, prev: str) -> bool:
        (seq, body, entry_hash, kind, amount, category, voucher, invoice, op_id, op_part, fund_id,
         project_id, occurred, recorded, reverses, settles, payable, linked, actor_id, override,
         vendor_id) = row  # fmt: skip
        if seq != expected_seq or _sha256(body.encode()).hexdigest() != entry_hash:
            return False
        doc = orjson.loads(body)
        actor, vendor, refs, documented = doc["actor"], doc["vendor"], doc["refs"], doc["lines"]
        if (
            doc["log"] != self.origin
            or doc["seq"] != seq
            or doc["prev"] != prev
            or _DOCUMENTED(doc)
            != (
                kind,
                amount,
                category,
                voucher,
                invoice,
                op_id,
                op_part,
                self.funds.get(fund_id),
                None if project_id is None else self.projects.get(project_id),
            )  # fmt: skip
            or len(refs) != 4
            or _REFS(refs) != (reverses, settles, payable, linked)
            or (actor["id"] if actor else None) != actor_id
            or (doc["override"] is not None) != bool(override)
            or vendor != (None if vendor_id is None else self.vendors.get(vendor_id, _NOT_STORED))
            or not self.same_instant(occurred, doc["occurred_at"])
            or not (
                recorded == occurred
                and doc["recorded_at"] == doc["occurred_at"]
                or self.same_instant(recorded, doc["recorded_at"])
            )
            or len(lines) != len(documented)
        ):
            return False
        if kind != "reclassify":
            for ref in (reverses, settles, payable, linked):
                if ref is not None and not 0 <= ref < seq:
                    return False
        # The balances this entry leaves, counted apart until every line has passed.
        balances, accounts, after = self.balances, self.accounts, dict[str, int]()
        position = total = 0
        for (_, stored_position, account_id, line_amount, balance), line in zip(
            lines, documented, strict=True
        ):
            code, line_fund = accounts.get(account_id, _NO_ACCOUNT)
            before = after[code] if code in after else balances.get(code, 0)
            if (
                stored_position != position
                or line_fund != fund_id
                or code != line["account"]
                or line_amount != line["amount"]
                or balance != line["balance"]
                or before + line_amount != balance
            ):
                return False
            after[code] = balance
            position += 1
            total += line_amount
        if total != 0:
            return False
        balances.update(after)
        return True
