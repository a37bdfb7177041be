"""Membership: joining with the one share, approval by a coordinator, withdrawal, the registers."""
import sqlalchemy as sa

from coop import ledger
from coop.accounts.models import User
from coop.governance.models import Membership, ShareLine
from coop.governance.services import patronage_account


def test_worker_joining_under_open_admission_pays_the_share_and_becomes_a_member(make, session, audit_entries):
    worker = make.worker()
    client = make.client(worker)
    capital = ledger.balance(ledger.COOP_SHARE_CAPITAL)

    response = client.post("/api/v1/membership")

    assert response.status_code == 201
    assert response.json["status"] == "member" and response.json["joined_at"]
    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == capital + 2500
    assert client.get("/api/v1/me").json["is_member"] is True
    shares = client.get("/api/v1/me/shares").json
    assert [(line["kind"], line["amount_cents"]) for line in shares["lines"]] == [("membership_share", 2500)]
    assert shares["total_cents"] == 2500
    assert audit_entries(subject=f"user:{worker.id}", event="membership.admitted")


def test_the_share_costs_the_price_in_the_terms_in_force(make, adopt_terms):
    adopt_terms(share_price_cents=4000)
    client = make.client(make.worker())
    assert client.post("/api/v1/membership").status_code == 201
    assert client.get("/api/v1/me/shares").json["total_cents"] == 4000


def test_requesters_cannot_become_members_and_anonymous_callers_must_sign_in(as_requester, anon):
    assert as_requester.post("/api/v1/membership").status_code == 403
    assert anon.post("/api/v1/membership").status_code == 401


def test_a_member_cannot_buy_a_second_share(as_member):
    response = as_member.post("/api/v1/membership")
    assert response.status_code == 409
    assert "already a member" in response.json["message"]


def test_under_approval_admission_a_worker_waits_as_applicant_and_no_money_moves(make, adopt_terms, as_coordinator):
    adopt_terms(admission="approval")
    worker = make.worker()
    client = make.client(worker)
    capital = ledger.balance(ledger.COOP_SHARE_CAPITAL)

    response = client.post("/api/v1/membership")

    assert response.status_code == 201 and response.json["status"] == "applicant"
    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == capital
    assert client.get("/api/v1/me").json["is_member"] is False
    assert client.post("/api/v1/membership").status_code == 409
    # The applicant cannot vote or propose yet.
    assert client.post("/api/v1/proposals", json={"title": "t", "body": "b", "kind": "general",
                                                  "method": "yes_no"}).status_code == 403

    admitted = as_coordinator.post(f"/api/v1/membership/{worker.id}/admit")

    assert admitted.status_code == 200 and admitted.json["status"] == "member"
    assert ledger.balance(ledger.COOP_SHARE_CAPITAL) == capital + 2500
    assert client.get("/api/v1/me").json["is_member"] is True
    assert as_coordinator.post(f"/api/v1/membership/{worker.id}/admit").status_code == 409


def test_only_coordinators_admit_and_only_applicants_can_be_admitted(make, adopt_terms, as_coordinator, as_member,
                                                                      as_requester, anon):
    adopt_terms(admission="approval")
    applicant = make.worker()
    make.client(applicant).post("/api/v1/membership")
    url = f"/api/v1/membership/{applicant.id}/admit"

    assert anon.post(url).status_code == 401
    assert as_member.post(url).status_code == 403
    assert as_requester.post(url).status_code == 403
    assert as_coordinator.post("/api/v1/membership/999999/admit").status_code == 404
    bystander = make.worker()
    response = as_coordinator.post(f"/api/v1/membership/{bystander.id}/admit")
    assert response.status_code == 409 and "has not applied" in response.json["message"]
    assert as_coordinator.post(url).status_code == 200


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
        ("membership_share", 2500), ("patronage", 300), ("redemption", -2500), ("redemption", -300),
    ]
    assert shares["total_cents"] == 0
    assert client.get("/api/v1/me").json["is_member"] is False
    assert client.post("/api/v1/proposals", json={"title": "t", "body": "b", "kind": "general",
                                                  "method": "yes_no"}).status_code == 403
    [entry] = audit_entries(subject=f"user:{member.id}", event="membership.withdrawn")
    assert entry.payload == {"share_redeemed_cents": 2500, "patronage_redeemed_cents": 300}


def test_a_withdrawing_coordinator_loses_the_role(make, audit_entries):
    coordinator = make.coordinator()
    client = make.client(coordinator)
    assert client.post("/api/v1/membership/withdraw").status_code == 200
    me = client.get("/api/v1/me").json
    assert me["is_member"] is False and me["is_coordinator"] is False
    assert audit_entries(subject=f"user:{coordinator.id}", event="role.revoked")


def test_a_former_member_may_join_again_and_pays_a_new_share(make):
    client = make.client(make.member())
    assert client.post("/api/v1/membership/withdraw").status_code == 200
    response = client.post("/api/v1/membership")
    assert response.status_code == 201 and response.json["status"] == "member"
    assert response.json["ended_at"] is None
    assert client.get("/api/v1/me/shares").json["total_cents"] == 2500


def test_only_members_can_withdraw(as_worker, as_requester, anon):
    assert as_worker.post("/api/v1/membership/withdraw").status_code == 403
    assert as_requester.post("/api/v1/membership/withdraw").status_code == 403
    assert anon.post("/api/v1/membership/withdraw").status_code == 401


def test_share_register_is_for_workers_only(as_requester, anon, as_worker):
    assert as_requester.get("/api/v1/me/shares").status_code == 403
    assert anon.get("/api/v1/me/shares").status_code == 401
    assert as_worker.get("/api/v1/me/shares").json == {"lines": [], "total_cents": 0}


def test_members_see_pseudonyms_and_join_dates_but_never_emails(make, as_member):
    other = make.member("Quiet Labeller")
    items = as_member.get("/api/v1/members?limit=200").json["items"]
    row = next(item for item in items if item["user_id"] == other.id)
    assert row["display_name"] == "Quiet Labeller" and row["joined_at"]
    assert all("email" not in item for item in items)


def test_coordinators_see_emails_and_can_list_applicants(make, adopt_terms, as_coordinator, as_member):
    adopt_terms(admission="approval")
    applicant = make.worker()
    make.client(applicant).post("/api/v1/membership")

    members = as_coordinator.get("/api/v1/members?limit=200").json["items"]
    assert all("@" in item["email"] for item in members)
    applicants = as_coordinator.get("/api/v1/members?status=applicant").json["items"]
    assert [(item["user_id"], item["email"]) for item in applicants] == [(applicant.id, applicant.email)]
    assert as_member.get("/api/v1/members?status=applicant").status_code == 403


def test_the_member_register_is_closed_to_non_members(as_worker, as_requester, anon):
    assert as_worker.get("/api/v1/members").status_code == 403
    assert as_requester.get("/api/v1/members").status_code == 403
    assert anon.get("/api/v1/members").status_code == 401


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
