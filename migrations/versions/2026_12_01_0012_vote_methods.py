"""Voting methods: consent, score and STV ballots; coordinator elections of several seats.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 05:00:00

"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_METHODS = "method IN ('yes_no', 'approval', 'ranked', 'median')"
NEW_METHODS = "method IN ('yes_no', 'approval', 'ranked', 'median', 'consent', 'score', 'stv')"
FOUNDING_OBJECTION_PCT = 10


def _terms_table():
    return sa.table('terms_versions', sa.column('version', sa.Integer()),
                    sa.column('params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')))


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_proposals_method'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_proposals_method'), sa.text(NEW_METHODS))
    # Terms versions adopted before the parameter existed are read as having its founding value,
    # so the next terms change validates against a complete set.
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if 'objection_pct' not in params:
            params['objection_pct'] = FOUNDING_OBJECTION_PCT
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))


def downgrade():
    conn = op.get_bind()
    # Their ballots and results have no shape under the old methods: refuse rather than destroy votes.
    kept = conn.execute(sa.text("SELECT count(*) FROM proposals WHERE method IN ('consent', 'score', 'stv')")).scalar()
    if kept:
        raise RuntimeError(f"{kept} proposal(s) use consent, score or stv; they cannot be kept before revision 0012.")
    terms = _terms_table()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if params.pop('objection_pct', None) is not None:
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_proposals_method'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_proposals_method'), sa.text(OLD_METHODS))
        batch_op.drop_column('seats')
