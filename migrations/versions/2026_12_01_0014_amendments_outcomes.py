"""Amendments, proposal threads and outcomes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 05:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_proposals_thread_id_threads'), 'threads', ['thread_id'], ['id'])

    op.create_table('proposal_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('options', JSON, nullable=True),
    sa.Column('change', JSON, nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('based_on_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'lapsed')", name=op.f('ck_proposal_amendments_status')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_proposal_amendments_author_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_amendments_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_amendments'))
    )
    with op.batch_alter_table('proposal_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_amendments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('options', JSON, nullable=True),
    sa.Column('change', JSON, nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('amendment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['amendment_id'], ['proposal_amendments.id'], name=op.f('fk_proposal_versions_amendment_id_proposal_amendments')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_versions_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_versions')),
    sa.UniqueConstraint('proposal_id', 'number', name=op.f('uq_proposal_versions_proposal_id_number'))
    )
    # Every existing proposal is its own first version.
    op.execute(
        "INSERT INTO proposal_versions (proposal_id, number, body, options, change, at) "
        "SELECT id, 1, body, options, change, created_at FROM proposals"
    )

    op.create_table('proposal_outcomes',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('review_due_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_outcomes_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_proposal_outcomes_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('proposal_id', name=op.f('pk_proposal_outcomes'))
    )
    with op.batch_alter_table('proposal_outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_outcomes_review', ['review_due_at', 'review_on'], unique=False)


def downgrade():
    with op.batch_alter_table('proposal_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_outcomes_review')

    op.drop_table('proposal_outcomes')
    op.drop_table('proposal_versions')
    with op.batch_alter_table('proposal_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_amendments_proposal_id'))

    op.drop_table('proposal_amendments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposals_thread_id_threads'), type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('thread_id')
