"""Forum redaction: a post whose text only its author and the coordinators may read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('post_moderations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_moderations_action'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_post_moderations_action'), "action IN ('hide', 'redact', 'restore')")

    with op.batch_alter_table('post_flags', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_flags_resolution'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_post_flags_resolution'),
            "resolution IS NULL OR resolution IN ('hide', 'redact', 'restore', 'dismissed')")


def downgrade():
    # A redaction cannot be expressed without its column: the strictest thing left is a hide,
    # which at least keeps the text from everyone but members.
    op.execute("UPDATE post_moderations SET action = 'hide' WHERE action = 'redact'")
    op.execute("UPDATE post_flags SET resolution = 'hide' WHERE resolution = 'redact'")

    with op.batch_alter_table('post_flags', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_flags_resolution'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_post_flags_resolution'), "resolution IS NULL OR resolution IN ('hide', 'restore', 'dismissed')")

    with op.batch_alter_table('post_moderations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_post_moderations_action'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_post_moderations_action'), "action IN ('hide', 'restore')")

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('redacted')
