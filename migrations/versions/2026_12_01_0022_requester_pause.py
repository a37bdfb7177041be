"""A requester pauses their own batch: a third reason a batch holds new claims.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 11:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

REASONS_BEFORE = "paused_reason IN ('flags', 'suspension')"
REASONS_AFTER = "paused_reason IN ('flags', 'suspension', 'requester')"


def upgrade():
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_batches_paused_reason'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_batches_paused_reason'), REASONS_AFTER)


def downgrade():
    # The older schema cannot say a requester paused a batch: those batches take claims again.
    op.execute("UPDATE batches SET paused_reason = NULL, paused_at = NULL WHERE paused_reason = 'requester'")
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_batches_paused_reason'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_batches_paused_reason'), REASONS_BEFORE)
