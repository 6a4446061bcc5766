"""who settled a deadline by hand, and why

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('settle_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key('fk_deadline_settled_by_id_person', 'person', ['settled_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deadline_settled_by_id_person', type_='foreignkey')
        batch_op.drop_column('settle_note')
        batch_op.drop_column('settled_by_id')
