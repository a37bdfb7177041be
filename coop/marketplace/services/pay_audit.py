"""The real-pay audit, which pauses underpaying batches, and the raise that reopens them."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import aggregate_order_by

from coop import audit, clock, ledger
from coop.accounts.models import User
from coop.driver import DriverStatement
from coop.errors import Invalid
from coop.extensions import db
from coop.ledger import InsufficientFunds
from coop.marketplace import pay
from coop.marketplace.models import Assignment, Batch, BatchTimeHistogram, Slot
from coop.marketplace.services.common import (
    SLOT_IS_LIVE,
    announce_paused,
    announce_resumed,
    check_owns_batch,
    insert_ignoring_duplicates,
    lock_row,
    protections_in_force,
)
from coop.marketplace.services.escrow import settle_if_done

AUDIT_MIN_SUBMISSIONS = 10


def count_real_time(assignment: Assignment) -> None:
    """Add a submission's real seconds to its batch's histogram, in the submit's transaction."""
    stmt = insert_ignoring_duplicates(BatchTimeHistogram).values(
        batch_id=assignment.batch_id,
        seconds=assignment.real_seconds,
        shard=0,  # writers take turns on SQLite, so one row per value is all it needs
        submissions=1,
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["batch_id", "seconds", "shard"],
            set_={"submissions": BatchTimeHistogram.submissions + 1},
        )
    )


@dataclass(frozen=True)
class RealTime:
    """A batch's real working time as its listing shows it: how many submissions are timed, and their median."""

    submissions: int
    median: float | None

    @property
    def median_seconds(self) -> float | None:
        """The median, once there are as many submissions as the audit itself waits for."""
        return self.median if self.submissions >= AUDIT_MIN_SUBMISSIONS else None

    def hourly_cents(self, reward_cents: int) -> int | None:
        """The pay per hour at the shown median; None before it is shown or when it is instant."""
        median = self.median_seconds
        return pay.hourly_rate_cents(reward_cents, median) if median is not None and median > 0 else None


def _middle_buckets_from(counted):
    """Per batch, the histogram buckets holding the middle positions, with their running sums.

    `counted` has (batch_id, seconds, submissions) columns, any number of rows per value (shards).
    The running sums walk each batch's distinct values only, and only the one or two buckets
    around the middle come back, so a batch's size never reaches the wire.
    """
    # Each value's rows summed first, so the running sums step over distinct values.
    values = (
        # As an integer, as the rows were: a sum of sums would be numeric, and halving it fractional.
        sa.select(
            counted.c.batch_id,
            counted.c.seconds,
            sa.cast(sa.func.sum(counted.c.submissions), sa.Integer).label("submissions"),
        )
        .group_by(counted.c.batch_id, counted.c.seconds)
        .subquery()
    )
    running = sa.select(
        values.c.batch_id,
        values.c.seconds,
        values.c.submissions,
        sa.func.sum(values.c.submissions)
        .over(partition_by=values.c.batch_id, order_by=values.c.seconds)
        .label("through"),
        sa.func.sum(values.c.submissions).over(partition_by=values.c.batch_id).label("total"),
    )
    r = running.subquery()
    low, high = (r.c.total + 1) // 2, r.c.total // 2 + 1
    return (
        sa.select(r.c.batch_id, r.c.seconds, r.c.submissions, r.c.through, r.c.total)
        .where(r.c.through >= low, r.c.through - r.c.submissions < high)
        .order_by(r.c.batch_id, r.c.seconds)
    )


def _middle_buckets_where(batches):
    hist = BatchTimeHistogram
    return _middle_buckets_from(
        sa.select(hist.batch_id, hist.seconds, hist.submissions).where(batches, hist.submissions > 0).subquery()
    )


