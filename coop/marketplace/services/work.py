"""Work: claims under leases, content-warning caps and confidentiality, submitting answers."""

import functools
import json
import math
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from coop import audit, clock
from coop.accounts.models import User
from coop.driver import DriverStatement, as_loaded
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.services import current_terms
from coop.loading import get_or_404
from coop.marketplace.forms import answer_errors
from coop.marketplace.models import (
    Assignment,
    Batch,
    BatchTimeHistogram,
    ConfidentialityAcceptance,
    Item,
    MemberPreferences,
    Slot,
)
from coop.marketplace.services.common import (
    CLAIMABLE,
    IS_CLAIMED,
    NOT_EXPIRED,
    NOT_YOUR_ASSIGNMENT,
    SLOT_IS_OPEN,
    check_claimant,
    insert_ignoring_duplicates,
    lock_row,
    on_postgresql,
    paged,
    protections_in_force,
)
from coop.marketplace.services.escrow import close_if_past_expiry
from coop.marketplace.services.pay_audit import (
    audit_real_pay,
    count_real_time,
    middle_after_one_more,
    real_time_from_middle,
)
from coop.marketplace.services.pilots import check_pilot_room
from coop.marketplace.services.tick import (
    auto_approve_due,
    expire_overdue_leases,
    lapse,
    lease_is_over,
    refresh_assignment,
)
from coop.webhooks import services as webhooks
from coop.webhooks.models import Webhook


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
            _(
                "This batch carries content warnings you have not opted into (%(missing)s). Opt in with PATCH "
                '/api/v1/me/preferences {"content_opt_in": [...]} if you choose to do this work.',
                missing=", ".join(missing),
            )
        )
    cap_minutes = current_terms().params["daily_flagged_minutes_cap"]
    used = flagged_seconds_today(worker, now)
    if used + batch.est_seconds > cap_minutes * 60:
        raise Conflict(
            _(
                "This claim would bring today's work on content-warning tasks to %(minutes)s minutes; the terms "
                "cap it at %(cap_minutes)s (daily_flagged_minutes_cap). Try again tomorrow (UTC).",
                minutes=format((used + batch.est_seconds) / 60, "g"),
                cap_minutes=cap_minutes,
            )
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
            _(
                'The items of this batch hold personal data: claim with {"accept_confidentiality": true} to '
                "accept confidentiality under data-processing agreement %(dpa_reference)s.",
                dpa_reference=batch.dpa_reference,
            )
        )
    db.session.add(
        ConfidentialityAcceptance(
            batch_id=batch.id, worker_id=worker.id, accepted_at=now, terms_version=current_terms().version
        )
    )


# What taking a slot can find besides a new assignment.
NO_SLOT, ITEM_TAKEN = "no open slot", "item taken"


# Constants are written into the cached statements as SQL, not as anonymous bound values.
_ONE = sa.literal_column("1", sa.Integer)
_ASSIGNMENTS = cast(sa.Table, Assignment.__table__)


def _bind(name: str, column: sa.Column):
    # Never a column's own name: an UPDATE would take a parameter named like a column as a value to SET.
    return sa.bindparam(name, type_=column.type)


def _claim_params(batch: Batch, worker: User, skip_items: set[int], now: datetime, lease: timedelta) -> dict:
    """The values the claim statements are run with."""
    return {
        "claim_batch": batch.id,
        "claim_worker": worker.id,
        "skip_items": sorted(skip_items),
        "claim_at": now,
        "claim_lease_end": now + lease,
    }


@functools.cache
def _open_slot_query(skip_as_array: bool = False):
    """The claimant's next open slot of the batch: lowest id, on an item they have not done, locked.

    The items to step over are bound as one array (`skip_as_array`, PostgreSQL), or as an IN list.
    """
    done_before = (
        sa.select(Assignment.id)
        .where(
            Assignment.item_id == Slot.item_id, Assignment.worker_id == _bind("claim_worker", _ASSIGNMENTS.c.worker_id)
        )
        .where(NOT_EXPIRED)
        .exists()
    )
    return (
        sa.select(Slot.id, Slot.item_id)
        .where(
            Slot.batch_id == _bind("claim_batch", _ASSIGNMENTS.c.batch_id),
            SLOT_IS_OPEN,
            ~done_before,
            Slot.item_id != sa.all_(sa.bindparam("skip_items", type_=ARRAY(sa.Integer)))
            if skip_as_array
            else Slot.item_id.not_in(sa.bindparam("skip_items", expanding=True, type_=sa.Integer)),
        )
        # Ordered exactly as the partial index ix_slots_open, so the planner walks it.
        .order_by(Slot.batch_id, Slot.id)
        .limit(_ONE)
        # Concurrent claimers step over each other's slots instead of queueing on them.
        .with_for_update(of=Slot, skip_locked=True, key_share=True)
    )


