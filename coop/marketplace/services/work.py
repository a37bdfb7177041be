"""Work: claims under leases, content-warning caps and confidentiality, submitting answers."""

import json
import math
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.services import current_terms
from coop.marketplace.models import Assignment, Batch, ConfidentialityAcceptance, Item, MemberPreferences, Slot
from coop.marketplace.services.common import (
    CLAIMABLE,
    NOT_EXPIRED,
    NOT_YOUR_ASSIGNMENT,
    SLOT_IS_OPEN,
    check_claimant,
    insert_ignoring_duplicates,
    lock_row,
    paged,
    protections_in_force,
)
from coop.marketplace.services.escrow import close_if_past_expiry
from coop.marketplace.services.pay_audit import audit_real_pay, count_real_time
from coop.marketplace.services.pilots import check_pilot_room
from coop.marketplace.services.tick import (
    auto_approve_due,
    expire_overdue_leases,
    lapse,
    lease_is_over,
    refresh_assignment,
)


def _utc_day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)


def flagged_seconds_today(worker: User, now: datetime) -> int:
    """Estimated seconds of today's (UTC) claims on content-warning batches, lapsed claims excluded."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Batch.est_seconds), 0))
        .select_from(Assignment)
        .join(Batch, Batch.id == Assignment.batch_id)
        .where(
            Assignment.worker_id == worker.id,
            Assignment.claimed_at >= _utc_day_start(now),
            NOT_EXPIRED,
            Batch.warnings_mask != 0,
        )
    )


def _check_content_opt_in(batch: Batch, worker: User, now: datetime) -> None:
    # Locked so two claims of one worker at once cannot both slip under the daily cap.
    prefs = db.session.scalar(
        sa.select(MemberPreferences).where(MemberPreferences.user_id == worker.id).with_for_update(key_share=True)
    )
    missing = [w for w in batch.content_warnings if not (prefs and w in prefs.content_opt_in)]
    if missing:
        raise Forbidden(
            f"This batch carries content warnings you have not opted into ({', '.join(missing)}). "
            'Opt in with PATCH /api/v1/me/preferences {"content_opt_in": [...]} if you choose to do this work.'
        )
    cap_minutes = current_terms().params["daily_flagged_minutes_cap"]
    used = flagged_seconds_today(worker, now)
    if used + batch.est_seconds > cap_minutes * 60:
        raise Conflict(
            f"This claim would bring today's work on content-warning tasks to {(used + batch.est_seconds) / 60:g} "
            f"minutes; the terms cap it at {cap_minutes} (daily_flagged_minutes_cap). Try again tomorrow (UTC)."
        )


def _check_confidentiality(batch: Batch, worker: User, accept: bool, now: datetime) -> None:
    accepted = db.session.scalar(
        sa.select(ConfidentialityAcceptance.id).where(
            ConfidentialityAcceptance.batch_id == batch.id, ConfidentialityAcceptance.worker_id == worker.id
        )
    )
    if accepted:
        return
    if not accept:
        raise Forbidden(
            'The items of this batch hold personal data: claim with {"accept_confidentiality": true} to accept '
            f"confidentiality under data-processing agreement {batch.dpa_reference}."
        )
    db.session.add(
        ConfidentialityAcceptance(
            batch_id=batch.id, worker_id=worker.id, accepted_at=now, terms_version=current_terms().version
        )
    )


def _find_open_slot(batch: Batch, worker: User, skip_items: set[int]):
    done_before = (
        sa.select(Assignment.id)
        .where(Assignment.item_id == Slot.item_id, Assignment.worker_id == worker.id, NOT_EXPIRED)
        .exists()
    )
    # The item comes along (into the identity map) because the claimant is shown its data next.
    stmt = (
        sa.select(Slot.id, Slot.item_id, Item)
        .join(Item, Item.id == Slot.item_id)
        .where(Slot.batch_id == batch.id, SLOT_IS_OPEN, ~done_before)
        # Ordered exactly as the partial index ix_slots_open, so the planner walks it.
        .order_by(Slot.batch_id, Slot.id)
        .limit(1)
        # Concurrent claimers step over each other's slots instead of queueing on them.
        .with_for_update(of=Slot, skip_locked=True, key_share=True)
    )
    if skip_items:
        stmt = stmt.where(Slot.item_id.not_in(skip_items))
    return db.session.execute(stmt).first()


def claim(worker: User, batch: Batch, accept_confidentiality: bool = False) -> Assignment:
    """Lease one open slot of the batch to a member, on an item they have not done."""
    now = clock.now()
    close_if_past_expiry(batch, now)
    if batch.status == "paused_underpaid":
        raise Conflict(
            f"Batch {batch.id} is paused: at its workers' real times it pays below the minimum hourly "
            "rate. It reopens when the requester raises the reward."
        )
    if batch.status not in CLAIMABLE:
        raise Conflict(f"Batch {batch.id} is {batch.status} and takes no new claims.")
    if batch.status == "pilot":
        check_pilot_room(batch)
    params = current_terms().params
    expire_overdue_leases(now, batch_id=batch.id, params=params)
    if batch.warnings_mask:
        _check_content_opt_in(batch, worker, now)
    if batch.personal_data:
        _check_confidentiality(batch, worker, accept_confidentiality, now)
    lease = timedelta(minutes=protections_in_force(batch, params)["claim_lease_minutes"])
    tried: set[int] = set()
    for _ in range(3):
        found = _find_open_slot(batch, worker, tried)
        if found is None:
            raise Conflict(f"Nothing left for you to claim in batch {batch.id}.")
        # If this worker's other request took a slot of the same item a moment ago, the unique
        # index turns this insert into nothing (no error, no savepoint) and we try another item.
        assignment = db.session.scalar(
            insert_ignoring_duplicates(Assignment)
            .values(
                batch_id=batch.id,
                item_id=found.item_id,
                slot_id=found.id,
                worker_id=worker.id,
                status="claimed",
                holds_slot=True,
                claimed_at=now,
                lease_expires_at=now + lease,
                paid_cents=0,
            )
            .on_conflict_do_nothing()
            .returning(Assignment)
        )
        if assignment is None:
            tried.add(found.item_id)
            continue
        db.session.execute(sa.update(Slot).where(Slot.id == found.id).values(state="held"))
        # Known already; saves two queries when the claim is shown.
        set_committed_value(assignment, "item", found.Item)
        set_committed_value(assignment, "batch", batch)
        return assignment
    raise Conflict("Could not find a free slot just now; try again.")


def _lapsed(assignment: Assignment, now: datetime, params: dict) -> bool:
    # Lapsed whether or not the sweep has marked it yet: submit and return judge the lease alike.
    return assignment.status == "expired" or (assignment.status == "claimed" and lease_is_over(assignment, now, params))


def submit(worker: User, assignment: Assignment, answer: dict) -> Assignment:
    """Hand in the answer; the real working time (claim to submit) is kept for the pay audit."""
    check_claimant(worker, assignment)
    now = clock.now()
    lock_row(assignment)
    params = current_terms().params
    if _lapsed(assignment, now, params):
        raise Conflict(
            f"Your lease on this item ended at {assignment.lease_expires_at.isoformat()}; it went back "
            "to the pool. Claim again to work on the batch."
        )
    if assignment.status != "claimed":
        raise Conflict(f"This assignment is already {assignment.status}.")
    limit = current_app.config["COOP_MAX_ITEM_BYTES"]
    if len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()) > limit:
        raise Invalid(f"The answer is larger than {limit} bytes of JSON.", {"answer": [f"At most {limit} bytes."]})
    batch = assignment.batch
    hours = protections_in_force(batch, params)["auto_approve_hours"]
    assignment.status, assignment.answer, assignment.submitted_at = "submitted", answer, now
    assignment.real_seconds = math.ceil((now - assignment.claimed_at).total_seconds())
    assignment.auto_approve_at = now + timedelta(hours=hours)
    db.session.flush()
    count_real_time(assignment)
    audit_real_pay(batch, params)
    return assignment


def return_claim(worker: User, assignment: Assignment) -> Assignment:
    """Give back a claim not yet submitted: the slot reopens and nothing counts against the worker."""
    check_claimant(worker, assignment)
    now = clock.now()
    lock_row(assignment)
    # A lapsed lease already gave the slot back (or will, at the next sweep), exactly as submit sees it:
    # there is nothing left to return, and accepting it would hide that the lease ran out.
    if _lapsed(assignment, now, current_terms().params):
        raise Conflict("This claim has already expired and its slot is back in the pool.")
    if assignment.status != "claimed":
        raise Conflict(f"Only a claim not yet submitted can be returned; this assignment is {assignment.status}.")
    # The same path as a lapsed lease, so a return releases exactly what an expiry would.
    lapse(assignment, now)
    audit.append(
        "assignment.returned",
        f"assignment:{assignment.id}",
        worker,
        {"batch_id": assignment.batch_id, "slot_id": assignment.slot_id},
    )
    return assignment


def read_assignment(user: User, assignment: Assignment) -> Assignment:
    """One assignment, with its due lease expiry or auto-approval applied, for its worker or the batch's requester."""
    if user.id not in (assignment.worker_id, assignment.batch.requester_id):
        raise Forbidden(NOT_YOUR_ASSIGNMENT)
    return refresh_assignment(assignment)


def my_assignments(worker: User, args: dict) -> tuple[list[Assignment], str | None]:
    """A worker's assignments, newest first, with due time-driven work applied."""
    now = clock.now()
    params = current_terms().params
    expire_overdue_leases(now, worker_id=worker.id, params=params)
    auto_approve_due(now, worker_id=worker.id, params=params)
    stmt = sa.select(Assignment).where(Assignment.worker_id == worker.id).options(joinedload(Assignment.batch))
    if args.get("status"):
        stmt = stmt.where(Assignment.status == args["status"])
    return paged(stmt, Assignment.id, args)
