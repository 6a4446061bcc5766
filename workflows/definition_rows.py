"""A loaded workflow definition's row of ``ducha workflows``, made without SQLAlchemy.

``workflows.reads.workflow_definitions`` (SQLAlchemy's path) and
``workflows.lean_reads.workflow_definitions`` (the statement compiled ahead) read the same columns
and make their rows here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DefinitionRow:
    """A definition's table row without its text, the fields in the table's order (so ``--json``
    writes its keys in that order, the same in every process)."""

    id: int
    key: str
    version: int
    title: str
    source_name: str
    sha256: str
    loaded_at: datetime


# The columns read, in order (workflows.ahead checks them against the table's fields).
DEFINITION_FIELDS = ("id", "key", "version", "title", "source_name", "sha256", "loaded_at")
