"""Bonuses: a requester pays more for work handed in, with the fee as on rewards, from available funds."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.audit import AuditEntry
from coop.marketplace.models import Bonus
from tests.marketplace.conftest import Market, fund, snapshot

API = "/api/v1"


def handed_in(market, decision=None, client=None):
    """A batch paying 30 cents for 60 s and one assignment of it, submitted and optionally reviewed."""
    client = client or market.mc[0]
    batch = market.post(items=2, reward_cents=30, est_seconds=60)
    assignment = market.claim(client, batch["id"])
    market.submit(client, assignment["id"])
    if decision:
        market.review(assignment["id"], decision, "The boxes miss two signs." if decision == "reject" else None)
    return assignment


def bonus(client, assignment_id, amount_cents=50, reason="Careful work on hard photos."):
    return client.post(
        f"{API}/assignments/{assignment_id}/bonus", json={"amount_cents": amount_cents, "reason": reason}
    )


@pytest.mark.parametrize("decision", ["approve", None])
def test_a_bonus_on_handed_in_work_pays_the_worker_and_the_fee_from_available_funds(market, session, decision):
    assignment = handed_in(market, decision)
    worker, requester = market.members[0], market.requester
    before = snapshot(requester, worker)
    response = bonus(market.rc, assignment["id"], amount_cents=57)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["assignment_id"], body["amount_cents"], body["fee_cents"]) == (assignment["id"], 57, 6)  # ceil(5.7)
    after = snapshot(requester, worker)
    assert after[ledger.requester_available(requester.id)] == before[ledger.requester_available(requester.id)] - 63
    assert after[ledger.worker_earnings(worker.id)] == before[ledger.worker_earnings(worker.id)] + 57
    assert after[ledger.COOP_FEES] == before[ledger.COOP_FEES] + 6
    # Escrow is the batch's, untouched by a bonus.
    assert after[ledger.requester_escrow(requester.id)] == before[ledger.requester_escrow(requester.id)]
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "assignment.bonus"))
    assert entry.subject == f"assignment:{assignment['id']}"
    assert entry.payload["amount_cents"] == 57 and entry.payload["fee_cents"] == 6
    # The worker sees it among their earnings, as pay for work.
    lines = market.mc[0].get(f"{API}/me/earnings").get_json()["items"]
    assert lines[0]["amount_cents"] == 57 and "bonus" in lines[0]["memo"]
    assert ledger.paid_for_work(clock.now().date(), clock.now().date())[worker.id] == 57 + (30 if decision else 0)


def test_several_bonuses_add_up(market, session):
    assignment = handed_in(market, "approve")
    assert bonus(market.rc, assignment["id"], 10).status_code == 201
    assert bonus(market.rc, assignment["id"], 20).status_code == 201
    assert ledger.balance(ledger.worker_earnings(market.members[0].id)) == 30 + 10 + 20
    assert session.scalar(sa.select(sa.func.sum(Bonus.fee_cents))) == 1 + 2


def test_a_bonus_the_requester_cannot_afford_is_refused_naming_what_is_missing(make, session):
    market = Market(make, funds=100)
    assignment = handed_in(market, "approve")  # escrow 2 × 30 + fee 6 = 66; 34 left
    before = snapshot(market.requester, market.members[0])
    response = bonus(market.rc, assignment["id"], amount_cents=40)  # 40 + 4 = 44
    assert response.status_code == 409
    assert "44 cents" in response.get_json()["message"] and "10 cents short" in response.get_json()["message"]
    assert snapshot(market.requester, market.members[0]) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(Bonus)) == 0
    fund(market.requester, 10)
    assert bonus(market.rc, assignment["id"], amount_cents=40).status_code == 201
    assert ledger.balance(ledger.requester_available(market.requester.id)) == 0


def test_no_bonus_on_work_not_handed_in_or_rejected(market, session):
    batch = market.post(items=3, reward_cents=30, est_seconds=60)
    lapsed = market.claim(market.mc[2], batch["id"])
    clock.advance(timedelta(minutes=31))
    market.mc[2].get(f"{API}/me/assignments")  # the lease lapses
    claimed = market.claim(market.mc[0], batch["id"])
    rejected = handed_in(market, "reject", client=market.mc[1])
    before = snapshot(market.requester, *market.members)
    for assignment, status in ((claimed, "claimed"), (rejected, "rejected"), (lapsed, "expired")):
        response = bonus(market.rc, assignment["id"])
        assert response.status_code == 409, response.get_json()
        assert status in response.get_json()["message"]
    assert snapshot(market.requester, *market.members) == before


def test_only_the_batchs_requester_pays_a_bonus(market, make, session):
    assignment = handed_in(market, "approve")
    other = make.requester()
    fund(other, 1_000)
    before = snapshot(market.requester, other, market.members[0])
    assert bonus(make.client(other), assignment["id"]).status_code == 403
    assert bonus(market.mc[0], assignment["id"]).status_code == 403
    assert bonus(market.cc, assignment["id"]).status_code == 403
    assert bonus(make.client(), assignment["id"]).status_code == 401
    assert bonus(market.rc, 999_999).status_code == 404
    assert snapshot(market.requester, other, market.members[0]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"amount_cents": 0, "reason": "Thanks."},
        {"amount_cents": -5, "reason": "Thanks."},
        {"amount_cents": "5", "reason": "Thanks."},
        {"amount_cents": 5},
        {"amount_cents": 5, "reason": ""},
        {"amount_cents": 5, "reason": "x" * 2_001},
    ],
)
def test_a_bonus_needs_a_positive_amount_and_a_reason(market, session, body):
    assignment = handed_in(market, "approve")
    before = snapshot(market.requester, market.members[0])
    assert market.rc.post(f"{API}/assignments/{assignment['id']}/bonus", json=body).status_code == 422
    assert snapshot(market.requester, market.members[0]) == before
