"""Users, their roles, their signed-in browser sessions, their personal API tokens and emailed one-time links."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop import clock
from coop.extensions import Model
from coop.types import UTCDateTime

USER_KINDS = ("worker", "requester")


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    organization: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Roles are held here and changed only by governance services (admission, withdrawal,
    # passed coordinator proposals, the founding CLI step).
    is_member: Mapped[bool] = mapped_column(default=False)
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    # The member's own choice of language for pages and emails; None: follow the browser.
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    # ISO 3166-1 alpha-2, stated by the person; members' countries keep the coop floor above local minimum wages.
    country: Mapped[str | None] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # When the person followed the link sent to `email`; None: not (yet) shown to be theirs.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint(f"kind IN {USER_KINDS}", name="kind"),)

    @property
    def is_requester(self) -> bool:
        return self.kind == "requester"

    @property
    def role(self) -> str:
        """The highest role, as shown next to a pseudonym in public logs."""
        if self.is_coordinator:
            return "coordinator"
        if self.is_member:
            return "member"
        return self.kind

    def __repr__(self) -> str:
        return f"<User {self.id} {self.display_name!r}>"


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Written at most once a minute, so a busy program does not write on every request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None: the token lives until revoked.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Model):
    """A signed-in browser: its id travels in the signed session cookie, so signing out here ends it."""

    __tablename__ = "user_sessions"

    # Random and unguessable; looked up by primary key on every cookie request.
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Written at most once a minute, like a token's last use.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


EMAIL_TOKEN_PURPOSES = ("verify", "reset")


class EmailToken(Model):
    """A single-use link sent by email: to show an address is the person's, or to choose a new password."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))
    # The address the link was sent to: verifying proves that address, not a later one.
    email: Mapped[str] = mapped_column(sa.String(254))
    # SHA-256 of the token, as for API tokens: a copy of the table opens no account.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint(f"purpose IN {EMAIL_TOKEN_PURPOSES}", name="purpose"),)
