"""Returning a claim: the slot reopens, the money moves exactly as a lapsed lease moves it, nothing counts against the worker."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock, ledger
from coop.audit import AuditEntry
from coop.marketplace import services
from coop.marketplace.models import Assignment, Slot
from tests.marketplace.conftest import snapshot

API = "/api/v1"


def _return(client, assignment_id):
    return client.post(f"{API}/assignments/{assignment_id}/return")


def test_a_returned_claim_reopens_its_slot_and_moves_no_money(market, session):
    batch = market.post(items=1, reward_cents=33, est_seconds=90)
    worker = market.members[0]
    before = snapshot(market.requester, worker)
    a = market.claim(market.mc[0], batch["id"])
    assert market.mc[1].post(f"{API}/batches/{batch['id']}/claim").status_code == 409  # the only slot is held

    response = _return(market.mc[0], a["id"])
    assert response.status_code == 200 and response.get_json()["status"] == "expired"
    assert snapshot(market.requester, worker) == before
    assert session.get(Slot, session.get(Assignment, a["id"]).slot_id).state == "open"
    escrow = ledger.balance(ledger.requester_escrow(market.requester.id))
    assert escrow == services.escrow_owed(market.requester.id) == 33 + 4  # reward and ceil(3.3) fee still held

    # Someone else takes the slot; the returning worker may take the same item again later too.
    b = market.claim(market.mc[1], batch["id"])
    assert b["item"]["id"] == a["item"]["id"]
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.event == "assignment.returned")).one()
    assert entry.subject == f"assignment:{a['id']}"


def test_nothing_counts_against_a_worker_who_returns(market, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    assert _return(market.mc[0], a["id"]).status_code == 200
    stats = market.rc.get(f"{API}/requesters/{market.requester.id}/stats").get_json()
    assert stats["rejection_rate"] is None and stats["approval_rate"] is None
    assignment = session.get(Assignment, a["id"])
    assert assignment.review_decision is None and assignment.holds_slot is False
    # Returned work is no work done: the same worker may claim that item again.
    again = market.claim(market.mc[0], batch["id"])
    assert again["item"]["id"] == a["item"]["id"]
    progress = market.rc.get(f"{API}/batches/{batch['id']}").get_json()["progress"]
    assert progress["rejected"] == 0


def test_a_return_after_the_batch_closed_refunds_exactly_what_a_lapsed_lease_refunds(market, session):
    returned_batch = market.post(items=1, reward_cents=33, est_seconds=90)
    lapsed_batch = market.post(items=1, reward_cents=33, est_seconds=90)
    r = market.claim(market.mc[0], returned_batch["id"])
    lapsed = market.claim(market.mc[1], lapsed_batch["id"])
    for batch in (returned_batch, lapsed_batch):
        assert market.rc.post(f"{API}/batches/{batch['id']}/cancel").status_code == 200
    available = ledger.requester_available(market.requester.id)

    start = ledger.balance(available)
    assert _return(market.mc[0], r["id"]).status_code == 200
    refunded_by_return = ledger.balance(available) - start

    clock.advance(timedelta(minutes=30, seconds=1))
    start = ledger.balance(available)
    services.tick(clock.now())
    refunded_by_expiry = ledger.balance(available) - start

    # The slot's cost (33 and its 3-cent fee share) comes back; the 1-cent rounding remainder settles to the coop.
    assert refunded_by_return == refunded_by_expiry == 33 + 3
    assert session.get(Assignment, lapsed["id"]).status == "expired"
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 0
    assert ledger.total_of_all_entries() == 0


def test_only_the_claimant_may_return(market, make, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    before = snapshot(market.requester, market.members[0])
    assert _return(market.mc[1], a["id"]).status_code == 403  # as submit refuses another worker
    assert _return(market.rc, a["id"]).status_code == 403
    assert _return(make.client(), a["id"]).status_code == 401
    assert _return(market.mc[0], 999_999).status_code == 404
    assert session.get(Assignment, a["id"]).status == "claimed"
    assert snapshot(market.requester, market.members[0]) == before


def test_submitted_approved_and_returned_work_cannot_be_returned(market, session):
    batch = market.post(items=2)
    a = market.claim(market.mc[0], batch["id"])
    market.submit(market.mc[0], a["id"])
    response = _return(market.mc[0], a["id"])
    assert response.status_code == 409 and "submitted" in response.get_json()["message"]
    market.review(a["id"])
    response = _return(market.mc[0], a["id"])
    assert response.status_code == 409 and "approved" in response.get_json()["message"]

    b = market.claim(market.mc[1], batch["id"])
    assert _return(market.mc[1], b["id"]).status_code == 200
    before = snapshot(market.requester, market.members[1])
    response = _return(market.mc[1], b["id"])
    assert response.status_code == 409 and "already expired" in response.get_json()["message"]
    assert snapshot(market.requester, market.members[1]) == before


def test_a_claim_whose_lease_ran_out_cannot_be_returned(market, session):
    batch = market.post(items=1)
    a = market.claim(market.mc[0], batch["id"])
    clock.advance(timedelta(minutes=30, seconds=1))
    before = snapshot(market.requester, market.members[0])
    response = _return(market.mc[0], a["id"])
    assert response.status_code == 409
    assert response.get_json()["message"] == "This claim has already expired and its slot is back in the pool."
    assert snapshot(market.requester, market.members[0]) == before
    # The next claim's sweep expires it as usual and the slot is reused.
    b = market.claim(market.mc[1], batch["id"])
    assert b["item"]["id"] == a["item"]["id"]
