"""Deposits, balances, earnings and payouts."""

import sqlalchemy as sa

from coop import ledger
from coop.audit import AuditEntry
from tests.marketplace.conftest import fund, snapshot


def test_deposit_is_pending_until_a_coordinator_confirms_it(make, session):
    requester = make.requester()
    rc, cc = make.client(requester), make.client(make.coordinator())
    response = rc.post("/api/v1/deposits", json={"amount_cents": 5000})
    assert response.status_code == 201
    deposit = response.get_json()
    assert deposit["status"] == "pending" and deposit["amount_cents"] == 5000
    assert rc.get("/api/v1/me/balance").get_json() == {
        "available_cents": 0,
        "escrow_cents": 0,
        "payout_pending_cents": 0,
    }

    confirmed = cc.post(f"/api/v1/deposits/{deposit['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    assert rc.get("/api/v1/me/balance").get_json()["available_cents"] == 5000
    assert ledger.balance(ledger.EXTERNAL) <= -5000
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "deposit.confirmed"))
    assert entry.payload == {"requester_id": requester.id, "amount_cents": 5000, "payment_reference": None}


def test_a_deposit_carries_the_transfer_reference_to_the_coordinator_who_confirms_it(make, session):
    requester = make.requester()
    rc, cc = make.client(requester), make.client(make.coordinator())
    response = rc.post("/api/v1/deposits", json={"amount_cents": 900, "payment_reference": " NWL-2026-0042 "})
    assert response.status_code == 201 and response.get_json()["payment_reference"] == "NWL-2026-0042"
    pending = cc.get("/api/v1/deposits?status=pending&limit=200").get_json()["items"]
    assert {d["id"]: d["payment_reference"] for d in pending}[response.get_json()["id"]] == "NWL-2026-0042"

    confirmed = cc.post(f"/api/v1/deposits/{response.get_json()['id']}/confirm")

    assert confirmed.get_json()["payment_reference"] == "NWL-2026-0042"
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "deposit.confirmed"))
    assert entry.payload["payment_reference"] == "NWL-2026-0042"


def test_a_deposit_reference_too_long_or_blank_is_refused_and_nothing_is_recorded(make, session):
    rc = make.client(make.requester())
    for reference in ("x" * 141, "  ", "tab\there"):
        response = rc.post("/api/v1/deposits", json={"amount_cents": 900, "payment_reference": reference})
        assert response.status_code == 422 and "payment_reference" in response.get_json()["errors"]
    assert rc.get("/api/v1/deposits").get_json()["items"] == []


def test_confirming_a_deposit_twice_is_refused_and_credits_once(make, session):
    requester = make.requester()
    rc, cc = make.client(requester), make.client(make.coordinator())
    deposit_id = rc.post("/api/v1/deposits", json={"amount_cents": 700}).get_json()["id"]
    assert cc.post(f"/api/v1/deposits/{deposit_id}/confirm").status_code == 200
    before = snapshot(requester)
    again = cc.post(f"/api/v1/deposits/{deposit_id}/confirm")
    assert again.status_code == 409
    assert snapshot(requester) == before


def test_only_requesters_deposit_and_only_coordinators_confirm(make, session):
    requester = make.requester()
    deposit_id = make.client(requester).post("/api/v1/deposits", json={"amount_cents": 100}).get_json()["id"]
    assert make.client(make.member()).post("/api/v1/deposits", json={"amount_cents": 100}).status_code == 403
    assert make.client().post("/api/v1/deposits", json={"amount_cents": 100}).status_code == 401
    for client in (make.client(make.member()), make.client(requester)):
        assert client.post(f"/api/v1/deposits/{deposit_id}/confirm").status_code == 403
    assert make.client().post(f"/api/v1/deposits/{deposit_id}/confirm").status_code == 401
    assert make.client(make.coordinator()).post("/api/v1/deposits/999999/confirm").status_code == 404
    assert ledger.balance(ledger.requester_available(requester.id)) == 0


def test_deposit_amount_must_be_positive_whole_cents(make, session):
    rc = make.client(make.requester())
    for amount in (0, -5, 1.5, "10"):
        response = rc.post("/api/v1/deposits", json={"amount_cents": amount})
        assert response.status_code == 422 and "amount_cents" in response.get_json()["errors"]


def test_deposit_list_shows_requesters_their_own_and_coordinators_all(make, session):
    a, b = make.requester(), make.requester()
    ac, bc, cc = make.client(a), make.client(b), make.client(make.coordinator())
    ac.post("/api/v1/deposits", json={"amount_cents": 100})
    bc.post("/api/v1/deposits", json={"amount_cents": 200})
    assert [d["amount_cents"] for d in ac.get("/api/v1/deposits").get_json()["items"]] == [100]
    pending = cc.get("/api/v1/deposits?status=pending").get_json()["items"]
    assert {d["requester_id"] for d in pending} >= {a.id, b.id}
    assert make.client(make.member()).get("/api/v1/deposits").status_code == 403


