"""Time-driven marketplace work: lapsed leases, auto-approvals and expiry, due by the tick or before a read."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from coop import clock
from coop.extensions import db
from coop.governance.services import current_terms
from coop.marketplace.models import Assignment, Batch
from coop.marketplace.services.common import IS_CLAIMED, IS_SUBMITTED
from coop.marketplace.services.escrow import approve, close_if_past_expiry, release_slot
from coop.notifications.services import notify


def lease_is_over(assignment: Assignment, now: datetime, params: dict) -> bool:
    """Whether a claim's lease has lapsed, under the batch's promise and the terms in force."""
    # The stored lease already took the longer of promise and terms at claim time; a lease
    # the members lengthened since then also holds.
    return now >= assignment.lease_expires_at and now >= assignment.claimed_at + timedelta(
        minutes=params["claim_lease_minutes"]
    )


def lapse(assignment: Assignment, now: datetime) -> None:
    """End a claim without work: its slot goes back (to the pool, or refunded if the batch closed).

    The one way a claim ends unworked, whether its lease ran out or its worker gave it back,
    so both release exactly the same money and count the same (as a lapsed lease, not against the worker).
    """
    assignment.status, assignment.holds_slot = "expired", False
    db.session.flush()
    release_slot(assignment, now)


def _locked_due(
    stmt: sa.Select, batch_id: int | None, worker_id: int | None, assignment_id: int | None
) -> list[Assignment]:
    """The due assignments `stmt` selects, narrowed to those named, each row locked for this sweep."""
    for column, value in (
        (Assignment.batch_id, batch_id),
        (Assignment.worker_id, worker_id),
        (Assignment.id, assignment_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    # Rows another transaction is handling (a submit, a review, another sweep) are left to it.
    stmt = stmt.order_by(Assignment.id).with_for_update(skip_locked=True, key_share=True)
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def expire_overdue_leases(
    now: datetime,
    batch_id: int | None = None,
    worker_id: int | None = None,
    assignment_id: int | None = None,
    params: dict | None = None,
) -> int:
    """Expire the lapsed leases among the assignments named; their slots go back. Returns how many."""
    params = params or current_terms().params
    stmt = sa.select(Assignment).where(
        IS_CLAIMED,
        Assignment.lease_expires_at <= now,
        Assignment.claimed_at <= now - timedelta(minutes=params["claim_lease_minutes"]),
    )
    overdue = _locked_due(stmt, batch_id, worker_id, assignment_id)
    for assignment in overdue:
        lapse(assignment, now)
    return len(overdue)


def auto_approve_due(
    now: datetime,
    batch_id: int | None = None,
    worker_id: int | None = None,
    assignment_id: int | None = None,
    params: dict | None = None,
) -> int:
    """Approve the submitted work whose wait for review is over. Returns how many."""
    params = params or current_terms().params
    stmt = sa.select(Assignment).where(
        IS_SUBMITTED,
        sa.or_(
            Assignment.auto_approve_at <= now,
            # A shorter wait the members voted since submission applies too.
            Assignment.submitted_at <= now - timedelta(hours=params["auto_approve_hours"]),
        ),
    )
    due = _locked_due(stmt, batch_id, worker_id, assignment_id)
    for assignment in due:
        approve(assignment, now, "auto")
        tell_worker_reviewed(assignment, "approve", auto=True)
    return len(due)


def tell_worker_reviewed(assignment: Assignment, decision: str, reason: str | None = None, auto: bool = False) -> None:
    """Tell the worker how their work was reviewed: by the requester, or approved when the wait ran out."""
    # One kind for both, so one preference covers them.
    details = {
        "assignment_id": assignment.id,
        "batch_id": assignment.batch_id,
        "batch": assignment.batch.title,
        "decision": decision,
        "reason": reason,
    }
    notify(
        [assignment.worker_id],
        "work_reviewed",
        f"assignment:{assignment.id}",
        details | ({"auto": True} if auto else {}),
    )


def refresh_batch(batch: Batch) -> None:
    """Apply the batch's due time-driven work: closing at expiry, lapsed leases, auto-approvals."""
    now = clock.now()
    params = current_terms().params
    close_if_past_expiry(batch, now)
    expire_overdue_leases(now, batch_id=batch.id, params=params)
    auto_approve_due(now, batch_id=batch.id, params=params)


def refresh_assignment(assignment: Assignment) -> Assignment:
    """Apply an assignment's due lease expiry or auto-approval before it is shown."""
    now = clock.now()
    if assignment.status == "claimed":
        expire_overdue_leases(now, assignment_id=assignment.id)
    elif assignment.status == "submitted":
        auto_approve_due(now, assignment_id=assignment.id)
    return assignment


def tick(now) -> str:
    """Time-driven marketplace work that is due: batches past expiry, lapsed leases, auto-approvals."""
    params = current_terms().params
    closed = 0
    due = list(
        db.session.scalars(
            sa.select(Batch)
            .where(Batch.status.in_(("open", "paused_underpaid", "pilot")), Batch.expires_at <= now)
            .order_by(Batch.id)
        )
    )
    for batch in due:
        closed += close_if_past_expiry(batch, now)
    expired = expire_overdue_leases(now, params=params)
    approved = auto_approve_due(now, params=params)
    return f"{closed} batches closed at expiry, {expired} leases expired, {approved} assignments auto-approved"