def middle_after_one_more(batch_id, seconds):
    """The middle buckets of a batch's histogram with one more submission of `seconds` counted.

    For a statement that counts the submission itself: its own write is not visible to its
    other parts, so the new submission is added here. Aggregated to one row: the middle values
    and their counts in order, how many submissions lie below them, and the total.
    """
    hist = cast(sa.Table, BatchTimeHistogram.__table__)
    counted = sa.union_all(
        sa.select(hist.c.batch_id, hist.c.seconds, hist.c.submissions).where(
            hist.c.batch_id == batch_id, hist.c.submissions > 0
        ),
        sa.select(batch_id, seconds, sa.literal_column("1", sa.Integer)),
    ).subquery("counted")
    middle = _middle_buckets_from(counted).subquery("middle")
    return sa.select(
        sa.func.array_agg(aggregate_order_by(middle.c.seconds, middle.c.seconds)).label("middle_seconds"),
        sa.func.array_agg(aggregate_order_by(middle.c.submissions, middle.c.seconds)).label("middle_counts"),
        sa.cast(sa.func.min(middle.c.through - middle.c.submissions), sa.Integer).label("middle_below"),
        sa.cast(sa.func.max(middle.c.total), sa.Integer).label("middle_total"),
    )


def real_time_from_middle(seconds: list[int] | None, counts: list[int] | None, below: int | None, total: int | None):
    """The RealTime that `middle_after_one_more` read (its one row's four values)."""
    if not seconds or not counts or total is None:
        return RealTime(0, None)
    return RealTime(total, pay.median_from_histogram(zip(seconds, counts, strict=True), total, below or 0))


# Built once: the listings run the first, and every submit's audit the second, on the driver.
@functools.cache
def _middle_buckets():
    return _middle_buckets_where(BatchTimeHistogram.batch_id.in_(sa.bindparam("batch_ids", expanding=True)))


@functools.cache
def _middle_buckets_of_one() -> DriverStatement:
    return DriverStatement(_middle_buckets_where(BatchTimeHistogram.batch_id == sa.bindparam("batch_id")))


def real_time_of(batches: Iterable[Batch]) -> dict[int, RealTime]:
    """Per batch id, the timed submissions and their exact median, read off the histograms of all of them in one query."""
    ids = [batch.id for batch in batches]
    found = {batch_id: RealTime(0, None) for batch_id in ids}
    if len(ids) == 1:
        rows = _middle_buckets_of_one().all({"batch_id": ids[0]})
    elif ids:
        rows = [tuple(row) for row in db.session.execute(_middle_buckets(), {"batch_ids": ids})]
    else:
        return found
    middles: dict[int, list] = {}
    for row in rows:
        middles.setdefault(row[0], []).append(row)
    for batch_id, middle in middles.items():
        _batch_id, _seconds, submissions, through, total = middle[0]
        median = pay.median_from_histogram(
            [(seconds, count) for _id, seconds, count, _through, _total in middle],
            int(total),
            int(through) - submissions,
        )
        found[batch_id] = RealTime(int(total), median)
    return found


def audit_real_pay(
    batch: Batch, params: dict | None = None, real: RealTime | None = None
) -> pay.UnderpayFinding | None:
    """The real-pay audit: pause a batch whose pay at the median real time is below the minimum.

    `real` is the batch's real time when the caller read it already (the submit's own statement).
    """
    real = real if real is not None else real_time_of([batch])[batch.id]
    count, median = real.submissions, real.median
    if count < AUDIT_MIN_SUBMISSIONS or median is None:
        return None
    minimum = protections_in_force(batch, params)["min_hourly_rate_cents"]
    finding = pay.underpaid_at_median(batch.reward_cents, median, minimum)
    if finding is None or batch.status != "open":
        return finding
    lock_row(batch)
    if batch.status != "open":
        return finding
    batch.status = "paused_underpaid"
    batch.required_reward_cents = finding["required_reward_cents"]
    batch.underpay_finding = {**finding, "submissions": count, "min_hourly_rate_cents": minimum}
    audit.append(
        "batch.paused_underpaid",
        f"batch:{batch.id}",
        None,
        {"reward_cents": batch.reward_cents, "submissions": count, **batch.underpay_finding},
    )
    announce_paused(batch, "underpaid", required_reward_cents=batch.required_reward_cents)
    return finding