@functools.cache
def _new_assignment() -> dict:
    """The columns of a new claim besides its item and slot, as bound values."""
    return {
        "batch_id": _bind("claim_batch", _ASSIGNMENTS.c.batch_id),
        "worker_id": _bind("claim_worker", _ASSIGNMENTS.c.worker_id),
        "status": sa.literal_column("'claimed'", _ASSIGNMENTS.c.status.type),
        "holds_slot": sa.true(),
        "claimed_at": _bind("claim_at", _ASSIGNMENTS.c.claimed_at),
        "lease_expires_at": _bind("claim_lease_end", _ASSIGNMENTS.c.lease_expires_at),
        "paid_cents": sa.literal_column("0", _ASSIGNMENTS.c.paid_cents.type),
    }


@functools.cache
def _claim_statement() -> DriverStatement:
    """The whole claim as one PostgreSQL statement, built once and run on the driver with bound values."""
    slot = _open_slot_query(skip_as_array=True).cte("slot")
    values = _new_assignment()
    # If this worker's other request took a slot of the same item a moment ago, the unique
    # index turns the insert into nothing (no error) and the slot stays open.
    inserted = (
        pg_insert(Assignment)
        .from_select(["item_id", "slot_id", *values], sa.select(slot.c.item_id, slot.c.id, *values.values()))
        .on_conflict_do_nothing()
        .returning(*_ASSIGNMENTS.c)
        .cte("inserted")
    )
    held = sa.update(Slot).where(Slot.id == inserted.c.slot_id).values(state=sa.literal_column("'held'")).cte("held")
    return DriverStatement(
        sa.select(
            slot.c.item_id.label("found_item_id"),
            Item.position.label("item_position"),
            Item.data.label("item_data"),
            *(inserted.c[c.name].label(c.name) for c in _ASSIGNMENTS.c),
        )
        .select_from(slot)
        .join(Item, Item.id == slot.c.item_id)
        .outerjoin(inserted, sa.true())
        .add_cte(held)
    )


def _take_slot_in_one_statement(params: dict, batch: Batch):
    """Find, lock, insert, mark held and return the item, in one PostgreSQL statement."""
    found = _claim_statement().first_mapping(params)
    if found is None:
        return NO_SLOT, None
    if found["id"] is None:
        return ITEM_TAKEN, found["found_item_id"]
    assignment = as_loaded(Assignment, found)
    item = as_loaded(
        Item,
        {
            "id": found["found_item_id"],
            "batch_id": batch.id,
            "position": found["item_position"],
            "data": found["item_data"],
        },
    )
    return assignment, item


@functools.cache
def _open_slot_with_item():
    return _open_slot_query().add_columns(Item).join(Item, Item.id == Slot.item_id)


@functools.cache
def _insert_claim():
    return (
        insert_ignoring_duplicates(_ASSIGNMENTS)
        .values(item_id=sa.bindparam("found_item"), slot_id=sa.bindparam("found_slot"), **_new_assignment())
        .on_conflict_do_nothing()
        .returning(*_ASSIGNMENTS.c)
    )


def _take_slot_step_by_step(params: dict, batch: Batch):
    """What `_take_slot_in_one_statement` does, for a database without writes inside WITH."""
    # The item comes along (into the identity map) because the claimant is shown its data next.
    found = db.session.execute(_open_slot_with_item(), params).first()
    if found is None:
        return NO_SLOT, None
    inserted = db.session.execute(_insert_claim(), {**params, "found_item": found.item_id, "found_slot": found.id})
    row = inserted.first()
    if row is None:
        return ITEM_TAKEN, found.item_id
    db.session.execute(sa.update(Slot).where(Slot.id == found.id).values(state="held"))
    return as_loaded(Assignment, row._mapping), found.Item


