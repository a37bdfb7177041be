"""Time and pay before accepting: the estimate, and after ten submissions the median real time and the pay it gives."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.extensions import db

API = "/api/v1"
# 30 cents for an estimated 60 s: 1800 cents an hour, well above the minimum.
PAY = {"reward_cents": 30, "est_seconds": 60}


def submit_timed(market, batch_id, seconds: list[int]):
    """The first member claims one item per entry and hands each in after that many real seconds."""
    client = market.mc[0]
    held = [market.claim(client, batch_id)["id"] for _ in seconds]
    elapsed = 0
    for assignment_id, wanted in sorted(zip(held, seconds, strict=True), key=lambda pair: pair[1]):
        clock.advance(timedelta(seconds=wanted - elapsed))
        elapsed = wanted
        market.submit(client, assignment_id)


def listed(client, batch_id):
    page = client.get(f"{API}/batches", query_string={"limit": 200}).get_json()["items"]
    return next(batch for batch in page if batch["id"] == batch_id)


def test_the_estimate_is_shown_before_any_work_and_the_real_time_only_after_ten_submissions(market, session):
    batch = market.post(items=12, **PAY)

    fresh = listed(market.mc[1], batch["id"])
    assert (fresh["estimated_seconds"], fresh["estimated_hourly_cents"]) == (60, 1800)
    assert (fresh["timed_submissions"], fresh["median_real_seconds"], fresh["real_hourly_cents"]) == (0, None, None)

    submit_timed(market, batch["id"], [40] * 5 + [50] * 4)
    nine = listed(market.mc[1], batch["id"])
    assert (nine["timed_submissions"], nine["median_real_seconds"], nine["real_hourly_cents"]) == (9, None, None)

    submit_timed(market, batch["id"], [50])
    for shown in (
        listed(market.mc[1], batch["id"]),
        market.mc[1].get(f"{API}/batches/{batch['id']}").get_json(),
        listed(market.rc, batch["id"]),
        market.rc.get(f"{API}/batches/{batch['id']}").get_json(),
    ):
        # Five at 40 s and five at 50 s: the median is 45 s, and 30 cents in 45 s is 2400 an hour.
        assert shown["timed_submissions"] == 10
        assert (shown["median_real_seconds"], shown["real_hourly_cents"]) == (45.0, 2400)
        assert (shown["estimated_seconds"], shown["estimated_hourly_cents"]) == (60, 1800)


def test_the_real_pay_follows_a_raised_reward(market, session):
    batch = market.post(items=12, **PAY)
    submit_timed(market, batch["id"], [90] * 10)
    before = market.rc.get(f"{API}/batches/{batch['id']}").get_json()
    raised = market.rc.post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 45}).get_json()

    assert (before["median_real_seconds"], before["real_hourly_cents"]) == (90.0, 1200)
    assert (raised["median_real_seconds"], raised["real_hourly_cents"]) == (90.0, 1800)


def test_a_page_of_batches_counts_real_times_in_one_query_however_many_batches_it_holds(market, session):
    def statements_for_listing():
        seen = []

        def note(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", note)
        try:
            response = market.mc[1].get(f"{API}/batches", query_string={"limit": 200})
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", note)
        assert response.status_code == 200
        return seen, response.get_json()["items"]

    first = market.post(items=12, **PAY)
    submit_timed(market, first["id"], [40] * 10)
    one, _ = statements_for_listing()
    for _ in range(3):
        other = market.post(items=12, **PAY)
        submit_timed(market, other["id"], [50] * 10)
    four, items = statements_for_listing()

    assert len(four) == len(one)
    assert sum("batch_time_histogram" in statement for statement in four) == 1
    shown = {batch["id"]: batch["median_real_seconds"] for batch in items}
    assert shown[first["id"]] == 40.0 and sorted(shown.values())[-3:] == [50.0, 50.0, 50.0]
