"""the fund ledger: accounts per fund, journal entries and lines, the Merkle log, signed checkpoints

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

- ledger_log: one per programme (its origin), locked first by every append;
- vendor, expense_category, ledger_account: who is paid, what money may be spent on, the accounts;
- journal_entry (the canonical document and its hash, at its place in the programme's log) and
  journal_line (the debits and credits with the balance after each);
- merkle_node: every complete subtree of each programme's RFC 9162 tree, keyed level·2^40 + index;
- ledger_checkpoint: signed checkpoints (C2SP signed notes).

Every one of them is append-only: triggers refuse UPDATE and DELETE on SQLite and PostgreSQL, and
TRUNCATE on PostgreSQL.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEDGER_TABLES = (
    'ledger_log', 'vendor', 'expense_category', 'ledger_account', 'journal_entry', 'journal_line',
    'merkle_node', 'ledger_checkpoint',
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'ledger_log',
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=200), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.PrimaryKeyConstraint('programme_id'),
        sa.UniqueConstraint('origin'),
    )
    op.create_table(
        'vendor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('small_firm', sa.Boolean(), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'expense_category',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('earmarked', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('programme_id', 'code', name='uq_expense_category_code'),
    )
    op.create_table(
        'ledger_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('fund_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('vendor_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=True),
        sa.Column('code', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['fund_id'], ['funding_source.id']),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.ForeignKeyConstraint(['project_id'], ['project.id']),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('programme_id', 'code', name='uq_ledger_account_code'),
    )
    op.create_index(op.f('ix_ledger_account_project_id'), 'ledger_account', ['project_id'])
    op.create_table(
        'journal_entry',
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('fund_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('op_id', sa.String(length=100), nullable=False),
        sa.Column('op_part', sa.SmallInteger(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('vendor_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=True),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('voucher', sa.String(length=64), nullable=True),
        sa.Column('invoice', sa.String(length=64), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('occurred_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reverses_seq', sa.BigInteger(), nullable=True),
        sa.Column('settles_seq', sa.BigInteger(), nullable=True),
        sa.Column('payable_seq', sa.BigInteger(), nullable=True),
        sa.Column('linked_seq', sa.BigInteger(), nullable=True),
        sa.Column('override', sa.Boolean(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('entry_hash', sa.String(length=64), nullable=False),
        sa.CheckConstraint('amount_fen > 0', name='ck_journal_entry_amount'),
        sa.ForeignKeyConstraint(['actor_id'], ['person.id']),
        sa.ForeignKeyConstraint(['fund_id'], ['funding_source.id']),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.ForeignKeyConstraint(['project_id'], ['project.id']),
        sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id']),
        sa.PrimaryKeyConstraint('programme_id', 'seq'),
        sa.UniqueConstraint('op_id', 'op_part', name='uq_journal_entry_op'),
        sa.UniqueConstraint('programme_id', 'reverses_seq', name='uq_journal_entry_reverses'),
        sa.UniqueConstraint('programme_id', 'settles_seq', name='uq_journal_entry_settles'),
    )
    op.create_index('ix_journal_entry_payable', 'journal_entry', ['programme_id', 'payable_seq'])
    op.create_index('ix_journal_entry_project', 'journal_entry', ['project_id', 'occurred_at'])
    op.create_index('ix_journal_entry_vendor', 'journal_entry', ['vendor_id', 'occurred_at'])
    op.create_table(
        'journal_line',
        sa.Column('programme_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('entry_seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('position', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('balance_fen', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('amount_fen <> 0', name='ck_journal_line_amount'),
        sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id']),
        sa.ForeignKeyConstraint(['programme_id', 'entry_seq'], ['journal_entry.programme_id', 'journal_entry.seq']),
        sa.PrimaryKeyConstraint('programme_id', 'entry_seq', 'position'),
    )
    op.create_index('ix_journal_line_account', 'journal_line', ['account_id', 'entry_seq'])
    op.create_table(
        'merkle_node',
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('node', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.PrimaryKeyConstraint('programme_id', 'node'),
    )
    op.create_table(
        'ledger_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('signed_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_ledger_checkpoint_log', 'ledger_checkpoint', ['programme_id', 'tree_size'])
    for table in LEDGER_TABLES:
        for action in ('UPDATE', 'DELETE'):
            if dialect == 'sqlite':
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
                )
            elif dialect == 'postgresql':
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION ducha_refuse_change()"
                )
        if dialect == 'postgresql':
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ducha_refuse_truncate()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in LEDGER_TABLES:
        for action in ('update', 'delete', 'truncate'):
            name = f'{table}_no_{action}'
            op.execute(f'DROP TRIGGER IF EXISTS {name}' if dialect == 'sqlite' else f'DROP TRIGGER IF EXISTS {name} ON {table}')
    op.drop_index('ix_ledger_checkpoint_log', table_name='ledger_checkpoint')
    op.drop_table('ledger_checkpoint')
    op.drop_table('merkle_node')
    op.drop_index('ix_journal_line_account', table_name='journal_line')
    op.drop_table('journal_line')
    op.drop_index('ix_journal_entry_vendor', table_name='journal_entry')
    op.drop_index('ix_journal_entry_project', table_name='journal_entry')
    op.drop_index('ix_journal_entry_payable', table_name='journal_entry')
    op.drop_table('journal_entry')
    op.drop_index(op.f('ix_ledger_account_project_id'), table_name='ledger_account')
    op.drop_table('ledger_account')
    op.drop_table('expense_category')
    op.drop_table('vendor')
    op.drop_table('ledger_log')
