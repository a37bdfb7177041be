"""Batch flags, requester suspension, post flags and requester reviews.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 05:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

KINDS_BEFORE = "kind IN ('terms', 'rule', 'coordinator', 'surplus', 'general')"
KINDS_AFTER = "kind IN ('terms', 'rule', 'coordinator', 'surplus', 'general', 'requester_suspension')"
ACTIONS_BEFORE = "action IN ('hide', 'redact', 'restore')"
ACTIONS_AFTER = "action IN ('hide', 'redact', 'restore', 'flag_hide')"


def upgrade():
    op.create_table('batch_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_flags_batch_id_batches')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_batch_flags_member_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_flags')),
    sa.UniqueConstraint('batch_id', 'member_id', name=op.f('uq_batch_flags_batch_id_member_id'))
    )
    op.create_table('requester_suspensions',
    sa.Column('requester_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('suspended_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_requester_suspensions_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_requester_suspensions_requester_id_users')),
    sa.PrimaryKeyConstraint('requester_id', name=op.f('pk_requester_suspensions'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_reason', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_batches_paused_reason'), "paused_reason IN ('flags', 'suspension')")
    with op.batch_alter_table('requester_reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('speed_rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('communication_rating', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('would_work_again', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('broke_terms', sa.Boolean(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_requester_reviews_pay_rating'), 'pay_rating BETWEEN 1 AND 5')
        batch_op.create_check_constraint(batch_op.f('ck_requester_reviews_speed_rating'), 'speed_rating BETWEEN 1 AND 5')
        batch_op.create_check_constraint(batch_op.f('ck_requester_reviews_communication_rating'), 'communication_rating BETWEEN 1 AND 5')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_proposals_kind'), type_='check')
        batch_op.alter_column('kind', type_=sa.String(length=32), existing_type=sa.String(length=16),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_proposals_kind'), KINDS_AFTER)
    with op.batch_alter_table('post_moderations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_moderations_action'), type_='check')
        batch_op.alter_column('coordinator_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(batch_op.f('ck_post_moderations_action'), ACTIONS_AFTER)


def downgrade():
    # A hide by members' flags names no coordinator, which the older table cannot hold: its log
    # entries go, and posts still waiting for review come back, as a restore would make them.
    op.execute("UPDATE posts SET hidden_at = NULL, hidden_rule = NULL, hidden_rule_version = NULL, "
               "hidden_reason = NULL WHERE hidden_at IS NOT NULL AND hidden_by_id IS NULL")
    op.execute("DELETE FROM post_moderations WHERE action = 'flag_hide'")
    # A suspension vote stays in the record as a general proposal, its decision already carried out.
    op.execute("UPDATE proposals SET kind = 'general' WHERE kind = 'requester_suspension'")
    with op.batch_alter_table('post_moderations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_moderations_action'), type_='check')
        batch_op.alter_column('coordinator_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_post_moderations_action'), ACTIONS_BEFORE)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_proposals_kind'), type_='check')
        batch_op.alter_column('kind', type_=sa.String(length=16), existing_type=sa.String(length=32),
                              existing_nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_proposals_kind'), KINDS_BEFORE)
    with op.batch_alter_table('requester_reviews', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_requester_reviews_communication_rating'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_requester_reviews_speed_rating'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_requester_reviews_pay_rating'), type_='check')
        batch_op.drop_column('broke_terms')
        batch_op.drop_column('would_work_again')
        batch_op.drop_column('communication_rating')
        batch_op.drop_column('speed_rating')
        batch_op.drop_column('pay_rating')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_batches_paused_reason'), type_='check')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('paused_reason')
    op.drop_table('requester_suspensions')
    op.drop_table('batch_flags')
