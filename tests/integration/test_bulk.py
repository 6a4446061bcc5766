"""Bulk inserts at the driver's speed keep SQLAlchemy's behaviour: errors, skipped rows, new ids."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Place, PlaceKind, WorkflowDefinitionRecord
from models.bulk import insert_many, insert_new
from models.types import table_of

AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_insert_new_names_the_rows_it_inserted(session: Session) -> None:
    table = table_of(Place)
    rows = [{"kind": PlaceKind.DISTRICT.value, "name": f"区{n}", "parent_id": None} for n in range(3)]
    made = insert_new(session, table, rows, key=["name"])
    assert sorted(made) == [("区0",), ("区1",), ("区2",)]
    places = {p.name: p.id for p in session.exec(select(Place)).all()}
    assert all(places[name] == place_id for (name,), place_id in made.items())


def test_a_driver_error_comes_out_as_sqlalchemys(session: Session) -> None:
    table = table_of(Place)
    with pytest.raises(IntegrityError):
        insert_many(session, table, [{"kind": PlaceKind.DISTRICT.value, "name": None, "parent_id": None}])


def test_insert_new_skips_rows_whose_unique_values_are_taken(session: Session) -> None:
    table = table_of(WorkflowDefinitionRecord)

    def row(version: int) -> dict[str, object]:
        return {
            "key": "village-venue", "version": version, "source_name": "x.yaml", "source_text": "x",
            "sha256": "0" * 64, "loaded_at": AT, "title": "x",
        }  # fmt: skip

    made = insert_new(session, table, [row(1), row(9)], key=["key", "version"], skip_taken=["key", "version"])
    assert list(made) == [("village-venue", 9)]
    kept = session.exec(select(WorkflowDefinitionRecord).where(WorkflowDefinitionRecord.version == 1)).one()
    assert kept.source_text != "x"  # the built-in version 1 is untouched
