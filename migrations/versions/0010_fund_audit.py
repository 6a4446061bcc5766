"""fund audits: the findings of the audit rules, once per subject

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

- fund_audit_finding: what an audit rule found in a programme's ledger (unique per programme, rule
  and subject, so that an audit run again records nothing twice), the version of the rule that
  found it, the entries that show it, and the inspection and rectification order it became.

An inspection of kind fund_audit needs no schema change (inspection.kind is a string).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'fund_audit_finding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('rule_effective', sa.Date(), nullable=False),
        sa.Column('regulation', sa.Text(), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('fund', sa.String(length=32), nullable=True),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('as_of', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('inspection_id', sa.Integer(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.ForeignKeyConstraint(['project_id'], ['project.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id']),
        sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id']),
        sa.ForeignKeyConstraint(['order_id'], ['rectification_order.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('programme_id', 'rule', 'subject', name='uq_fund_audit_finding_subject'),
    )
    op.create_index('ix_fund_audit_finding_project', 'fund_audit_finding', ['project_id'])


def downgrade() -> None:
    op.drop_index('ix_fund_audit_finding_project', table_name='fund_audit_finding')
    op.drop_table('fund_audit_finding')
