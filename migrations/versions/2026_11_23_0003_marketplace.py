"""Marketplace: deposits, withdrawals, batches, items, slots, assignments, appeals, reviews, preferences.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:38:03.316625

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('end_client', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('impersonation_notice', sa.Text(), nullable=True),
    sa.Column('content_warnings', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('warnings_mask', sa.Integer(), nullable=False),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.Column('dpa_reference', sa.String(length=200), nullable=True),
    sa.Column('reward_cents', sa.Integer(), nullable=False),
    sa.Column('est_seconds', sa.Integer(), nullable=False),
    sa.Column('assignments_per_item', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('protections', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('fee_pct', sa.Integer(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('slot_count', sa.Integer(), nullable=False),
    sa.Column('rewards_total_cents', sa.BigInteger(), nullable=False),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False),
    sa.Column('escrow_cents', sa.BigInteger(), nullable=False),
    sa.Column('required_reward_cents', sa.Integer(), nullable=True),
    sa.Column('underpay_finding', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'paused_underpaid', 'cancelled', 'expired', 'completed')", name=op.f('ck_batches_status')),
    sa.CheckConstraint('escrow_cents >= 0', name=op.f('ck_batches_escrow_not_negative')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_batches_requester_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batches'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index('ix_batches_status_id', ['status', 'id'], unique=False)

    op.create_table('deposits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'confirmed')", name=op.f('ck_deposits_status')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_deposits_amount_positive')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_deposits_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_deposits_requester_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits'))
    )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposits_requester_id'), ['requester_id'], unique=False)

    op.create_table('member_preferences',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('content_opt_in', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('opt_in_mask', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_member_preferences'))
    )
    op.create_table('requester_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_requester_reviews_rating')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_requester_reviews_member_id_users')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_requester_reviews_requester_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requester_reviews')),
    sa.UniqueConstraint('requester_id', 'member_id', name=op.f('uq_requester_reviews_requester_id_member_id'))
    )
    op.create_table('withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("source IN ('requester', 'worker')", name=op.f('ck_withdrawals_source')),
    sa.CheckConstraint("status IN ('pending', 'confirmed')", name=op.f('ck_withdrawals_status')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_withdrawals_amount_positive')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_withdrawals_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_withdrawals_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_withdrawals'))
    )
    with op.batch_alter_table('withdrawals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_withdrawals_user_id'), ['user_id'], unique=False)

    op.create_table('confidentiality_acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=False),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_confidentiality_acceptances_batch_id_batches')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_confidentiality_acceptances_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidentiality_acceptances')),
    sa.UniqueConstraint('batch_id', 'worker_id', name=op.f('uq_confidentiality_acceptances_batch_id_worker_id'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_items_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('batch_id', 'position', name=op.f('uq_items_batch_id_position'))
    )
    op.create_table('slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.CheckConstraint("state IN ('open', 'held', 'done', 'cancelled')", name=op.f('ck_slots_state')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_slots_batch_id_batches')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_slots_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slots')),
    sa.UniqueConstraint('item_id', 'number', name=op.f('uq_slots_item_id_number'))
    )
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.create_index('ix_slots_batch_id_state', ['batch_id', 'state'], unique=False)
        batch_op.create_index('ix_slots_open', ['batch_id', 'id'], unique=False, sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('holds_slot', sa.Boolean(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('real_seconds', sa.Integer(), nullable=True),
    sa.Column('answer', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('auto_approve_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_decision', sa.String(length=16), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('paid_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("review_decision IN ('approve', 'reject', 'auto')", name=op.f('ck_assignments_review_decision')),
    sa.CheckConstraint("status IN ('claimed', 'submitted', 'approved', 'rejected', 'expired')", name=op.f('ck_assignments_status')),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_assignments_batch_id_batches')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_assignments_item_id_items')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_assignments_slot_id_slots')),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_assignments_worker_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_approval_due', ['batch_id', 'submitted_at'], unique=False, sqlite_where=sa.text("status = 'submitted'"), postgresql_where=sa.text("status = 'submitted'"))
        batch_op.create_index('ix_assignments_batch_id_real_seconds', ['batch_id', 'real_seconds'], unique=False, sqlite_where=sa.text('real_seconds IS NOT NULL'), postgresql_where=sa.text('real_seconds IS NOT NULL'))
        batch_op.create_index('ix_assignments_batch_id_status', ['batch_id', 'status'], unique=False)
        batch_op.create_index('ix_assignments_lease_due', ['batch_id', 'lease_expires_at'], unique=False, sqlite_where=sa.text("status = 'claimed'"), postgresql_where=sa.text("status = 'claimed'"))
        batch_op.create_index('ix_assignments_worker_id_id', ['worker_id', 'id'], unique=False)
        batch_op.create_index('uq_assignments_item_worker_live', ['item_id', 'worker_id'], unique=True, sqlite_where=sa.text("status <> 'expired'"), postgresql_where=sa.text("status <> 'expired'"))
        batch_op.create_index('uq_assignments_slot_held', ['slot_id'], unique=True, sqlite_where=sa.text('holds_slot'), postgresql_where=sa.text('holds_slot'))

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('paid_cents', sa.BigInteger(), nullable=False),
    sa.Column('paid_from', sa.String(length=16), nullable=True),
    sa.CheckConstraint("paid_from IN ('escrow', 'available')", name=op.f('ck_appeals_paid_from')),
    sa.CheckConstraint("status IN ('pending', 'upheld', 'overturned')", name=op.f('ck_appeals_status')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_appeals_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_appeals_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_appeals_assignment_id'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index('ix_appeals_status_id', ['status', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_appeals_status_id')

    op.drop_table('appeals')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_assignments_slot_held', sqlite_where=sa.text('holds_slot'), postgresql_where=sa.text('holds_slot'))
        batch_op.drop_index('uq_assignments_item_worker_live', sqlite_where=sa.text("status <> 'expired'"), postgresql_where=sa.text("status <> 'expired'"))
        batch_op.drop_index('ix_assignments_worker_id_id')
        batch_op.drop_index('ix_assignments_lease_due', sqlite_where=sa.text("status = 'claimed'"), postgresql_where=sa.text("status = 'claimed'"))
        batch_op.drop_index('ix_assignments_batch_id_status')
        batch_op.drop_index('ix_assignments_batch_id_real_seconds', sqlite_where=sa.text('real_seconds IS NOT NULL'), postgresql_where=sa.text('real_seconds IS NOT NULL'))
        batch_op.drop_index('ix_assignments_approval_due', sqlite_where=sa.text("status = 'submitted'"), postgresql_where=sa.text("status = 'submitted'"))

    op.drop_table('assignments')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_open', sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
        batch_op.drop_index('ix_slots_batch_id_state')

    op.drop_table('slots')
    op.drop_table('items')
    op.drop_table('confidentiality_acceptances')
    with op.batch_alter_table('withdrawals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_withdrawals_user_id'))

    op.drop_table('withdrawals')
    op.drop_table('requester_reviews')
    op.drop_table('member_preferences')
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_requester_id'))

    op.drop_table('deposits')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_status_id')
        batch_op.drop_index(batch_op.f('ix_batches_requester_id'))

    op.drop_table('batches')
