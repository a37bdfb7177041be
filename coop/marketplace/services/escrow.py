"""A batch's escrow: paying approved work, giving slots back, refunds, closing and settling."""

from datetime import datetime
from typing import cast

import sqlalchemy as sa

from coop import audit, ledger
from coop.extensions import db
from coop.marketplace import pay
from coop.marketplace.models import Assignment, Batch, Slot
from coop.marketplace.services.common import CLOSED, SLOT_IS_LIVE, SLOT_IS_OPEN, lock_row
from coop.webhooks import services as webhooks


def pay_from(account: str, batch: Batch, worker_id: int, reward: int, memo: str) -> None:
    """Pay a worker one reward of the batch from an account, with the coop's fee on it, in one transaction."""
    cost = pay.slot_cost_cents(reward, batch.fee_pct)
    lines = [(account, -cost), (ledger.worker_earnings(worker_id), reward)]
    if cost > reward:
        lines.append((ledger.COOP_FEES, cost - reward))
    ledger.transfer(lines, memo)


def refund(batch: Batch, cents: int, memo: str) -> None:
    """Give cents of the batch's escrow back to its requester's available funds."""
    ledger.move(
        ledger.requester_escrow(batch.requester_id), ledger.requester_available(batch.requester_id), cents, memo
    )
    batch.escrow_cents -= cents


def refund_open_slots(batch: Batch) -> tuple[int, int]:
    """Cancel every open slot and return its money to the requester; (slots, cents)."""
    # On PostgreSQL the UPDATE waits for a claim holding a slot and then re-checks it is still
    # open, so a slot is either claimed or refunded, never both.
    cancelled = cast(
        sa.CursorResult,
        db.session.execute(
            sa.update(Slot)
            .where(Slot.batch_id == batch.id, SLOT_IS_OPEN)
            .values(state="cancelled")
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if not cancelled:
        return 0, 0
    per_slot = pay.slot_cost_cents(batch.reward_cents, batch.fee_pct)
    refund(batch, per_slot * cancelled, f"batch {batch.id}: {cancelled} unclaimed slots refunded")
    return cancelled, per_slot * cancelled


def close_batch(batch: Batch, status: str, now: datetime) -> dict:
    """Close a batch (cancelled or expired), refunding its open slots."""
    slots, cents = refund_open_slots(batch)
    batch.status, batch.closed_at = status, now
    settle_if_done(batch, now)
    return {"slots_refunded": slots, "refunded_cents": cents}


def close_if_past_expiry(batch: Batch, now: datetime) -> bool:
    """Close a batch whose expiry has passed; True if this call closed it."""
    if batch.expires_at is None or batch.expires_at > now or batch.status not in ("open", "paused_underpaid", "pilot"):
        return False
    lock_row(batch)
    if batch.status not in ("open", "paused_underpaid", "pilot"):
        return False
    result = close_batch(batch, "expired", now)
    audit.append("batch.expired", f"batch:{batch.id}", None, result)
    return True


def settle_if_done(batch: Batch, now: datetime) -> None:
    """Once no slot is open or in progress, the fee's rounding remainder goes to the coop."""
    # Asked after every approval: stop at the first live slot rather than counting them all.
    if db.session.scalar(sa.select(Slot.id).where(Slot.batch_id == batch.id, SLOT_IS_LIVE).limit(1)) is not None:
        return
    if batch.status == "open":
        batch.status, batch.closed_at = "completed", now
        webhooks.emit("batch.completed", {"batch_id": batch.id}, requester_id=batch.requester_id)
    if batch.escrow_cents:
        remainder = batch.escrow_cents
        ledger.move(
            ledger.requester_escrow(batch.requester_id),
            ledger.COOP_FEES,
            remainder,
            f"batch {batch.id}: fee remainder settled",
        )
        batch.escrow_cents = 0
    batch.settled_at = now


def escrow_owed(requester_id: int) -> int:
    """What a requester's batches still hold in escrow; equals the escrow account's balance."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Batch.escrow_cents), 0)).where(Batch.requester_id == requester_id)
    )


def release_slot(assignment: Assignment, now: datetime) -> None:
    """An expired or rejected assignment gives its slot back: to the pool, or refunded if the batch closed."""
    batch = lock_row(assignment.batch)
    if batch.status in CLOSED:
        db.session.execute(sa.update(Slot).where(Slot.id == assignment.slot_id).values(state="cancelled"))
        cents = pay.slot_cost_cents(batch.reward_cents, batch.fee_pct)
        refund(batch, cents, f"batch {batch.id}: slot {assignment.slot_id} refunded after the batch closed")
        settle_if_done(batch, now)
    else:
        db.session.execute(sa.update(Slot).where(Slot.id == assignment.slot_id).values(state="open"))


def approve(assignment: Assignment, now: datetime, decision: str) -> None:
    """Approve submitted work (by the requester or automatically): the worker is paid from escrow."""
    batch = lock_row(assignment.batch)
    reward = batch.reward_cents
    pay_from(
        ledger.requester_escrow(batch.requester_id),
        batch,
        assignment.worker_id,
        reward,
        f"assignment {assignment.id} of batch {batch.id} approved",
    )
    batch.escrow_cents -= pay.slot_cost_cents(reward, batch.fee_pct)
    assignment.status, assignment.approved_at = "approved", now
    assignment.reviewed_at, assignment.review_decision = now, decision
    assignment.paid_cents += reward
    db.session.execute(sa.update(Slot).where(Slot.id == assignment.slot_id).values(state="done"))
    settle_if_done(batch, now)
