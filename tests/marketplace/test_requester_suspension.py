"""Members suspend a requester by vote: no more posting, open batches closed with refunds, work in flight paid."""

import sqlalchemy as sa

from coop import ledger
from coop.audit import AuditEntry
from coop.marketplace.models import Batch, RequesterSuspension
from tests.marketplace.conftest import batch_body


def propose_suspension(client, requester_id):
    return client.post(
        "/api/v1/proposals",
        json={
            "title": "Suspend a requester who hides its end client",
            "body": "They broke the marketplace code twice.",
            "kind": "requester_suspension",
            "method": "yes_no",
            "change": {"requester_id": requester_id},
        },
    )


def pass_suspension(market, requester_id, choice="yes"):
    """Propose, accept and have every member vote, which closes the vote at once."""
    response = propose_suspension(market.mc[0], requester_id)
    assert response.status_code == 201, response.get_json()
    proposal_id = response.get_json()["id"]
    accepted = market.cc.post(f"/api/v1/proposals/{proposal_id}/review", json={"action": "accept"})
    assert accepted.status_code == 200, accepted.get_json()
    for client in [*market.mc, market.cc]:
        assert client.post(f"/api/v1/proposals/{proposal_id}/ballot", json={"choice": choice}).status_code == 201
    return market.cc.get(f"/api/v1/proposals/{proposal_id}").get_json()


def test_a_passed_suspension_stops_posting_closes_batches_with_refunds_and_pays_work_in_flight(market, session):
    # Two batches: 4 slots and 2 slots of 30 cents (+3 fee each): 132 + 66 in escrow.
    first = market.post(items=4, reward_cents=30, est_seconds=60)
    second = market.post(items=2, reward_cents=30, est_seconds=60)
    submitted = market.claim(market.mc[1], first["id"])
    market.submit(market.mc[1], submitted["id"])
    claimed = market.claim(market.mc[2], first["id"])
    given_back = market.claim(market.mc[0], second["id"])

    proposal = pass_suspension(market, market.requester.id)
    assert proposal["status"] == "enacted", proposal
    # 2 open slots of the first and 1 of the second refunded at 33 each.
    assert proposal["enacted"] == {
        "requester_id": market.requester.id,
        "batches_closed": 2,
        "slots_refunded": 3,
        "refunded_cents": 99,
    }
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000 - 198 + 99
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 99
    assert session.get(RequesterSuspension, market.requester.id) is not None
    for batch_id in (first["id"], second["id"]):
        batch = market.mc[0].get(f"/api/v1/batches/{batch_id}").get_json()
        assert (batch["status"], batch["paused_reason"]) == ("cancelled", "suspension")

    refused = market.rc.post("/api/v1/batches", json=batch_body(reward_cents=30))
    assert refused.status_code == 403 and "suspended" in refused.get_json()["message"]
    assert market.mc[0].post(f"/api/v1/batches/{first['id']}/claim").status_code == 409

    # Work in flight: reviewed and paid; a claim given back is refunded, not reopened.
    market.review(submitted["id"])
    market.submit(market.mc[2], claimed["id"])
    assert market.mc[0].post(f"/api/v1/assignments/{given_back['id']}/return").status_code == 200
    market.review(claimed["id"])
    assert ledger.balance(ledger.worker_earnings(market.members[1].id)) == 30
    assert ledger.balance(ledger.worker_earnings(market.members[2].id)) == 30
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == 0
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 10_000 - 198 + 99 + 33
    assert ledger.balance(ledger.COOP_FEES) == 6
    assert session.scalar(sa.select(sa.func.count()).where(AuditEntry.event == "requester.suspended")) == 1


def test_a_rejected_suspension_changes_nothing(market, session):
    batch = market.post(items=2, reward_cents=30, est_seconds=60)
    proposal = pass_suspension(market, market.requester.id, choice="no")
    assert proposal["status"] == "rejected"
    assert session.get(Batch, batch["id"]).status == "open"
    assert market.rc.post("/api/v1/batches", json=batch_body(reward_cents=30)).status_code == 201


def test_a_suspension_must_name_a_requester(market, make, session):
    for requester_id in (market.members[1].id, 999_999):
        response = propose_suspension(market.mc[0], requester_id)
        assert response.status_code == 422
        assert "requester_id" in response.get_json()["errors"]["change"]
    for change in ({}, {"requester_id": "one"}, None):
        response = market.mc[0].post(
            "/api/v1/proposals",
            json={"title": "t", "body": "b", "kind": "requester_suspension", "method": "yes_no", "change": change},
        )
        assert response.status_code == 422
    assert propose_suspension(market.rc, market.requester.id).status_code == 403


def test_a_second_suspension_passes_with_an_error_and_moves_no_money(market, session):
    market.post(items=2, reward_cents=30, est_seconds=60)
    assert pass_suspension(market, market.requester.id)["status"] == "enacted"
    available = ledger.balance(ledger.requester_available(market.requester.id))
    again = pass_suspension(market, market.requester.id)
    assert again["status"] == "passed" and "already suspended" in again["result"]["error"]
    assert ledger.balance(ledger.requester_available(market.requester.id)) == available
