"""What the members pass is in force at once: terms, rules, coordinators and patronage."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.governance.models import ShareLine
from coop.governance.services import patronage_account

RAISE_PAY = {
    "title": "Raise the minimum hourly rate",
    "body": "Twelve euros is not enough.",
    "kind": "terms",
    "method": "yes_no",
    "change": {"min_hourly_rate_cents": 1500},
}


def vote_all(gov, proposal_id, voters, choices):
    for voter, choice in zip(voters, choices, strict=True):
        response = gov.vote(voter, proposal_id, **choice)
        assert response.status_code == 201, response.json


# --- the scenarios of the issue ----------------------------------------------------------------


def test_members_raise_the_minimum_rate_and_the_new_terms_are_in_force_at_once(gov, as_requester, audit_entries):
    coordinator, members = gov.coop(members=3)
    proposal = gov.propose(members[0], **RAISE_PAY)
    gov.accept(coordinator, proposal["id"])

    voters = [coordinator, *members]
    vote_all(gov, proposal["id"], voters, [{"choice": "yes"}] * 3 + [{"choice": "no"}])

    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "enacted"
    assert closed["result"]["yes"] == 3 and closed["result"]["no"] == 1
    terms = as_requester.get("/api/v1/terms/current").json
    assert terms["version"] == 2 and terms["adopted_by"] == proposal["id"]
    assert terms["params"]["min_hourly_rate_cents"] == 1500
    assert terms["params"]["platform_fee_pct"] == 10
    assert closed["enacted"] == {"terms_version": 2}
    events = [e.event for e in audit_entries()][-3:]
    assert events == ["proposal.closed", "terms.version", "proposal.enacted"]
    [version] = audit_entries(event="terms.version", subject="terms:2")
    assert version.payload["adopted_by"] == proposal["id"] and version.actor == "system"


def test_a_median_vote_sets_the_parameter_to_the_lower_median(gov, as_requester):
    coordinator, members = gov.coop(members=3)
    proposal = gov.open_vote(
        members[0],
        coordinator,
        title="Set the minimum rate",
        kind="terms",
        method="median",
        change={"param": "min_hourly_rate_cents"},
    )
    voters = [coordinator, *members]

    vote_all(gov, proposal["id"], voters, [{"value": v} for v in (1400, 1250, 2000, 1600)])

    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "enacted"
    assert closed["result"]["value"] == 1400 and closed["result"]["param"] == "min_hourly_rate_cents"
    terms = as_requester.get("/api/v1/terms/current").json
    assert terms["params"]["min_hourly_rate_cents"] == 1400 and terms["adopted_by"] == proposal["id"]
    assert sorted(r["choice"]["value"] for r in closed["receipts"]) == [1250, 1400, 1600, 2000]


def test_a_median_value_must_be_valid_for_its_parameter(gov):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator, kind="terms", method="median", change={"param": "voting_days_min"})
    too_long = gov.vote(alice, proposal["id"], value=30)
    assert too_long.status_code == 422 and "voting_days_min" in too_long.json["message"]
    assert gov.vote(alice, proposal["id"], value=0).status_code == 422
    assert gov.vote(alice, proposal["id"], value=4.5).status_code == 422
    assert gov.vote(alice, proposal["id"], choice="yes").status_code == 422
    assert gov.vote(alice, proposal["id"], value=5).status_code == 201


def test_a_returned_proposal_opened_by_petition_passes_and_is_enacted(gov, adopt_terms, as_requester):
    adopt_terms(petition_pct=40)
    coordinator, members = gov.coop(members=4)
    proposal = gov.propose(members[0], **RAISE_PAY)
    coordinator.post(f"/api/v1/proposals/{proposal['id']}/review", json={"action": "return", "reason": "Too soon."})

    for signer in members[1:]:
        response = signer.post(f"/api/v1/proposals/{proposal['id']}/cosign")
        assert response.status_code == 200
        if response.json["status"] == "open":
            break
    assert response.json["opened_by"] == "petition"
    for voter in members:
        gov.vote(voter, proposal["id"], choice="yes")
    clock.advance(timedelta(days=3))

    assert gov.get(members[0], proposal["id"])["status"] == "enacted"
    assert as_requester.get("/api/v1/terms/current").json["params"]["min_hourly_rate_cents"] == 1500


def test_a_rule_proposal_with_sixty_percent_yes_fails_the_supermajority(gov):
    coordinator, members = gov.coop(members=4)
    proposal = gov.open_vote(
        members[0],
        coordinator,
        title="Allow referral links",
        kind="rule",
        change={"rule": "forum-rules", "text": "# Forum rules\n\nAnything goes."},
    )
    voters = [coordinator, *members]

    vote_all(gov, proposal["id"], voters, [{"choice": c} for c in ("yes", "yes", "yes", "no", "no")])

    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "rejected"
    assert closed["result"]["threshold_pct"] == 66 and closed["result"]["yes"] == 3
    rule = members[0].get("/api/v1/rules/forum-rules").json
    assert rule["version"] == 1 and "No doxxing" in rule["text"]


def test_a_passed_rule_proposal_makes_a_new_version_and_a_new_slug_a_new_document(gov, audit_entries):
    coordinator, members = gov.coop(members=2)
    amend = gov.open_vote(
        members[0],
        coordinator,
        kind="rule",
        change={"rule": "bylaws", "text": "# Bylaws\n\nShorter.", "title": "Bylaws"},
    )
    create = gov.open_vote(
        members[0],
        coordinator,
        kind="rule",
        change={"rule": "voice-data", "text": "# Voice data\n\nNever keep recordings."},
    )
    for proposal in (amend, create):
        vote_all(gov, proposal["id"], [coordinator, *members], [{"choice": "yes"}] * 3)

    bylaws = members[0].get("/api/v1/rules/bylaws").json
    assert bylaws["version"] == 2 and bylaws["text"].endswith("Shorter.") and bylaws["adopted_by"] == amend["id"]
    assert [v["version"] for v in bylaws["history"]] == [2, 1]
    voice = members[0].get("/api/v1/rules/voice-data").json
    assert voice["version"] == 1 and voice["title"] == "Voice data" and voice["adopted_by"] == create["id"]
    assert gov.get(members[0], create["id"])["enacted"] == {"rule": "voice-data", "version": 1}
    assert audit_entries(event="rule.version", subject="rule:voice-data")


def test_a_passed_coordinator_proposal_lets_the_new_coordinator_review(gov, audit_entries):
    coordinator, (alice, bob) = gov.coop(members=2)
    pending = gov.propose(alice)
    assert bob.post(f"/api/v1/proposals/{pending['id']}/review", json={"action": "accept"}).status_code == 403

    election = gov.open_vote(
        alice,
        coordinator,
        title="Bob coordinates",
        kind="coordinator",
        change={"member_id": bob.user.id, "action": "grant"},
    )
    vote_all(gov, election["id"], [coordinator, alice, bob], [{"choice": "yes"}] * 3)

    assert gov.get(alice, election["id"])["enacted"] == {"member_id": bob.user.id, "coordinator": True}
    assert bob.get("/api/v1/me").json["is_coordinator"] is True
    review = bob.post(f"/api/v1/proposals/{pending['id']}/review", json={"action": "accept"})
    assert review.status_code == 200 and review.json["status"] == "open"
    [granted] = audit_entries(event="role.granted", subject=f"user:{bob.user.id}")
    assert granted.payload == {"role": "coordinator", "by": f"proposal:{election['id']}"}


def test_members_can_revoke_a_coordinator(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(
        alice, coordinator, kind="coordinator", change={"member_id": coordinator.user.id, "action": "revoke"}
    )
    vote_all(gov, proposal["id"], [alice, bob, coordinator], [{"choice": "yes"}, {"choice": "yes"}, {"choice": "no"}])
    assert coordinator.get("/api/v1/me").json["is_coordinator"] is False
    assert (
        coordinator.post(f"/api/v1/proposals/{gov.propose(alice)['id']}/review", json={"action": "accept"}).status_code
        == 403
    )


def test_a_coordinator_grant_for_someone_who_left_passes_without_effect(gov):
    coordinator, (alice, bob, carol) = gov.coop(members=3)
    proposal = gov.open_vote(
        alice, coordinator, kind="coordinator", change={"member_id": bob.user.id, "action": "grant"}
    )
    vote_all(gov, proposal["id"], [alice, carol], [{"choice": "yes"}] * 2)
    bob.post("/api/v1/membership/withdraw")
    clock.advance(timedelta(days=3))
    closed = gov.get(alice, proposal["id"])
    assert closed["status"] == "passed" and "no longer a member" in closed["result"]["error"]
    assert bob.get("/api/v1/me").json["is_coordinator"] is False


def test_terms_touching_governance_need_the_supermajority(gov):
    coordinator, members = gov.coop(members=4)
    proposal = gov.open_vote(members[0], coordinator, kind="terms", change={"quorum_pct": 10})
    vote_all(gov, proposal["id"], [coordinator, *members], [{"choice": c} for c in ("yes", "yes", "yes", "no", "no")])
    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "rejected" and closed["result"]["threshold_pct"] == 66
    assert members[0].get("/api/v1/terms/current").json["version"] == 1


def test_ordinary_terms_pass_with_a_simple_majority(gov):
    coordinator, members = gov.coop(members=4)
    proposal = gov.open_vote(members[0], coordinator, **RAISE_PAY)
    vote_all(gov, proposal["id"], [coordinator, *members], [{"choice": c} for c in ("yes", "yes", "yes", "no", "no")])
    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "enacted" and closed["result"]["threshold_pct"] == 50


def test_a_change_applies_to_the_terms_in_force_at_close(gov):
    coordinator, members = gov.coop(members=2)
    voters = [coordinator, *members]
    fee = gov.open_vote(members[0], coordinator, kind="terms", change={"platform_fee_pct": 12})
    pay = gov.open_vote(members[0], coordinator, **RAISE_PAY)
    vote_all(gov, fee["id"], voters, [{"choice": "yes"}] * 3)
    vote_all(gov, pay["id"], voters, [{"choice": "yes"}] * 3)
    params = members[0].get("/api/v1/terms/current").json["params"]
    assert (params["platform_fee_pct"], params["min_hourly_rate_cents"]) == (12, 1500)
    assert members[0].get("/api/v1/terms/current").json["version"] == 3


def test_a_change_that_became_invalid_passes_with_an_error_and_no_new_version(gov, adopt_terms):
    coordinator, members = gov.coop(members=2)
    proposal = gov.open_vote(members[0], coordinator, kind="terms", change={"voting_days_min": 10})
    adopt_terms(voting_days_max=5)
    # Governance terms need the supermajority: all three vote yes.
    vote_all(gov, proposal["id"], [coordinator, *members], [{"choice": "yes"}] * 3)
    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "passed" and closed["enacted"] is None
    assert "voting_days_min" in closed["result"]["error"] and "no new terms version" in closed["result"]["error"]
    assert members[0].get("/api/v1/terms/current").json["version"] == 2


def test_a_median_that_would_make_the_terms_invalid_passes_with_an_error(gov, adopt_terms):
    coordinator, members = gov.coop(members=2)
    proposal = gov.open_vote(
        members[0], coordinator, kind="terms", method="median", change={"param": "voting_days_min"}
    )
    vote_all(gov, proposal["id"], members, [{"value": 10}, {"value": 12}])
    adopt_terms(voting_days_max=5)
    gov.vote(coordinator, proposal["id"], value=4)
    closed = gov.get(members[0], proposal["id"])
    assert closed["result"]["value"] == 10
    assert closed["status"] == "passed" and "no new terms version" in closed["result"]["error"]


# --- surplus -------------------------------------------------------------------------------------


@pytest.fixture
def fees(session):
    def fund(cents):
        ledger.move(ledger.EXTERNAL, ledger.COOP_FEES, cents, "fees for the test")

    return fund


def test_a_passed_surplus_is_shared_as_patronage_in_proportion_to_approved_earnings(
    gov, make, fees, monkeypatch, session, audit_entries
):
    coordinator, (alice, bob) = gov.coop(members=2)
    outsider = make.worker()
    fees(10_000)
    calls = []

    def earnings(start, end):
        calls.append((start, end))
        return {alice.user.id: 2000, bob.user.id: 1000, outsider.id: 5000}

    monkeypatch.setattr("coop.ledger.paid_for_work", earnings)
    before = ledger.balance(ledger.COOP_FEES)
    proposal = gov.open_vote(
        alice,
        coordinator,
        kind="surplus",
        change={"amount_cents": 1000, "period_start": "2026-01-01", "period_end": "2026-03-31"},
    )
    vote_all(gov, proposal["id"], [coordinator, alice, bob], [{"choice": "yes"}] * 3)

    closed = gov.get(alice, proposal["id"])
    assert closed["status"] == "enacted" and closed["enacted"] == {"amount_cents": 1000, "members": 2}
    assert calls == [(date(2026, 1, 1), date(2026, 3, 31))]
    # Only members share the surplus: 1000 split 2:1 gives 667 and 333 (the leftover cent to the larger remainder).
    assert ledger.balance(patronage_account(alice.user.id)) == 667
    assert ledger.balance(patronage_account(bob.user.id)) == 333
    assert ledger.balance(patronage_account(outsider.id)) == 0
    assert ledger.balance(ledger.COOP_FEES) == before - 1000
    alice_lines = alice.get("/api/v1/me/shares").json
    assert alice_lines["lines"][-1]["kind"] == "patronage" and alice_lines["lines"][-1]["amount_cents"] == 667
    assert alice_lines["total_cents"] == 2500 + 667
    [allocated] = audit_entries(event="surplus.allocated")
    assert allocated.payload == {
        "amount_cents": 1000,
        "members": 2,
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
    }


def test_a_surplus_above_the_coops_fees_passes_with_an_error_and_moves_no_money(gov, fees, monkeypatch, session):
    coordinator, (alice, bob) = gov.coop(members=2)
    fees(500)
    monkeypatch.setattr("coop.ledger.paid_for_work", lambda start, end: {alice.user.id: 100})
    available = ledger.balance(ledger.COOP_FEES)
    proposal = gov.open_vote(
        alice,
        coordinator,
        kind="surplus",
        change={"amount_cents": available + 1, "period_start": "2026-01-01", "period_end": "2026-01-31"},
    )
    vote_all(gov, proposal["id"], [coordinator, alice, bob], [{"choice": "yes"}] * 3)

    closed = gov.get(alice, proposal["id"])
    assert closed["status"] == "passed" and "exceeds" in closed["result"]["error"]
    assert ledger.balance(ledger.COOP_FEES) == available
    assert session.scalar(sa.select(sa.func.count()).select_from(ShareLine).where(ShareLine.kind == "patronage")) == 0


def test_a_surplus_with_no_member_earnings_passes_with_an_error(gov, fees, monkeypatch):
    coordinator, (alice, bob) = gov.coop(members=2)
    fees(5000)
    monkeypatch.setattr("coop.ledger.paid_for_work", lambda start, end: {})
    proposal = gov.open_vote(
        alice,
        coordinator,
        kind="surplus",
        change={"amount_cents": 100, "period_start": "2026-01-01", "period_end": "2026-01-31"},
    )
    vote_all(gov, proposal["id"], [coordinator, alice, bob], [{"choice": "yes"}] * 3)
    closed = gov.get(alice, proposal["id"])
    assert closed["status"] == "passed" and "No member had approved earnings" in closed["result"]["error"]


def test_a_general_proposal_passes_without_effect(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    vote_all(gov, proposal["id"], [coordinator, alice, bob], [{"choice": "yes"}] * 3)
    closed = gov.get(alice, proposal["id"])
    assert closed["status"] == "passed" and closed["enacted"] is None and "error" not in closed["result"]
