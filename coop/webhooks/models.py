"""Webhooks: a person's subscriptions to events, and each event's delivery to one of them."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop import clock
from coop.extensions import Model
from coop.types import JSONType, UTCDateTime

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Webhook(Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list] = mapped_column(JSONType)
    # Kept as given out ("whsec_" + base64): signing needs the key itself, so unlike API tokens it
    # cannot be stored as a hash. It is shown once, when the webhook is created.
    secret: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The first failed attempt since the last success; three days of failing disables the webhook.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class WebhookDelivery(Model):
    """One event for one webhook: the exact body sent (the same bytes on every attempt) and how it went."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    # The Standard Webhooks message id: the same on every attempt, so receivers can drop repeats.
    msg_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    event: Mapped[str] = mapped_column(sa.String(32))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # When the next attempt is due (None once delivered or given up); the retry sweep reads it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Attempts stop after this (a day after the event, or after a redelivery was asked for).
    retry_until: Mapped[datetime] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")

    __table_args__ = (sa.CheckConstraint(f"status IN {DELIVERY_STATUSES}", name="status"),)
