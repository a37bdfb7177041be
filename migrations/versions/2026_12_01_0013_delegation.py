"""Delegation: a member's delegate, counted at close when the member did not vote.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 05:00:00

"""
import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FOUNDING_DELEGATION_ALLOWED = True


def _terms_table():
    return sa.table('terms_versions', sa.column('version', sa.Integer()),
                    sa.column('params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')))


def upgrade():
    op.create_table('delegations',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('member_id <> delegate_id', name=op.f('ck_delegations_not_self')),
    sa.ForeignKeyConstraint(['delegate_id'], ['users.id'], name=op.f('fk_delegations_delegate_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_delegations_member_id_users')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_delegate_id'), ['delegate_id'], unique=False)
    # Every ballot cast so far counted once: closed votes had no delegation.
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight', sa.Integer(), server_default='1', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        # A close writes each weighted ballot once more: room left on its page lets that be a
        # heap-only update, which touches none of the ballots' indexes.
        op.execute('ALTER TABLE ballots SET (fillfactor = 90)')

    # Terms versions adopted before the parameter existed are read as having its founding value,
    # so the next terms change validates against a complete set.
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if 'delegation_allowed' not in params:
            params['delegation_allowed'] = FOUNDING_DELEGATION_ALLOWED
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))


def downgrade():
    terms = _terms_table()
    conn = op.get_bind()
    for version, params in conn.execute(sa.select(terms.c.version, terms.c.params)).all():
        params = json.loads(params) if isinstance(params, str) else dict(params)
        if params.pop('delegation_allowed', None) is not None:
            conn.execute(terms.update().where(terms.c.version == version).values(params=params))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE ballots RESET (fillfactor)')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_column('weight')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_delegate_id'))
    op.drop_table('delegations')
