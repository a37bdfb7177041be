"""Governance tables: versioned terms and rules."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coop import clock
from coop.extensions import db
from coop.types import JSONType, UTCDateTime


class TermsVersion(db.Model):
    """One complete, validated parameter set; a new row only by a passed proposal or founding."""

    __tablename__ = "terms_versions"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    params: Mapped[dict] = mapped_column(JSONType)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    adopted_by: Mapped[int | None] = mapped_column()  # proposal id; null for the founding version


class RuleVersion(db.Model):
    """One version of a rule document (bylaws, forum-rules, marketplace-code, ...)."""

    __tablename__ = "rule_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    version: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    adopted_by: Mapped[int | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("slug", "version"),)


MEMBERSHIP_STATUSES = ("applicant", "member", "withdrawn")


class Membership(db.Model):
    """A worker's membership: applicant, member holding the one share, or withdrawn."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint(f"status IN {MEMBERSHIP_STATUSES}", name="status"),)


SHARE_LINE_KINDS = ("membership_share", "patronage", "redemption")


class ShareLine(db.Model):
    """One line of the share register: the membership share, patronage allocations, redemptions."""

    __tablename__ = "share_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    ledger_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ledger_transactions.id"))
    memo: Mapped[str] = mapped_column(sa.String(255), default="")

    __table_args__ = (sa.CheckConstraint(f"kind IN {SHARE_LINE_KINDS}", name="kind"),)
