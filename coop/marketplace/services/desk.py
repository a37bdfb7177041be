"""The requester's desk and the coordinators' payments: what their pages read, counted for many rows at once."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coop.accounts.models import User
from coop.accounts.permissions import ROLE_MESSAGES, has_role
from coop.errors import Forbidden
from coop.extensions import db
from coop.governance.services import member_register
from coop.marketplace.models import (
    Assignment,
    AssignmentMessage,
    Batch,
    Deposit,
    PilotFeedback,
    Slot,
    Withdrawal,
)
from coop.marketplace.services.batches import _with_real_time
from coop.marketplace.services.common import IS_SUBMITTED, check_owns_batch, paged
from coop.marketplace.services.funds import balance_of
from coop.marketplace.services.reviews import batch_appeals
from coop.marketplace.services.tick import refresh_batch

# What a desk shows at most of each list before it pages; enough for a day's work, few enough for a phone.
RECENT_MESSAGES = 20
RECENT_FEEDBACK = 50
RECENT_APPEALS = 20


def check_requester(user: User) -> None:
    """Only requester accounts have a desk."""
    if not has_role(user, "requester"):
        raise Forbidden(ROLE_MESSAGES["requester"])


def check_coordinator(user: User) -> None:
    """Only coordinators confirm payments."""
    if not has_role(user, "coordinator"):
        raise Forbidden(ROLE_MESSAGES["coordinator"])


def _empty_progress(batch: Batch) -> dict:
    return {
        "items": batch.item_count,
        "slots": batch.slot_count,
        "open": 0,
        "in_progress": 0,
        "done": 0,
        "cancelled": 0,
        "claimed": 0,
        "submitted": 0,
        "approved": 0,
        "rejected": 0,
        "expired": 0,
    }


def progress_of(batches: list[Batch]) -> dict[int, dict]:
    """Each batch's progress (as `progress` counts it), for a whole page of batches in two queries."""
    found = {batch.id: _empty_progress(batch) for batch in batches}
    if not found:
        return found
    ids = list(found)
    slot_names = {"open": "open", "held": "in_progress", "done": "done", "cancelled": "cancelled"}
    for batch_id, state, count in db.session.execute(
        sa.select(Slot.batch_id, Slot.state, sa.func.count())
        .where(Slot.batch_id.in_(ids))
        .group_by(Slot.batch_id, Slot.state)
    ):
        found[batch_id][slot_names[state]] = count
    for batch_id, status, count in db.session.execute(
        sa.select(Assignment.batch_id, Assignment.status, sa.func.count())
        .where(Assignment.batch_id.in_(ids))
        .group_by(Assignment.batch_id, Assignment.status)
    ):
        found[batch_id][status] = count
    return found


def requester_overview(requester: User, args: dict) -> dict:
    """A requester's balances and one page of their batches (newest first), each with its progress."""
    check_requester(requester)
    batches, next_cursor = paged(sa.select(Batch).where(Batch.requester_id == requester.id), Batch.id, args)
    pending = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Deposit.amount_cents), 0)).where(
            Deposit.requester_id == requester.id, Deposit.status == "pending"
        )
    )
    return {
        "balance": balance_of(requester),
        "deposits_pending_cents": pending,
        "batches": batches,
        "progress": progress_of(batches),
        "next_cursor": next_cursor,
    }


def batch_desk(requester: User, batch: Batch) -> dict:
    """Everything a batch's page shows its requester: progress, real time, recent messages, pilot feedback, appeals."""
    check_owns_batch(requester, batch)
    refresh_batch(batch)
    _with_real_time([batch], None)
    messages = list(
        db.session.scalars(
            sa.select(AssignmentMessage)
            .join(Assignment, Assignment.id == AssignmentMessage.assignment_id)
            .where(Assignment.batch_id == batch.id)
            .options(joinedload(AssignmentMessage.author))
            .order_by(AssignmentMessage.id.desc())
            .limit(RECENT_MESSAGES)
        )
    )
    feedback = []
    if batch.pilot_slots:
        feedback = list(
            db.session.scalars(
                sa.select(PilotFeedback)
                .where(PilotFeedback.batch_id == batch.id)
                .options(joinedload(PilotFeedback.assignment).joinedload(Assignment.worker))
                .order_by(PilotFeedback.id)
                .limit(RECENT_FEEDBACK)
            )
        )
    appeals, _ = batch_appeals(requester, batch, {"limit": RECENT_APPEALS, "cursor": None})
    return {
        "progress": progress_of([batch])[batch.id],
        "messages": messages,
        "feedback": feedback,
        "appeals": appeals,
    }


def review_queue(requester: User, batch: Batch, args: dict) -> tuple[list[Assignment], str | None]:
    """A batch's submitted work awaiting its requester's review, oldest first, with items and pseudonyms."""
    check_owns_batch(requester, batch)
    # Work past its auto-approval time is approved (and paid) first, so the queue never offers it.
    refresh_batch(batch)
    stmt = (
        sa.select(Assignment)
        .where(Assignment.batch_id == batch.id, IS_SUBMITTED)
        .options(joinedload(Assignment.worker), joinedload(Assignment.item))
    )
    return paged(stmt, Assignment.id, args, descending=False)


def payments_to_confirm(coordinator: User, limit: int) -> dict:
    """Money announced and not yet confirmed: deposits, membership shares by transfer or held, payouts to make."""
    check_coordinator(coordinator)
    deposits = list(
        db.session.scalars(
            sa.select(Deposit)
            .where(Deposit.status == "pending")
            .options(joinedload(Deposit.requester))
            .order_by(Deposit.id)
            .limit(limit)
        )
    )
    transfers, _ = member_register(coordinator, "pending_payment", limit=limit, cursor=None)
    held, _ = member_register(coordinator, "applicant", limit=limit, cursor=None)
    withdrawals = list(
        db.session.scalars(
            sa.select(Withdrawal)
            .where(Withdrawal.status == "pending")
            .options(joinedload(Withdrawal.user))
            .order_by(Withdrawal.id)
            .limit(limit)
        )
    )
    return {"deposits": deposits, "shares": [*transfers, *held], "withdrawals": withdrawals}
