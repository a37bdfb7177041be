"""Requester suspension by the members' vote: no more posting, open batches closed with refunds, work in flight paid."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from coop.accounts.models import User
from coop.errors import Conflict, Forbidden
from coop.extensions import db
from coop.marketplace.models import Batch, RequesterSuspension
from coop.marketplace.services.common import announce_paused
from coop.marketplace.services.escrow import close_batch


def suspension_of(requester_id: int) -> RequesterSuspension | None:
    """The suspension in force for a requester, if the members passed one."""
    return db.session.get(RequesterSuspension, requester_id)


def _lock_requester(requester_id: int, *, exclusive: bool) -> None:
    # A batch being posted holds its requester's row shared and a suspension takes it exclusively,
    # so a batch is either posted before the suspension (and closed by it) or refused after it.
    stmt = sa.select(User.id).where(User.id == requester_id)
    db.session.execute(stmt.with_for_update(key_share=True) if exclusive else stmt.with_for_update(read=True))


def check_not_suspended(requester: User) -> None:
    """A suspended requester posts nothing."""
    _lock_requester(requester.id, exclusive=False)
    suspension = suspension_of(requester.id)
    if suspension is not None:
        raise Forbidden(
            _(
                "The members suspended this requester account by proposal %(proposal_id)s; it can post no "
                "batches. Work already submitted is still reviewed and paid.",
                proposal_id=suspension.proposal_id,
            )
        )


def enact_requester_suspension(proposal, now: datetime) -> tuple[dict, list[tuple]]:
    """Carry out a passed `requester_suspension` proposal, in the closing transaction.

    The requester's batches that still take work stop: their unclaimed slots are refunded
    through the ledger. Claims already made may still be submitted and are reviewed (or
    approved automatically) and paid as usual; a slot they give back is refunded too.
    """
    requester_id = proposal.change["requester_id"]
    requester = db.session.get(User, requester_id)
    if requester is None or requester.kind != "requester":
        raise Conflict(
            _("User %(requester_id)s is not a requester, so no one was suspended.", requester_id=requester_id)
        )
    _lock_requester(requester_id, exclusive=True)
    if suspension_of(requester_id) is not None:
        raise Conflict(
            _("Requester %(requester_id)s is already suspended; nothing more was done.", requester_id=requester_id)
        )
    db.session.add(RequesterSuspension(requester_id=requester_id, proposal_id=proposal.id, suspended_at=now))
    # Locked in id order, as every sweep over batches takes them, so no two sweeps wait in a circle.
    batches = list(
        db.session.scalars(
            sa.select(Batch)
            .where(Batch.requester_id == requester_id, Batch.status.in_(("open", "paused_underpaid")))
            .order_by(Batch.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )
    events: list[tuple] = []
    slots = cents = 0
    for batch in batches:
        result = close_batch(batch, "cancelled", now)
        batch.paused_reason, batch.paused_at = "suspension", now
        announce_paused(batch, "suspension")
        slots, cents = slots + result["slots_refunded"], cents + result["refunded_cents"]
        events.append(
            (
                "batch.cancelled",
                f"batch:{batch.id}",
                None,
                {**result, "batch_id": batch.id, "reason": "suspension", "proposal_id": proposal.id},
            )
        )
    db.session.flush()
    summary = {
        "requester_id": requester_id,
        "batches_closed": len(batches),
        "slots_refunded": slots,
        "refunded_cents": cents,
    }
    return summary, [("requester.suspended", f"user:{requester_id}", None, {**summary, "proposal_id": proposal.id})]
