"""Receipts: in byte order on every database, read off a (proposal_id, receipt) index; a ballot's reason.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 03:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('ballots', 'receipt', type_=sa.String(length=32, collation='C'),
                        existing_type=sa.String(length=32), existing_nullable=False)
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_ballots_proposal_id_receipt', ['proposal_id', 'receipt'], unique=False)


def downgrade():
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_ballots_proposal_id_receipt')
        batch_op.drop_column('reason')
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('ballots', 'receipt', type_=sa.String(length=32),
                        existing_type=sa.String(length=32, collation='C'), existing_nullable=False)
