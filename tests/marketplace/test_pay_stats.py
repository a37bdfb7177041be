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


def test_submits_one_after_another_count_in_one_row_per_value(market, session):
    from coop.marketplace.models import Batch
    from coop.marketplace.services.pay_audit import real_time_of

    batch = market.post(items=6, reward_cents=500, est_seconds=60)
    claimed = [market.claim(client, batch["id"])["id"] for client in market.mc for _ in range(2)]
    clock.advance(timedelta(seconds=10))
    for n, assignment in enumerate(claimed):
        market.submit(market.mc[n // 2], assignment)
    rows = session.scalar(sa.select(sa.func.count()).where(BatchTimeHistogram.batch_id == batch["id"]))
    # Nobody else was writing the value's row, so every submit counted in it: the rows stay as few as the values.
    assert rows == 1
    assert _histogram(session, batch["id"]) == {10: 6} == _counted_by_the_old_query(session, batch["id"])
    real = real_time_of([session.get(Batch, batch["id"])])[batch["id"]]
    assert (real.submissions, real.median) == (6, 10)


def test_a_submit_never_waits_on_a_value_row_another_is_writing(postgres_only, committed, racing_app):
    """With the value's row locked elsewhere, a submit counts in a new row at once, and the counts stay exact."""
    import uuid

    from coop import ledger
    from coop.accounts import services as accounts
    from coop.accounts.models import User
    from coop.extensions import db
    from coop.marketplace import services
    from coop.marketplace.models import Batch
    from coop.marketplace.services.pay_audit import real_time_of
    from tests.marketplace.conftest import batch_body, racers

    tag = uuid.uuid4().hex[:6]
    requester = accounts.register(f"hist-{tag}@example.org", "x" * 12, f"Histogram lab {tag}", "requester", "Lab")
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 10**6, "test deposit")
    batch = services.create_batch(requester, batch_body(items=3, reward_cents=500, est_seconds=60))
    first, second, third = (db.session.get(User, i) for i in racers(3, "Timer", tag))
    claims = [services.claim(worker, batch) for worker in (first, second, third)]
    db.session.commit()
    clock.advance(timedelta(seconds=10))
    services.submit(first, claims[0].id, {"ok": True})
    db.session.commit()

    holder = db.engine.connect()
    holder.execute(sa.text("SELECT 1 FROM batch_time_histogram WHERE batch_id = :b FOR UPDATE"), {"b": batch.id})
    try:
        with racing_app.app_context():
            # A short lock timeout: waiting on the held row would fail this submit instead of hanging.
            db.session.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            services.submit(db.session.get(User, second.id), claims[1].id, {"ok": True})
            db.session.commit()
    finally:
        holder.rollback()
        holder.close()
    services.submit(db.session.get(User, third.id), claims[2].id, {"ok": True})
    db.session.commit()

    rows = db.session.execute(
        sa.select(BatchTimeHistogram.shard, BatchTimeHistogram.submissions)
        .where(BatchTimeHistogram.batch_id == batch.id)
        .order_by(BatchTimeHistogram.shard)
    ).all()
    # The first started the value's row (numbered by its assignment) and the third counted in it; the
    # second, finding it held, started a row of its own.
    assert [tuple(row) for row in rows] == [(claims[0].id, 2), (claims[1].id, 1)]
    real = real_time_of([db.session.get(Batch, batch.id)])[batch.id]
    assert (real.submissions, real.median) == (3, 10)


def test_the_median_a_submit_reads_in_its_own_statement_counts_that_submission(market, session, postgres_only):
    """The submit cannot see its own histogram write, so it adds itself: the result must equal reading after."""
    from coop.marketplace import pay
    from coop.marketplace.services.pay_audit import middle_after_one_more, real_time_from_middle

    batch_id = market.post(items=2, reward_cents=500, est_seconds=60)["id"]
    counted: list[int] = []
    # Values across shards, repeats, an even and an odd total, and a new value on either side of the middle.
    for shard, (seconds, submissions) in enumerate([(30, 2), (45, 1), (30, 1), (12, 3), (90, 1), (45, 2)]):
        statement = middle_after_one_more(sa.literal(batch_id, sa.Integer), sa.literal(seconds, sa.Integer))
        real = real_time_from_middle(*session.execute(statement).one())
        assert real.submissions == len(counted) + 1
        assert real.median == pay.median_seconds([*counted, seconds])
        session.add(BatchTimeHistogram(batch_id=batch_id, seconds=seconds, shard=shard, submissions=submissions))
        session.flush()
        counted += [seconds] * submissions
