"""Marketplace tables: funds requests, batches, items, slots, assignments, appeals, reviews, preferences."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coop import clock
from coop.accounts.models import User
from coop.extensions import Model
from coop.ledger import PAYMENT_REFERENCE_MAX
from coop.types import JSONType, UTCDateTime

PURPOSES = ("preparation", "verification", "impersonation")
# Bit positions are stored (Batch.warnings_mask, MemberPreferences.opt_in_mask): append only.
CONTENT_WARNINGS = ("violence", "sexual", "hate", "self_harm", "disturbing")

DEPOSIT_STATUSES = ("pending", "confirmed")
WITHDRAWAL_STATUSES = ("pending", "confirmed")
WITHDRAWAL_SOURCES = ("requester", "worker")
BATCH_STATUSES = ("open", "paused_underpaid", "cancelled", "expired", "completed", "pilot")
SLOT_STATES = ("open", "held", "done", "cancelled")
ASSIGNMENT_STATUSES = ("claimed", "submitted", "approved", "rejected", "expired")
REVIEW_DECISIONS = ("approve", "reject", "auto")
APPEAL_STATUSES = ("pending", "upheld", "overturned")
PAYMENT_SOURCES = ("escrow", "available")
# Items in one batch, whether sent as JSON or as CSV lines.
MAX_BATCH_ITEMS = 10_000
# Why a batch takes no claims for now, beside its status: members flagged it, or its requester is suspended.
PAUSE_REASONS = ("flags", "suspension", "requester")


def warnings_mask(warnings) -> int:
    """The content warnings as a bit set, so 'opted into all of them' is one SQL expression."""
    mask = 0
    for name in warnings:
        mask |= 1 << CONTENT_WARNINGS.index(name)
    return mask


class Deposit(Model):
    """A requester's bank transfer, pending until a coordinator records that it arrived."""

    __tablename__ = "deposits"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # The requester's bank reference, so the coordinator can match the transfer before confirming.
    payment_reference: Mapped[str | None] = mapped_column(sa.String(PAYMENT_REFERENCE_MAX))

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])

    __table_args__ = (
        sa.CheckConstraint(f"status IN {DEPOSIT_STATUSES}", name="status"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
    )


class Withdrawal(Model):
    """A payout to a requester (unused funds) or a worker (earnings), pending until a coordinator pays it."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(16))
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        sa.CheckConstraint(f"status IN {WITHDRAWAL_STATUSES}", name="status"),
        sa.CheckConstraint(f"source IN {WITHDRAWAL_SOURCES}", name="source"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
    )


class Batch(Model):
    """A requester's batch of items, bound to the terms version it was posted under."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    end_client: Mapped[str] = mapped_column(sa.String(200), default="")
    purpose: Mapped[str] = mapped_column(sa.String(64))
    impersonation_notice: Mapped[str | None] = mapped_column(sa.Text)
    content_warnings: Mapped[list] = mapped_column(JSONType, default=list)
    warnings_mask: Mapped[int] = mapped_column(default=0)
    personal_data: Mapped[bool] = mapped_column(default=False)
    dpa_reference: Mapped[str | None] = mapped_column(sa.String(200))
    reward_cents: Mapped[int] = mapped_column()
    est_seconds: Mapped[int] = mapped_column()
    assignments_per_item: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terms_version: Mapped[int] = mapped_column()
    # The worker protections promised at posting; the more protective of these and the
    # terms in force applies, so a later vote never takes back what was promised.
    protections: Mapped[dict] = mapped_column(JSONType)
    fee_pct: Mapped[int] = mapped_column()
    item_count: Mapped[int] = mapped_column()
    slot_count: Mapped[int] = mapped_column()
    rewards_total_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fee_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # What this batch still holds in the requester's escrow account; the sum over a
    # requester's batches equals that account's balance.
    escrow_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    required_reward_cents: Mapped[int | None] = mapped_column()
    underpay_finding: Mapped[dict | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The answer form ([{name, label, type, options?, required}]); None takes any JSON answer.
    answer_fields: Mapped[list | None] = mapped_column(JSONType)
    # The items' fields, the columns of the results file: a CSV's header, or the keys JSON items
    # used; None when JSON items used too many for columns.
    item_fields: Mapped[list | None] = mapped_column(JSONType)
    # A hold kept apart from `status`, so a batch paused by members keeps its own state underneath
    # (open, or paused for underpay) and resuming it gives that state back.
    paused_reason: Mapped[str | None] = mapped_column(sa.String(16))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A paid pilot: only this many slots open until the requester launches the batch.
    pilot_slots: Mapped[int | None] = mapped_column()
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(f"status IN {BATCH_STATUSES}", name="status"),
        sa.CheckConstraint(f"paused_reason IN {PAUSE_REASONS}", name="paused_reason"),
        sa.CheckConstraint("escrow_cents >= 0", name="escrow_not_negative"),
        sa.Index("ix_batches_status_id", "status", "id"),
    )


class Item(Model):
    """One piece of work in a batch; its data is shown only to its requester and to claimants."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    position: Mapped[int] = mapped_column()
    data: Mapped[dict] = mapped_column(JSONType)

    __table_args__ = (sa.UniqueConstraint("batch_id", "position"),)


class Slot(Model):
    """One of an item's assignments_per_item places; its money sits in escrow until paid or refunded."""

    __tablename__ = "slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"))
    number: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(sa.String(16), default="open")

    __table_args__ = (
        sa.UniqueConstraint("item_id", "number"),
        sa.CheckConstraint(f"state IN {SLOT_STATES}", name="state"),
        sa.Index("ix_slots_batch_id_state", "batch_id", "state"),
        # The claim query walks only the open slots of one batch, in id order.
        sa.Index(
            "ix_slots_open",
            "batch_id",
            "id",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )


class Assignment(Model):
    """A member's claim on one slot: claimed -> submitted -> approved | rejected (or expired)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"))
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("slots.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="claimed")
    # True while this assignment occupies its slot (claimed, submitted, approved through the slot).
    holds_slot: Mapped[bool] = mapped_column(default=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    real_seconds: Mapped[int | None] = mapped_column()
    answer: Mapped[dict | None] = mapped_column(JSONType)
    auto_approve_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_decision: Mapped[str | None] = mapped_column(sa.String(16))
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    batch: Mapped[Batch] = relationship()
    item: Mapped[Item] = relationship()
    worker: Mapped[User] = relationship()
    appeal: Mapped["Appeal | None"] = relationship(back_populates="assignment", uselist=False)

    __table_args__ = (
        sa.CheckConstraint(f"status IN {ASSIGNMENT_STATUSES}", name="status"),
        sa.CheckConstraint(f"review_decision IN {REVIEW_DECISIONS}", name="review_decision"),
        # A worker never does the same item twice; only a lapsed lease lets them try it again.
        sa.Index(
            "uq_assignments_item_worker_live",
            "item_id",
            "worker_id",
            unique=True,
            sqlite_where=sa.text("status <> 'expired'"),
            postgresql_where=sa.text("status <> 'expired'"),
        ),
        # Never two workers on one slot.
        sa.Index(
            "uq_assignments_slot_held",
            "slot_id",
            unique=True,
            sqlite_where=sa.text("holds_slot"),
            postgresql_where=sa.text("holds_slot"),
        ),
        sa.Index("ix_assignments_batch_id_status", "batch_id", "status"),
        sa.Index("ix_assignments_worker_id_id", "worker_id", "id"),
        # Lapsed leases and due approvals are looked for per batch (lazily) and across batches (tick).
        sa.Index(
            "ix_assignments_lease_due",
            "batch_id",
            "lease_expires_at",
            sqlite_where=sa.text("status = 'claimed'"),
            postgresql_where=sa.text("status = 'claimed'"),
        ),
        sa.Index(
            "ix_assignments_approval_due",
            "batch_id",
            "submitted_at",
            sqlite_where=sa.text("status = 'submitted'"),
            postgresql_where=sa.text("status = 'submitted'"),
        ),
        # The results file pages through a batch's approved work in id order off this index.
        sa.Index(
            "ix_assignments_batch_id_approved",
            "batch_id",
            "id",
            sqlite_where=sa.text("status = 'approved'"),
            postgresql_where=sa.text("status = 'approved'"),
        ),
        # The pay audit reads the median real time of a batch straight off this index.
        sa.Index(
            "ix_assignments_batch_id_real_seconds",
            "batch_id",
            "real_seconds",
            sqlite_where=sa.text("real_seconds IS NOT NULL"),
            postgresql_where=sa.text("real_seconds IS NOT NULL"),
        ),
    )


class BatchTimeHistogram(Model):
    """How many of a batch's submissions took each whole number of real seconds, kept as work is handed in."""

    __tablename__ = "batch_time_histogram"

    # Real seconds are whole (rounded up at submit) and never cleared, so a few rows per distinct value
    # give the audit its count and exact median without reading the batch's submissions.
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), primary_key=True, autoincrement=False)
    seconds: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Workers of one batch often take the same seconds: a submit that finds a value's row being
    # written by another counts in a row of its own (numbered by its assignment) instead of queueing.
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, server_default="0")
    submissions: Mapped[int] = mapped_column()


