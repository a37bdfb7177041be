"""Membership share payments: applicants, payment references, rejoin cooling; deposit references.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 18:00:00

"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('applicant', 'member', 'withdrawn')"
NEW_STATUSES = "status IN ('pending_payment', 'applicant', 'member', 'withdrawn', 'refused')"
FOUNDING_REJOIN_COOLING_DAYS = 30


def _terms_table():
    return sa.table('terms_versions', sa.column('version', sa.Integer()),
                    sa.column('params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')))


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_paid_cents', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=140), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_memberships_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_memberships_status'), sa.text(NEW_STATUSES))
    with op.batch_alter_table('share_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=140), nullable=True))
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=140), nullable=True))

    # Applicants so far had paid nothing: they wait for their transfer like any new applicant.
    op.execute("UPDATE memberships SET status = 'pending_payment' WHERE status = 'applicant'")
    # A member leaving redeems what their membership paid in: its latest share line.
    op.execute(
        "UPDATE memberships SET share_paid_cents = COALESCE((SELECT s.amount_cents FROM share_lines s "
        "WHERE s.user_id = memberships.user_id AND s.kind = 'membership_share' ORDER BY s.id DESC LIMIT 1), 0) "
        "WHERE status = 'member'"
    )
    # Terms versions adopted before the parameter existed are read as having its founding value,
    # so the next terms change validates against a complete set.
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if 'rejoin_cooling_days' not in params:
            params['rejoin_cooling_days'] = FOUNDING_REJOIN_COOLING_DAYS
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))


def downgrade():
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if params.pop('rejoin_cooling_days', None) is not None:
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))
    op.execute("UPDATE memberships SET status = 'applicant' WHERE status = 'pending_payment'")
    op.execute("UPDATE memberships SET status = 'withdrawn' WHERE status = 'refused'")

    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_column('payment_reference')
    with op.batch_alter_table('share_lines', schema=None) as batch_op:
        batch_op.drop_column('payment_reference')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_memberships_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_memberships_status'), sa.text(OLD_STATUSES))
        batch_op.drop_column('payment_reference')
        batch_op.drop_column('share_paid_cents')
