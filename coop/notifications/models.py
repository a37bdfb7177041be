"""Notification tables: the notifications themselves, each member's choice per kind, and the digest's day."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coop import clock
from coop.extensions import Model
from coop.types import JSONType, UTCDateTime

# Every kind of notification, in the order the preferences list them.
KINDS = (
    "vote_opened",
    "vote_closing",
    "vote_result",
    "proposal_reviewed",
    "proposal_amended",
    "proposal_to_ballot",
    "outcome_review_due",
    "work_reviewed",
    "appeal_decided",
    "work_appealed",
    "appeal_to_decide",
    "message",
    "forum_reply",
    "forum_mention",
    "post_moderated",
    "payment_confirmed",
)
MODES = ("immediate", "digest", "off")
# What a member gets until they choose: what asks for action soon (a vote, a decision on their own
# work or post, money) comes at once; conversation and the rest of a proposal's life come in the digest.
DEFAULT_MODES = {
    "vote_opened": "immediate",
    "vote_closing": "immediate",
    "vote_result": "immediate",
    "proposal_reviewed": "immediate",
    "proposal_amended": "digest",
    "proposal_to_ballot": "immediate",
    "outcome_review_due": "digest",
    "work_reviewed": "digest",
    "appeal_decided": "immediate",
    # A requester may owe the work's pay if the rejection is overturned.
    "work_appealed": "immediate",
    # A queue any of several coordinators works through, with no deadline: once a day is enough.
    "appeal_to_decide": "digest",
    "message": "immediate",
    "forum_reply": "digest",
    "forum_mention": "digest",
    "post_moderated": "immediate",
    "payment_confirmed": "immediate",
}


class Notification(Model):
    """One thing a member is told: what happened (kind, subject, params), whether they read it, how it was emailed."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    # What it is about, as the audit log names it: "proposal:12", "assignment:7", "post:40".
    subject: Mapped[str] = mapped_column(sa.String(128))
    # Names people by pseudonym only; shown in the reader's language when read.
    params: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the member chose to hear of this kind when it happened: immediate, digest or off.
    email: Mapped[str] = mapped_column(sa.String(16))
    # When an email (immediate or digest) carried it; null while one is still due.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for what must be said once only (a vote's closing reminder), so a second run adds nothing.
    once_key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)

    __table_args__ = (
        sa.CheckConstraint(f"email IN {MODES}", name="email"),
        # A member's list, newest first, and their unread count.
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        # The mailers' search for what is still to be emailed.
        sa.Index("ix_notifications_email_mailed_at", "email", "mailed_at"),
    )


class NotificationPreference(Model):
    """A member's choice for one kind; kinds without a row follow DEFAULT_MODES."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (sa.CheckConstraint(f"mode IN {MODES}", name="mode"),)


class NotificationDigest(Model):
    """The day a member's digest was last sent, so it goes at most once a day however often the job runs."""

    __tablename__ = "notification_digests"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    sent_on: Mapped[date] = mapped_column(sa.Date)
