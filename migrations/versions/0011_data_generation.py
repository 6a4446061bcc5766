"""data generation: a number the database moves on every write that can change a project list's
count, the battle map or the programme list, so that a reader may keep their answers until it moves

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

- data_generation: one row (id 1) whose ``generation`` takes a new random value for each committed
  transaction (PostgreSQL) or each written row (SQLite) that changes one of the watched tables.
  Random, not counted up: a database restored from a backup, then written to, must not come back to
  a number a running server already keeps answers under (a count would: the restored copy counts
  up again from where the backup was).
- data_generation_pending: PostgreSQL only uses it: the transactions that wrote a watched table and
  have not committed yet (one row each, removed when they commit).
- triggers on the watched tables: project, place, role_assignment, programme, funding_source,
  programme_milestone, project_funding, workflow_definition, alert; deadline (its project, status,
  due time and revision) and rectification_order (its project and status), not their other columns:
  the sweep moving ``next_level_at`` changes nothing these reads show.

PostgreSQL: statement-level triggers (one call per statement, whatever the rows: a bulk load or the
daily job pays once per statement) note the transaction in data_generation_pending; a deferred
constraint trigger on that table moves the number when the transaction commits. The row of
data_generation is locked only in that last step, so a writer never holds it while it waits for
another lock (no new deadlock), and the new number becomes visible with the data, at commit.
SQLite has row triggers only; its writers take turns anyway.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the columns whose update matters (None: any update)
WATCHED: dict[str, tuple[str, ...] | None] = {
    'project': None,
    'place': None,
    'role_assignment': None,
    'programme': None,
    'funding_source': None,
    'programme_milestone': None,
    'project_funding': None,
    'workflow_definition': None,
    'alert': None,
    'deadline': ('project_id', 'programme_id', 'status', 'due_at', 'revision'),
    'rectification_order': ('project_id', 'status'),
}

PG_FUNCTIONS = """
CREATE FUNCTION data_generation_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_generation_pending (txid) VALUES (pg_current_xact_id()::text::bigint)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE FUNCTION data_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_generation SET generation = floor((random() * 2 - 1) * 9.2e18)::bigint WHERE id = 1;
    DELETE FROM data_generation_pending WHERE txid = NEW.txid;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER data_generation_bump AFTER INSERT ON data_generation_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_generation_bump();
"""


def _events(columns: tuple[str, ...] | None) -> list[tuple[str, str]]:
    update = 'UPDATE' if columns is None else f"UPDATE OF {', '.join(columns)}"
    return [('ins', 'INSERT'), ('upd', update), ('del', 'DELETE')]


def upgrade() -> None:
    op.create_table(
        'data_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('id = 1', name='ck_data_generation_one_row'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'data_generation_pending',
        sa.Column('txid', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('txid'),
    )
    op.execute('INSERT INTO data_generation (id, generation) VALUES (1, 0)')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTIONS)
        for table, columns in WATCHED.items():
            for suffix, event in _events(columns):
                op.execute(
                    f'CREATE TRIGGER data_generation_{table}_{suffix} AFTER {event} ON {table} '
                    'FOR EACH STATEMENT EXECUTE FUNCTION data_generation_note()'
                )
        return
    for table, columns in WATCHED.items():
        for suffix, event in _events(columns):
            op.execute(
                f'CREATE TRIGGER data_generation_{table}_{suffix} AFTER {event} ON {table} '
                'FOR EACH ROW BEGIN UPDATE data_generation SET generation = random() WHERE id = 1; END'
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for table, columns in WATCHED.items():
        for suffix, _ in _events(columns):
            op.execute(
                f'DROP TRIGGER IF EXISTS data_generation_{table}_{suffix}' + (f' ON {table}' if postgresql else '')
            )
    op.drop_table('data_generation_pending')
    op.drop_table('data_generation')
    if postgresql:
        op.execute('DROP FUNCTION IF EXISTS data_generation_bump()')
        op.execute('DROP FUNCTION IF EXISTS data_generation_note()')
