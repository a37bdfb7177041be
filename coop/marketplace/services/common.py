"""What every marketplace story shares: row locks, slot and assignment predicates, owner checks, protections."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from coop.accounts.models import User
from coop.errors import Forbidden
from coop.extensions import db
from coop.governance.services import current_terms
from coop.marketplace.models import Assignment, Batch
from coop.pagination import keyset_page
from coop.webhooks import services as webhooks

# The terms values a batch promises its workers when it is posted.
PROTECTIONS = (
    "min_hourly_rate_cents",
    "platform_fee_pct",
    "auto_approve_hours",
    "claim_lease_minutes",
    "appeal_window_days",
)
CLAIMABLE = ("open", "pilot")
CLOSED = ("cancelled", "expired")

# Literal predicates (not bound parameters) so PostgreSQL can always use the partial indexes,
# even once psycopg prepares the statement and the planner switches to a generic plan.
SLOT_IS_OPEN = sa.text("slots.state = 'open'")
SLOT_IS_LIVE = sa.text("slots.state IN ('open', 'held')")
IS_CLAIMED = sa.text("assignments.status = 'claimed'")
IS_SUBMITTED = sa.text("assignments.status = 'submitted'")
NOT_EXPIRED = sa.text("assignments.status <> 'expired'")

NOT_YOUR_BATCH = _l("This batch belongs to another requester.")
NOT_YOUR_ASSIGNMENT = _l("This assignment is another worker's.")


def lock_row(obj):
    """Re-read a row under a row lock, so a decision is taken on its latest committed state."""
    # NO KEY UPDATE: claims insert rows referencing batches and slots (taking KEY SHARE locks),
    # and must not queue behind, or deadlock with, a review or a cancel that holds the row.
    db.session.flush()  # a refresh would otherwise drop changes made earlier in this unit of work
    db.session.refresh(obj, with_for_update={"key_share": True})
    return obj


def paged(stmt, column, args: dict, descending: bool = True) -> tuple[list, str | None]:
    """One keyset page of stmt ordered by column: (items, next_cursor)."""
    return keyset_page(stmt, [column], limit=args["limit"], cursor=args["cursor"], descending=descending)


def insert_ignoring_duplicates(model):
    """An INSERT for this database's dialect, so it can skip rows that already exist."""
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def on_postgresql() -> bool:
    """Whether this session talks to PostgreSQL, where the hot paths write in single statements."""
    return db.session.get_bind().dialect.name == "postgresql"


def announce_paused(batch: Batch, reason: str, **details) -> None:
    """Tell the batch's requester (webhook batch.paused) that it takes no new claims, and why."""
    webhooks.emit("batch.paused", {"batch_id": batch.id, "reason": reason, **details}, requester_id=batch.requester_id)


def announce_resumed(batch: Batch, reason: str) -> None:
    """Tell the batch's requester (webhook batch.resumed) that it takes claims again, and which pause ended."""
    webhooks.emit("batch.resumed", {"batch_id": batch.id, "reason": reason}, requester_id=batch.requester_id)


def check_owns_batch(requester: User, batch: Batch) -> None:
    """Only the requester who posted a batch may manage it."""
    if batch.requester_id != requester.id:
        raise Forbidden(NOT_YOUR_BATCH)


def check_claimant(worker: User, assignment: Assignment) -> None:
    """Only the worker who claimed an assignment may work on it or appeal its rejection."""
    if assignment.worker_id != worker.id:
        raise Forbidden(NOT_YOUR_ASSIGNMENT)


def protections_in_force(batch: Batch, params: dict | None = None) -> dict:
    """Per protection, the more protective of what the batch promised and the terms in force."""
    promised = batch.protections
    now = params or current_terms().params
    return {
        "min_hourly_rate_cents": max(promised["min_hourly_rate_cents"], now["min_hourly_rate_cents"]),
        "auto_approve_hours": min(promised["auto_approve_hours"], now["auto_approve_hours"]),
        "claim_lease_minutes": max(promised["claim_lease_minutes"], now["claim_lease_minutes"]),
        "appeal_window_days": max(promised["appeal_window_days"], now["appeal_window_days"]),
        # The fee is a price agreed at posting, not a protection: it stays what was charged.
        "platform_fee_pct": batch.fee_pct,
    }
