"""fund audit findings that clear and come back: an occurrence number and the day a finding cleared

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

A finding about a state (a project over its allocation, money idle, allocations out of step with the
budget) can be put right and then happen again. Recorded once per (programme, rule, subject) for
ever, the second time was never found: the audit saw the subject recorded and said nothing.

- fund_audit_finding.occurrence: 1 for the first time a rule finds a subject, 2 for the time it
  finds it again after it cleared, and so on; unique with (programme, rule, subject), in place of the
  old unique (programme, rule, subject).
- fund_audit_finding.cleared_at: the time as of which an audit with the rule in force no longer
  found it (NULL while it stands).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('fund_audit_finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurrence', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('cleared_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint('uq_fund_audit_finding_subject', type_='unique')
        batch_op.create_unique_constraint(
            'uq_fund_audit_finding_occurrence', ['programme_id', 'rule', 'subject', 'occurrence']
        )


def downgrade() -> None:
    # Only the first occurrence of each subject fits the old key.
    op.execute('DELETE FROM fund_audit_finding WHERE occurrence > 1')
    with op.batch_alter_table('fund_audit_finding', schema=None) as batch_op:
        batch_op.drop_constraint('uq_fund_audit_finding_occurrence', type_='unique')
        batch_op.create_unique_constraint('uq_fund_audit_finding_subject', ['programme_id', 'rule', 'subject'])
        batch_op.drop_column('cleared_at')
        batch_op.drop_column('occurrence')
