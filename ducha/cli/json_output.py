"""Plain JSON for ``--json``: lists under ``data``, ids and plain values, money in fen.

Written as it goes: a list that streams from the database (a ``Listing``, any ``Streamed``, any
iterator) is written row by row, so 600,000 alerts take the memory of one. The text is what
``json.dumps(…, indent=2)`` would give for the same values.
"""

import dataclasses
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

from models.window import Streamed


class _Count:
    """The count of a listing, asked for only once its rows have been written."""

    def __init__(self, listing: Streamed[Any]) -> None:
        self.listing = listing


def plain(value: Any) -> Any:
    """Turn dataclasses, tables, dates and enums into JSON-ready values (lists are read whole)."""
    if isinstance(value, _Count):
        return value.listing.count()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump") and hasattr(value, "__table__"):
        # A table row. Enum columns come back from the database as plain strings; that is fine here.
        # Its fields in the order the table declares them: model_dump's order is the order the ORM
        # set the attributes in, which changed from run to run.
        dumped = value.model_dump(warnings=False)
        order = [*(key for key in type(value).model_fields if key in dumped), *dumped]
        return {key: plain(dumped[key]) for key in dict.fromkeys(order)}
    if isinstance(value, dict):
        return {str(key): plain(val) for key, val in value.items()}
    if isinstance(value, list | tuple | set | Streamed):
        return [plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Scores and measurements; money is never Decimal here (it is integer fen).
        return float(value)
    return value


def _streams(value: Any) -> bool:
    return isinstance(value, Streamed | Iterator)


def _holds_stream(value: Any) -> bool:
    if _streams(value):
        return True
    if isinstance(value, dict):
        return any(_holds_stream(v) for v in value.values())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_streams(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


def _fields(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        return ((str(k), v) for k, v in value.items())
    return ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))


def _write(out: TextIO, value: Any, depth: int) -> None:
    pad = "  " * depth
    if not _holds_stream(value):
        out.write(json.dumps(plain(value), ensure_ascii=False, indent=2).replace("\n", "\n" + pad))
        return
    if _streams(value):
        out.write("[")
        first = True
        for item in value:
            out.write("\n" if first else ",\n")
            out.write(pad + "  ")
            _write(out, item, depth + 1)
            first = False
        out.write("]" if first else "\n" + pad + "]")
        return
    out.write("{")
    first = True
    for key, item in _fields(value):
        out.write("\n" if first else ",\n")
        out.write(f"{pad}  {json.dumps(key, ensure_ascii=False)}: ")
        _write(out, item, depth + 1)
        first = False
    out.write("}" if first else "\n" + pad + "}")


def write_json(out: TextIO, payload: Any) -> None:
    """Write ``payload`` as JSON to ``out``, streaming its lists."""
    _write(out, payload, 0)
    out.write("\n")


def emit_json(payload: Any) -> None:
    """Write ``payload`` as JSON to stdout, streaming its lists."""
    write_json(sys.stdout, payload)
    sys.stdout.flush()


def emit_list(listing: Streamed[Any], **extra: Any) -> None:
    """A list in the ``{data, count}`` shape (plus ``extra`` fields first), streamed row by row."""
    emit_json({**extra, "data": listing, "count": _Count(listing)})
