"""Members review requesters on Turkopticon's dimensions; stats all-time and over 90 days; the members' feed order."""

from datetime import timedelta

from coop import clock, ledger
from tests.marketplace.conftest import batch_body, fund

API = "/api/v1"
FULL = {"pay": 4, "approval_speed": 2, "communication": 3, "would_work_again": True, "broke_terms": False}


def worked_for(market, client, requester_client=None, **overrides):
    """The member claims and submits one item of a fresh batch; returns (batch, assignment)."""
    requester_client = requester_client or market.rc
    response = requester_client.post(
        f"{API}/batches", json=batch_body(**{"reward_cents": 30, "est_seconds": 60, **overrides})
    )
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assignment = market.claim(client, batch["id"])
    market.submit(client, assignment["id"])
    return batch, assignment


def review(client, requester_id, **body):
    return client.post(f"{API}/requesters/{requester_id}/reviews", json=body)


def test_a_review_on_every_dimension_gives_an_overall_rating_and_feeds_the_stats(market, session):
    worked_for(market, market.mc[0])
    response = review(market.mc[0], market.requester.id, **FULL, text="Slow to approve.")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rating"], body["pay"], body["approval_speed"], body["communication"]) == (3, 4, 2, 3)
    assert body["would_work_again"] is True and body["broke_terms"] is False

    worked_for(market, market.mc[1])
    review(market.mc[1], market.requester.id, pay=2, approval_speed=1, communication=1, broke_terms=True)
    stats = market.mc[2].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert stats["review_count"] == 2
    assert (stats["average_pay"], stats["average_approval_speed"], stats["average_communication"]) == (3.0, 1.5, 2.0)
    # 3 and round(4/3) = 1.
    assert stats["average_rating"] == 2.0
    assert stats["would_work_again_share"] == 1.0 and stats["broke_terms_share"] == 0.5
    assert stats["last_90_days"]["review_count"] == 2 and stats["suspended"] is False


def test_posting_again_updates_the_review(market, session):
    worked_for(market, market.mc[0])
    assert review(market.mc[0], market.requester.id, **FULL).status_code == 201
    again = review(market.mc[0], market.requester.id, pay=5, approval_speed=5, communication=4)
    assert again.status_code == 200 and again.get_json()["rating"] == 5
    assert again.get_json()["would_work_again"] is None
    stats = market.mc[0].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert (stats["review_count"], stats["average_pay"]) == (1, 5.0)


def test_incomplete_or_out_of_range_reviews_are_refused(market, session):
    worked_for(market, market.mc[0])
    url = market.requester.id
    missing = review(market.mc[0], url, pay=4, approval_speed=2)
    assert missing.status_code == 422 and "communication" in missing.get_json()["errors"]
    assert review(market.mc[0], url, **{**FULL, "pay": 6}).status_code == 422
    assert review(market.mc[0], url, **{**FULL, "communication": 0}).status_code == 422
    assert review(market.mc[0], url, **{**FULL, "would_work_again": "yes"}).status_code == 422
    assert review(market.mc[0], url, text="no scores").status_code == 422
    # Who may review: members who submitted work for the requester.
    assert review(market.mc[1], url, **FULL).status_code == 403
    assert review(market.rc, url, **FULL).status_code == 403
    assert review(market.mc[0], market.members[1].id, **FULL).status_code == 404
    stats = market.mc[0].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert stats["review_count"] == 0


def test_stats_over_the_last_90_days_leave_older_work_and_reviews_out(market, session):
    _, old = worked_for(market, market.mc[0])
    clock.advance(timedelta(hours=2))
    market.review(old["id"])
    review(market.mc[0], market.requester.id, pay=1, approval_speed=1, communication=1)
    clock.advance(timedelta(days=91))
    _, recent = worked_for(market, market.mc[1])
    clock.advance(timedelta(hours=6))
    market.review(recent["id"])
    review(market.mc[1], market.requester.id, pay=5, approval_speed=5, communication=5)

    stats = market.mc[2].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert (stats["review_count"], stats["average_pay"]) == (2, 3.0)
    assert (stats["median_hours_to_payment"], stats["mean_hours_to_payment"]) == (4.0, 4.0)
    assert stats["batches_posted"] == 2
    recent_stats = stats["last_90_days"]
    assert (recent_stats["review_count"], recent_stats["average_pay"]) == (1, 5.0)
    assert recent_stats["median_hours_to_payment"] == 6.0 and recent_stats["batches_posted"] == 1
    assert ledger.balance(ledger.worker_earnings(market.members[1].id)) == 30


def test_time_to_payment_counts_automatic_approval(market, session):
    _, assignment = worked_for(market, market.mc[0])
    clock.advance(timedelta(hours=73))
    market.mc[0].get(f"{API}/assignments/{assignment['id']}")
    stats = market.mc[0].get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert stats["median_hours_to_payment"] == 73.0
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 30


def feed(client, sort=None, limit=50):
    ids, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&sort={sort}" if sort else "") + (f"&cursor={cursor}" if cursor else "")
        response = client.get(f"{API}/batches{query}")
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        ids += [b["id"] for b in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def test_the_feed_puts_your_own_rating_first_then_the_members_then_pay(market, make, session):
    other = make.requester()
    fund(other, 10_000)
    oc = make.client(other)
    # The market's requester pays 30 cents a minute; the other one 60.
    low, _ = worked_for(market, market.mc[0])
    high, _ = worked_for(market, market.mc[0], oc, reward_cents=60)
    review(market.mc[0], market.requester.id, pay=5, approval_speed=5, communication=5)
    review(market.mc[0], other.id, pay=2, approval_speed=2, communication=2)
    third, _ = worked_for(market, market.mc[1], oc, reward_cents=60)
    review(market.mc[1], other.id, pay=5, approval_speed=5, communication=5)

    assert feed(market.mc[2], "newest") == [third["id"], high["id"], low["id"]]
    # A member who rated no one: the members' average (5 for the first, 3.5 for the other).
    ranked = feed(market.mc[2])
    assert ranked.index(low["id"]) < ranked.index(high["id"])
    # The member who rated the other 5 sees it first, whatever the average.
    ranked = feed(market.mc[1])
    assert ranked.index(high["id"]) < ranked.index(low["id"])
    assert feed(market.mc[2], "pay") == [third["id"], high["id"], low["id"]]
    assert feed(market.mc[2]) == [low["id"], third["id"], high["id"]]
    # Keyset pages of one give the same order as one page, without repeats.
    for client, sort in ((market.mc[2], None), (market.mc[1], None), (market.mc[2], "pay"), (market.mc[2], "newest")):
        assert feed(client, sort, limit=1) == feed(client, sort)
    assert market.mc[2].get(f"{API}/batches?sort=best").status_code == 422