def claim(worker: User, batch: Batch, accept_confidentiality: bool = False) -> Assignment:
    """Lease one open slot of the batch to a member, on an item they have not done."""
    now = clock.now()
    close_if_past_expiry(batch, now)
    if batch.status == "paused_underpaid":
        raise Conflict(
            _(
                "Batch %(batch_id)s is paused: at its workers' real times it pays below the minimum hourly rate. "
                "It reopens when the requester raises the reward.",
                batch_id=batch.id,
            )
        )
    if batch.status not in CLAIMABLE:
        raise Conflict(
            _("Batch %(batch_id)s is %(status)s and takes no new claims.", batch_id=batch.id, status=batch.status)
        )
    if batch.paused_reason == "flags":
        raise Conflict(
            _(
                "Batch %(batch_id)s is paused: members flagged it as harmful and a coordinator is reviewing it. "
                "Claims already made may still be submitted.",
                batch_id=batch.id,
            )
        )
    if batch.paused_reason is not None:
        raise Conflict(
            _(
                "Batch %(batch_id)s is paused: its requester paused it. Claims already made may still be submitted.",
                batch_id=batch.id,
            )
        )
    if batch.status == "pilot":
        check_pilot_room(batch)
    params = current_terms().params
    if batch.warnings_mask:
        # Lapsed claims must not count against today's cap.
        expire_overdue_leases(now, batch_id=batch.id, params=params)
        _check_content_opt_in(batch, worker, now)
    if batch.personal_data:
        _check_confidentiality(batch, worker, accept_confidentiality, now)
    lease = timedelta(minutes=protections_in_force(batch, params)["claim_lease_minutes"])
    take = _take_slot_in_one_statement if on_postgresql() else _take_slot_step_by_step
    tried: set[int] = set()
    swept = False
    for _attempt in range(4):
        assignment, item = take(_claim_params(batch, worker, tried, now, lease), batch)
        if assignment == ITEM_TAKEN:
            tried.add(item)
            continue
        if assignment == NO_SLOT:
            # Lapsed leases are given back when they are needed: a claim that finds an open slot
            # does not pay for the sweep (the tick and every read still apply them).
            if not swept and expire_overdue_leases(now, batch_id=batch.id, params=params):
                swept = True
                continue
            raise Conflict(_("Nothing left for you to claim in batch %(batch_id)s.", batch_id=batch.id))
        # Known already; saves two queries when the claim is shown.
        set_committed_value(assignment, "item", item)
        set_committed_value(assignment, "batch", batch)
        return assignment
    raise Conflict(_("Could not find a free slot just now; try again."))


def _lapsed(assignment: Assignment, now: datetime, params: dict) -> bool:
    # Lapsed whether or not the sweep has marked it yet: submit and return judge the lease alike.
    return assignment.status == "expired" or (assignment.status == "claimed" and lease_is_over(assignment, now, params))


def _check_answer_size(answer: dict) -> None:
    limit = current_app.config["COOP_MAX_ITEM_BYTES"]
    if len(json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()) > limit:
        raise Invalid(
            _("The answer is larger than %(limit)s bytes of JSON.", limit=limit),
            {"answer": [_("At most %(limit)s bytes.", limit=limit)]},
        )


