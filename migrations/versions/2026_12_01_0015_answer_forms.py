"""Answer forms and items as CSV.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 05:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # Batches posted before this revision keep taking any JSON answer (answer_fields null) and
    # export each item as one JSON cell (item_fields null).
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                      nullable=True))
        batch_op.add_column(sa.Column('item_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                      nullable=True))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_batch_id_approved', ['batch_id', 'id'], unique=False,
                              sqlite_where=sa.text("status = 'approved'"),
                              postgresql_where=sa.text("status = 'approved'"))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_batch_id_approved')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('item_fields')
        batch_op.drop_column('answer_fields')
