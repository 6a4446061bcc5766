"""Plain JSON for ``--json``: lists under ``data``, ids and plain values, money in fen."""

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import typer
from sqlmodel import SQLModel


def plain(value: Any) -> Any:
    """Turn dataclasses, tables, dates and enums into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, SQLModel):
        # Enum columns come back from the database as their plain string values; that is fine here.
        return {key: plain(val) for key, val in value.model_dump(warnings=False).items()}
    if isinstance(value, dict):
        return {str(key): plain(val) for key, val in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Scores and measurements; money is never Decimal here (it is integer fen).
        return float(value)
    return value


def emit_json(payload: Any) -> None:
    typer.echo(json.dumps(plain(payload), ensure_ascii=False, indent=2))