@functools.cache
def _submit_statement() -> DriverStatement:
    """The whole submit as one PostgreSQL statement, built once and run on the driver with bound values.

    It also says whether the batch's requester has a live webhook for `assignment.submitted`, so a
    submit nobody listens for enqueues no delivery job.
    """
    table, batches = cast(sa.Table, Assignment.__table__), cast(sa.Table, Batch.__table__)
    at = _bind("submit_at", table.c.submitted_at)
    minute: Any = sa.literal_column("interval '1 minute'")
    hour: Any = sa.literal_column("interval '1 hour'")
    # The same lease and auto-approval rules as `lease_is_over` and `protections_in_force`.
    lease_over = sa.and_(
        at >= table.c.lease_expires_at,
        at >= table.c.claimed_at + minute * sa.bindparam("lease_minutes", type_=sa.Integer),
    )
    promised_hours = sa.cast(batches.c.protections.op("->>")(sa.literal_column("'auto_approve_hours'")), sa.Integer)
    approve_within = sa.func.least(promised_hours, sa.bindparam("auto_approve_hours", type_=sa.Integer))
    submitted = (
        sa.update(table)
        .where(
            table.c.id == _bind("submit_id", table.c.id),
            table.c.worker_id == _bind("submit_worker", table.c.worker_id),
            IS_CLAIMED,
            ~lease_over,
            batches.c.id == table.c.batch_id,
        )
        .values(
            status=sa.literal_column("'submitted'"),
            answer=_bind("submit_answer", table.c.answer),
            submitted_at=at,
            real_seconds=sa.cast(sa.func.ceil(sa.extract("epoch", at - table.c.claimed_at)), sa.Integer),
            auto_approve_at=at + hour * approve_within,
        )
        .returning(*(c.label(f"a_{c.name}") for c in table.c), *(c.label(f"b_{c.name}") for c in batches.c))
        .cte("submitted")
    )
    # The submit counts in the first row of its value nobody else is writing at this moment; only
    # when all are busy does it start another, numbered by its assignment (no two can clash). Rows
    # per value are bounded by how many submits of one value ever overlap, never by the batch's size.
    hist = cast(sa.Table, BatchTimeHistogram.__table__)
    free = (
        sa.select(hist.c.batch_id, hist.c.seconds, hist.c.shard)
        .where(hist.c.batch_id == submitted.c.a_batch_id, hist.c.seconds == submitted.c.a_real_seconds)
        .order_by(hist.c.shard)
        .limit(_ONE)
        .with_for_update(of=hist, skip_locked=True)
        .cte("free")
    )
    bumped = (
        sa.update(hist)
        .where(hist.c.batch_id == free.c.batch_id, hist.c.seconds == free.c.seconds, hist.c.shard == free.c.shard)
        .values(submissions=hist.c.submissions + _ONE)
        .returning(hist.c.shard)
        .cte("bumped")
    )
    started = (
        pg_insert(hist)
        .from_select(
            ["batch_id", "seconds", "shard", "submissions"],
            sa.select(submitted.c.a_batch_id, submitted.c.a_real_seconds, submitted.c.a_id, _ONE).where(
                ~sa.exists(sa.select(bumped.c.shard))
            ),
        )
        .on_conflict_do_update(
            index_elements=["batch_id", "seconds", "shard"], set_={"submissions": hist.c.submissions + _ONE}
        )
        .cte("started")
    )
    listened = (
        sa.select(Webhook.id)
        .where(
            Webhook.owner_id == submitted.c.b_requester_id,
            Webhook.disabled_at.is_(None),
            sa.type_coerce(Webhook.events, JSONB).contains(sa.literal_column("""'["assignment.submitted"]'::jsonb""")),
        )
        .exists()
    )
    # The audit's median with this submission counted, read in the same statement.
    middle = middle_after_one_more(submitted.c.a_batch_id, submitted.c.a_real_seconds).subquery("middle")
    return DriverStatement(
        sa.select(submitted, listened.label("listened"), *middle.c)
        .select_from(submitted.join(middle, sa.true()))
        .add_cte(bumped, started)
    )


def hot_statements() -> tuple[DriverStatement, ...]:
    """The statements every claim and every submit runs on PostgreSQL."""
    return _claim_statement(), _submit_statement()


def _check_answer_form(batch: Batch, answer: dict) -> None:
    if batch.answer_fields is None:
        return
    wrong = answer_errors(batch.answer_fields, answer)
    if wrong:
        raise Invalid(
            _("The answer does not fit this batch's answer form; see 'errors' for each field. Nothing was submitted."),
            {"answer": wrong},
        )


@functools.cache
def _labelled_columns(model, prefix: str) -> tuple[tuple[str, str], ...]:
    # Each column's name, and its label in the submit statement's row.
    return tuple((column.name, f"{prefix}{column.name}") for column in model.__table__.c)


