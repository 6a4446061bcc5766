"""notices: the outbox, every delivery attempt, the inbox; a person's language and digest choice

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

- notice: one message to one person on one channel, unique by its idempotency key;
- notice_attempt: every try to deliver one (append-only; TRUNCATE refused on PostgreSQL);
- person.lang (zh, en) and person.digest (a daily digest instead of single notices).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "'queued', 'held', 'sending', 'retry', 'accepted', 'failed', 'passed', 'digested'"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column('person', sa.Column('lang', sa.String(length=5), server_default='zh', nullable=False))
    op.add_column('person', sa.Column('digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('cause', sa.String(length=16), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('inspection_id', sa.Integer(), nullable=True),
        sa.Column('deadline_id', sa.Integer(), nullable=True),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=120), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=True),
        sa.Column('template', sa.String(length=40), nullable=False),
        sa.Column('template_hash', sa.String(length=64), nullable=False),
        sa.Column('lang', sa.String(length=5), nullable=False),
        sa.Column('level', sa.String(length=32), nullable=True),
        sa.Column('escalation', sa.Boolean(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('not_before', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claimed_by', sa.String(length=200), nullable=True),
        sa.Column('lease_until', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('read_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('follows_id', sa.Integer(), nullable=True),
        sa.Column('digest_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint(f'state IN ({STATES})', name='ck_notice_state'),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id']),
        sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id']),
        sa.ForeignKeyConstraint(['digest_id'], ['notice.id']),
        sa.ForeignKeyConstraint(['follows_id'], ['notice.id']),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id']),
        sa.ForeignKeyConstraint(['order_id'], ['rectification_order.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['project_id'], ['project.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_notice_due', 'notice', ['state', 'not_before'])
    op.create_index('ix_notice_person', 'notice', ['person_id', 'created_at'])
    op.create_index(op.f('ix_notice_deadline_id'), 'notice', ['deadline_id'])
    op.create_index(op.f('ix_notice_project_id'), 'notice', ['project_id'])
    op.create_table(
        'notice_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=120), nullable=False),
        sa.Column('dispatcher', sa.String(length=200), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('retry_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['notice_id'], ['notice.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_notice_attempt_notice_id'), 'notice_attempt', ['notice_id'])
    if dialect == 'sqlite':
        for action in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER notice_attempt_no_{action.lower()} BEFORE {action} ON notice_attempt "
                f"BEGIN SELECT RAISE(ABORT, 'notice_attempt is append-only: {action} refused'); END"
            )
        op.execute(
            "CREATE TRIGGER notice_no_delete BEFORE DELETE ON notice "
            "BEGIN SELECT RAISE(ABORT, 'notice is kept: DELETE refused'); END"
        )
    elif dialect == 'postgresql':
        for action in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER notice_attempt_no_{action.lower()} BEFORE {action} ON notice_attempt "
                "FOR EACH ROW EXECUTE FUNCTION ducha_refuse_change()"
            )
        op.execute(
            "CREATE TRIGGER notice_no_delete BEFORE DELETE ON notice FOR EACH ROW EXECUTE FUNCTION ducha_refuse_change()"
        )
        for table in ('notice', 'notice_attempt'):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ducha_refuse_truncate()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    names = [('notice_attempt_no_update', 'notice_attempt'), ('notice_attempt_no_delete', 'notice_attempt'),
             ('notice_no_delete', 'notice'), ('notice_no_truncate', 'notice'),
             ('notice_attempt_no_truncate', 'notice_attempt')]
    for name, table in names:
        op.execute(f'DROP TRIGGER IF EXISTS {name}' if dialect == 'sqlite' else f'DROP TRIGGER IF EXISTS {name} ON {table}')
    op.drop_index(op.f('ix_notice_attempt_notice_id'), table_name='notice_attempt')
    op.drop_table('notice_attempt')
    op.drop_index(op.f('ix_notice_project_id'), table_name='notice')
    op.drop_index(op.f('ix_notice_deadline_id'), table_name='notice')
    op.drop_index('ix_notice_person', table_name='notice')
    op.drop_index('ix_notice_due', table_name='notice')
    op.drop_table('notice')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('digest')
        batch_op.drop_column('lang')
