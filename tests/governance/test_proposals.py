"""Proposals: submission with validated changes, coordinator review, petitions, lists."""

from datetime import datetime, timedelta

import pytest

from coop import clock
from coop.errors import Forbidden
from coop.governance import services
from coop.governance.models import Proposal

RAISE_PAY = {
    "title": "Raise the minimum hourly rate",
    "body": "Twelve euros is not enough.",
    "kind": "terms",
    "method": "yes_no",
    "change": {"min_hourly_rate_cents": 1500},
}


def test_a_member_submits_a_proposal_for_triage(gov, as_member, audit_entries):
    proposal = gov.propose(as_member, **RAISE_PAY)

    assert proposal["status"] == "submitted"
    assert proposal["proposer"] == as_member.user.display_name
    assert proposal["change"] == {"min_hourly_rate_cents": 1500}
    assert proposal["cosigners"] == 0 and proposal["eligible"] == 0 and proposal["ballots_cast"] == 0
    assert proposal["closes_at"] is None and proposal["result"] is None and proposal["receipts"] is None
    [entry] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.submitted")
    assert entry.payload["kind"] == "terms"


def test_proposals_keep_their_options(gov, as_member):
    proposal = gov.propose(as_member, method="ranked", options=["Tuesday", " Thursday "])
    assert proposal["options"] == ["Tuesday", "Thursday"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"change": {"min_hourly_rate_cents": 0}}, "change"),
        ({"change": {"min_hourly_rate_cents": "1500"}}, "change"),
        ({"change": {"hourly_bonus": 5}}, "change"),
        ({"change": {"voting_days_min": 30}}, "change"),
        ({"change": {"min_hourly_rate_cents": 1300}}, "change"),
        ({"change": {}}, "change"),
        ({"change": None}, "change"),
        ({"method": "approval"}, "kind"),
        ({"kind": "general", "method": "approval", "change": None}, "options"),
        ({"kind": "general", "method": "approval", "change": None, "options": ["A", "A"]}, "options"),
        ({"kind": "general", "method": "ranked", "change": None, "options": ["A"]}, "options"),
        ({"kind": "general", "method": "ranked", "change": None, "options": [str(i) for i in range(21)]}, "options"),
        ({"kind": "general", "method": "approval", "change": None, "options": ["A", "  "]}, "options"),
        ({"options": ["A", "B"]}, "options"),
        ({"kind": "rule", "method": "median", "change": {"param": "quorum_pct"}}, "method"),
        ({"method": "median", "change": {"param": "currency"}}, "change"),
        ({"method": "median", "change": {"param": "min_hourly_rate_cents", "value": 3}}, "change"),
        ({"kind": "rule", "change": {"rule": "Bad Slug", "text": "x"}}, "change"),
        ({"kind": "rule", "change": {"rule": "bylaws"}}, "change"),
        ({"kind": "coordinator", "change": {"member_id": 999999, "action": "grant"}}, "change"),
        ({"kind": "coordinator", "change": {"member_id": 1, "action": "crown"}}, "change"),
        (
            {
                "kind": "surplus",
                "change": {"amount_cents": 100, "period_start": "2026-02-01", "period_end": "2026-01-01"},
            },
            "change",
        ),
        (
            {
                "kind": "surplus",
                "change": {"amount_cents": 0, "period_start": "2026-01-01", "period_end": "2026-01-31"},
            },
            "change",
        ),
        ({"kind": "general", "change": {"anything": 1}}, "change"),
        ({"kind": "petition"}, "kind"),
        ({"method": "plurality"}, "method"),
        ({"title": ""}, "title"),
        ({"body": None}, "body"),
    ],
)
def test_an_invalid_proposal_is_refused_at_submission_naming_the_field(gov, as_member, session, overrides, field):
    body = {**RAISE_PAY, **overrides}
    response = as_member.post("/api/v1/proposals", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert session.query(Proposal).count() == 0


def test_a_terms_change_is_validated_against_the_terms_in_force_with_the_parameter_named(as_member):
    response = as_member.post("/api/v1/proposals", json={**RAISE_PAY, "change": {"voting_days_min": 30}})
    assert response.json["errors"]["change"] == {"voting_days_min": ["Must not exceed voting_days_max."]}
    assert "terms v1" in response.json["message"]


def test_a_coordinator_proposal_must_name_a_current_member(gov, make, as_member):
    worker = make.worker()
    response = as_member.post(
        "/api/v1/proposals",
        json={**RAISE_PAY, "kind": "coordinator", "change": {"member_id": worker.id, "action": "grant"}},
    )
    assert response.status_code == 422
    assert response.json["errors"]["change"] == {"member_id": ["Not a current member."]}
    member = make.member()
    gov.propose(as_member, kind="coordinator", change={"member_id": member.id, "action": "grant"})
    revoke = as_member.post(
        "/api/v1/proposals",
        json={**RAISE_PAY, "kind": "coordinator", "change": {"member_id": member.id, "action": "revoke"}},
    )
    assert revoke.status_code == 422


def test_surplus_dates_are_stored_as_iso_dates(gov, as_member):
    proposal = gov.propose(
        as_member,
        kind="surplus",
        change={"amount_cents": 5000, "period_start": "2026-01-01", "period_end": "2026-03-31"},
    )
    assert proposal["change"] == {"amount_cents": 5000, "period_start": "2026-01-01", "period_end": "2026-03-31"}


def test_only_members_can_propose(as_worker, as_requester, anon):
    assert as_worker.post("/api/v1/proposals", json=RAISE_PAY).status_code == 403
    assert as_requester.post("/api/v1/proposals", json=RAISE_PAY).status_code == 403
    assert anon.post("/api/v1/proposals", json=RAISE_PAY).status_code == 401


def test_other_domains_submit_general_proposals_through_the_service(make, session):
    member = make.member()
    proposal = services.create_proposal(
        member, {"title": "Appeal: post 12 hidden", "body": "Please decide.", "kind": "general", "method": "yes_no"}
    )
    assert proposal.id and proposal.status == "submitted" and proposal.proposer_id == member.id
    with pytest.raises(Forbidden):
        services.create_proposal(make.worker(), {"title": "t", "body": "b", "kind": "general", "method": "yes_no"})


# --- review -------------------------------------------------------------------------


def test_accepting_opens_the_vote_for_the_members_of_now(gov, make, as_coordinator, as_member, audit_entries):
    proposal = gov.propose(as_member, **RAISE_PAY)
    members_now = services.members_count()

    opened = gov.accept(as_coordinator, proposal["id"], reason="Clear and in order.")

    assert opened["status"] == "open" and opened["opened_by"] == "review"
    assert opened["reviewed_by"] == as_coordinator.user.display_name
    assert opened["review_reason"] == "Clear and in order."
    assert opened["eligible"] == members_now
    opens, closes = (datetime.fromisoformat(opened[k]) for k in ("opens_at", "closes_at"))
    assert closes - opens == timedelta(days=3)
    make.member()  # joins after opening: not eligible, not counted
    assert gov.get(as_member, proposal["id"])["eligible"] == members_now
    events = [e.event for e in audit_entries(subject=f"proposal:{proposal['id']}")]
    assert events == ["proposal.submitted", "proposal.reviewed", "proposal.opened"]


def test_the_voting_period_must_lie_within_the_terms_bounds(gov, as_coordinator, as_member):
    proposal = gov.propose(as_member, **RAISE_PAY)
    url = f"/api/v1/proposals/{proposal['id']}/review"
    for days in (2, 22):
        response = as_coordinator.post(url, json={"action": "accept", "voting_days": days})
        assert response.status_code == 422 and "voting_days" in response.json["errors"]
    opened = gov.accept(as_coordinator, proposal["id"], voting_days=21)
    opens, closes = (datetime.fromisoformat(opened[k]) for k in ("opens_at", "closes_at"))
    assert closes - opens == timedelta(days=21)


def test_returning_needs_a_public_reason(gov, as_coordinator, as_member, as_requester, audit_entries):
    proposal = gov.propose(as_member, **RAISE_PAY)
    url = f"/api/v1/proposals/{proposal['id']}/review"
    assert as_coordinator.post(url, json={"action": "return"}).status_code == 422
    assert as_coordinator.post(url, json={"action": "return", "reason": "   "}).status_code == 422

    response = as_coordinator.post(url, json={"action": "return", "reason": "Duplicate of proposal 3."})

    assert response.status_code == 200
    assert response.json["status"] == "returned" and response.json["review_reason"] == "Duplicate of proposal 3."
    # The reason is public: anyone signed in reads it.
    assert gov.get(as_requester, proposal["id"])["review_reason"] == "Duplicate of proposal 3."
    [entry] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.reviewed")
    assert entry.payload == {"action": "return", "reason": "Duplicate of proposal 3."}
    assert as_coordinator.post(url, json={"action": "return", "reason": "again"}).status_code == 409


def test_a_coordinator_may_still_accept_a_returned_proposal(gov, as_coordinator, as_member):
    proposal = gov.propose(as_member)
    as_coordinator.post(
        f"/api/v1/proposals/{proposal['id']}/review", json={"action": "return", "reason": "Add a date."}
    )
    opened = gov.accept(as_coordinator, proposal["id"])
    assert opened["status"] == "open" and opened["review_reason"] is None


def test_an_open_proposal_cannot_be_reviewed_again(gov, as_coordinator, as_member):
    proposal = gov.open_vote(as_member, as_coordinator)
    url = f"/api/v1/proposals/{proposal['id']}/review"
    assert as_coordinator.post(url, json={"action": "accept"}).status_code == 409
    assert as_coordinator.post(url, json={"action": "return", "reason": "too late"}).status_code == 409


def test_only_coordinators_review(gov, as_member, as_worker, as_requester, anon, as_coordinator):
    proposal = gov.propose(as_member)
    url = f"/api/v1/proposals/{proposal['id']}/review"
    for client in (as_member, as_worker, as_requester):
        assert client.post(url, json={"action": "accept"}).status_code == 403
    assert anon.post(url, json={"action": "accept"}).status_code == 401
    assert as_coordinator.post("/api/v1/proposals/999999/review", json={"action": "accept"}).status_code == 404
    assert gov.get(as_member, proposal["id"])["status"] == "submitted"


# --- petitions ------------------------------------------------------------------------


def test_the_petition_threshold_is_the_petition_share_of_members_rounded_up(gov, as_member, adopt_terms):
    adopt_terms(petition_pct=25)
    proposal = gov.propose(as_member)
    members = services.members_count()
    assert gov.get(as_member, proposal["id"])["petition_threshold"] == -(-25 * members // 100)


def test_co_signing_counts_each_member_once_and_never_the_proposer(gov, make, as_member, adopt_terms):
    adopt_terms(petition_pct=100)
    proposal = gov.propose(as_member)
    url = f"/api/v1/proposals/{proposal['id']}/cosign"
    assert as_member.post(url).status_code == 403
    signer = make.client(make.member())
    response = signer.post(url)
    assert response.status_code == 200 and response.json["cosigners"] == 1 and response.json["status"] == "submitted"
    again = signer.post(url)
    assert again.status_code == 409 and "already co-signed" in again.json["message"]


def test_only_members_co_sign_and_only_before_the_vote(
    gov, as_member, as_worker, as_requester, anon, make, as_coordinator
):
    proposal = gov.propose(as_member)
    url = f"/api/v1/proposals/{proposal['id']}/cosign"
    assert as_worker.post(url).status_code == 403
    assert as_requester.post(url).status_code == 403
    assert anon.post(url).status_code == 401
    assert make.client(make.member()).post("/api/v1/proposals/999999/cosign").status_code == 404
    gov.accept(as_coordinator, proposal["id"])
    assert make.client(make.member()).post(url).status_code == 409


def test_a_returned_proposal_goes_to_ballot_when_the_petition_reaches_the_threshold(
    gov, make, as_coordinator, adopt_terms, audit_entries
):
    adopt_terms(petition_pct=50)
    proposer = make.client(make.member())
    signers = [make.client(make.member()) for _ in range(3)]
    proposal = gov.propose(proposer, **RAISE_PAY)
    as_coordinator.post(f"/api/v1/proposals/{proposal['id']}/review", json={"action": "return", "reason": "Not now."})
    threshold = gov.get(proposer, proposal["id"])["petition_threshold"]
    assert threshold == -(-50 * services.members_count() // 100) == 3

    for signer in signers[:2]:
        assert signer.post(f"/api/v1/proposals/{proposal['id']}/cosign").json["status"] == "returned"
    opened = signers[2].post(f"/api/v1/proposals/{proposal['id']}/cosign").json

    # Coordinators triage; they cannot bury: the vote opens without them.
    assert opened["status"] == "open" and opened["opened_by"] == "petition" and opened["cosigners"] == 3
    assert datetime.fromisoformat(opened["closes_at"]) - datetime.fromisoformat(opened["opens_at"]) == timedelta(days=3)
    [reached] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.petition_reached")
    assert reached.payload == {"cosigners": 3, "threshold": 3}
    [opened_entry] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.opened")
    assert opened_entry.payload["via"] == "petition"


# --- reading ------------------------------------------------------------------------------


def test_proposals_are_listed_newest_first_by_status_in_pages(gov, as_member, as_coordinator, as_requester):
    ids = [gov.propose(as_member, title=f"Proposal {i}")["id"] for i in range(3)]
    gov.accept(as_coordinator, ids[1])

    page = as_requester.get("/api/v1/proposals?limit=2").json
    assert [p["id"] for p in page["items"]] == [ids[2], ids[1]]
    rest = as_requester.get(f"/api/v1/proposals?limit=2&cursor={page['next_cursor']}").json
    assert [p["id"] for p in rest["items"]][:1] == [ids[0]]
    open_only = as_requester.get("/api/v1/proposals?status=open").json["items"]
    assert [p["id"] for p in open_only] == [ids[1]]
    assert all("receipts" not in p for p in page["items"])
    assert as_requester.get("/api/v1/proposals?status=maybe").status_code == 422


def test_reading_proposals_needs_a_signed_in_user(gov, as_member, anon):
    proposal = gov.propose(as_member)
    assert anon.get("/api/v1/proposals").status_code == 401
    assert anon.get(f"/api/v1/proposals/{proposal['id']}").status_code == 401
    assert as_member.get("/api/v1/proposals/999999").status_code == 404


def test_listing_closes_votes_that_are_due(gov, as_member, as_coordinator):
    proposal = gov.open_vote(as_member, as_coordinator)
    clock.advance(timedelta(days=3, seconds=1))
    listed = as_member.get("/api/v1/proposals?status=open").json["items"]
    assert proposal["id"] not in [p["id"] for p in listed]
    assert gov.get(as_member, proposal["id"])["status"] == "no_quorum"