def _submit_in_one_statement(worker: User, assignment_id: int, answer: dict, now: datetime, params: dict):
    """Hand in, record the real time, count it and read the audit's median, in one PostgreSQL statement.

    Guarded by owner, status and lease in its WHERE, so it is the check and the write at once:
    (the assignment, whether its requester listens for submits, the batch's real time with this
    submission counted), or None when the guard refuses (the caller then finds out why).
    """
    row = _submit_statement().first_mapping(
        {
            "submit_id": assignment_id,
            "submit_worker": worker.id,
            "submit_answer": answer,
            "submit_at": now,
            "lease_minutes": params["claim_lease_minutes"],
            "auto_approve_hours": params["auto_approve_hours"],
        },
    )
    if row is None:
        return None
    assignment = as_loaded(Assignment, {name: row[key] for name, key in _labelled_columns(Assignment, "a_")})
    batch = as_loaded(Batch, {name: row[key] for name, key in _labelled_columns(Batch, "b_")})
    set_committed_value(assignment, "batch", batch)
    real = real_time_from_middle(row["middle_seconds"], row["middle_counts"], row["middle_below"], row["middle_total"])
    return assignment, row["listened"], real


def submit(worker: User, assignment: Assignment | int, answer: dict) -> Assignment:
    """Hand in the answer; the real working time (claim to submit) is kept for the pay audit.

    The route passes the assignment's id, not the loaded row: on PostgreSQL the guarded write
    is the first touch, and the row is read (to explain a refusal) only when the write was refused.
    """
    now = clock.now()
    params = current_terms().params
    _check_answer_size(answer)
    assignment_id = assignment if isinstance(assignment, int) else assignment.id
    if on_postgresql():
        written = _submit_in_one_statement(worker, assignment_id, answer, now, params)
        if written is not None:
            done, listened, real = written
            # Checked once the write has shown whose batch it is; a refusal here is rolled back
            # with the request, so a wrong answer still changes nothing.
            _check_answer_form(done.batch, answer)
            audit_real_pay(done.batch, params, real)
            if listened:
                _announce_submitted(done)
            return done
    if isinstance(assignment, int):
        assignment = get_or_404(Assignment, assignment, "assignment")
    check_claimant(worker, assignment)
    lock_row(assignment)
    if _lapsed(assignment, now, params):
        raise Conflict(
            _(
                "Your lease on this item ended at %(lease_expires_at)s; it went back to the pool. Claim again to "
                "work on the batch.",
                lease_expires_at=assignment.lease_expires_at.isoformat(),
            )
        )
    if assignment.status != "claimed":
        raise Conflict(_("This assignment is already %(status)s.", status=assignment.status))
    batch = assignment.batch
    _check_answer_form(batch, answer)
    hours = protections_in_force(batch, params)["auto_approve_hours"]
    assignment.status, assignment.answer, assignment.submitted_at = "submitted", answer, now
    assignment.real_seconds = math.ceil((now - assignment.claimed_at).total_seconds())
    assignment.auto_approve_at = now + timedelta(hours=hours)
    db.session.flush()
    count_real_time(assignment)
    audit_real_pay(batch, params)
    _announce_submitted(assignment)
    return assignment


def _announce_submitted(assignment: Assignment) -> None:
    webhooks.emit(
        "assignment.submitted",
        {
            "assignment_id": assignment.id,
            "batch_id": assignment.batch_id,
            "item_id": assignment.item_id,
            "submitted_at": assignment.submitted_at,
            "real_seconds": assignment.real_seconds,
        },
        requester_id=assignment.batch.requester_id,
    )


def return_claim(worker: User, assignment: Assignment) -> Assignment:
    """Give back a claim not yet submitted: the slot reopens and nothing counts against the worker."""
    check_claimant(worker, assignment)
    now = clock.now()
    lock_row(assignment)
    # A lapsed lease already gave the slot back (or will, at the next sweep), exactly as submit sees it:
    # there is nothing left to return, and accepting it would hide that the lease ran out.
    if _lapsed(assignment, now, current_terms().params):
        raise Conflict(_("This claim has already expired and its slot is back in the pool."))
    if assignment.status != "claimed":
        raise Conflict(
            _(
                "Only a claim not yet submitted can be returned; this assignment is %(status)s.",
                status=assignment.status,
            )
        )
    # The same path as a lapsed lease, so a return releases exactly what an expiry would.
    lapse(assignment, now)
    audit.append(
        "assignment.returned",
        f"assignment:{assignment.id}",
        worker,
        {"batch_id": assignment.batch_id, "slot_id": assignment.slot_id},
    )
    webhooks.emit(
        "assignment.returned",
        {"assignment_id": assignment.id, "batch_id": assignment.batch_id, "item_id": assignment.item_id},
        requester_id=assignment.batch.requester_id,
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