class Appeal(Model):
    """A rejected worker's appeal, decided by a coordinator."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    paid_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_from: Mapped[str | None] = mapped_column(sa.String(16))

    assignment: Mapped[Assignment] = relationship(back_populates="appeal")
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(f"status IN {APPEAL_STATUSES}", name="status"),
        sa.CheckConstraint(f"paid_from IN {PAYMENT_SOURCES}", name="paid_from"),
        sa.Index("ix_appeals_status_id", "status", "id"),
    )


class ConfidentialityAcceptance(Model):
    """A member's acceptance of confidentiality for a personal-data batch, with time and terms version."""

    __tablename__ = "confidentiality_acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    terms_version: Mapped[int] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("batch_id", "worker_id"),)


class MemberPreferences(Model):
    """A worker's marketplace preferences: the content warnings they opted into."""

    __tablename__ = "member_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, autoincrement=False)
    content_opt_in: Mapped[list] = mapped_column(JSONType, default=list)
    opt_in_mask: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class RequesterReview(Model):
    """A member's review of a requester they worked for; one per member and requester, editable."""

    __tablename__ = "requester_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    rating: Mapped[int] = mapped_column()
    # Turkopticon's dimensions; null on reviews written before they were asked.
    pay_rating: Mapped[int | None] = mapped_column()
    speed_rating: Mapped[int | None] = mapped_column()
    communication_rating: Mapped[int | None] = mapped_column()
    would_work_again: Mapped[bool | None] = mapped_column()
    broke_terms: Mapped[bool | None] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    member: Mapped[User] = relationship(foreign_keys=[member_id])

    __table_args__ = (
        sa.UniqueConstraint("requester_id", "member_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint("pay_rating BETWEEN 1 AND 5", name="pay_rating"),
        sa.CheckConstraint("speed_rating BETWEEN 1 AND 5", name="speed_rating"),
        sa.CheckConstraint("communication_rating BETWEEN 1 AND 5", name="communication_rating"),
    )


class BatchFlag(Model):
    """A member's report that a batch is harmful; enough distinct members pause it for a coordinator."""

    __tablename__ = "batch_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Set when a coordinator resumes or cancels the batch: the flag was heard and counts no more.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("batch_id", "member_id"),)


class RequesterSuspension(Model):
    """A requester the members suspended by vote: they post nothing and their batches take no claims."""

    __tablename__ = "requester_suspensions"

    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, autoincrement=False)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"))
    suspended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Bonus(Model):
    """Money a requester adds to a worker's pay for one assignment, with the coop's fee on it."""

    __tablename__ = "bonuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    requester_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    worker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)
    fee_cents: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("fee_cents >= 0", name="fee_not_negative"),
    )


class AssignmentMessage(Model):
    """A message about one assignment between its worker and the batch's requester."""

    __tablename__ = "assignment_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    author: Mapped[User] = relationship()

    __table_args__ = (sa.Index("ix_assignment_messages_assignment_id_id", "assignment_id", "id"),)


class PilotFeedback(Model):
    """A pilot worker's word on a batch's clarity and time, read by its requester before launching."""

    __tablename__ = "pilot_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), unique=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batches.id"), index=True)
    clarity: Mapped[int] = mapped_column()
    minutes_taken: Mapped[int | None] = mapped_column()
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    assignment: Mapped[Assignment] = relationship()

    __table_args__ = (sa.CheckConstraint("clarity BETWEEN 1 AND 5", name="clarity"),)
