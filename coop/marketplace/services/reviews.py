"""Reviews of submitted work and appeals against rejections."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from coop import audit, clock, ledger
from coop.accounts.models import User
from coop.accounts.permissions import has_role
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.ledger import InsufficientFunds
from coop.marketplace import pay
from coop.marketplace.models import Appeal, Assignment, Batch, Slot
from coop.marketplace.services.common import check_claimant, check_owns_batch, lock_row, paged, protections_in_force
from coop.marketplace.services.escrow import approve, pay_from, release_slot, settle_if_done
from coop.marketplace.services.tick import auto_approve_due, refresh_batch, tell_worker_reviewed
from coop.notifications.services import notify
from coop.webhooks import services as webhooks

# Long enough to say what was wrong: a word like "no" or "wrong" gives the worker nothing to appeal against.
MIN_REJECTION_REASON = 10


def review(requester: User, assignment: Assignment, decision: str, reason: str | None) -> Assignment:
    """The requester's decision: approve (worker and coop paid from escrow) or reject with a reason."""
    check_owns_batch(requester, assignment.batch)
    reason = (reason or "").strip() or None
    if decision == "reject" and len(reason or "") < MIN_REJECTION_REASON:
        raise Invalid(
            _("A rejection needs a reason the worker can read and appeal."),
            {
                "reason": [
                    _(
                        "At least %(count)s characters when rejecting: say what was wrong.",
                        count=MIN_REJECTION_REASON,
                    )
                ]
            },
        )
    now = clock.now()
    lock_row(assignment)
    if assignment.status == "submitted":
        # Past the wait the work is approved whether or not the tick has run: a late review cannot reject it.
        auto_approve_due(now, assignment_id=assignment.id)
    if assignment.status != "submitted":
        raise Conflict(
            _("Only submitted work can be reviewed; this assignment is %(status)s.", status=assignment.status)
        )
    if decision == "approve":
        approve(assignment, now, "approve")
        assignment.review_reason = reason
    else:
        assignment.status, assignment.holds_slot = "rejected", False
        assignment.reviewed_at, assignment.review_decision, assignment.review_reason = now, "reject", reason
        db.session.flush()
        release_slot(assignment, now)
    tell_worker_reviewed(assignment, decision, reason)
    return assignment


def batch_assignments(requester: User, batch: Batch, args: dict) -> tuple[list[Assignment], str | None]:
    """A batch's assignments for its requester, workers shown by pseudonym only."""
    check_owns_batch(requester, batch)
    refresh_batch(batch)
    stmt = sa.select(Assignment).where(Assignment.batch_id == batch.id).options(joinedload(Assignment.worker))
    if args.get("status"):
        stmt = stmt.where(Assignment.status == args["status"])
    return paged(stmt, Assignment.id, args, descending=False)


def appeal_deadline(assignment: Assignment) -> datetime | None:
    """Until when a rejected worker may appeal."""
    if assignment.review_decision != "reject" or assignment.reviewed_at is None:
        return None
    days = protections_in_force(assignment.batch)["appeal_window_days"]
    return assignment.reviewed_at + timedelta(days=days)


def file_appeal(worker: User, assignment: Assignment, reason: str) -> Appeal:
    """A rejected worker asks the coordinators to overturn the rejection."""
    check_claimant(worker, assignment)
    now = clock.now()
    lock_row(assignment)
    if assignment.status != "rejected":
        raise Conflict(
            _("Only rejected work can be appealed; this assignment is %(status)s.", status=assignment.status)
        )
    if assignment.appeal is not None:
        raise Conflict(_("This rejection was already appealed (appeal %(appeal_id)s).", appeal_id=assignment.appeal.id))
    deadline = appeal_deadline(assignment)
    if now > deadline:
        raise Conflict(
            _(
                "The appeal window closed at %(deadline)s (%(appeal_window_days)s days after the rejection).",
                deadline=deadline.isoformat(),
                appeal_window_days=protections_in_force(assignment.batch)["appeal_window_days"],
            )
        )
    appeal = Appeal(assignment_id=assignment.id, reason=reason.strip(), status="pending", created_at=now)
    db.session.add(appeal)
    db.session.flush()
    audit.append(
        "appeal.filed", f"appeal:{appeal.id}", worker, {"assignment_id": assignment.id, "batch_id": assignment.batch_id}
    )
    notify(
        [assignment.batch.requester_id],
        "work_appealed",
        f"appeal:{appeal.id}",
        {
            "appeal_id": appeal.id,
            "assignment_id": assignment.id,
            "batch_id": assignment.batch_id,
            "batch": assignment.batch.title,
            "by": worker.display_name,
            "reason": appeal.reason,
        },
    )
    return appeal