def test_member_balance_and_earnings_lines(make, session):
    member = make.member()
    ledger.move(ledger.EXTERNAL, ledger.worker_earnings(member.id), 45, "assignment 1 approved")
    mc = make.client(member)
    assert mc.get("/api/v1/me/balance").get_json() == {"earnings_cents": 45, "payout_pending_cents": 0}
    lines = mc.get("/api/v1/me/earnings").get_json()
    assert [(line["amount_cents"], line["memo"]) for line in lines["items"]] == [(45, "assignment 1 approved")]
    assert make.client(make.requester()).get("/api/v1/me/earnings").status_code == 403
    assert make.client().get("/api/v1/me/balance").status_code == 401


def test_member_withdrawal_sets_earnings_aside_until_a_coordinator_pays_out(make, session):
    member = make.member()
    ledger.move(ledger.EXTERNAL, ledger.worker_earnings(member.id), 300, "earned")
    mc, cc = make.client(member), make.client(make.coordinator())
    response = mc.post("/api/v1/me/withdrawals", json={"amount_cents": 250})
    assert response.status_code == 201
    withdrawal = response.get_json()
    assert withdrawal["status"] == "pending" and withdrawal["source"] == "worker"
    assert mc.get("/api/v1/me/balance").get_json() == {"earnings_cents": 50, "payout_pending_cents": 250}
    # Set aside: it cannot be withdrawn a second time.
    before = snapshot(member)
    assert mc.post("/api/v1/me/withdrawals", json={"amount_cents": 100}).status_code == 409
    assert snapshot(member) == before

    assert [w["id"] for w in cc.get("/api/v1/withdrawals").get_json()["items"]] == [withdrawal["id"]]
    paid = cc.post(f"/api/v1/withdrawals/{withdrawal['id']}/confirm")
    assert paid.status_code == 200 and paid.get_json()["status"] == "confirmed"
    assert mc.get("/api/v1/me/balance").get_json() == {"earnings_cents": 50, "payout_pending_cents": 0}
    assert cc.get("/api/v1/withdrawals").get_json()["items"] == []
    assert cc.post(f"/api/v1/withdrawals/{withdrawal['id']}/confirm").status_code == 409
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "payout.confirmed"))
    assert entry.payload["amount_cents"] == 250 and entry.payload["source"] == "worker"


def test_requester_withdraws_unused_available_funds(make, session):
    requester = make.requester()
    fund(requester, 1000)
    rc, cc = make.client(requester), make.client(make.coordinator())
    withdrawal = rc.post("/api/v1/me/withdrawals", json={"amount_cents": 400}).get_json()
    assert withdrawal["source"] == "requester"
    assert rc.get("/api/v1/me/balance").get_json() == {
        "available_cents": 600,
        "escrow_cents": 0,
        "payout_pending_cents": 400,
    }
    assert cc.post(f"/api/v1/withdrawals/{withdrawal['id']}/confirm").status_code == 200
    assert rc.get("/api/v1/me/balance").get_json()["payout_pending_cents"] == 0
    assert [w["status"] for w in rc.get("/api/v1/me/withdrawals").get_json()["items"]] == ["confirmed"]


def test_withdrawing_more_than_held_is_refused_with_nothing_changed(make, session):
    requester = make.requester()
    fund(requester, 100)
    before = snapshot(requester)
    response = make.client(requester).post("/api/v1/me/withdrawals", json={"amount_cents": 101})
    assert response.status_code == 409 and "100 cents" in response.get_json()["message"]
    assert snapshot(requester) == before


def test_payouts_are_confirmed_only_by_another_coordinator(make, session):
    coordinator = make.coordinator()
    ledger.move(ledger.EXTERNAL, ledger.worker_earnings(coordinator.id), 80, "earned")
    own = make.client(coordinator).post("/api/v1/me/withdrawals", json={"amount_cents": 80}).get_json()
    before = snapshot(coordinator)
    assert make.client(coordinator).post(f"/api/v1/withdrawals/{own['id']}/confirm").status_code == 403
    assert make.client(make.member()).post(f"/api/v1/withdrawals/{own['id']}/confirm").status_code == 403
    assert make.client(make.member()).get("/api/v1/withdrawals").status_code == 403
    assert make.client().post(f"/api/v1/withdrawals/{own['id']}/confirm").status_code == 401
    assert snapshot(coordinator) == before
    assert make.client(make.coordinator()).post("/api/v1/withdrawals/999999/confirm").status_code == 404
    assert make.client(make.coordinator()).post(f"/api/v1/withdrawals/{own['id']}/confirm").status_code == 200
