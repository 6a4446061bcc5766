"""Migrations run from empty on both databases, and the models agree with them."""

from pathlib import Path

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


def test_the_revision_list_is_the_migration_scripts_in_order() -> None:
    """ducha checks a database's schema against migrations.REVISIONS, without importing Alembic."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    scripts = ScriptDirectory.from_config(config)
    in_order = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert tuple(in_order) == migrations.REVISIONS
    assert scripts.get_current_head() == head_revision()


def test_a_database_made_by_a_newer_ducha_says_so(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    try:
        require_current_schema(engine)
    except SchemaBehind as exc:
        assert "was made by a newer ducha (revision 0099" in str(exc) and "upgrade ducha" in str(exc)
    else:
        raise AssertionError("a newer database was accepted")
    finally:
        engine.dispose()
