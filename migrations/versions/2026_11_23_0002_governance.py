"""Governance: proposals, eligible voters, co-signatures and secret ballots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:36:48.771276

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('change', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('opened_by', sa.String(length=16), nullable=True),
    sa.Column('opens_at', sa.DateTime(), nullable=True),
    sa.Column('closes_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('terms_version', sa.Integer(), nullable=True),
    sa.Column('eligible_count', sa.Integer(), nullable=False),
    sa.Column('ballot_count', sa.Integer(), nullable=False),
    sa.Column('cosigner_count', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('enacted', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.CheckConstraint("kind IN ('terms', 'rule', 'coordinator', 'surplus', 'general')", name=op.f('ck_proposals_kind')),
    sa.CheckConstraint("method IN ('yes_no', 'approval', 'ranked', 'median')", name=op.f('ck_proposals_method')),
    sa.CheckConstraint("opened_by IN ('review', 'petition')", name=op.f('ck_proposals_opened_by')),
    sa.CheckConstraint("status IN ('submitted', 'returned', 'open', 'passed', 'rejected', 'no_quorum', 'enacted')", name=op.f('ck_proposals_status')),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], name=op.f('fk_proposals_proposer_id_users')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_proposals_reviewer_id_users')),
    sa.ForeignKeyConstraint(['terms_version'], ['terms_versions.version'], name=op.f('fk_proposals_terms_version_terms_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index('ix_proposals_status_closes_at', ['status', 'closes_at'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=32), nullable=False),
    sa.Column('choice', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_ballots_member_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballots_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('proposal_id', 'member_id', name=op.f('uq_ballots_proposal_id_member_id')),
    sa.UniqueConstraint('receipt', name=op.f('uq_ballots_receipt'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_member_id'), ['member_id'], unique=False)

    op.create_table('proposal_cosignatures',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_proposal_cosignatures_member_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_cosignatures_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('proposal_id', 'member_id', name=op.f('pk_proposal_cosignatures'))
    )
    with op.batch_alter_table('proposal_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_cosignatures_member_id'), ['member_id'], unique=False)

    op.create_table('proposal_eligibility',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_proposal_eligibility_member_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_eligibility_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('proposal_id', 'member_id', name=op.f('pk_proposal_eligibility'))
    )
    with op.batch_alter_table('proposal_eligibility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_eligibility_member_id'), ['member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('proposal_eligibility', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_eligibility_member_id'))

    op.drop_table('proposal_eligibility')
    with op.batch_alter_table('proposal_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_cosignatures_member_id'))

    op.drop_table('proposal_cosignatures')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_member_id'))

    op.drop_table('ballots')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_proposals_status_closes_at')
        batch_op.drop_index(batch_op.f('ix_proposals_proposer_id'))

    op.drop_table('proposals')
