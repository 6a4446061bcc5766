"""staff and roles as history, live or simulated time, attributed writes, integrity by trigger

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- org_unit.town: a town unit's town;
- installation: one row saying whether the database is live or a simulation;
- activity: every attributed write without a history of its own (append-only);
- scheduler_lease: which scheduler process runs the jobs;
- role_assignment: granted and revoked (when, by whom, why); a trigger lets an open assignment be
  closed once and refuses every other change; the one-leader/one-specialist index counts open ones;
- deadline_revision: each approved extension (who, why, from when to when); the deadline row moves
  to a new revision only together with one;
- rectification_order.responsible_role: the project role that answers (filled for the orders so far);
- spot_check_draw.seed_source: a secure seed, or one given (a simulation);
- signed inspections' children (item results, inspectors, evidence attachments) and evidence files
  immutable by trigger; on PostgreSQL, TRUNCATE refused on every append-only table.

Existing role assignments keep an empty granted_at: made before this history was kept.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNED_MESSAGE = 'inspection is signed and immutable: record a correction that supersedes it'
ROLE_MESSAGE = 'role_assignment is history: an open assignment may only be closed, once'
REVISION_MESSAGE = 'deadline due time changes only by a new revision recorded in deadline_revision'
# Rows never updated or deleted (the tables of 0001 and 0002 have their row triggers already).
NEW_APPEND_ONLY = ('activity', 'deadline_revision', 'installation', 'alert', 'deadline_level', 'evidence_file')
# Refused TRUNCATE on PostgreSQL (a row trigger does not fire for TRUNCATE).
NO_TRUNCATE = (
    'workflow_event', 'workflow_definition', 'order_event', 'inspection_template', 'spot_check_draw',
    'inspection', 'inspection_item_result', 'inspection_inspector', 'evidence_attachment',
    'role_assignment', 'deadline', *NEW_APPEND_ONLY,
)
ACTIVE = 'revoked_at IS NULL'


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=10), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('id = 1', name='ck_installation_one_row'),
        sa.CheckConstraint("mode IN ('live', 'simulation')", name='ck_installation_mode'),
        sa.PrimaryKeyConstraint('id'),
    )
    # A database with programmes already was made before modes were kept: the demo's is a simulation,
    # any other live. An empty one gets its mode from the first ``ducha init`` or ``ducha demo``.
    op.execute(
        "INSERT INTO installation (id, mode, created_at) SELECT 1, CASE WHEN EXISTS "
        "(SELECT 1 FROM programme WHERE illustrative) THEN 'simulation' ELSE 'live' END, MIN(created_at) "
        "FROM programme HAVING COUNT(*) > 0"
    )
    op.create_table(
        'activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_activity_time', 'activity', ['at'])
    op.create_index(op.f('ix_activity_actor_id'), 'activity', ['actor_id'])
    op.create_table(
        'scheduler_lease',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=False),
        sa.Column('acquired_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'deadline_revision',
        sa.Column('deadline_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('previous_due_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('due_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('recorded_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['approved_by_id'], ['person.id']),
        sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id']),
        sa.PrimaryKeyConstraint('deadline_id', 'revision'),
    )
    op.add_column(
        'spot_check_draw',
        sa.Column('seed_source', sa.String(length=8), server_default='secure', nullable=False),
    )
    if dialect == 'postgresql':  # the draws so far took the seed the command gave
        op.execute('ALTER TABLE spot_check_draw DISABLE TRIGGER spot_check_draw_no_update')
        op.execute("UPDATE spot_check_draw SET seed_source = 'given'")
        op.execute('ALTER TABLE spot_check_draw ENABLE TRIGGER spot_check_draw_no_update')
    else:
        op.execute('DROP TRIGGER spot_check_draw_no_update')
        op.execute("UPDATE spot_check_draw SET seed_source = 'given'")
        op.execute(
            "CREATE TRIGGER spot_check_draw_no_update BEFORE UPDATE ON spot_check_draw "
            "BEGIN SELECT RAISE(ABORT, 'spot_check_draw is append-only: UPDATE refused'); END"
        )

    op.add_column('org_unit', sa.Column('town', sa.String(length=100), nullable=True))
    op.add_column('rectification_order', sa.Column('responsible_role', sa.String(length=16), nullable=True))
    op.execute(  # the role the responsible person holds on the order's project (specialist first)
        "UPDATE rectification_order SET responsible_role = (SELECT ra.role FROM role_assignment ra "
        "WHERE ra.project_id = rectification_order.project_id "
        "AND ra.person_id = rectification_order.responsible_person_id "
        "AND ra.role IN ('leader', 'specialist') ORDER BY ra.role DESC LIMIT 1)"
    )
    with op.batch_alter_table('role_assignment', schema=None, recreate='always') as batch_op:
        batch_op.add_column(sa.Column('granted_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('granted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('grant_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key('fk_role_assignment_granted_by_id_person', 'person', ['granted_by_id'], ['id'])
        batch_op.create_foreign_key('fk_role_assignment_revoked_by_id_person', 'person', ['revoked_by_id'], ['id'])
        batch_op.create_check_constraint(
            'ck_role_assignment_revoked',
            '(revoked_at IS NULL AND revoked_by_id IS NULL AND revoke_reason IS NULL)'
            ' OR (revoked_at IS NOT NULL AND revoke_reason IS NOT NULL)',
        )
        batch_op.drop_index('uq_role_assignment_single_holder')
        batch_op.create_index(
            'uq_role_assignment_single_holder', ['project_id', 'role'], unique=True,
            sqlite_where=sa.text(f"role IN ('leader', 'specialist') AND {ACTIVE}"),
            postgresql_where=sa.text(f"role IN ('leader', 'specialist') AND {ACTIVE}"),
        )
        batch_op.create_index(
            'uq_role_assignment_unit_active', ['unit_id', 'person_id', 'role'], unique=True,
            sqlite_where=sa.text(f'unit_id IS NOT NULL AND {ACTIVE}'),
            postgresql_where=sa.text(f'unit_id IS NOT NULL AND {ACTIVE}'),
        )
        batch_op.create_index(
            'ix_role_assignment_person_active', ['person_id', 'role'],
            sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
        )
    if dialect == 'sqlite':
        _sqlite_triggers()
    elif dialect == 'postgresql':
        _postgresql_triggers()


def _sqlite_triggers() -> None:
    def refuse(name: str, when: str, table: str, action: str, message: str) -> None:
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {action} ON {table} {when} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )

    for table in NEW_APPEND_ONLY:
        for action in ('UPDATE', 'DELETE'):
            refuse(f'{table}_no_{action.lower()}', '', table, action, f'{table} is append-only: {action} refused')
    refuse('deadline_no_delete', '', 'deadline', 'DELETE', 'deadline is kept: DELETE refused (waive it)')
    refuse(
        'deadline_revision_required',
        'WHEN (NEW.revision IS NOT OLD.revision OR NEW.due_at IS NOT OLD.due_at) AND ('
        'NEW.revision IS NOT OLD.revision + 1 OR NOT EXISTS (SELECT 1 FROM deadline_revision r '
        'WHERE r.deadline_id = NEW.id AND r.revision = NEW.revision AND r.due_at = NEW.due_at '
        'AND r.previous_due_at = OLD.due_at))',
        'deadline', 'UPDATE', REVISION_MESSAGE,
    )
    refuse('role_assignment_no_delete', '', 'role_assignment', 'DELETE', ROLE_MESSAGE)
    unchanged = ' OR '.join(
        f'NEW.{c} IS NOT OLD.{c}'
        for c in ('id', 'person_id', 'role', 'project_id', 'unit_id', 'granted_at', 'granted_by_id', 'grant_reason')
    )
    refuse(
        'role_assignment_history',
        f'WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {unchanged}',
        'role_assignment', 'UPDATE', ROLE_MESSAGE,
    )
    signed = "(SELECT signed_at FROM inspection WHERE id = {ref}) IS NOT NULL"
    item_signed = (
        "(SELECT i.signed_at FROM inspection i JOIN inspection_item_result r ON r.inspection_id = i.id "
        "WHERE r.id = {ref}) IS NOT NULL"
    )
    for action, row in (('INSERT', 'NEW'), ('UPDATE', 'OLD'), ('DELETE', 'OLD')):
        low = action.lower()
        refuse(
            f'inspection_inspector_signed_no_{low}', f'WHEN {signed.format(ref=f"{row}.inspection_id")}',
            'inspection_inspector', action, SIGNED_MESSAGE,
        )
        refuse(
            f'evidence_attachment_signed_no_{low}',
            f'WHEN {item_signed.format(ref=f"{row}.item_result_id")}',
            'evidence_attachment', action, SIGNED_MESSAGE,
        )
        if action != 'INSERT':  # an order event's attachments are as fixed as the event
            refuse(
                f'evidence_attachment_event_no_{low}', f'WHEN {row}.order_event_id IS NOT NULL',
                'evidence_attachment', action, f'evidence_attachment of an order event is append-only: {action} refused',
            )
    refuse(
        'inspection_item_result_signed_no_insert', f'WHEN {signed.format(ref="NEW.inspection_id")}',
        'inspection_item_result', 'INSERT', SIGNED_MESSAGE,
    )


def _postgresql_triggers() -> None:
    for table in NEW_APPEND_ONLY:
        for action in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ducha_refuse_change()"
            )
    op.execute(
        "CREATE TRIGGER deadline_no_delete BEFORE DELETE ON deadline "
        "FOR EACH ROW EXECUTE FUNCTION ducha_refuse_change()"
    )
    op.execute(
        "CREATE FUNCTION ducha_deadline_revision_required() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF (NEW.revision IS DISTINCT FROM OLD.revision OR NEW.due_at IS DISTINCT FROM OLD.due_at) AND ("
        "NEW.revision IS DISTINCT FROM OLD.revision + 1 OR NOT EXISTS (SELECT 1 FROM deadline_revision r "
        "WHERE r.deadline_id = NEW.id AND r.revision = NEW.revision AND r.due_at = NEW.due_at "
        f"AND r.previous_due_at = OLD.due_at)) THEN RAISE EXCEPTION '{REVISION_MESSAGE}'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER deadline_revision_required BEFORE UPDATE ON deadline "
        "FOR EACH ROW EXECUTE FUNCTION ducha_deadline_revision_required()"
    )
    unchanged = ' OR '.join(
        f'NEW.{c} IS DISTINCT FROM OLD.{c}'
        for c in ('id', 'person_id', 'role', 'project_id', 'unit_id', 'granted_at', 'granted_by_id', 'grant_reason')
    )
    op.execute(
        "CREATE FUNCTION ducha_role_history() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' OR OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {unchanged} "
        f"THEN RAISE EXCEPTION '{ROLE_MESSAGE}'; END IF; RETURN NEW; END $$"
    )
    for action in ('UPDATE', 'DELETE'):
        op.execute(
            f"CREATE TRIGGER role_assignment_history_{action.lower()} BEFORE {action} ON role_assignment "
            "FOR EACH ROW EXECUTE FUNCTION ducha_role_history()"
        )
    op.execute(
        "CREATE FUNCTION ducha_refuse_signed_child() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE r record; signed timestamptz; BEGIN "
        "IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF; "
        "IF TG_TABLE_NAME = 'evidence_attachment' THEN "
        "  IF r.order_event_id IS NOT NULL THEN "
        "    IF TG_OP <> 'INSERT' THEN RAISE EXCEPTION "
        "      'evidence_attachment of an order event is append-only: % refused', TG_OP; END IF; "
        "  ELSE SELECT i.signed_at INTO signed FROM inspection i JOIN inspection_item_result x "
        "    ON x.inspection_id = i.id WHERE x.id = r.item_result_id; END IF; "
        "ELSE SELECT signed_at INTO signed FROM inspection WHERE id = r.inspection_id; END IF; "
        f"IF signed IS NOT NULL THEN RAISE EXCEPTION '{SIGNED_MESSAGE}'; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )
    for table in ('inspection_inspector', 'evidence_attachment'):
        for action in ('INSERT', 'UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER {table}_signed_no_{action.lower()} BEFORE {action} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ducha_refuse_signed_child()"
            )
    op.execute(
        "CREATE TRIGGER inspection_item_result_signed_no_insert BEFORE INSERT ON inspection_item_result "
        "FOR EACH ROW EXECUTE FUNCTION ducha_refuse_signed_child()"
    )
    op.execute(
        "CREATE FUNCTION ducha_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% keeps history: TRUNCATE refused', TG_TABLE_NAME; END $$"
    )
    for table in NO_TRUNCATE:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ducha_refuse_truncate()"
        )


def _trigger_names() -> list[tuple[str, str]]:
    names = [(f'{t}_no_{a}', t) for t in NEW_APPEND_ONLY for a in ('update', 'delete')]
    names += [('deadline_no_delete', 'deadline'), ('deadline_revision_required', 'deadline')]
    names += [('role_assignment_no_delete', 'role_assignment'), ('role_assignment_history', 'role_assignment')]
    names += [(f'role_assignment_history_{a}', 'role_assignment') for a in ('update', 'delete')]
    for table in ('inspection_inspector', 'evidence_attachment'):
        names += [(f'{table}_signed_no_{a}', table) for a in ('insert', 'update', 'delete')]
    names += [(f'evidence_attachment_event_no_{a}', 'evidence_attachment') for a in ('update', 'delete')]
    names += [('inspection_item_result_signed_no_insert', 'inspection_item_result')]
    names += [(f'{t}_no_truncate', t) for t in NO_TRUNCATE]
    return names


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table in _trigger_names():
        if dialect == 'sqlite':
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
    if dialect == 'postgresql':
        for function in (
            'ducha_refuse_truncate', 'ducha_refuse_signed_child', 'ducha_role_history',
            'ducha_deadline_revision_required',
        ):
            op.execute(f'DROP FUNCTION IF EXISTS {function}()')
    with op.batch_alter_table('role_assignment', schema=None, recreate='always') as batch_op:
        batch_op.drop_index('ix_role_assignment_person_active')
        batch_op.drop_index('uq_role_assignment_unit_active')
        batch_op.drop_index('uq_role_assignment_single_holder')
        batch_op.create_index(
            'uq_role_assignment_single_holder', ['project_id', 'role'], unique=True,
            sqlite_where=sa.text("role IN ('leader', 'specialist')"),
            postgresql_where=sa.text("role IN ('leader', 'specialist')"),
        )
        batch_op.drop_constraint('ck_role_assignment_revoked', type_='check')
        batch_op.drop_constraint('fk_role_assignment_revoked_by_id_person', type_='foreignkey')
        batch_op.drop_constraint('fk_role_assignment_granted_by_id_person', type_='foreignkey')
        for column in ('revoke_reason', 'revoked_by_id', 'revoked_at', 'grant_reason', 'granted_by_id', 'granted_at'):
            batch_op.drop_column(column)
    op.drop_column('spot_check_draw', 'seed_source')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_column('town')
    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.drop_column('responsible_role')
    op.drop_table('deadline_revision')
    op.drop_table('scheduler_lease')
    op.drop_index(op.f('ix_activity_actor_id'), table_name='activity')
    op.drop_index('ix_activity_time', table_name='activity')
    op.drop_table('activity')
    op.drop_table('installation')
