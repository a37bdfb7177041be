"""Forum tables: boards, threads, posts with their earlier versions, flags, moderation and appeals."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop import clock
from coop.accounts.models import User
from coop.extensions import Model
from coop.types import UTCDateTime

BOARD_VISIBILITIES = ("public", "members")
# flag_hide: members' flags reached post_flags_to_hide; no coordinator acted yet.
MODERATION_ACTIONS = ("hide", "redact", "restore", "flag_hide")
FLAG_RESOLUTIONS = ("hide", "redact", "restore", "dismissed")
APPEAL_STATUSES = ("open", "upheld", "overturned", "escalated", "closed")


class Board(Model):
    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    visibility: Mapped[str] = mapped_column(sa.String(16))

    __table_args__ = (sa.CheckConstraint(f"visibility IN {BOARD_VISIBILITIES}", name="visibility"),)


class Thread(Model):
    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(sa.ForeignKey("boards.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Moved by every new post; the board lists threads by it, newest first.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    post_count: Mapped[int] = mapped_column(default=0)

    board: Mapped[Board] = relationship(lazy="selectin")
    author: Mapped[User] = relationship(lazy="selectin")

    # Serves the board's thread list: equality on board, then the keyset order.
    __table_args__ = (sa.Index("ix_threads_board_activity", "board_id", "last_activity_at", "id"),)


class Post(Model):
    """A post; its text is never deleted by anyone but its author (retraction)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reply_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"))
    # Null once retracted: the author's words are gone, the placeholder stays.
    body: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edit_count: Mapped[int] = mapped_column(default=0)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The hide or redaction in force, copied from its moderation entry so a page of posts needs
    # no join; the moderation log keeps the full history.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    hidden_rule: Mapped[str | None] = mapped_column(sa.String(64))
    hidden_rule_version: Mapped[int | None] = mapped_column()
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)
    # A redacted post is hidden more strictly: it exposed someone's personal data, so its text
    # (every version of it) is read only by its author and the coordinators.
    redacted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    thread: Mapped[Thread] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="selectin")
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id], lazy="selectin")

    # Thread pages are keyset pages on id within a thread.
    __table_args__ = (sa.Index("ix_posts_thread_id_id", "thread_id", "id"),)

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def retracted(self) -> bool:
        return self.retracted_at is not None


class PostVersion(Model):
    """An earlier text of an edited post; its text is erased when the post is retracted."""

    __tablename__ = "post_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"))
    number: Mapped[int] = mapped_column()
    body: Mapped[str | None] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("post_id", "number"),)


class Flag(Model):
    """A reader's report that a post breaks a rule; open until a coordinator acts on the post."""

    __tablename__ = "post_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    flagger_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    rule: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(sa.String(16))

    __table_args__ = (sa.CheckConstraint(f"resolution IS NULL OR resolution IN {FLAG_RESOLUTIONS}", name="resolution"),)


class Moderation(Model):
    """One entry of the public moderation log: a post hidden, redacted or restored, citing a rule."""

    __tablename__ = "post_moderations"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    rule: Mapped[str] = mapped_column(sa.String(64))
    rule_version: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.Text)
    # None for a hide by members' flags, which waits for a coordinator's review.
    coordinator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Set when the action carries out an appeal decision (an overturn restores the post); a
    # plain id, since the appeal already refers to the hide and the two tables must not form a cycle.
    appeal_id: Mapped[int | None] = mapped_column()

    coordinator: Mapped[User | None] = relationship(lazy="selectin")

    __table_args__ = (sa.CheckConstraint(f"action IN {MODERATION_ACTIONS}", name="action"),)


class ForumAppeal(Model):
    """An author's appeal against the hiding or redaction of their post."""

    __tablename__ = "forum_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    # The hide or redaction being appealed; the coordinator who did it may not decide.
    moderation_id: Mapped[int] = mapped_column(sa.ForeignKey("post_moderations.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    proposal_id: Mapped[int | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship(lazy="selectin")
    moderation: Mapped[Moderation] = relationship(foreign_keys=[moderation_id], lazy="selectin")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="selectin")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="selectin")

    __table_args__ = (sa.CheckConstraint(f"status IN {APPEAL_STATUSES}", name="status"),)
