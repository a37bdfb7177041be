"""Per-batch pay statistics kept as work is submitted (claims at the speed of the database).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 00:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batch_time_histogram',
    sa.Column('batch_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seconds', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_time_histogram_batch_id_batches')),
    sa.PrimaryKeyConstraint('batch_id', 'seconds', name=op.f('pk_batch_time_histogram'))
    )
    # Work submitted before this revision is counted once, here, exactly as the audit counted it.
    op.execute(
        "INSERT INTO batch_time_histogram (batch_id, seconds, submissions) "
        "SELECT batch_id, real_seconds, count(*) FROM assignments "
        "WHERE real_seconds IS NOT NULL GROUP BY batch_id, real_seconds"
    )


def downgrade():
    op.drop_table('batch_time_histogram')
