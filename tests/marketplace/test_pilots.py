"""Paid pilots: only the pilot's slots open first, pilot workers give feedback, the requester launches."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock, ledger
from coop.audit import AuditEntry
from coop.marketplace import services
from coop.marketplace.models import Batch, PilotFeedback
from tests.marketplace.conftest import batch_body, fund, new_terms, snapshot

API = "/api/v1"


def piloted(market, items=5, pilot_slots=2, **overrides):
    """A batch of `items` at 30 cents for 60 s whose pilot opens `pilot_slots` slots."""
    return market.post(items=items, reward_cents=30, est_seconds=60, pilot_slots=pilot_slots, **overrides)


def feedback(client, assignment_id, **body):
    return client.post(f"{API}/assignments/{assignment_id}/feedback", json={"clarity": 4, **body})


def test_a_pilot_opens_only_its_slots_and_is_paid_like_any_work(market, session):
    before = snapshot(market.requester)
    batch = piloted(market)
    assert (batch["status"], batch["pilot_slots"], batch["launched_at"]) == ("pilot", 2, None)
    # All five slots are escrowed at posting: 5 × 30 + fee 15.
    assert batch["escrow_cents"] == 165
    assert snapshot(market.requester)[ledger.requester_available(market.requester.id)] == (
        before[ledger.requester_available(market.requester.id)] - 165
    )
    assert batch["id"] in {b["id"] for b in market.mc[0].get(f"{API}/batches").get_json()["items"]}
    first = market.claim(market.mc[0], batch["id"])
    second = market.claim(market.mc[1], batch["id"])
    full = market.mc[2].post(f"{API}/batches/{batch['id']}/claim")
    assert full.status_code == 409 and "pilot" in full.get_json()["message"]
    market.submit(market.mc[0], first["id"])
    market.review(first["id"])
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 30
    # A pilot slot given back opens again, for the pilot only.
    assert market.mc[1].post(f"{API}/assignments/{second['id']}/return").status_code == 200
    assert market.claim(market.mc[2], batch["id"])["status"] == "claimed"
    assert market.mc[1].post(f"{API}/batches/{batch['id']}/claim").status_code == 409


def test_a_batch_above_the_terms_size_runs_a_pilot_of_ten_by_default(market, session):
    big = market.post(items=201)
    assert (big["status"], big["pilot_slots"]) == ("pilot", 10)
    assert market.post(items=200)["status"] == "open"
    new_terms(pilot_required_above_items=3)
    assert (market.post(items=4)["pilot_slots"], market.post(items=3)["pilot_slots"]) == (3, None)
    entry = session.scalar(
        sa.select(AuditEntry).where(AuditEntry.event == "batch.posted", AuditEntry.subject == f"batch:{big['id']}")
    )
    assert entry.payload["pilot_slots"] == 10


def test_a_pilot_must_be_smaller_than_the_batch(market, session):
    before = snapshot(market.requester)
    for pilot_slots, status in ((3, 422), (0, 422), ("2", 422), (4, 422)):
        response = market.rc.post(
            f"{API}/batches",
            json={**batch_body(items=3), "pilot_slots": pilot_slots},
        )
        assert response.status_code == status, response.get_json()
        assert "pilot_slots" in response.get_json()["errors"]
    assert snapshot(market.requester) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(Batch)) == 0


def test_pilot_workers_leave_feedback_once_after_submitting(market, make, session):
    batch = piloted(market)
    mine = market.claim(market.mc[0], batch["id"])
    early = feedback(market.mc[0], mine["id"])
    assert early.status_code == 409 and "Submit" in early.get_json()["message"]
    market.submit(market.mc[0], mine["id"])
    assert feedback(market.mc[1], mine["id"]).status_code == 403
    assert feedback(market.rc, mine["id"]).status_code == 403
    for bad in ({"clarity": 0}, {"clarity": 6}, {"clarity": "4"}, {"minutes_taken": 0}, {"comment": "x" * 2_001}):
        assert feedback(market.mc[0], mine["id"], **bad).status_code == 422
    left = feedback(market.mc[0], mine["id"], minutes_taken=2, comment="  Step 3 is unclear.  ")
    assert left.status_code == 201
    assert (left.get_json()["clarity"], left.get_json()["minutes_taken"], left.get_json()["comment"]) == (
        4,
        2,
        "Step 3 is unclear.",
    )
    again = feedback(market.mc[0], mine["id"], clarity=2)
    assert again.status_code == 409
    assert session.scalar(sa.select(sa.func.count()).select_from(PilotFeedback)) == 1

    read = market.rc.get(f"{API}/batches/{batch['id']}/feedback")
    assert read.status_code == 200
    [item] = read.get_json()["items"]
    assert item["worker"] == market.members[0].display_name and item["comment"] == "Step 3 is unclear."
    assert market.members[0].email not in read.get_data(as_text=True)
    other = make.requester()
    assert make.client(other).get(f"{API}/batches/{batch['id']}/feedback").status_code == 403
    assert market.mc[0].get(f"{API}/batches/{batch['id']}/feedback").status_code == 403
    assert market.rc.get(f"{API}/batches/999999/feedback").status_code == 404


def test_feedback_is_for_pilot_work_before_launch(market, session):
    plain = market.post(items=2)
    work = market.claim(market.mc[0], plain["id"])
    market.submit(market.mc[0], work["id"])
    assert feedback(market.mc[0], work["id"]).status_code == 409
    batch = piloted(market)
    pilot = market.claim(market.mc[1], batch["id"])
    market.submit(market.mc[1], pilot["id"])
    assert market.rc.post(f"{API}/batches/{batch['id']}/launch", json={}).status_code == 200
    assert feedback(market.mc[1], pilot["id"]).status_code == 409


def test_launch_opens_every_slot_and_a_revised_reward_reaches_pilot_work(market, session):
    batch = piloted(market)
    pilot = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], pilot["id"])
    market.review(pilot["id"])
    before = snapshot(market.requester, market.members[0])
    launched = market.rc.post(
        f"{API}/batches/{batch['id']}/launch",
        json={"reward_cents": 40, "est_seconds": 90, "instructions": "Draw one box per sign, poles excluded."},
    )
    assert launched.status_code == 200, launched.get_json()
    body = launched.get_json()
    assert (body["status"], body["reward_cents"], body["est_seconds"]) == ("open", 40, 90)
    assert body["instructions"].endswith("poles excluded.") and body["launched_at"] is not None
    # 10 more for each of 5 slots (4 unpaid, 1 approved) = 50, fee 5; the approved pilot worker gets 10 at once.
    after = snapshot(market.requester, market.members[0])
    available = ledger.requester_available(market.requester.id)
    assert after[available] == before[available] - 55
    assert (
        after[ledger.worker_earnings(market.members[0].id)] == before[ledger.worker_earnings(market.members[0].id)] + 10
    )
    assert after[ledger.COOP_FEES] == before[ledger.COOP_FEES] + 1
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "batch.launched"))
    assert entry.payload["changed"] == {"reward_cents": 40, "est_seconds": 90, "instructions": True}
    assert entry.payload["before"] == {"reward_cents": 30, "est_seconds": 60}
    # Every slot is open now: all three members claim.
    for client in market.mc:
        assert market.claim(client, batch["id"])["status"] == "claimed"


def test_launch_without_changes_keeps_the_money_where_it_is(market, session):
    batch = piloted(market)
    before = snapshot(market.requester)
    launched = market.rc.post(f"{API}/batches/{batch['id']}/launch")
    assert launched.status_code == 200 and launched.get_json()["status"] == "open"
    assert snapshot(market.requester) == before


def test_launch_is_checked_against_the_terms_in_force_again(market, session):
    batch = piloted(market)
    before = snapshot(market.requester)
    # 30 cents for 120 s is 900 an hour.
    slow = market.rc.post(f"{API}/batches/{batch['id']}/launch", json={"est_seconds": 120})
    assert slow.status_code == 422 and "min_hourly_rate_cents" in slow.get_json()["message"]
    assert "reward_cents" in slow.get_json()["errors"]
    new_terms(min_hourly_rate_cents=2000)
    unchanged = market.rc.post(f"{API}/batches/{batch['id']}/launch", json={})
    assert unchanged.status_code == 422 and "terms version 2" in unchanged.get_json()["message"]
    lower = market.rc.post(f"{API}/batches/{batch['id']}/launch", json={"reward_cents": 25, "est_seconds": 30})
    assert lower.status_code == 422 and "never lowers" in lower.get_json()["message"]
    assert snapshot(market.requester) == before
    stored = session.get(Batch, batch["id"])
    assert (stored.status, stored.reward_cents, stored.est_seconds) == ("pilot", 30, 60)
    # 34 cents for 60 s is 2040 an hour: launched under the new terms.
    assert market.rc.post(f"{API}/batches/{batch['id']}/launch", json={"reward_cents": 34}).status_code == 200


def test_only_the_requester_launches_and_only_a_batch_in_its_pilot(market, make, session):
    batch = piloted(market)
    other = make.requester()
    fund(other, 1_000)
    assert make.client(other).post(f"{API}/batches/{batch['id']}/launch").status_code == 403
    assert market.mc[0].post(f"{API}/batches/{batch['id']}/launch").status_code == 403
    assert market.rc.post(f"{API}/batches/999999/launch").status_code == 404
    plain = market.post(items=2)
    assert market.rc.post(f"{API}/batches/{plain['id']}/launch").status_code == 409
    assert market.rc.post(f"{API}/batches/{batch['id']}/launch").status_code == 200
    assert market.rc.post(f"{API}/batches/{batch['id']}/launch").status_code == 409


def test_cancelling_a_pilot_refunds_every_unclaimed_slot(market, session):
    batch = piloted(market)
    pilot = market.claim(market.mc[0], batch["id"])
    before = snapshot(market.requester)
    cancelled = market.rc.post(f"{API}/batches/{batch['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    # Four unclaimed slots at 30 + 3 fee each.
    available = ledger.requester_available(market.requester.id)
    assert snapshot(market.requester)[available] == before[available] + 4 * 33
    market.submit(market.mc[0], pilot["id"])
    market.review(pilot["id"])
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 30
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0


def test_a_pilot_past_its_expiry_closes_and_refunds_like_any_batch(market, session):
    batch = piloted(market, expires_at=(clock.now() + timedelta(hours=2)).isoformat())
    before = snapshot(market.requester)
    clock.advance(timedelta(hours=3))
    services.tick(clock.now())
    stored = session.get(Batch, batch["id"])
    assert stored.status == "expired" and stored.escrow_cents == 0
    available = ledger.requester_available(market.requester.id)
    assert snapshot(market.requester)[available] == before[available] + 165
