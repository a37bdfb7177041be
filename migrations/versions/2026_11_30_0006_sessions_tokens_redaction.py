"""Sessions that end on the server, token expiry and last use, forum redaction.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
