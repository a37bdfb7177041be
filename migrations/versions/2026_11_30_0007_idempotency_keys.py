"""Idempotency keys: the first answer to a POST, replayed for the same key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
