"""The per-batch histogram of real seconds kept at submit, which the real-pay audit reads."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.marketplace.models import Assignment, BatchTimeHistogram

API = "/api/v1"


def _histogram(session, batch_id):
    """Submissions per real seconds, the shards of each value summed."""
    rows = session.execute(
        sa.select(BatchTimeHistogram.seconds, sa.func.sum(BatchTimeHistogram.submissions))
        .where(BatchTimeHistogram.batch_id == batch_id)
        .group_by(BatchTimeHistogram.seconds)
    ).all()
    return {seconds: int(submissions) for seconds, submissions in rows if submissions}


def _counted_by_the_old_query(session, batch_id):
    """What the audit used to count: every assignment of the batch with a real time, whatever its status."""
    rows = session.execute(
        sa.select(Assignment.real_seconds, sa.func.count())
        .where(Assignment.batch_id == batch_id, Assignment.real_seconds.is_not(None))
        .group_by(Assignment.real_seconds)
    ).all()
    return dict(rows)


def test_histogram_counts_every_submission_and_survives_review_and_expiry(market, session):
    batch = market.post(items=6, reward_cents=500, est_seconds=60)
    first = market.claim(market.mc[0], batch["id"])["id"]
    second = market.claim(market.mc[1], batch["id"])["id"]
    clock.advance(timedelta(seconds=30))
    market.submit(market.mc[0], first)
    clock.advance(timedelta(seconds=15))
    market.submit(market.mc[1], second)
    third = market.claim(market.mc[0], batch["id"])["id"]
    clock.advance(timedelta(milliseconds=1500))
    market.submit(market.mc[0], third)
    # A lease that lapses never had a real time; a rejection and an approval keep theirs.
    market.claim(market.mc[1], batch["id"])
    market.review(first, "reject", "Answer missing the label.")
    market.review(second)
    clock.advance(timedelta(days=1))
    assert market.rc.get(f"{API}/batches/{batch['id']}").status_code == 200

    assert _histogram(session, batch["id"]) == {30: 1, 45: 1, 2: 1}
    assert _histogram(session, batch["id"]) == _counted_by_the_old_query(session, batch["id"])


def test_histogram_is_kept_per_batch(market, session):
    one = market.post(items=2, reward_cents=500, est_seconds=60)
    other = market.post(items=2, reward_cents=500, est_seconds=60)
    a = market.claim(market.mc[0], one["id"])["id"]
    b = market.claim(market.mc[1], one["id"])["id"]
    c = market.claim(market.mc[0], other["id"])["id"]
    clock.advance(timedelta(seconds=10))
    for client, assignment_id in ((market.mc[0], a), (market.mc[1], b), (market.mc[0], c)):
        market.submit(client, assignment_id)
    assert _histogram(session, one["id"]) == {10: 2}
    assert _histogram(session, other["id"]) == {10: 1}


def test_submits_of_one_value_spread_over_shards_and_count_as_one_value(market, session):
    from coop.marketplace.models import Batch
    from coop.marketplace.services.pay_audit import real_time_of

    batch = market.post(items=6, reward_cents=500, est_seconds=60)
    claimed = [market.claim(client, batch["id"])["id"] for client in market.mc for _ in range(2)]
    clock.advance(timedelta(seconds=10))
    for n, assignment in enumerate(claimed):
        market.submit(market.mc[n // 2], assignment)
    rows = session.scalar(
        sa.select(sa.func.count()).where(BatchTimeHistogram.batch_id == batch["id"], BatchTimeHistogram.seconds == 10)
    )
    # Six submits of the same seconds, in as many rows (consecutive ids, 16 shards): none waited on another's row.
    assert rows == 6
    assert _histogram(session, batch["id"]) == {10: 6} == _counted_by_the_old_query(session, batch["id"])
    real = real_time_of([session.get(Batch, batch["id"])])[batch["id"]]
    assert (real.submissions, real.median) == (6, 10)