def raise_reward(requester: User, batch: Batch, reward_cents: int) -> Batch:
    """Raise a batch's reward: escrow topped up, approved work paid the difference, a paused batch reopened."""
    check_owns_batch(requester, batch)
    now = clock.now()
    lock_row(batch)
    old = batch.reward_cents
    if reward_cents <= old:
        raise Invalid(
            _("A raise must be higher than the current reward of %(old)s cents.", old=old),
            {"reward_cents": [_("Must be more than %(old)s.", old=old)]},
        )
    if batch.required_reward_cents and reward_cents < batch.required_reward_cents:
        raise Invalid(
            _(
                "The real-pay audit found this batch needs at least %(required_reward_cents)s cents per item to "
                "pay the minimum hourly rate.",
                required_reward_cents=batch.required_reward_cents,
            ),
            {
                "reward_cents": [
                    _("Must be at least %(required_reward_cents)s.", required_reward_cents=batch.required_reward_cents)
                ]
            },
        )
    difference = reward_cents - old
    live_slots = db.session.scalar(
        sa.select(sa.func.count()).select_from(Slot).where(Slot.batch_id == batch.id, SLOT_IS_LIVE)
    )
    is_approved = (Assignment.batch_id == batch.id, Assignment.status == "approved")
    approved_by_worker = dict(
        db.session.execute(
            sa.select(Assignment.worker_id, sa.func.count()).where(*is_approved).group_by(Assignment.worker_id)
        ).all()
    )
    approved = sum(approved_by_worker.values())
    top_up = difference * (live_slots + approved)
    fee = pay.platform_fee_cents(top_up, batch.fee_pct)
    if top_up:
        available = ledger.balance(ledger.requester_available(requester.id))
        if available < top_up + fee:
            raise InsufficientFunds(
                _(
                    "This raise costs %(cost)s cents (%(count)s assignments × %(difference)s + fee %(fee)s); your "
                    "available funds are %(available)s cents. Nothing was changed.",
                    cost=top_up + fee,
                    count=live_slots + approved,
                    difference=difference,
                    fee=fee,
                    available=available,
                )
            )
        ledger.move(
            ledger.requester_available(requester.id),
            ledger.requester_escrow(requester.id),
            top_up + fee,
            f"batch {batch.id}: reward raised from {old} to {reward_cents}",
        )
        batch.escrow_cents += top_up + fee
        batch.rewards_total_cents += top_up
        batch.fee_cents += fee
    paid_back = 0
    if approved:
        # One transaction for all of them: the raise reaches paid work at once, in full or not at all.
        cost_each = pay.slot_cost_cents(difference, batch.fee_pct)
        paid_back = difference * approved
        lines = [(ledger.requester_escrow(requester.id), -cost_each * approved)]
        lines += [(ledger.worker_earnings(w), difference * n) for w, n in approved_by_worker.items()]
        if cost_each > difference:
            lines.append((ledger.COOP_FEES, (cost_each - difference) * approved))
        ledger.transfer(lines, f"batch {batch.id}: raise paid to {approved} approved assignments")
        batch.escrow_cents -= cost_each * approved
        db.session.execute(
            sa.update(Assignment)
            .where(*is_approved)
            .values(paid_cents=Assignment.paid_cents + difference)
            .execution_options(synchronize_session="fetch")
        )
    batch.reward_cents = reward_cents
    if batch.status == "paused_underpaid":
        batch.status = "open"
        announce_resumed(batch, "underpaid")
    batch.required_reward_cents, batch.underpay_finding = None, None
    audit.append(
        "batch.raised",
        f"batch:{batch.id}",
        requester,
        {
            "old_reward_cents": old,
            "new_reward_cents": reward_cents,
            "topped_up_cents": top_up,
            "fee_cents": fee,
            "paid_back_cents": paid_back,
            "assignments_paid": approved,
        },
    )
    settle_if_done(batch, now)
    return batch
