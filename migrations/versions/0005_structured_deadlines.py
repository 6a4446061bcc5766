"""deadlines say what they are about in columns; roles to tell as JSON lists; orders of other origins

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

- deadline: milestone_key, stage, stage_entered_at, cadence, period_start, period_end, filled from
  the subjects already written (``milestone:<key>:project:<id>``, ``stage:<stage>:project:<id>:<entered>``,
  ``cadence:<cadence>:<period>:programme:<id>``);
- deadline_level.notify and alert.notify: the comma-joined roles become a JSON list;
- rectification_order: an ``origin`` (inspection or fund audit), and ``inspection_id`` may be empty for
  an origin other than an inspection.
"""
import calendar
import json
from collections.abc import Sequence
from datetime import date, datetime, UTC

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _period(cadence: str, period: str) -> tuple[date, date]:
    if cadence == 'monthly_summary':  # 2026-11: the month summarised
        year, month = int(period[:4]), int(period[5:7])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if cadence == 'quarterly_inspection':  # 2026Q4
        year, quarter = int(period[:4]), int(period[-1])
        last = quarter * 3
        return date(year, last - 2, 1), date(year, last, calendar.monthrange(year, last)[1])
    year = int(period)  # yearly_evaluation: 2026
    return date(year, 1, 1), date(year, 12, 31)


def _about(subject: str) -> dict[str, object]:
    parts = subject.split(':')
    if parts[0] == 'milestone':
        return {'milestone_key': parts[1]}
    if parts[0] == 'stage':
        entered = datetime.fromisoformat(':'.join(parts[4:])).astimezone(UTC)
        return {'stage': parts[1], 'stage_entered_at': entered}
    if parts[0] == 'cadence':
        start, end = _period(parts[1], parts[2])
        return {'cadence': parts[1], 'period_start': start, 'period_end': end}
    return {}


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.add_column(sa.Column('milestone_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('stage', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('stage_entered_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cadence', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))

    deadline = sa.table(
        'deadline',
        sa.column('id', sa.Integer()),
        sa.column('subject', sa.String()),
        sa.column('milestone_key', sa.String()),
        sa.column('stage', sa.String()),
        sa.column('stage_entered_at', models.types.UTCDateTime()),
        sa.column('cadence', sa.String()),
        sa.column('period_start', sa.Date()),
        sa.column('period_end', sa.Date()),
    )
    for key in ('milestone_key', 'stage', 'cadence'):
        rows = [
            {'deadline_id': row.id, **about}
            for row in bind.execute(sa.select(deadline.c.id, deadline.c.subject))
            if (about := _about(row.subject)) and key in about
        ]
        if rows:
            names = [name for name in rows[0] if name != 'deadline_id']
            bind.execute(
                deadline.update()
                .where(deadline.c.id == sa.bindparam('deadline_id'))
                .values({name: sa.bindparam(name) for name in names}),
                rows,
            )

    # Roles to tell: "specialist,leader" becomes ["specialist", "leader"].
    for table in ('deadline_level', 'alert'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('notify_roles', sa.JSON(), nullable=True))
        rows = bind.execute(sa.text(f'SELECT DISTINCT notify FROM {table}')).scalars().all()
        for joined in rows:
            roles = json.dumps([role for role in joined.split(',') if role])
            cast = 'CAST(:roles AS JSON)' if bind.dialect.name == 'postgresql' else ':roles'
            bind.execute(
                sa.text(f'UPDATE {table} SET notify_roles = {cast} WHERE notify = :joined'),
                {'roles': roles, 'joined': joined},
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('notify')
            batch_op.alter_column('notify_roles', new_column_name='notify', existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('origin', sa.String(length=16), server_default='inspection', nullable=False)
        )
        batch_op.alter_column('inspection_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            'ck_order_inspection_origin', "origin <> 'inspection' OR inspection_id IS NOT NULL"
        )


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.drop_constraint('ck_order_inspection_origin', type_='check')
        batch_op.alter_column('inspection_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('origin')
    for table in ('deadline_level', 'alert'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('notify_joined', sa.String(length=120), nullable=True))
        rows = bind.execute(sa.text(f'SELECT DISTINCT CAST(notify AS TEXT) FROM {table}')).scalars().all()
        for text in rows:
            bind.execute(
                sa.text(f'UPDATE {table} SET notify_joined = :joined WHERE CAST(notify AS TEXT) = :text'),
                {'joined': ','.join(json.loads(text)), 'text': text},
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('notify')
            batch_op.alter_column(
                'notify_joined', new_column_name='notify', existing_type=sa.String(length=120), nullable=False
            )
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        for name in ('period_end', 'period_start', 'cadence', 'stage_entered_at', 'stage', 'milestone_key'):
            batch_op.drop_column(name)
