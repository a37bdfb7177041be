"""Collective power over batches: members flag a harmful batch, enough flags pause it, a coordinator decides."""

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.services import current_terms
from coop.governance.terms import FOUNDING_TERMS
from coop.marketplace.models import Batch, BatchFlag
from coop.marketplace.services.common import CLOSED, announce_paused, announce_resumed, lock_row
from coop.marketplace.services.escrow import close_batch

FLAG_REASON_MIN, FLAG_REASON_MAX = 10, 1000


def flags_to_pause(params: dict | None = None) -> int:
    """Distinct members whose open flags pause a batch, under the terms in force."""
    params = params or current_terms().params
    # Terms adopted before the parameter existed carry the founding value.
    return params.get("batch_flags_to_pause", FOUNDING_TERMS["batch_flags_to_pause"])


def open_flag_count(batch: Batch) -> int:
    """How many members' flags on this batch wait for a coordinator."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(BatchFlag)
        .where(BatchFlag.batch_id == batch.id, BatchFlag.resolved_at.is_(None))
    )


def flag_batch(member: User, batch: Batch, reason: str) -> BatchFlag:
    """A member reports a batch as harmful; at batch_flags_to_pause distinct members it stops taking claims."""
    if not member.is_member:
        raise Forbidden(_("Only members flag batches."))
    reason = (reason or "").strip()
    if not FLAG_REASON_MIN <= len(reason) <= FLAG_REASON_MAX:
        raise Invalid(
            _(
                "Say in %(low)s to %(high)s characters why this batch is harmful; the "
                "reason is published in the audit log.",
                low=FLAG_REASON_MIN,
                high=FLAG_REASON_MAX,
            ),
            {
                "reason": [
                    _(
                        "Between %(low)s and %(high)s characters.",
                        low=FLAG_REASON_MIN,
                        high=FLAG_REASON_MAX,
                    )
                ]
            },
        )
    # The batch row is locked, so the flag that reaches the threshold is counted exactly once.
    batch = lock_row(batch)
    if batch.status in CLOSED or batch.status == "completed":
        raise Conflict(
            _(
                "Batch %(batch_id)s is already %(status)s; there is nothing left to pause.",
                batch_id=batch.id,
                status=batch.status,
            )
        )
    already = db.session.scalar(
        sa.select(BatchFlag.id).where(BatchFlag.batch_id == batch.id, BatchFlag.member_id == member.id)
    )
    if already is not None:
        raise Conflict(_("You have already flagged this batch; each member flags a batch once."))
    now = clock.now()
    flag = BatchFlag(batch_id=batch.id, member_id=member.id, reason=reason, created_at=now)
    db.session.add(flag)
    db.session.flush()
    count, threshold = open_flag_count(batch), flags_to_pause()
    # The flagger is named only by the flag's id: members report harm without exposing themselves.
    audit.append(
        "batch.flagged",
        f"batch:{batch.id}",
        "a member",
        {"batch_id": batch.id, "flag_id": flag.id, "reason": reason, "open_flags": count, "threshold": threshold},
    )
    # Members' flags take over the requester's own pause, so lifting that cannot slip past their review.
    if count >= threshold and batch.paused_reason in (None, "requester"):
        batch.paused_reason, batch.paused_at = "flags", now
        audit.append(
            "batch.paused",
            f"batch:{batch.id}",
            None,
            {"batch_id": batch.id, "reason": "flags", "open_flags": count, "threshold": threshold},
        )
        announce_paused(batch, "flags")
    db.session.flush()
    # View-only figures the response shows the flagger.
    flag.open_flags, flag.flags_to_pause, flag.batch_paused = count, threshold, batch.paused_reason == "flags"  # type: ignore[attr-defined]
    return flag


def _resolve_flags(batch: Batch, now) -> int:
    flags = list(
        db.session.scalars(sa.select(BatchFlag).where(BatchFlag.batch_id == batch.id, BatchFlag.resolved_at.is_(None)))
    )
    for flag in flags:
        flag.resolved_at = now
    return len(flags)


def _check_flag_paused(coordinator: User, batch: Batch, action: str) -> str:
    if not coordinator.is_coordinator:
        if action == "resume":
            raise Forbidden(_("Only coordinators resume a batch paused by members' flags."))
        raise Forbidden(_("Only coordinators cancel a batch paused by members' flags."))
    if batch.requester_id == coordinator.id:
        raise Forbidden(_("You posted this batch; another coordinator decides on it."))
    if batch.paused_reason != "flags":
        if action == "resume":
            raise Conflict(
                _("Batch %(batch_id)s is not paused by members' flags; there is nothing to resume.", batch_id=batch.id)
            )
        raise Conflict(
            _("Batch %(batch_id)s is not paused by members' flags; there is nothing to cancel.", batch_id=batch.id)
        )
    return action


def resume_flagged_batch(coordinator: User, batch: Batch, reason: str) -> Batch:
    """A coordinator judges a flagged batch fit: it takes claims again; its flags are closed."""
    batch = lock_row(batch)
    _check_flag_paused(coordinator, batch, "resume")
    reason = _decision_reason(reason)
    now = clock.now()
    batch.paused_reason = batch.paused_at = None
    resolved = _resolve_flags(batch, now)
    db.session.flush()
    audit.append(
        "batch.resumed",
        f"batch:{batch.id}",
        coordinator,
        {"batch_id": batch.id, "flags_resolved": resolved, "reason": reason},
    )
    announce_resumed(batch, "flags")
    return batch


def cancel_flagged_batch(coordinator: User, batch: Batch, reason: str) -> Batch:
    """A coordinator upholds the flags: the batch is cancelled, unclaimed slots refunded, work in flight paid."""
    batch = lock_row(batch)
    _check_flag_paused(coordinator, batch, "cancel")
    reason = _decision_reason(reason)
    now = clock.now()
    if batch.status in CLOSED or batch.status == "completed":
        raise Conflict(_("Batch %(batch_id)s is already %(status)s.", batch_id=batch.id, status=batch.status))
    result = close_batch(batch, "cancelled", now)
    # Cancelled says it all now: the hold was for the review, which is over.
    batch.paused_reason = batch.paused_at = None
    resolved = _resolve_flags(batch, now)
    db.session.flush()
    audit.append(
        "batch.cancelled",
        f"batch:{batch.id}",
        coordinator,
        {**result, "batch_id": batch.id, "flags_resolved": resolved, "reason": reason},
    )
    return batch


def _decision_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not FLAG_REASON_MIN <= len(reason) <= FLAG_REASON_MAX:
        raise Invalid(
            _(
                "Give the members' flags an answer of %(low)s to %(high)s characters; it "
                "is published in the audit log.",
                low=FLAG_REASON_MIN,
                high=FLAG_REASON_MAX,
            ),
            {
                "reason": [
                    _(
                        "Between %(low)s and %(high)s characters.",
                        low=FLAG_REASON_MIN,
                        high=FLAG_REASON_MAX,
                    )
                ]
            },
        )
    return reason
