"""Paid pilots: a batch opens a few slots first, pilot workers say how clear and long it was, then it launches."""

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, Invalid
from coop.extensions import db
from coop.governance.services import current_terms
from coop.marketplace.models import Assignment, Batch, PilotFeedback, Slot
from coop.marketplace.services.common import check_claimant, check_owns_batch, lock_row, paged
from coop.marketplace.services.pay_audit import audit_real_pay, raise_reward

# The pilot of a batch that must run one and names no size.
DEFAULT_PILOT_SLOTS = 10
SLOT_IS_TAKEN = sa.text("slots.state IN ('held', 'done')")


def pilot_size(data: dict, items: int, slots: int, params: dict) -> int | None:
    """How many slots a new batch opens for its pilot; None when it runs no pilot."""
    requested = data.get("pilot_slots")
    if requested is None:
        if items <= params["pilot_required_above_items"]:
            return None
        requested = min(DEFAULT_PILOT_SLOTS, slots - 1)
    if requested >= slots:
        raise Invalid(
            _("A pilot opens some of the batch's %(slots)s assignments first; pilot_slots must be fewer.", slots=slots),
            {"pilot_slots": [_("At most %(most)s.", most=slots - 1)]},
        )
    return requested


def check_pilot_room(batch: Batch) -> None:
    """Refuse a claim on a batch in its pilot once its pilot slots are all taken."""
    # Pilot claims queue on the batch row, so two at once never open one slot more than the pilot has.
    lock_row(batch)
    if batch.status != "pilot":
        return
    taken = db.session.scalar(
        sa.select(sa.func.count()).select_from(Slot).where(Slot.batch_id == batch.id, SLOT_IS_TAKEN)
    )
    if taken >= (batch.pilot_slots or 0):
        raise Conflict(
            _(
                "Batch %(batch_id)s is in its pilot and all %(pilot_slots)s pilot slots are taken; the rest "
                "opens when the requester launches it.",
                batch_id=batch.id,
                pilot_slots=batch.pilot_slots,
            )
        )


def leave_feedback(worker: User, assignment: Assignment, data: dict) -> PilotFeedback:
    """A pilot worker's word on the batch, once per assignment, after handing the work in."""
    check_claimant(worker, assignment)
    lock_row(assignment)
    batch = assignment.batch
    if batch.status != "pilot":
        raise Conflict(
            _(
                "Feedback is for pilot work before the batch launches; batch %(batch_id)s is %(status)s.",
                batch_id=batch.id,
                status=batch.status,
            )
        )
    if assignment.submitted_at is None:
        raise Conflict(_("Submit your work first; then say how clear the batch was and how long it took."))
    if db.session.scalar(sa.select(PilotFeedback.id).where(PilotFeedback.assignment_id == assignment.id)):
        raise Conflict(_("You already left feedback on this assignment."))
    feedback = PilotFeedback(
        assignment_id=assignment.id,
        batch_id=batch.id,
        clarity=data["clarity"],
        minutes_taken=data.get("minutes_taken"),
        comment=(data.get("comment") or "").strip() or None,
        created_at=clock.now(),
    )
    db.session.add(feedback)
    db.session.flush()
    return feedback


def pilot_feedback(requester: User, batch: Batch, args: dict) -> tuple[list[PilotFeedback], str | None]:
    """The feedback of a batch's pilot workers, oldest first, for its requester."""
    check_owns_batch(requester, batch)
    stmt = (
        sa.select(PilotFeedback)
        .where(PilotFeedback.batch_id == batch.id)
        .options(joinedload(PilotFeedback.assignment).joinedload(Assignment.worker))
    )
    return paged(stmt, PilotFeedback.id, args, descending=False)


def launch(requester: User, batch: Batch, data: dict) -> Batch:
    """Open a piloted batch to everyone, optionally revised, checked against the terms in force again."""
    check_owns_batch(requester, batch)
    lock_row(batch)
    if batch.status != "pilot":
        raise Conflict(
            _(
                "Only a batch in its pilot can be launched; batch %(batch_id)s is %(status)s.",
                batch_id=batch.id,
                status=batch.status,
            )
        )
    reward = data.get("reward_cents") or batch.reward_cents
    if reward < batch.reward_cents:
        raise Invalid(
            _(
                "A launch never lowers the reward: pilot work was promised %(reward_cents)s cents.",
                reward_cents=batch.reward_cents,
            ),
            {"reward_cents": [_("At least %(reward_cents)s.", reward_cents=batch.reward_cents)]},
        )
    terms = current_terms()
    revised = {
        "reward_cents": reward,
        "est_seconds": int(data.get("est_seconds") or batch.est_seconds),
        "purpose": batch.purpose,
        "impersonation_notice": batch.impersonation_notice,
        "end_client": batch.end_client,
        "personal_data": batch.personal_data,
        "dpa_reference": batch.dpa_reference,
        "content_warnings": batch.content_warnings,
    }
    # The same check as posting: the terms may have changed while the pilot ran. (Imported here:
    # posting a batch asks this module for its pilot's size.)
    from coop.marketplace.services.batches import check_terms

    check_terms(revised, terms, launch=True)
    old = {"reward_cents": batch.reward_cents, "est_seconds": batch.est_seconds}
    if reward > batch.reward_cents:
        # A raise like any other: escrow topped up through the ledger, approved pilot work paid the difference.
        raise_reward(requester, batch, reward)
    est_seconds = int(data.get("est_seconds") or batch.est_seconds)
    changed: dict[str, int | bool] = {"reward_cents": reward} if reward != old["reward_cents"] else {}
    if est_seconds != batch.est_seconds:
        batch.est_seconds = changed["est_seconds"] = est_seconds
    if data.get("instructions") is not None and data["instructions"] != batch.instructions:
        batch.instructions = data["instructions"]
        changed["instructions"] = True
    batch.status, batch.launched_at = "open", clock.now()
    audit.append(
        "batch.launched",
        f"batch:{batch.id}",
        requester,
        {"terms_version": terms.version, "pilot_slots": batch.pilot_slots, "before": old, "changed": changed},
    )
    # Pilot submissions count toward the real-pay audit as soon as the batch is open.
    audit_real_pay(batch, terms.params)
    return batch
