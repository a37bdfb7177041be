"""Bonuses, messages about an assignment, paid pilots and local minimum wages.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 05:00:00

"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# Parameters new in this revision, at their founding values.
NEW_TERMS = {'local_min_hourly_cents': {'FR': 1202}, 'pilot_required_above_items': 200}


def _terms_table():
    return sa.table('terms_versions', sa.column('version', sa.Integer()),
                    sa.column('params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')))


def _rewrite_terms(change):
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if change(params):
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))


def _add_new_terms(params):
    missing = {k: v for k, v in NEW_TERMS.items() if k not in params}
    params.update(missing)
    return bool(missing)


def _drop_new_terms(params):
    return [params.pop(k) for k in NEW_TERMS if k in params] != []


OLD_BATCH_STATUSES = "status IN ('open', 'paused_underpaid', 'cancelled', 'expired', 'completed')"
NEW_BATCH_STATUSES = "status IN ('open', 'paused_underpaid', 'cancelled', 'expired', 'completed', 'pilot')"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pilot_slots', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('launched_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_batches_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_batches_status'), sa.text(NEW_BATCH_STATUSES))

    op.create_table('bonuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_bonuses_amount_positive')),
    sa.CheckConstraint('fee_cents >= 0', name=op.f('ck_bonuses_fee_not_negative')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_bonuses_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_bonuses_requester_id_users')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_bonuses_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bonuses'))
    )
    with op.batch_alter_table('bonuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bonuses_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bonuses_worker_id'), ['worker_id'], unique=False)

    op.create_table('assignment_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_assignment_messages_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_assignment_messages_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_messages'))
    )
    with op.batch_alter_table('assignment_messages', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_messages_assignment_id_id', ['assignment_id', 'id'], unique=False)

    op.create_table('pilot_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('clarity', sa.Integer(), nullable=False),
    sa.Column('minutes_taken', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('clarity BETWEEN 1 AND 5', name=op.f('ck_pilot_feedback_clarity')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_pilot_feedback_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_pilot_feedback_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pilot_feedback')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_pilot_feedback_assignment_id'))
    )
    with op.batch_alter_table('pilot_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pilot_feedback_batch_id'), ['batch_id'], unique=False)
    # Terms versions adopted before these parameters existed are read as having their founding
    # values, so the next terms change validates against a complete set. The floor of a coop
    # already running is left as its members voted it.
    _rewrite_terms(_add_new_terms)


def downgrade():
    _rewrite_terms(_drop_new_terms)
    with op.batch_alter_table('pilot_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pilot_feedback_batch_id'))
    op.drop_table('pilot_feedback')
    with op.batch_alter_table('assignment_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_messages_assignment_id_id')
    op.drop_table('assignment_messages')
    with op.batch_alter_table('bonuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bonuses_worker_id'))
        batch_op.drop_index(batch_op.f('ix_bonuses_assignment_id'))
    op.drop_table('bonuses')
    # A pilot not yet launched opens the rest of its slots, so no batch is left in an unknown state.
    op.execute("UPDATE batches SET status = 'open' WHERE status = 'pilot'")
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_batches_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_batches_status'), sa.text(OLD_BATCH_STATUSES))
        batch_op.drop_column('launched_at')
        batch_op.drop_column('pilot_slots')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('country')
