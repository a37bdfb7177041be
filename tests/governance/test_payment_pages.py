"""The coordinators' payment pages: deposits, membership shares and payouts confirmed by a button, for coordinators only."""

import sqlalchemy as sa

from coop import ledger
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Membership
from coop.marketplace import services as market
from coop.marketplace.models import Deposit, Withdrawal


def _pending_deposit(requester, cents=50_000, reference="SEPA-77") -> Deposit:
    return market.request_deposit(requester, cents, reference)


def test_a_deposit_declared_by_a_requester_is_confirmed_on_the_payments_page(make, pages):
    requester, coordinator = make.requester(), make.coordinator()
    assert (
        pages(requester)
        .post("/requester/deposits", {"amount_cents": "50000", "payment_reference": "SEPA-2026-17"})
        .status_code
        == 303
    )
    deposit = db.session.scalar(sa.select(Deposit).where(Deposit.requester_id == requester.id))

    desk = pages(coordinator)
    html = desk.get("/coordination/payments").get_data(as_text=True)
    assert ">Payments</a>" in html and "SEPA-2026-17" in html and "<h1>" in html
    response = desk.post(f"/coordination/payments/deposits/{deposit.id}/confirm")
    assert response.status_code == 303 and response.headers["Location"] == "/coordination/payments"
    db.session.refresh(deposit)
    assert (deposit.status, deposit.confirmed_by_id) == ("confirmed", coordinator.id)
    assert ledger.balance(ledger.requester_available(requester.id)) == 50_000
    assert "SEPA-2026-17" not in desk.get("/coordination/payments").get_data(as_text=True)
    # What the requester reads afterwards.
    assert "confirmed on" in pages(requester).get("/requester/deposits").get_data(as_text=True)


def test_confirming_a_deposit_twice_is_refused_and_moves_nothing_more(make, pages):
    requester = make.requester()
    deposit = _pending_deposit(requester)
    desk = pages(make.coordinator())
    assert desk.post(f"/coordination/payments/deposits/{deposit.id}/confirm").status_code == 303
    again = desk.post(f"/coordination/payments/deposits/{deposit.id}/confirm")
    assert again.status_code == 409 and again.mimetype == "text/html"
    assert ledger.balance(ledger.requester_available(requester.id)) == 50_000


def test_a_share_announced_by_transfer_is_confirmed_and_the_applicant_becomes_a_member(make, pages):
    applicant, coordinator = make.worker(), make.coordinator()
    governance.apply_for_membership(applicant, {"payment_reference": "MPESA QX41"})
    capital = ledger.balance(ledger.COOP_SHARE_CAPITAL)
    desk = pages(coordinator)
    html = desk.get("/coordination/payments").get_data(as_text=True)
    assert applicant.display_name in html and 'value="MPESA QX41"' in html
    assert f'for="reference-{applicant.id}"' in html
    response = desk.post(f"/coordination/payments/shares/{applicant.id}/confirm", {"payment_reference": "MPESA QX41"})
    assert response.status_code == 303
    assert db.session.get(Membership, applicant.id).status == "member" and applicant.is_member
    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == capital + 2500


def test_an_application_whose_transfer_never_came_is_refused_with_a_reason(make, pages):
    applicant = make.worker()
    governance.apply_for_membership(applicant, {"payment_reference": "NEVER-CAME"})
    desk = pages(make.coordinator())
    assert desk.post(f"/coordination/payments/shares/{applicant.id}/refuse", {"reason": ""}).status_code == 422
    assert db.session.get(Membership, applicant.id).status == "pending_payment"
    refused = desk.post(f"/coordination/payments/shares/{applicant.id}/refuse", {"reason": "No transfer arrived."})
    assert refused.status_code == 303
    assert db.session.get(Membership, applicant.id).status == "refused" and not applicant.is_member


def test_a_payout_is_recorded_as_sent(make, pages):
    requester = make.requester()
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 1000, "test deposit")
    withdrawal = market.request_withdrawal(requester, 400)
    desk = pages(make.coordinator())
    assert requester.display_name in desk.get("/coordination/payments").get_data(as_text=True)
    assert desk.post(f"/coordination/payments/withdrawals/{withdrawal.id}/confirm").status_code == 303
    assert db.session.get(Withdrawal, withdrawal.id).status == "confirmed"
    assert ledger.balance(ledger.requester_payout_pending(requester.id)) == 0


def test_members_and_requesters_can_neither_see_nor_confirm_payments(make, pages):
    requester = make.requester()
    deposit = _pending_deposit(requester)
    applicant = make.worker()
    governance.apply_for_membership(applicant, {"payment_reference": "REF-1"})
    for user in (make.member(), requester):
        browser = pages(user)
        assert ">Payments</a>" not in browser.get("/").get_data(as_text=True)
        assert browser.get("/coordination/payments").status_code == 403
        assert browser.post(f"/coordination/payments/deposits/{deposit.id}/confirm").status_code == 403
        assert browser.post(f"/coordination/payments/shares/{applicant.id}/confirm").status_code == 403
        assert browser.post(f"/coordination/payments/shares/{applicant.id}/refuse", {"reason": "x"}).status_code == 403
    db.session.refresh(deposit)
    assert deposit.status == "pending" and db.session.get(Membership, applicant.id).status == "pending_payment"
    assert pages().get("/coordination/payments").status_code == 302


def test_a_coordinator_cannot_confirm_a_payout_to_themselves(make, pages):
    coordinator = make.coordinator()
    ledger.move(ledger.EXTERNAL, ledger.worker_earnings(coordinator.id), 1000, "test earnings")
    withdrawal = market.request_withdrawal(coordinator, 400)
    response = pages(coordinator).post(f"/coordination/payments/withdrawals/{withdrawal.id}/confirm")
    assert response.status_code == 403
    assert db.session.get(Withdrawal, withdrawal.id).status == "pending"


def test_the_payments_page_stays_within_the_query_budget(make, pages, count_queries):
    coordinator = make.coordinator()
    for n in range(20):
        requester = make.requester(f"payer{n}")
        _pending_deposit(requester, 1000 + n, f"REF-{n}")
        ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 500, "test deposit")
        market.request_withdrawal(requester, 100)
        governance.apply_for_membership(make.worker(f"joiner{n}"), {"payment_reference": f"SHARE-{n}"})
    desk = pages(coordinator)
    with count_queries() as counted:
        html = desk.get("/coordination/payments").get_data(as_text=True)
    assert counted.count <= 15, counted.statements
    assert html.count("/confirm") == 60 and html.count("/refuse") == 20


def test_the_payments_page_speaks_french(make, pages):
    html = pages(make.coordinator(), lang="fr").get("/coordination/payments").get_data(as_text=True)
    assert "Paiements à confirmer" in html
