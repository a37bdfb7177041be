"""Membership: the share paid from earnings or by a confirmed transfer, admission, refusal, withdrawal, the registers."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.accounts.models import User
from coop.errors import Forbidden
from coop.governance.models import Membership, ShareLine
from coop.governance.services import apply_for_membership, member_register, patronage_account, share_held_account

PROPOSAL = {"title": "t", "body": "b", "kind": "general", "method": "yes_no"}


def delta(before: dict, after: dict) -> dict:
    """What moved between two balance snapshots, accounts that did not move left out."""
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


def membership_row(session, user):
    session.expire_all()
    return session.get(Membership, user.id)


# --- joining by transfer: pending until a coordinator confirms it ----------------------------


def test_announcing_a_transfer_makes_an_applicant_pending_payment_and_moves_no_money(make, money, audit_entries):
    worker = make.worker()
    client = make.client(worker)
    before = money(worker)

    response = client.post("/api/v1/membership", json={"payment_reference": "  SEPA 2026-12-01 NIA  "})

    assert response.status_code == 201
    assert response.json["status"] == "pending_payment" and response.json["joined_at"] is None
    assert response.json["payment_reference"] == "SEPA 2026-12-01 NIA" and response.json["share_paid_cents"] == 0
    assert money(worker) == before
    assert client.get("/api/v1/me").json["is_member"] is False
    assert client.get("/api/v1/me/shares").json == {"lines": [], "total_cents": 0}
    assert client.post("/api/v1/proposals", json=PROPOSAL).status_code == 403
    again = client.post("/api/v1/membership", json={"pay_from": "earnings"})
    assert again.status_code == 409 and "already applied" in again.json["message"]
    [entry] = audit_entries(subject=f"user:{worker.id}", event="membership.applied")
    assert entry.payload == {"paid_from": "transfer", "admission": "open"}


@pytest.mark.parametrize("body", [None, {}])
def test_an_empty_body_also_applies_pending_payment(make, money, body):
    worker = make.worker()
    before = money(worker)
    response = make.client(worker).open("POST", "/api/v1/membership", json=body)
    assert response.status_code == 201
    assert response.json["status"] == "pending_payment" and response.json["payment_reference"] is None
    assert money(worker) == before


def test_a_coordinator_confirming_the_transfer_admits_and_only_then_the_share_enters(
    make, money, audit_entries, as_coordinator
):
    worker = make.worker()
    client = make.client(worker)
    client.post("/api/v1/membership", json={"payment_reference": "MPESA QX41"})
    before = money(worker)

    response = as_coordinator.post(f"/api/v1/membership/{worker.id}/admit")

    assert response.status_code == 200
    assert response.json["status"] == "member" and response.json["joined_at"]
    assert response.json["share_paid_cents"] == 2500 and response.json["payment_reference"] == "MPESA QX41"
    assert delta(before, money(worker)) == {ledger.EXTERNAL: -2500, ledger.COOP_SHARE_CAPITAL: 2500}
    assert client.get("/api/v1/me").json["is_member"] is True
    shares = client.get("/api/v1/me/shares").json
    assert [(line["kind"], line["amount_cents"], line["payment_reference"]) for line in shares["lines"]] == [
        ("membership_share", 2500, "MPESA QX41")
    ]
    assert shares["total_cents"] == 2500
    [entry] = audit_entries(subject=f"user:{worker.id}", event="membership.admitted")
    assert entry.payload == {"share_price_cents": 2500, "paid_from": "transfer", "payment_reference": "MPESA QX41"}
    assert entry.actor.startswith(as_coordinator.user.display_name)
    again = as_coordinator.post(f"/api/v1/membership/{worker.id}/admit")
    assert again.status_code == 409 and "already a member" in again.json["message"]
    assert delta(before, money(worker)) == {ledger.EXTERNAL: -2500, ledger.COOP_SHARE_CAPITAL: 2500}


def test_the_reference_the_coordinator_confirms_is_recorded_and_one_is_required(make, money, session, as_coordinator):
    silent, announced = make.worker(), make.worker()
    make.client(silent).post("/api/v1/membership")
    make.client(announced).post("/api/v1/membership", json={"payment_reference": "what I typed"})
    before = money(silent)

    missing = as_coordinator.post(f"/api/v1/membership/{silent.id}/admit")

    assert missing.status_code == 422 and "payment_reference" in missing.json["errors"]
    assert money(silent) == before and membership_row(session, silent).status == "pending_payment"
    assert (
        as_coordinator.post(f"/api/v1/membership/{silent.id}/admit", json={"payment_reference": "BANK 889"}).status_code
        == 200
    )
    assert (
        as_coordinator.post(
            f"/api/v1/membership/{announced.id}/admit", json={"payment_reference": "BANK 890 (as received)"}
        ).status_code
        == 200
    )
    references = dict(
        session.execute(
            sa.select(ShareLine.user_id, ShareLine.payment_reference).where(
                ShareLine.user_id.in_([silent.id, announced.id])
            )
        ).all()
    )
    assert references == {silent.id: "BANK 889", announced.id: "BANK 890 (as received)"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"pay_from": "earnings", "payment_reference": "X1"}, "payment_reference"),
        ({"pay_from": "savings"}, "pay_from"),
        ({"payment_reference": "x" * 141}, "payment_reference"),
        ({"payment_reference": "   "}, "payment_reference"),
        ({"payment_reference": "line\nbreak"}, "payment_reference"),
        ({"payment_reference": 12345}, "payment_reference"),
    ],
)
def test_an_application_that_cannot_be_read_is_refused_naming_the_field(make, session, body, field):
    worker = make.worker()
    response = make.client(worker).post("/api/v1/membership", json=body)
    assert response.status_code == 422 and field in response.json["errors"]
    assert membership_row(session, worker) is None


def test_a_payment_reference_of_the_longest_allowed_length_is_kept(make):
    response = make.client(make.worker()).post("/api/v1/membership", json={"payment_reference": "R" * 140})
    assert response.status_code == 201 and response.json["payment_reference"] == "R" * 140


# --- joining from earnings ---------------------------------------------------------------


def test_paying_from_earnings_makes_a_member_at_once_under_open_admission(make, earn, money, audit_entries):
    worker = make.worker()
    earn(worker, 3000)
    client = make.client(worker)
    before = money(worker)

    response = client.post("/api/v1/membership", json={"pay_from": "earnings"})

    assert response.status_code == 201
    assert response.json["status"] == "member" and response.json["share_paid_cents"] == 2500
    assert delta(before, money(worker)) == {ledger.worker_earnings(worker.id): -2500, ledger.COOP_SHARE_CAPITAL: 2500}
    assert client.get("/api/v1/me/balance").json["earnings_cents"] == 500
    assert client.get("/api/v1/me").json["is_member"] is True
    lines = client.get("/api/v1/me/shares").json["lines"]
    assert [(line["kind"], line["amount_cents"], line["payment_reference"]) for line in lines] == [
        ("membership_share", 2500, None)
    ]
    [entry] = audit_entries(subject=f"user:{worker.id}", event="membership.admitted")
    assert entry.payload == {"share_price_cents": 2500, "paid_from": "earnings", "payment_reference": None}


def test_paying_from_earnings_that_fall_short_is_refused_saying_how_much_is_missing(make, earn, money, session):
    worker = make.worker()
    earn(worker, 2001)
    before = money(worker)

    response = make.client(worker).post("/api/v1/membership", json={"pay_from": "earnings"})

    assert response.status_code == 409
    assert "499 cents are missing" in response.json["message"] and "2001" in response.json["message"]
    assert money(worker) == before
    assert membership_row(session, worker) is None


def test_the_share_costs_the_price_in_the_terms_in_force(make, earn, adopt_terms):
    adopt_terms(share_price_cents=4000)
    worker = make.worker()
    earn(worker, 4000)
    client = make.client(worker)
    assert client.post("/api/v1/membership", json={"pay_from": "earnings"}).status_code == 201
    assert client.get("/api/v1/me/shares").json["total_cents"] == 4000
    assert client.get("/api/v1/me/balance").json["earnings_cents"] == 0


def test_requesters_cannot_become_members_and_anonymous_callers_must_sign_in(as_requester, anon):
    assert as_requester.post("/api/v1/membership").status_code == 403
    assert as_requester.post("/api/v1/membership", json={"pay_from": "earnings"}).status_code == 403
    assert anon.post("/api/v1/membership").status_code == 401


def test_a_member_cannot_buy_a_second_share(make, earn, money):
    member = make.member()
    earn(member, 5000)
    client = make.client(member)
    before = money(member)
    for body in ({}, {"pay_from": "earnings"}, {"payment_reference": "again"}):
        response = client.post("/api/v1/membership", json=body)
        assert response.status_code == 409
        assert "already a member" in response.json["message"]
    assert money(member) == before


# --- admission by approval --------------------------------------------------------------------


def test_under_approval_a_transfer_waits_and_the_coordinators_confirmation_is_the_decision(
    make, adopt_terms, money, as_coordinator
):
    adopt_terms(admission="approval")
    worker = make.worker()
    client = make.client(worker)
    before = money(worker)

    response = client.post("/api/v1/membership", json={"payment_reference": "BANK 12"})

    assert response.status_code == 201 and response.json["status"] == "pending_payment"
    assert money(worker) == before
    assert client.get("/api/v1/me").json["is_member"] is False
    assert client.post("/api/v1/membership").status_code == 409
    assert client.post("/api/v1/proposals", json=PROPOSAL).status_code == 403

    admitted = as_coordinator.post(f"/api/v1/membership/{worker.id}/admit")

    assert admitted.status_code == 200 and admitted.json["status"] == "member"
    assert delta(before, money(worker)) == {ledger.EXTERNAL: -2500, ledger.COOP_SHARE_CAPITAL: 2500}
    assert client.get("/api/v1/me").json["is_member"] is True
    assert as_coordinator.post(f"/api/v1/membership/{worker.id}/admit").status_code == 409


def test_under_approval_a_share_paid_from_earnings_is_held_until_admitted(
    make, adopt_terms, earn, money, as_coordinator, audit_entries
):
    adopt_terms(admission="approval")
    worker = make.worker()
    earn(worker, 2500)
    client = make.client(worker)
    before = money(worker)

    response = client.post("/api/v1/membership", json={"pay_from": "earnings"})

    assert response.status_code == 201
    assert response.json["status"] == "applicant" and response.json["share_paid_cents"] == 2500
    held = {ledger.worker_earnings(worker.id): -2500, share_held_account(worker.id): 2500}
    assert delta(before, money(worker)) == held
    assert client.get("/api/v1/me").json["is_member"] is False
    # Held money is not earnings any more: it cannot also be paid out.
    assert client.post("/api/v1/me/withdrawals", json={"amount_cents": 1}).status_code == 409
    [applied] = audit_entries(subject=f"user:{worker.id}", event="membership.applied")
    assert applied.payload == {"paid_from": "earnings", "admission": "approval", "share_held_cents": 2500}

    admitted = as_coordinator.post(f"/api/v1/membership/{worker.id}/admit", json={"payment_reference": "ignored"})

    assert admitted.status_code == 200 and admitted.json["status"] == "member"
    assert delta(before, money(worker)) == {ledger.worker_earnings(worker.id): -2500, ledger.COOP_SHARE_CAPITAL: 2500}
    assert client.get("/api/v1/me/shares").json["total_cents"] == 2500
    [entry] = audit_entries(subject=f"user:{worker.id}", event="membership.admitted")
    assert entry.payload == {"share_price_cents": 2500, "paid_from": "earnings", "payment_reference": None}


def test_a_refused_application_gives_a_held_share_back_and_may_be_made_again(
    make, adopt_terms, earn, money, as_coordinator, audit_entries
):
    adopt_terms(admission="approval")
    worker = make.worker()
    earn(worker, 2600)
    client = make.client(worker)
    before = money(worker)
    client.post("/api/v1/membership", json={"pay_from": "earnings"})

    response = as_coordinator.post(f"/api/v1/membership/{worker.id}/refuse", json={"reason": "Not a click worker."})

    assert response.status_code == 200 and response.json["status"] == "refused"
    assert money(worker) == before
    shares = client.get("/api/v1/me/shares").json
    assert [(line["kind"], line["amount_cents"]) for line in shares["lines"]] == [
        ("membership_share", 2500),
        ("redemption", -2500),
    ]
    assert shares["total_cents"] == 0
    [entry] = audit_entries(subject=f"user:{worker.id}", event="membership.refused")
    assert entry.payload == {"reason": "Not a click worker.", "refunded_cents": 2500}
    assert as_coordinator.post(f"/api/v1/membership/{worker.id}/refuse", json={"reason": "Again"}).status_code == 409
    assert as_coordinator.post(f"/api/v1/membership/{worker.id}/admit").status_code == 409
    # A refusal is not a membership that ended: no cooling period.
    assert client.post("/api/v1/membership", json={"payment_reference": "BANK 7"}).status_code == 201


def test_refusing_an_applicant_pending_payment_moves_no_money(make, money, as_coordinator):
    worker = make.worker()
    make.client(worker).post("/api/v1/membership", json={"payment_reference": "never arrived"})
    before = money(worker)
    response = as_coordinator.post(
        f"/api/v1/membership/{worker.id}/refuse", json={"reason": "No transfer arrived in 60 days."}
    )
    assert response.status_code == 200 and response.json["status"] == "refused"
    assert money(worker) == before


def test_only_another_coordinator_admits_or_refuses_and_only_applicants(
    make, session, as_coordinator, as_member, as_requester, anon, money
):
    applicant = make.worker()
    make.client(applicant).post("/api/v1/membership", json={"payment_reference": "BANK 1"})
    bystander, member = make.worker(), make.member()
    before = money(applicant)
    for action, body in (("admit", {}), ("refuse", {"reason": "No."})):
        url = f"/api/v1/membership/{applicant.id}/{action}"
        assert anon.post(url, json=body).status_code == 401
        assert as_member.post(url, json=body).status_code == 403
        assert as_requester.post(url, json=body).status_code == 403
        assert make.client(applicant).post(url, json=body).status_code == 403
        unknown = as_coordinator.post(f"/api/v1/membership/999999/{action}", json=body)
        assert unknown.status_code == 404 and "999999" in unknown.json["message"]
        response = as_coordinator.post(f"/api/v1/membership/{bystander.id}/{action}", json=body)
        assert response.status_code == 409
        assert ("has not applied" if action == "admit" else "no application") in response.json["message"]
        assert as_coordinator.post(f"/api/v1/membership/{member.id}/{action}", json=body).status_code == 409
    assert money(applicant) == before and membership_row(session, applicant).status == "pending_payment"
    assert as_coordinator.post(f"/api/v1/membership/{applicant.id}/refuse", json={"reason": " "}).status_code == 422


def test_a_coordinator_cannot_admit_themselves(make, money, session):
    coordinator = make.coordinator()
    client = make.client(coordinator)
    before = money(coordinator)
    response = client.post(f"/api/v1/membership/{coordinator.id}/admit", json={"payment_reference": "self"})
    assert response.status_code == 403 and "Another coordinator" in response.json["message"]
    refused = client.post(f"/api/v1/membership/{coordinator.id}/refuse", json={"reason": "self"})
    assert refused.status_code == 403
    assert money(coordinator) == before


# --- withdrawal and re-joining ------------------------------------------------------------------


def test_withdrawal_pays_back_the_share_and_patronage_and_ends_voting_rights(make, session, audit_entries):
    member = make.member()
    client = make.client(member)
    txn = ledger.move(ledger.EXTERNAL, patronage_account(member.id), 300, "patronage for the test")
    session.add(ShareLine(user_id=member.id, kind="patronage", amount_cents=300, ledger_transaction_id=txn.id))
    session.flush()
    capital = ledger.balance(ledger.COOP_SHARE_CAPITAL)

    response = client.post("/api/v1/membership/withdraw")

    assert response.status_code == 200
    assert response.json["status"] == "withdrawn" and response.json["ended_at"]
    assert ledger.balance(ledger.worker_earnings(member.id)) == 2800
    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == capital - 2500
    assert ledger.balance(patronage_account(member.id)) == 0
    shares = client.get("/api/v1/me/shares").json
    assert [(line["kind"], line["amount_cents"]) for line in shares["lines"]] == [
        ("membership_share", 2500),
        ("patronage", 300),
        ("redemption", -2500),
        ("redemption", -300),
    ]
    assert shares["total_cents"] == 0
    assert client.get("/api/v1/me").json["is_member"] is False
    assert client.post("/api/v1/proposals", json=PROPOSAL).status_code == 403
    [entry] = audit_entries(subject=f"user:{member.id}", event="membership.withdrawn")
    assert entry.payload == {"share_redeemed_cents": 2500, "patronage_redeemed_cents": 300}


@pytest.mark.parametrize("new_price", [4000, 1000])
def test_withdrawal_redeems_what_was_paid_in_whatever_the_price_now(make, adopt_terms, money, new_price):
    member = make.member()
    adopt_terms(share_price_cents=new_price)
    before = money(member)
    assert make.client(member).post("/api/v1/membership/withdraw").status_code == 200
    assert delta(before, money(member)) == {ledger.COOP_SHARE_CAPITAL: -2500, ledger.worker_earnings(member.id): 2500}


def test_a_withdrawing_coordinator_loses_the_role(make, audit_entries):
    coordinator = make.coordinator()
    client = make.client(coordinator)
    assert client.post("/api/v1/membership/withdraw").status_code == 200
    me = client.get("/api/v1/me").json
    assert me["is_member"] is False and me["is_coordinator"] is False
    assert audit_entries(subject=f"user:{coordinator.id}", event="role.revoked")


def test_a_former_member_may_join_again_only_after_the_cooling_period(make, money, session, frozen_clock):
    member = make.member()
    client = make.client(member)
    assert client.post("/api/v1/membership/withdraw").status_code == 200
    left_on = clock.now().date()
    before = money(member)

    rejoin = left_on + timedelta(days=30)
    refusals = 0
    # From the day of leaving to the last hour before the day re-joining becomes possible.
    while True:
        for body in ({"pay_from": "earnings"}, {"payment_reference": "BANK 2"}):
            response = client.post("/api/v1/membership", json=body)
            assert response.status_code == 409
            assert f"from {rejoin.isoformat()}" in response.json["message"]
            assert "rejoin_cooling_days: 30" in response.json["message"]
            refusals += 1
        if (clock.now() + timedelta(hours=1)).date() >= rejoin:
            break
        clock.advance(timedelta(days=1) if (clock.now() + timedelta(days=1)).date() < rejoin else timedelta(hours=1))
    assert refusals > 2
    assert money(member) == before and membership_row(session, member).status == "withdrawn"

    clock.advance(timedelta(hours=1))
    response = client.post("/api/v1/membership", json={"pay_from": "earnings"})

    assert response.status_code == 201 and response.json["status"] == "member"
    assert response.json["ended_at"] is None and response.json["share_paid_cents"] == 2500
    # The share redeemed into earnings pays the new one: nothing entered from outside.
    assert delta(before, money(member)) == {ledger.worker_earnings(member.id): -2500, ledger.COOP_SHARE_CAPITAL: 2500}
    assert client.get("/api/v1/me/shares").json["total_cents"] == 2500


def test_with_no_cooling_period_a_former_member_may_join_again_at_once(make, adopt_terms):
    adopt_terms(rejoin_cooling_days=0)
    client = make.client(make.member())
    assert client.post("/api/v1/membership/withdraw").status_code == 200
    assert client.post("/api/v1/membership", json={"pay_from": "earnings"}).status_code == 201


def test_joining_and_leaving_never_creates_money(make, money, session, as_coordinator, frozen_clock):
    # The old flow booked the share as paid on joining and redeemed it on leaving, so
    # join, leave, join, leave, pay out produced money nobody had paid in.
    worker = make.worker()
    client = make.client(worker)
    before = money(worker)

    assert client.post("/api/v1/membership").status_code == 201
    assert client.post("/api/v1/membership/withdraw").status_code == 403
    for _ in range(2):
        clock.advance(timedelta(days=31))
        client.post("/api/v1/membership", json={"pay_from": "earnings"})
        client.post("/api/v1/membership/withdraw")
    payout = client.post("/api/v1/me/withdrawals", json={"amount_cents": 2500})

    assert payout.status_code == 409
    assert money(worker) == before
    assert client.get("/api/v1/me/balance").json == {"earnings_cents": 0, "payout_pending_cents": 0}

    # Once the transfer really arrived, leaving pays back exactly that, however often they re-join.
    assert (
        as_coordinator.post(f"/api/v1/membership/{worker.id}/admit", json={"payment_reference": "BANK 77"}).status_code
        == 200
    )
    for _ in range(3):
        assert client.post("/api/v1/membership/withdraw").status_code == 200
        clock.advance(timedelta(days=31))
        assert client.post("/api/v1/membership", json={"pay_from": "earnings"}).status_code == 201
    assert client.post("/api/v1/membership/withdraw").status_code == 200
    assert client.post("/api/v1/me/withdrawals", json={"amount_cents": 2501}).status_code == 409
    assert client.post("/api/v1/me/withdrawals", json={"amount_cents": 2500}).status_code == 201
    assert delta(before, money(worker)) == {ledger.EXTERNAL: -2500, f"worker:{worker.id}:payout_pending": 2500}
    assert ledger.total_of_all_entries() == 0


def test_only_members_can_withdraw(as_worker, as_requester, anon):
    assert as_worker.post("/api/v1/membership/withdraw").status_code == 403
    assert as_requester.post("/api/v1/membership/withdraw").status_code == 403
    assert anon.post("/api/v1/membership/withdraw").status_code == 401


# --- registers ------------------------------------------------------------------------------------


def test_share_register_is_for_workers_only(as_requester, anon, as_worker):
    assert as_requester.get("/api/v1/me/shares").status_code == 403
    assert anon.get("/api/v1/me/shares").status_code == 401
    assert as_worker.get("/api/v1/me/shares").json == {"lines": [], "total_cents": 0}


def test_members_see_pseudonyms_and_join_dates_but_never_emails_or_payments(make, as_member):
    other = make.member("Quiet Labeller")
    items = as_member.get("/api/v1/members?limit=200").json["items"]
    row = next(item for item in items if item["user_id"] == other.id)
    assert row["display_name"] == "Quiet Labeller" and row["joined_at"]
    assert all("email" not in item and "payment_reference" not in item for item in items)


def test_coordinators_list_the_applicants_pending_payment_with_their_references(
    make, earn, adopt_terms, as_coordinator, as_member
):
    adopt_terms(admission="approval")
    waiting = make.worker()
    make.client(waiting).post("/api/v1/membership", json={"payment_reference": "SEPA NIA 0412"})
    paid = make.worker()
    earn(paid, 2500)
    make.client(paid).post("/api/v1/membership", json={"pay_from": "earnings"})

    members = as_coordinator.get("/api/v1/members?limit=200").json["items"]
    assert all("@" in item["email"] for item in members)
    pending = as_coordinator.get("/api/v1/members?status=pending_payment&limit=200").json["items"]
    assert [
        (item["user_id"], item["email"], item["payment_reference"], item["share_paid_cents"]) for item in pending
    ] == [(waiting.id, waiting.email, "SEPA NIA 0412", 0)]
    applicants = as_coordinator.get("/api/v1/members?status=applicant&limit=200").json["items"]
    assert [(item["user_id"], item["share_paid_cents"]) for item in applicants] == [(paid.id, 2500)]
    assert as_member.get("/api/v1/members?status=pending_payment").status_code == 403
    assert as_member.get("/api/v1/members?status=applicant").status_code == 403


def test_the_member_register_is_closed_to_non_members(as_worker, as_requester, anon):
    assert as_worker.get("/api/v1/members").status_code == 403
    assert as_requester.get("/api/v1/members").status_code == 403
    assert anon.get("/api/v1/members").status_code == 401


def test_the_register_service_lists_applicants_to_coordinators_only(make):
    # The check is in the service, so every edge that lists applicants refuses the same people.
    waiting = make.worker()
    apply_for_membership(waiting, {"payment_reference": "SEPA NIA 0412"})
    with pytest.raises(Forbidden, match="Only coordinators"):
        member_register(make.member(), "pending_payment", limit=10, cursor=None)
    rows, next_cursor = member_register(make.coordinator(), "pending_payment", limit=10, cursor=None)
    assert [(membership.status, user.id) for membership, user in rows] == [("pending_payment", waiting.id)]
    assert next_cursor is None


def test_the_member_register_pages_by_cursor(make, session):
    for _ in range(3):
        make.member()
    client = make.client(make.member())
    total = session.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_member.is_(True)))
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/members?limit=2" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [item["user_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == total
    in_register = sa.select(sa.func.count()).select_from(Membership).where(Membership.status == "member")
    assert session.scalar(in_register) == total


# --- the terms parameter ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-1, 3651, "30", 2.5, None])
def test_a_terms_change_to_an_invalid_cooling_period_is_refused(as_member, value):
    body = {**PROPOSAL, "kind": "terms", "change": {"rejoin_cooling_days": value}}
    response = as_member.post("/api/v1/proposals", json=body)
    assert response.status_code == 422 and "rejoin_cooling_days" in response.json["errors"]["change"]


def test_the_cooling_period_is_a_terms_parameter_members_may_change(as_member):
    assert as_member.get("/api/v1/terms/current").json["params"]["rejoin_cooling_days"] == 30
    body = {**PROPOSAL, "kind": "terms", "change": {"rejoin_cooling_days": 90}}
    assert as_member.post("/api/v1/proposals", json=body).status_code == 201
