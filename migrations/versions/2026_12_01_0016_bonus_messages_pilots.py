"""Bonuses, messages about an assignment, paid pilots and local minimum wages.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 05:00:00

"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# Parameters new in this revision, at their founding values.
NEW_TERMS = {'local_min_hourly_cents': {'FR': 1202}, 'pilot_required_above_items': 200}


def _terms_table():
    return sa.table('terms_versions', sa.column('version', sa.Integer()),
                    sa.column('params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')))


def _rewrite_terms(change):
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if change(params):
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))


def _add_new_terms(params):
    missing = {k: v for k, v in NEW_TERMS.items() if k not in params}
    params.update(missing)
    return bool(missing)


def _drop_new_terms(params):
    return [params.pop(k) for k in NEW_TERMS if k in params] != []


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), nullable=True))
    # Terms versions adopted before these parameters existed are read as having their founding
    # values, so the next terms change validates against a complete set. The floor of a coop
    # already running is left as its members voted it.
    _rewrite_terms(_add_new_terms)


def downgrade():
    _rewrite_terms(_drop_new_terms)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('country')
