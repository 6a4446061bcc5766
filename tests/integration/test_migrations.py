"""Migrations run from empty on both databases, and the models agree with them."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from ducha.db import (
    SchemaBehind,
    current_revision,
    head_revision,
    make_engine,
    require_current_schema,
    upgrade_to_head,
)
from models import load_tables


def test_models_and_migrations_agree(engine: Engine) -> None:
    load_tables()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_from_empty_reaches_head_and_is_repeatable(database_url: str, tmp_path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}") if database_url.startswith("sqlite") else None
    target = empty or make_engine(database_url)
    if empty is None:
        # PostgreSQL: start from an empty schema in this test's own database.
        with target.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    try:
        assert current_revision(target) is None
        try:
            require_current_schema(target)
        except SchemaBehind as exc:
            assert "is empty (no ducha schema)" in str(exc) and "run `ducha init`" in str(exc)
        else:
            raise AssertionError("an empty database was accepted")
        assert upgrade_to_head(target) == (None, head_revision(database_url))
        assert upgrade_to_head(target) == (head_revision(database_url), head_revision(database_url))
        require_current_schema(target)
        assert set(SQLModel.metadata.tables) <= set(inspect(target).get_table_names())
    finally:
        target.dispose()
