"""The real-pay audit pausing underpaying batches, and the raise that reopens them and pays back."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock, ledger
from coop.audit import AuditEntry
from coop.marketplace.models import Batch
from tests.marketplace.conftest import new_terms, snapshot

API = "/api/v1"


def _work(market, batch_id, claims_per_member, seconds):
    """Members claim and work `seconds` of real time; returns (client, assignment id) in claim order."""
    held = [
        (client, market.claim(client, batch_id)["id"])
        for client, claims in zip(market.mc, claims_per_member, strict=False)
        for _ in range(claims)
    ]
    clock.advance(timedelta(seconds=seconds))
    return held


def test_underpaying_batch_is_paused_and_the_raise_pays_back_approved_work(market, session):
    # Promised: 20 cents for 55 s (1309/h). Real: 110 s each, i.e. 654/h.
    batch = market.post(items=12, reward_cents=20, est_seconds=55)
    held = _work(market, batch["id"], [5, 5], seconds=110)
    for client, assignment_id in held[:9]:
        market.submit(client, assignment_id)
    for _, assignment_id in held[:3]:
        market.review(assignment_id)
    assert market.rc.get(f"{API}/batches/{batch['id']}").get_json()["status"] == "open"

    client, tenth = held[9]
    market.submit(client, tenth)
    paused = market.rc.get(f"{API}/batches/{batch['id']}").get_json()
    assert paused["status"] == "paused_underpaid"
    assert paused["required_reward_cents"] == 40  # 1300 × 110 / 3600 = 39.7, rounded up
    assert "40 cents" in paused["message"] and "654 cents an hour" in paused["message"]
    refused = market.mc[2].post(f"{API}/batches/{batch['id']}/claim")
    assert refused.status_code == 409 and "paused" in refused.get_json()["message"]
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "batch.paused_underpaid"))
    assert entry.subject == f"batch:{batch['id']}"
    assert entry.payload["required_reward_cents"] == 40 and entry.payload["effective_hourly_cents"] == 654

    # A raise below what the audit found is refused, changing nothing.
    before = snapshot(market.requester, *market.members)
    low = market.rc.post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 30})
    assert low.status_code == 422 and "40" in low.get_json()["message"]
    assert snapshot(market.requester, *market.members) == before

    raised = market.rc.post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 40})
    assert raised.status_code == 200
    body = raised.get_json()
    assert body["status"] == "open" and body["reward_cents"] == 40 and body["required_reward_cents"] is None
    # Top-up: 20 more for each of 12 slots (2 open, 7 submitted, 3 approved) = 240, fee 24.
    assert (
        ledger.balance(ledger.requester_available(market.requester.id))
        == before[ledger.requester_available(market.requester.id)] - 264
    )
    # The three approved assignments (all the first member's) get the difference at once.
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 3 * 40
    assert ledger.balance(ledger.COOP_FEES) == before[ledger.COOP_FEES] + 3 * 2
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "batch.raised"))
    assert entry.payload == {
        "old_reward_cents": 20,
        "new_reward_cents": 40,
        "topped_up_cents": 240,
        "fee_cents": 24,
        "paid_back_cents": 60,
        "assignments_paid": 3,
    }
    assert market.claim(market.mc[2], batch["id"])["status"] == "claimed"

    # Work approved after the raise is paid the new reward; the batch ends with escrow at 0.
    for _client, assignment_id in held[3:]:
        market.review(assignment_id)
    assert ledger.balance(ledger.worker_earnings(market.members[1].id)) == 5 * 40
    assert ledger.total_of_all_entries() == 0


def test_audit_waits_for_ten_submissions(market, session):
    batch = market.post(items=12)
    held = _work(market, batch["id"], [9], seconds=600)
    for client, assignment_id in held:
        market.submit(client, assignment_id)
    assert session.get(Batch, batch["id"]).status == "open"


def test_audit_holds_pay_to_a_minimum_raised_after_posting(market, session):
    # Promised at exactly the 1300/h floor; real time exactly 72 s meets it, until the members raise the minimum.
    batch = market.post(items=12, reward_cents=26, est_seconds=72)
    new_terms(min_hourly_rate_cents=1500)
    held = _work(market, batch["id"], [10], seconds=72)
    for client, assignment_id in held:
        market.submit(client, assignment_id)
    assert session.get(Batch, batch["id"]).status == "paused_underpaid"
    assert session.get(Batch, batch["id"]).required_reward_cents == 30  # 1500 × 72 / 3600


def test_raise_must_be_higher_and_affordable_and_by_the_batchs_requester(market, make, session):
    batch = market.post(items=2, reward_cents=20)
    before = snapshot(market.requester)
    assert market.rc.post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 20}).status_code == 422
    too_much = market.rc.post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 10_000})
    assert too_much.status_code == 409 and "Nothing was changed" in too_much.get_json()["message"]
    assert (
        make.client(make.requester()).post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 30}).status_code
        == 403
    )
    assert market.mc[0].post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 30}).status_code == 403
    assert market.rc.post(f"{API}/batches/999999/raise", json={"reward_cents": 30}).status_code == 404
    assert snapshot(market.requester) == before
    assert session.get(Batch, batch["id"]).reward_cents == 20


def test_a_raise_on_an_open_batch_tops_up_every_unfinished_slot(market, session):
    batch = market.post(items=3, reward_cents=20)
    raised = market.rc.post(f"{API}/batches/{batch['id']}/raise", json={"reward_cents": 25}).get_json()
    assert raised["escrow_cents"] == 66 + 15 + 2  # 3 × 5 more, fee ceil(1.5) = 2
    for client in market.mc:
        a = market.claim(client, batch["id"])
        market.submit(client, a["id"])
        market.review(a["id"])
    for member in market.members:
        assert ledger.balance(ledger.worker_earnings(member.id)) == 25
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0