def list_appeals(args: dict) -> tuple[list[Appeal], str | None]:
    """Appeals for coordinators, pending ones by default, oldest first."""
    stmt = sa.select(Appeal).options(joinedload(Appeal.assignment))
    if args.get("status"):
        stmt = stmt.where(Appeal.status == args["status"])
    return paged(stmt, Appeal.id, args, descending=False)


def batch_appeals(user: User, batch: Batch, args: dict) -> tuple[list[Appeal], str | None]:
    """The appeals against a batch's rejections and their decisions, oldest first, for its requester and coordinators."""
    if not has_role(user, "coordinator"):
        check_owns_batch(user, batch)
    stmt = (
        sa.select(Appeal)
        .join(Assignment, Assignment.id == Appeal.assignment_id)
        .where(Assignment.batch_id == batch.id)
        .options(joinedload(Appeal.assignment).joinedload(Assignment.worker), joinedload(Appeal.decided_by))
    )
    if args.get("status"):
        stmt = stmt.where(Appeal.status == args["status"])
    return paged(stmt, Appeal.id, args, descending=False)


def read_appeal(user: User, appeal: Appeal) -> Appeal:
    """One appeal, for coordinators and the appealing worker."""
    if not (has_role(user, "coordinator") or appeal.assignment.worker_id == user.id):
        raise Forbidden(_("Only coordinators and the appealing worker can read an appeal."))
    return appeal


def _overturn(assignment: Assignment, now: datetime) -> tuple[int, str]:
    batch = lock_row(assignment.batch)
    slot = db.session.scalar(
        sa.select(Slot)
        .where(Slot.id == assignment.slot_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    reward = batch.reward_cents
    memo = f"assignment {assignment.id} of batch {batch.id}: rejection overturned on appeal"
    if slot.state == "open":
        # Nobody re-took the slot, so its money is still in the batch's escrow.
        pay_from(ledger.requester_escrow(batch.requester_id), batch, assignment.worker_id, reward, memo)
        batch.escrow_cents -= pay.slot_cost_cents(reward, batch.fee_pct)
        slot.state, assignment.holds_slot, source = "done", True, "escrow"
    else:
        needed = pay.slot_cost_cents(reward, batch.fee_pct)
        available = ledger.balance(ledger.requester_available(batch.requester_id))
        if available < needed:
            raise InsufficientFunds(
                _(
                    "The slot's money went to other work and the requester's available funds (%(available)s cents) "
                    "cannot cover the %(needed)s cents owed; nothing was changed. Decide again once they deposit.",
                    available=available,
                    needed=needed,
                )
            )
        pay_from(ledger.requester_available(batch.requester_id), batch, assignment.worker_id, reward, memo)
        source = "available"
    assignment.status, assignment.approved_at = "approved", now
    assignment.paid_cents += reward
    db.session.flush()
    settle_if_done(batch, now)
    return reward, source


def decide_appeal(coordinator: User, appeal: Appeal, decision: str, reason: str) -> Appeal:
    """A coordinator upholds the rejection or overturns it, paying the worker."""
    now = clock.now()
    lock_row(appeal)
    if appeal.status != "pending":
        raise Conflict(
            _("Appeal %(appeal_id)s was already decided (%(status)s).", appeal_id=appeal.id, status=appeal.status)
        )
    assignment = lock_row(appeal.assignment)
    if assignment.worker_id == coordinator.id:
        raise Forbidden(_("You cannot decide your own appeal; another coordinator must."))
    if decision == "overturn":
        appeal.paid_cents, appeal.paid_from = _overturn(assignment, now)
        appeal.status = "overturned"
    else:
        appeal.status = "upheld"
    appeal.decided_at, appeal.decided_by_id, appeal.decision_reason = now, coordinator.id, reason.strip()
    audit.append(
        "appeal.decided",
        f"appeal:{appeal.id}",
        coordinator,
        {
            "assignment_id": assignment.id,
            "batch_id": assignment.batch_id,
            "decision": decision,
            "paid_cents": appeal.paid_cents,
            "paid_from": appeal.paid_from,
        },
    )
    notify(
        [assignment.worker_id],
        "appeal_decided",
        f"appeal:{appeal.id}",
        {
            "about": "work",
            "appeal_id": appeal.id,
            "assignment_id": assignment.id,
            "batch": assignment.batch.title,
            "decision": decision,
            "reason": appeal.decision_reason,
        },
    )
    webhooks.emit(
        "appeal.decided",
        {
            "appeal_id": appeal.id,
            "assignment_id": assignment.id,
            "batch_id": assignment.batch_id,
            "decision": decision,
            "reason": appeal.decision_reason,
        },
        requester_id=assignment.batch.requester_id,
    )
    return appeal
