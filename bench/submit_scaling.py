"""Benchmark: the cost of one submit as a batch grows (the real-pay audit must not read every submission).

Run from the repository root: `python -m bench.submit_scaling` (PostgreSQL at COOP_BENCH_DATABASE_URL, default
the local test server; a throwaway database is created and dropped). For each size, a batch gets that many prior
submissions with real times, inserted in bulk with SQL together with the matching histogram rows, then a member
claims and submits COOP_BENCH_SUBMITS (default 30) items through the real services, in process, one commit per
submit as a request would. Only the submit and its commit are timed. Writes bench/results/submit_scaling.json
with sizes, ms_per_submit (median) and ratio_last_first (goal <= 1.2), and prints a table.
"""

import os
import random
import statistics
import time

import sqlalchemy as sa

from bench.common import grammar_batch, make_app, table, throwaway_database, write_results

SIZES = [1_000, 10_000, 100_000]
SUBMITS = int(os.environ.get("COOP_BENCH_SUBMITS", "30"))
GOAL_RATIO = 1.2
# Real times spread over 20 s to 10 min: as many distinct values as a real batch would see.
SECONDS = (20, 600)

# Prior work is written as lapsed rows on the batch's first item: the audit counts every assignment with a
# real time whatever its status, and lapsed rows keep the one-worker-per-item and one-holder-per-slot indexes
# satisfied without creating 100,000 items.
PRIOR = """
INSERT INTO assignments (batch_id, item_id, slot_id, worker_id, status, holds_slot, claimed_at, lease_expires_at,
                         submitted_at, real_seconds, paid_cents)
SELECT :batch, :item, :slot, :worker, 'expired', false, now() at time zone 'utc', now() at time zone 'utc',
       now() at time zone 'utc', :low + (random() * (:high - :low))::int, 0
FROM generate_series(1, :n)
"""
HISTOGRAM = """
INSERT INTO batch_time_histogram (batch_id, seconds, submissions)
SELECT batch_id, real_seconds, count(*) FROM assignments WHERE batch_id = :batch AND real_seconds IS NOT NULL
GROUP BY batch_id, real_seconds
"""


def _batch(market, requester, name: str):
    items = [{"data": {"text": f"Is sentence {i} of {name} grammatical?"}} for i in range(SUBMITS + 2)]
    # Pays well above any minimum at the slowest prior time, so the audit never pauses the batch.
    batch = market.create_batch(requester, grammar_batch(f"Grammar check {name}", items, 1_000, 60, 1))
    # Large batches start with a paid pilot; the benchmark measures a batch past it.
    return market.launch(requester, batch, {}) if batch.status == "pilot" else batch


def measure(url: str) -> list[dict]:
    from coop.accounts import services as accounts
    from coop.extensions import db
    from coop.governance import services as governance
    from coop.marketplace import services as market
    from coop.marketplace.models import Item, Slot

    app = make_app(url)
    rows = []
    random.seed(12)
    with app.app_context():
        requester = accounts.register("lab@bench.coop", "bench-password-1", "Bench Lab", "requester", "Bench Lab")
        deposit = market.request_deposit(requester, 100_000_000)
        coordinator = accounts.register("coord@bench.coop", "bench-password-1", "Bench Coordinator", "worker")
        governance.found_coordinator(coordinator.email)
        market.confirm_deposit(coordinator, deposit)
        worker = accounts.register("w@bench.coop", "bench-password-1", "Bench Worker", "worker")
        governance.admit_founder(worker, "bench")
        db.session.commit()
        batches = {}
        for size in SIZES:
            batch = _batch(market, requester, str(size))
            db.session.commit()
            # The prior rows sit on an item the measuring member never claims.
            other = accounts.register(f"prior{size}@bench.coop", "bench-password-1", f"Prior Worker {size}", "worker")
            first = db.session.scalars(sa.select(Item).where(Item.batch_id == batch.id).order_by(Item.id)).first()
            slot = db.session.scalars(sa.select(Slot).where(Slot.item_id == first.id)).first()
            slot.state = "done"
            params = {"batch": batch.id, "item": first.id, "slot": slot.id, "worker": other.id, "n": size}
            db.session.execute(sa.text(PRIOR), {**params, "low": SECONDS[0], "high": SECONDS[1]})
            db.session.execute(sa.text(HISTOGRAM), {"batch": batch.id})
            db.session.commit()
            batches[size] = batch
        db.session.execute(sa.text("ANALYZE assignments; ANALYZE batch_time_histogram"))
        db.session.commit()
        samples: dict[int, list[float]] = {size: [] for size in SIZES}
        # Round-robin over the sizes, so load from elsewhere on the machine falls on all of them alike.
        for _ in range(SUBMITS + 1):
            for size, batch in batches.items():
                assignment = market.claim(worker, batch)
                db.session.commit()
                start = time.perf_counter()
                market.submit(worker, assignment, {"grammatical": True})
                db.session.commit()
                samples[size].append((time.perf_counter() - start) * 1000)
                db.session.expire_all()
        for size, batch in batches.items():
            assert batch.status == "open", batch.status
            # The first round warms caches; the median of the rest is the figure.
            rows.append({"size": size, "ms_per_submit": round(statistics.median(samples[size][1:]), 3)})
        db.engine.dispose()
    return rows


def main() -> None:
    with throwaway_database() as url:
        rows = measure(url)
    first, last = rows[0]["ms_per_submit"], rows[-1]["ms_per_submit"]
    ratio = round(last / first, 3)
    print(table(rows, ["size", "ms_per_submit"]))
    print(f"ratio last/first: {ratio} (goal <= {GOAL_RATIO})")
    write_results(
        "submit_scaling",
        {
            "sizes": [r["size"] for r in rows],
            "ms_per_submit": [r["ms_per_submit"] for r in rows],
            "ratio_last_first": ratio,
            "goal_ratio": GOAL_RATIO,
            "submits_per_size": SUBMITS,
        },
    )


if __name__ == "__main__":
    main()
