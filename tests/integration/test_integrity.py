"""History the database itself keeps: raw SQL that edits it is refused by trigger, on both backends."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

SIGNED = "inspection is signed and immutable"


@pytest.fixture
def db(demo: str) -> Iterator[Engine]:
    engine = create_engine(demo)
    yield engine
    engine.dispose()


def one(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar()
    assert value is not None, sql
    return int(value)


def refused(engine: Engine, sql: str, message: str) -> None:
    with pytest.raises(DBAPIError) as caught, engine.begin() as connection:
        connection.execute(text(sql))
    assert message in str(caught.value), str(caught.value)


def allowed(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_the_children_of_a_signed_inspection_are_immutable(db: Engine) -> None:
    signed = one(db, "SELECT MIN(id) FROM inspection WHERE signed_at IS NOT NULL")
    person = one(db, "SELECT MAX(id) FROM person")
    result = one(db, f"SELECT MIN(id) FROM inspection_item_result WHERE inspection_id = {signed}")
    refused(db, f"UPDATE inspection_item_result SET notes = 'x' WHERE id = {result}", SIGNED)
    refused(
        db, f"UPDATE inspection_inspector SET person_id = {person} WHERE inspection_id = {signed}", SIGNED
    )
    refused(db, f"DELETE FROM inspection_inspector WHERE inspection_id = {signed}", SIGNED)
    refused(
        db, f"INSERT INTO inspection_inspector (inspection_id, person_id) VALUES ({signed}, {person})", SIGNED
    )
    refused(
        db,
        "INSERT INTO inspection_item_result "
        "(inspection_id, item_key, verdict, passed, evidence_count, notes) "
        f"VALUES ({signed}, 'extra', 'passed', true, 0, '')",
        SIGNED,
    )
    attachment = one(
        db,
        "SELECT MIN(a.id) FROM evidence_attachment a "
        "JOIN inspection_item_result r ON r.id = a.item_result_id "
        "JOIN inspection i ON i.id = r.inspection_id WHERE i.signed_at IS NOT NULL",
    )
    refused(db, f"UPDATE evidence_attachment SET original_name = 'x.png' WHERE id = {attachment}", SIGNED)
    refused(db, f"DELETE FROM evidence_attachment WHERE id = {attachment}", SIGNED)


def test_evidence_files_and_raised_history_are_append_only(db: Engine) -> None:
    refused(db, "UPDATE evidence_file SET size_bytes = 1", "evidence_file is append-only")
    refused(db, "DELETE FROM evidence_file", "evidence_file is append-only")
    for table in ("deadline_level", "installation", "workflow_event", "order_event"):
        refused(db, f"DELETE FROM {table}", f"{table} is append-only")
    refused(db, "UPDATE installation SET mode = 'live'", "installation is append-only")


def test_role_assignments_are_history(db: Engine) -> None:
    first = one(db, "SELECT MIN(id) FROM role_assignment WHERE role = 'inspector'")
    message = "role_assignment is history"
    refused(db, f"DELETE FROM role_assignment WHERE id = {first}", message)
    refused(db, f"UPDATE role_assignment SET role = 'office' WHERE id = {first}", message)
    refused(db, f"UPDATE role_assignment SET person_id = person_id + 1 WHERE id = {first}", message)
    close = (
        "UPDATE role_assignment SET revoked_at = CURRENT_TIMESTAMP, revoke_reason = 'left' "
        f"WHERE id = {first}"
    )
    allowed(db, close)  # an open assignment may be closed, once
    refused(db, close.replace("'left'", "'again'"), message)
    refused(
        db, f"UPDATE role_assignment SET revoked_at = NULL, revoke_reason = NULL WHERE id = {first}", message
    )


def test_a_deadline_moves_only_with_a_recorded_revision(db: Engine) -> None:
    deadline = one(db, "SELECT MIN(id) FROM deadline WHERE status = 'open'")
    message = "deadline due time changes only by a new revision"
    refused(db, f"UPDATE deadline SET revision = revision + 1 WHERE id = {deadline}", message)
    with db.connect() as connection:
        due = connection.execute(text(f"SELECT due_at FROM deadline WHERE id = {deadline}")).scalar()
    moved = "'2030-01-01 00:00:00'" if db.dialect.name == "sqlite" else "'2030-01-01 00:00:00+00'"
    refused(db, f"UPDATE deadline SET due_at = {moved} WHERE id = {deadline}", message)
    refused(db, f"DELETE FROM deadline WHERE id = {deadline}", "DELETE refused")
    allowed(
        db, f"UPDATE deadline SET next_level = next_level WHERE id = {deadline}"
    )  # the sweep's own writes
    with db.connect() as connection:
        assert connection.execute(text(f"SELECT due_at FROM deadline WHERE id = {deadline}")).scalar() == due


TRUNCATE_REFUSED = (
    "workflow_event",
    "workflow_definition",
    "order_event",
    "inspection_template",
    "spot_check_draw",
    "inspection",
    "inspection_item_result",
    "inspection_inspector",
    "evidence_attachment",
    "role_assignment",
    "deadline",
    "activity",
    "deadline_revision",
    "installation",
    "alert",
    "deadline_level",
    "evidence_file",
)


@pytest.mark.postgres
def test_postgresql_refuses_truncate_on_every_history_table(postgres_demo: str) -> None:
    engine = create_engine(postgres_demo)
    try:
        for table in TRUNCATE_REFUSED:
            refused(engine, f"TRUNCATE {table} CASCADE", "TRUNCATE refused")
        assert one(engine, "SELECT COUNT(*) FROM workflow_event") > 0
    finally:
        engine.dispose()
