"""Forum: threads, posts, post versions, flags, moderation log, forum appeals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:34:12.374719

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('threads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=False),
    sa.Column('post_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_threads_author_id_users')),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_threads_board_id_boards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threads'))
    )
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.create_index('ix_threads_board_activity', ['board_id', 'last_activity_at', 'id'], unique=False)

    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('edit_count', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_rule', sa.String(length=64), nullable=True),
    sa.Column('hidden_rule_version', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_posts_author_id_users')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_posts_hidden_by_id_users')),
    sa.ForeignKeyConstraint(['reply_to_id'], ['posts.id'], name=op.f('fk_posts_reply_to_id_posts')),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_posts_thread_id_threads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_thread_id_id', ['thread_id', 'id'], unique=False)

    op.create_table('post_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_versions_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_versions')),
    sa.UniqueConstraint('post_id', 'number', name=op.f('uq_post_versions_post_id_number'))
    )
    op.create_table('post_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('flagger_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution', sa.String(length=16), nullable=True),
    sa.CheckConstraint("resolution IS NULL OR resolution IN ('hide', 'restore', 'dismissed')", name=op.f('ck_post_flags_resolution')),
    sa.ForeignKeyConstraint(['flagger_id'], ['users.id'], name=op.f('fk_post_flags_flagger_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_flags_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_flags'))
    )
    with op.batch_alter_table('post_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_flags_post_id'), ['post_id'], unique=False)

    op.create_table('post_moderations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('coordinator_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("action IN ('hide', 'restore')", name=op.f('ck_post_moderations_action')),
    sa.ForeignKeyConstraint(['coordinator_id'], ['users.id'], name=op.f('fk_post_moderations_coordinator_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_moderations_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_moderations'))
    )
    with op.batch_alter_table('post_moderations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_moderations_post_id'), ['post_id'], unique=False)

    op.create_table('forum_appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('moderation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'upheld', 'overturned', 'escalated', 'closed')", name=op.f('ck_forum_appeals_status')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_forum_appeals_author_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_forum_appeals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['moderation_id'], ['post_moderations.id'], name=op.f('fk_forum_appeals_moderation_id_post_moderations')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_forum_appeals_post_id_posts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_appeals'))
    )
    with op.batch_alter_table('forum_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_appeals_post_id'), ['post_id'], unique=False)


def downgrade():
    with op.batch_alter_table('forum_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_appeals_post_id'))
    op.drop_table('forum_appeals')

    with op.batch_alter_table('post_moderations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_moderations_post_id'))
    op.drop_table('post_moderations')

    with op.batch_alter_table('post_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_flags_post_id'))
    op.drop_table('post_flags')

    op.drop_table('post_versions')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_thread_id_id')
    op.drop_table('posts')

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.drop_index('ix_threads_board_activity')
    op.drop_table('threads')
