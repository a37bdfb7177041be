"""Requesters in the open: stats computed from data, members' reviews; earnings for patronage."""

from datetime import timedelta

from coop import clock, ledger
from coop.marketplace import services

API = "/api/v1"


def test_stats_are_null_where_there_is_no_data(market, session):
    stats = market.mc[0].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert stats["batches_posted"] == 0 and stats["appeals_overturned"] == 0
    for key in ("approval_rate", "rejection_rate", "median_review_hours", "median_real_hourly_cents", "average_rating"):
        assert stats[key] is None


def test_stats_are_computed_from_the_requesters_record(market, session):
    batch = market.post(items=4, reward_cents=20, est_seconds=55)
    held = [market.claim(client, batch["id"]) for client in market.mc]
    clock.advance(timedelta(seconds=30))
    for client, a in zip(market.mc, held, strict=False):
        market.submit(client, a["id"])  # 30 s for 20 cents: 2400 an hour
    clock.advance(timedelta(hours=2))
    market.review(held[0]["id"])
    clock.advance(timedelta(hours=2))
    market.review(held[1]["id"], "reject", "Wrong labels on the signs.")
    appeal_id = market.mc[1].post(f"{API}/assignments/{held[1]['id']}/appeal", json={"reason": "No."}).get_json()["id"]
    market.cc.post(f"{API}/appeals/{appeal_id}/decide", json={"decision": "overturn", "reason": "Right."})
    clock.advance(timedelta(hours=69))  # the third is auto-approved 72 h after submission
    services.tick(clock.now())
    market.post(items=1)

    stats = market.cc.get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert stats["batches_posted"] == 2
    assert stats["approval_rate"] == round(2 / 3, 4) and stats["rejection_rate"] == round(1 / 3, 4)
    assert stats["appeals_overturned"] == 1
    assert stats["median_review_hours"] == 4.0  # 2, 4 and 72 hours
    assert stats["median_real_hourly_cents"] == 2400
    # Readable by any signed-in user, requesters included.
    assert market.rc.get(f"{API}/requesters/{market.requester.id}/stats").status_code == 200


def test_stats_and_reviews_exist_only_for_requesters(market, session):
    assert market.mc[0].get(f"{API}/requesters/{market.members[1].id}/stats").status_code == 404
    assert market.mc[0].get(f"{API}/requesters/999999/reviews").status_code == 404
    assert market.mc[0].post(f"{API}/requesters/{market.members[1].id}/reviews", json={"rating": 4}).status_code == 404


def test_members_who_worked_for_a_requester_review_them_once_and_may_edit(market, make, session):
    batch = market.post(items=2)
    a = market.claim(market.mc[0], batch["id"])
    url = f"{API}/requesters/{market.requester.id}/reviews"
    # A claim alone is not work done.
    assert market.mc[0].post(url, json={"rating": 5, "text": "Fair."}).status_code == 403
    market.submit(market.mc[0], a["id"])
    first = market.mc[0].post(url, json={"rating": 2, "text": "Slow to review."})
    assert first.status_code == 201
    second = market.mc[0].post(url, json={"rating": 4, "text": "Better now."})
    assert second.status_code == 200 and second.get_json()["id"] == first.get_json()["id"]
    listed = market.rc.get(url).get_json()["items"]
    assert [(r["author"], r["rating"], r["text"]) for r in listed] == [
        (market.members[0].display_name, 4, "Better now.")
    ]
    assert market.members[0].email not in market.rc.get(url).get_data(as_text=True)
    stats = market.mc[1].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert (stats["review_count"], stats["average_rating"]) == (1, 4.0)

    assert market.mc[1].post(url, json={"rating": 5}).status_code == 403
    assert market.rc.post(url, json={"rating": 5}).status_code == 403
    assert make.client(make.worker()).post(url, json={"rating": 5}).status_code == 403
    assert market.mc[0].post(url, json={"rating": 6}).status_code == 422


def test_pay_for_approved_work_is_summed_by_worker_and_day_of_approval(market, session):
    day_one = clock.now().date()
    batch = market.post(items=3, reward_cents=25, est_seconds=60)
    first = market.claim(market.mc[0], batch["id"])
    second = market.claim(market.mc[1], batch["id"])
    third = market.claim(market.mc[0], batch["id"])
    for client, a in ((market.mc[0], first), (market.mc[1], second), (market.mc[0], third)):
        market.submit(client, a["id"])
    market.review(first["id"])
    market.review(second["id"])
    clock.advance(timedelta(days=1))
    market.review(third["id"])
    m0, m1 = market.members[0].id, market.members[1].id
    assert ledger.paid_for_work(day_one, day_one) == {m0: 25, m1: 25}
    assert ledger.paid_for_work(day_one, day_one + timedelta(days=1)) == {m0: 50, m1: 25}
    assert ledger.paid_for_work(day_one - timedelta(days=3), day_one - timedelta(days=1)) == {}


def test_pay_for_work_counts_raises_and_overturned_rejections_but_no_other_credit(market, session):
    today = clock.now().date()
    batch = market.post(items=2, reward_cents=20, est_seconds=55)
    approved = market.claim(market.mc[0], batch["id"])
    rejected = market.claim(market.mc[1], batch["id"])
    for client, a in ((market.mc[0], approved), (market.mc[1], rejected)):
        market.submit(client, a["id"])
    market.review(approved["id"])
    market.review(rejected["id"], "reject", "Wrong labels on the signs.")
    appeal = market.mc[1].post(f"/api/v1/assignments/{rejected['id']}/appeal", json={"reason": "It was right."})
    overturned = market.cc.post(
        f"/api/v1/appeals/{appeal.get_json()['id']}/decide", json={"decision": "overturn", "reason": "Checked."}
    )
    assert overturned.status_code == 200
    assert market.rc.post(f"/api/v1/batches/{batch['id']}/raise", json={"reward_cents": 25}).status_code == 200
    # Money reaching earnings from anywhere but a requester (here a share given back) is not pay for work.
    ledger.move(ledger.EXTERNAL, ledger.worker_earnings(market.members[0].id), 999, "share given back")
    m0, m1 = market.members[0].id, market.members[1].id
    assert ledger.paid_for_work(today, today) == {m0: 25, m1: 25}
