"""Ballots: one per member, receipts, closing exactly once, secrecy, tallies over HTTP."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.governance import services
from coop.governance.models import Ballot


def test_first_ballot_is_201_with_a_receipt_and_a_recast_replaces_it_with_a_new_one(gov, session):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)

    first = gov.vote(alice, proposal["id"], choice="yes")
    second = gov.vote(alice, proposal["id"], choice="no")

    assert first.status_code == 201 and second.status_code == 200
    assert first.json["receipt"] != second.json["receipt"] and len(first.json["receipt"]) >= 20
    assert first.json["proposal_status"] == "open"
    [ballot] = session.scalars(sa.select(Ballot).where(Ballot.proposal_id == proposal["id"]))
    assert ballot.choice == {"choice": "no"} and ballot.receipt == second.json["receipt"]
    assert gov.get(bob, proposal["id"])["ballots_cast"] == 1


def test_the_vote_closes_at_once_when_the_last_eligible_member_votes(gov):
    coordinator, members = gov.coop(members=2)
    proposal = gov.open_vote(members[0], coordinator)
    eligible = gov.get(coordinator, proposal["id"])["eligible"]
    voters = [coordinator, *members]
    assert eligible == services.members_count()
    if eligible != len(voters):
        pytest.skip("other members exist in this database")

    for voter in voters[:-1]:
        assert gov.vote(voter, proposal["id"], choice="yes").json["proposal_status"] == "open"
    last = gov.vote(voters[-1], proposal["id"], choice="no")

    assert last.json["proposal_status"] == "passed"
    closed = gov.get(coordinator, proposal["id"])
    assert closed["result"]["yes"] == 2 and closed["result"]["no"] == 1 and closed["result"]["turnout_pct"] == 100.0
    assert closed["closed_at"]
    assert gov.vote(voters[0], proposal["id"], choice="no").status_code == 409


def test_receipts_are_published_after_close_only_the_latest_each_with_its_choice(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    stale = gov.vote(alice, proposal["id"], choice="no").json["receipt"]
    alice_receipt = gov.vote(alice, proposal["id"], choice="yes").json["receipt"]
    bob_receipt = gov.vote(bob, proposal["id"], choice="abstain").json["receipt"]
    assert gov.get(bob, proposal["id"])["receipts"] is None

    clock.advance(timedelta(days=3))
    closed = gov.get(bob, proposal["id"])

    receipts = {r["receipt"]: r["choice"] for r in closed["receipts"]}
    assert receipts == {alice_receipt: {"choice": "yes"}, bob_receipt: {"choice": "abstain"}}
    assert stale not in receipts
    assert [r["receipt"] for r in closed["receipts"]] == sorted(receipts)
    # Anyone can recount from the receipts.
    recount = [r["choice"]["choice"] for r in closed["receipts"]]
    assert (recount.count("yes"), recount.count("no"), recount.count("abstain")) == (
        closed["result"]["yes"],
        closed["result"]["no"],
        closed["result"]["abstain"],
    )


def test_no_response_links_a_member_to_a_choice(gov, as_requester):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    gov.vote(alice, proposal["id"], choice="yes")
    gov.vote(bob, proposal["id"], choice="no")
    clock.advance(timedelta(days=3))

    closed = gov.get(as_requester, proposal["id"])
    listed = as_requester.get("/api/v1/proposals").json

    for payload in (closed, listed):
        text = json.dumps(payload)
        for voter in (alice.user, bob.user):
            assert voter.email not in text and f'"member_id": {voter.id}' not in text
        assert "voters" not in text
    assert {frozenset(r) for r in closed["receipts"]} == {frozenset({"receipt", "choice", "reason", "weight"})}
    # Only the proposer's pseudonym appears, as the proposer.
    assert bob.user.display_name not in json.dumps(closed)


def test_audit_entries_of_a_vote_carry_counts_never_ballots_or_voters(gov, audit_entries):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    opened_at_seq = audit_entries()[-1].seq
    receipts = [
        gov.vote(alice, proposal["id"], choice="yes").json["receipt"],
        gov.vote(bob, proposal["id"], choice="no").json["receipt"],
        gov.vote(coordinator, proposal["id"], choice="yes").json["receipt"],
    ]

    entries = audit_entries(subject=f"proposal:{proposal['id']}")

    assert [e.event for e in entries] == [
        "proposal.submitted",
        "proposal.reviewed",
        "proposal.opened",
        "proposal.closed",
    ]
    closed = entries[-1]
    # Closed by the system, not by whoever voted last.
    assert closed.actor == "system"
    assert closed.payload["result"]["yes"] == 2 and closed.payload["result"]["ballots"] == 3
    everything = json.dumps([(e.actor, e.payload) for e in audit_entries()])
    assert not any(receipt in everything for receipt in receipts)
    since_opening = json.dumps([(e.event, e.actor, e.payload) for e in audit_entries() if e.seq > opened_at_seq])
    for voter in (alice, bob, coordinator):
        assert voter.user.display_name not in since_opening
    assert '"choice"' not in since_opening


def test_a_vote_is_closed_once_by_the_tick_and_not_again(gov, audit_entries):
    coordinator, (alice, _bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    gov.vote(alice, proposal["id"], choice="yes")

    assert services.tick(clock.now()) == "nothing due"
    clock.advance(timedelta(days=3))
    assert services.tick(clock.now()) == "closed 1 proposal(s)"
    assert services.tick(clock.now()) == "nothing due"
    assert gov.get(alice, proposal["id"])["status"] == "passed"
    assert len(audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.closed")) == 1


def test_the_cli_tick_closes_due_votes(gov, app):
    coordinator, (alice, _bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    clock.advance(timedelta(days=4))
    result = app.test_cli_runner().invoke(args=["coop", "tick"])
    assert "governance: closed 1 proposal(s)" in result.output
    assert gov.get(alice, proposal["id"])["status"] == "no_quorum"


def test_reading_a_due_proposal_closes_it_and_later_ballots_are_refused(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    gov.vote(alice, proposal["id"], choice="yes")
    clock.advance(timedelta(days=3))

    assert gov.get(bob, proposal["id"])["status"] == "passed"
    late = gov.vote(bob, proposal["id"], choice="no")
    assert late.status_code == 409 and "closed" in late.json["message"]


def test_a_ballot_after_closes_at_is_refused_even_before_anyone_closed_the_vote(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    gov.vote(alice, proposal["id"], choice="yes")
    clock.advance(timedelta(days=3, seconds=1))

    assert gov.vote(bob, proposal["id"], choice="no").status_code == 409
    closed = gov.get(bob, proposal["id"])
    assert closed["ballots_cast"] == 1 and closed["result"]["no"] == 0


def test_too_few_ballots_is_no_quorum(gov, adopt_terms):
    adopt_terms(quorum_pct=60)
    coordinator, members = gov.coop(members=4)
    proposal = gov.open_vote(members[0], coordinator)
    eligible = gov.get(coordinator, proposal["id"])["eligible"]
    needed = -(-60 * eligible // 100)
    for voter in members[: needed - 1]:
        gov.vote(voter, proposal["id"], choice="yes")
    clock.advance(timedelta(days=3))
    closed = gov.get(coordinator, proposal["id"])
    assert closed["status"] == "no_quorum" and closed["result"]["quorum_met"] is False


def test_abstentions_count_for_quorum_but_not_for_the_majority(gov):
    coordinator, members = gov.coop(members=3)
    proposal = gov.open_vote(members[0], coordinator)
    gov.vote(members[0], proposal["id"], choice="yes")
    gov.vote(members[1], proposal["id"], choice="abstain")
    gov.vote(members[2], proposal["id"], choice="abstain")
    clock.advance(timedelta(days=3))
    closed = gov.get(coordinator, proposal["id"])
    assert closed["status"] == "passed"
    assert closed["result"]["quorum_met"] is True and closed["result"]["yes"] == 1


def test_an_exact_half_of_yes_is_rejected(gov):
    coordinator, members = gov.coop(members=3)
    proposal = gov.open_vote(members[0], coordinator)
    gov.vote(members[0], proposal["id"], choice="yes")
    gov.vote(members[1], proposal["id"], choice="no")
    clock.advance(timedelta(days=3))
    assert gov.get(coordinator, proposal["id"])["status"] == "rejected"


def test_thresholds_are_those_in_force_when_the_vote_opened(gov, adopt_terms):
    coordinator, members = gov.coop(members=3)
    proposal = gov.open_vote(members[0], coordinator)
    gov.vote(members[0], proposal["id"], choice="yes")
    adopt_terms(quorum_pct=100)
    clock.advance(timedelta(days=3))
    closed = gov.get(coordinator, proposal["id"])
    assert closed["status"] == "passed" and closed["result"]["quorum_pct"] == 20


def test_a_withdrawn_members_ballot_stays_counted_but_they_cannot_vote_again(gov):
    coordinator, (alice, bob, carol) = gov.coop(members=3)
    proposal = gov.open_vote(alice, coordinator)
    gov.vote(bob, proposal["id"], choice="no")
    assert bob.post("/api/v1/membership/withdraw").status_code == 200

    assert gov.vote(bob, proposal["id"], choice="yes").status_code == 403
    clock.advance(timedelta(days=3))
    closed = gov.get(alice, proposal["id"])
    assert closed["result"]["no"] == 1 and closed["ballots_cast"] == 1


def test_the_vote_does_not_wait_for_members_who_withdrew_without_voting(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    if gov.get(alice, proposal["id"])["eligible"] != 3:
        pytest.skip("other members exist in this database")
    bob.post("/api/v1/membership/withdraw")
    gov.vote(alice, proposal["id"], choice="yes")
    assert gov.vote(coordinator, proposal["id"], choice="yes").json["proposal_status"] == "passed"


def test_members_who_joined_after_opening_cannot_vote(gov, make):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator)
    newcomer = make.client(make.member())
    response = gov.vote(newcomer, proposal["id"], choice="yes")
    assert response.status_code == 403 and "when voting opened" in response.json["message"]


def test_non_members_cannot_vote(gov, as_worker, as_requester, anon):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator)
    for client in (as_worker, as_requester):
        assert gov.vote(client, proposal["id"], choice="yes").status_code == 403
    assert gov.vote(anon, proposal["id"], choice="yes").status_code == 401
    assert gov.vote(alice, 999999, choice="yes").status_code == 404


def test_nobody_votes_before_the_vote_opens(gov, as_member):
    proposal = gov.propose(as_member)
    response = gov.vote(as_member, proposal["id"], choice="yes")
    assert response.status_code == 409 and "not opened" in response.json["message"]


@pytest.mark.parametrize(
    "method, options, ballot",
    [
        ("yes_no", None, {"choice": "maybe"}),
        ("yes_no", None, {"approvals": ["yes"]}),
        ("yes_no", None, {"choice": "yes", "value": 1}),
        ("yes_no", None, {}),
        ("approval", ["A", "B"], {"approvals": ["A", "Z"]}),
        ("approval", ["A", "B"], {"approvals": ["A", "A"]}),
        ("approval", ["A", "B"], {"choice": "yes"}),
        ("ranked", ["A", "B", "C"], {"ranking": ["A", "A"]}),
        ("ranked", ["A", "B", "C"], {"ranking": ["D"]}),
        ("ranked", ["A", "B", "C"], {"ranking": "AB"}),
    ],
)
def test_an_invalid_ballot_is_422_and_records_nothing(gov, session, method, options, ballot):
    coordinator, (alice,) = gov.coop(members=1)
    kind = "general"
    proposal = gov.open_vote(alice, coordinator, kind=kind, method=method, options=options)
    response = gov.vote(alice, proposal["id"], **ballot)
    assert response.status_code == 422, response.json
    assert response.json["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_an_approval_vote_counts_approvals_and_breaks_ties_by_option_order(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator, method="approval", options=["Lisbon", "Lagos", "Lima"])
    gov.vote(alice, proposal["id"], approvals=["Lima", "Lagos"])
    gov.vote(bob, proposal["id"], approvals=["Lima", "Lagos"])
    gov.vote(coordinator, proposal["id"], approvals=[])
    closed = gov.get(alice, proposal["id"])
    assert closed["status"] == "passed"
    assert closed["result"]["counts"] == {"Lisbon": 0, "Lagos": 2, "Lima": 2}
    assert closed["result"]["winner"] == "Lagos"
    assert closed["enacted"] is None
    assert sorted(r["choice"]["approvals"] for r in closed["receipts"]) == [[], ["Lagos", "Lima"], ["Lagos", "Lima"]]


def test_a_ranked_vote_runs_an_instant_runoff(gov):
    coordinator, members = gov.coop(members=4)
    if services.members_count() != 5:
        pytest.skip("other members exist in this database")
    proposal = gov.open_vote(members[0], coordinator, method="ranked", options=["A", "B", "C"])
    for voter, ranking in zip(
        [coordinator, *members], [["A"], ["A"], ["B", "A"], ["C", "B"], ["C", "B"]], strict=False
    ):
        gov.vote(voter, proposal["id"], ranking=ranking)
    closed = gov.get(coordinator, proposal["id"])
    # B goes first (fewest), its ballot moves to A: A 3, C 2.
    assert closed["result"]["rounds"] == [{"A": 2, "B": 1, "C": 2}, {"A": 3, "C": 2}]
    assert closed["result"]["winner"] == "A" and closed["status"] == "passed"


def test_the_ballot_route_documents_how_ties_are_broken(client):
    operation = client.get("/api/openapi.json").json["paths"]["/api/v1/proposals/{proposal_id}/ballot"]["post"]
    assert {"200", "201", "422"} <= set(operation["responses"])
    for rule in (
        "a tie goes to the option listed first",
        "fewest first preferences",
        "lower median",
        "exact tie with the threshold fails",
    ):
        assert rule in " ".join(operation["description"].split())
