"""Real-time histogram in shards: concurrent submits of a batch no longer queue on one row.

Every submit adds one to its batch's row for its real seconds. Workers on one batch often take
the same seconds, so they all waited on that row's lock until each submit committed. A submit
that finds the row busy now counts in a row of its own (a shard); counts and medians sum them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batch_time_histogram', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shard', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('pk_batch_time_histogram', type_='primary')
        batch_op.create_primary_key('pk_batch_time_histogram', ['batch_id', 'seconds', 'shard'])


def downgrade():
    # Shards of one value fold back into one row before the key loses its shard.
    op.execute(
        "INSERT INTO batch_time_histogram (batch_id, seconds, shard, submissions) "
        "SELECT batch_id, seconds, -1, sum(submissions) FROM batch_time_histogram GROUP BY batch_id, seconds"
    )
    op.execute("DELETE FROM batch_time_histogram WHERE shard <> -1")
    op.execute("UPDATE batch_time_histogram SET shard = 0")
    with op.batch_alter_table('batch_time_histogram', schema=None) as batch_op:
        batch_op.drop_constraint('pk_batch_time_histogram', type_='primary')
        batch_op.create_primary_key('pk_batch_time_histogram', ['batch_id', 'seconds'])
        batch_op.drop_column('shard')
