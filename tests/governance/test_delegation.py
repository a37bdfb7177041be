"""Delegation: naming, replacing and removing a delegate; refusals; audit; chains, cycles and overrides at close."""

import csv
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coop import clock
from coop.governance import services, voting
from coop.governance.models import Ballot, Delegation
from coop.governance.services.ballots import BALLOT_FIELDS

URL = "/api/v1/me/delegation"


def delegate(client, to) -> dict:
    response = client.put(URL, json={"delegate_id": to.user.id})
    assert response.status_code == 200, response.json
    return response.json


def close(gov, reader, proposal_id: int) -> dict:
    clock.advance(timedelta(days=30))
    proposal = gov.get(reader, proposal_id)
    assert proposal["status"] not in ("open", "submitted"), proposal
    return proposal


def published(reader, proposal_id: int) -> list[dict]:
    """Every published receipt, read page by page."""
    items, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = reader.get(f"/api/v1/proposals/{proposal_id}/receipts", query_string=query).json
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def weights_by_receipt(receipts: list[dict]) -> dict[str, int]:
    return {r["receipt"]: r["weight"] for r in receipts}


# --- naming a delegate ----------------------------------------------------------------


def test_a_member_names_a_delegate_who_sees_only_how_many_delegate_to_them(gov):
    _, (alice, bob) = gov.coop(members=2)

    named = delegate(alice, bob)

    assert named["delegate"] == {"user_id": bob.user.id, "display_name": bob.user.display_name, "is_member": True}
    assert named["set_at"] and named["delegators"] == 0 and named["delegation_allowed"] is True
    assert alice.get(URL).json == named
    seen_by_bob = bob.get(URL).json
    assert seen_by_bob["delegate"] is None and seen_by_bob["delegators"] == 1
    assert alice.user.display_name not in json.dumps(seen_by_bob)


def test_naming_another_delegate_replaces_the_first_and_removing_ends_it(gov):
    _, (alice, bob, carol) = gov.coop(members=3)
    delegate(alice, bob)

    replaced = delegate(alice, carol)

    assert replaced["delegate"]["user_id"] == carol.user.id
    assert bob.get(URL).json["delegators"] == 0 and carol.get(URL).json["delegators"] == 1
    removed = alice.delete(URL)
    assert removed.status_code == 200 and removed.json["delegate"] is None and removed.json["set_at"] is None
    assert carol.get(URL).json["delegators"] == 0
    again = alice.delete(URL)
    assert again.status_code == 409 and "no delegate" in again.json["message"]


def test_a_delegate_who_leaves_is_shown_as_no_longer_a_member_and_stops_counting_delegators(gov):
    _, (alice, bob) = gov.coop(members=2)
    delegate(alice, bob)
    delegate(bob, alice)

    assert bob.post("/api/v1/membership/withdraw").status_code == 200

    shown = alice.get(URL).json
    assert shown["delegate"]["is_member"] is False
    # Bob's own delegation ended with his membership.
    assert shown["delegators"] == 0


# --- refusals --------------------------------------------------------------------------


def test_only_members_delegate_read_or_remove_a_delegation(gov, make, anon, as_worker, as_requester):
    _, (alice,) = gov.coop(members=1)
    body = {"delegate_id": alice.user.id}

    for client in (as_worker, as_requester):
        assert client.put(URL, json=body).status_code == 403
        assert client.get(URL).status_code == 403
        assert client.delete(URL).status_code == 403
    assert anon.put(URL, json=body).status_code == 401
    assert anon.get(URL).status_code == 401
    assert alice.get(URL).json["delegators"] == 0


def test_yourself_or_someone_who_is_not_a_member_is_refused_with_the_field_named(gov, make, as_requester):
    _, (alice, bob) = gov.coop(members=2)
    worker = make.worker()
    assert bob.post("/api/v1/membership/withdraw").status_code == 200

    for target in (alice.user, worker, as_requester.user, bob.user):
        response = alice.put(URL, json={"delegate_id": target.id})
        assert response.status_code == 422, (target, response.json)
        assert "delegate_id" in response.json["errors"]
    assert "own delegate" in alice.put(URL, json={"delegate_id": alice.user.id}).json["message"]
    assert alice.get(URL).json["delegate"] is None


@pytest.mark.parametrize("body", [{}, {"delegate_id": "two"}, {"delegate_id": None}, {"delegate_id": 1, "x": 1}])
def test_a_malformed_body_is_422(gov, body):
    _, (alice,) = gov.coop(members=1)
    assert alice.put(URL, json=body).status_code == 422
    assert alice.get(URL).json["delegate"] is None


def test_an_id_that_names_no_one_is_422_like_a_non_member(gov):
    _, (alice,) = gov.coop(members=1)
    response = alice.put(URL, json={"delegate_id": 999_999_999})
    assert response.status_code == 422 and "999999999" in response.json["message"]
    assert "delegate_id" in response.json["errors"]


def test_while_the_terms_forbid_delegation_naming_is_409_but_removing_still_works(gov, adopt_terms):
    _, (alice, bob, carol) = gov.coop(members=3)
    delegate(alice, bob)
    adopt_terms(delegation_allowed=False)

    refused = carol.put(URL, json={"delegate_id": bob.user.id})

    assert refused.status_code == 409 and "delegation_allowed" in refused.json["message"]
    assert carol.get(URL).json["delegate"] is None and carol.get(URL).json["delegation_allowed"] is False
    assert alice.delete(URL).status_code == 200


def test_delegation_allowed_is_a_founding_term_changed_only_with_a_boolean(gov):
    coordinator, (alice,) = gov.coop(members=1)
    assert alice.get("/api/v1/terms/current").json["params"]["delegation_allowed"] is True
    bad = alice.post(
        "/api/v1/proposals",
        json={
            "title": "No delegation",
            "body": "...",
            "kind": "terms",
            "method": "yes_no",
            "change": {"delegation_allowed": "no"},
        },
    )
    assert bad.status_code == 422
    good = gov.propose(alice, kind="terms", change={"delegation_allowed": False})
    assert good["change"] == {"delegation_allowed": False}


# --- audit --------------------------------------------------------------------------------


def test_each_change_is_audited_without_naming_either_member(gov, audit_entries):
    _, (alice, bob, carol) = gov.coop(members=3)

    delegate(alice, bob)
    delegate(alice, bob)  # the same delegate again changes nothing
    delegate(carol, bob)
    delegate(alice, carol)
    alice.delete(URL)
    alice.delete(URL)  # refused: nothing to remove
    alice.put(URL, json={"delegate_id": alice.user.id})  # refused

    entries = audit_entries(subject="delegation")
    assert [(e.event, e.payload["delegating_members"]) for e in entries] == [
        ("delegation.set", 1),
        ("delegation.set", 2),
        ("delegation.set", 2),
        ("delegation.removed", 1),
    ]
    names = {c.user.display_name for c in (alice, bob, carol)}
    for entry in entries:
        # A count, and neither pseudonym nor id.
        assert entry.actor == "a member" and set(entry.payload) == {"delegating_members"}
        assert not any(name in json.dumps(entry.payload) for name in names)


# --- at close ---------------------------------------------------------------------------


def test_chains_count_for_their_first_voter_cycles_for_no_one_and_your_own_ballot_overrides(gov, audit_entries):
    coordinator, (alice, bob, carol, dave, erin, frank, gina) = gov.coop(members=7)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    delegate(bob, alice)
    delegate(carol, bob)  # carol -> bob -> alice
    delegate(erin, dave)  # erin votes herself
    delegate(frank, gina)
    delegate(gina, frank)  # a cycle with no voter
    delegate(coordinator, frank)  # into that cycle
    receipts = {
        "alice": gov.vote(alice, proposal_id, choice="yes").json["receipt"],
        "dave": gov.vote(dave, proposal_id, choice="no").json["receipt"],
        "erin": gov.vote(erin, proposal_id, choice="yes").json["receipt"],
    }

    closed = close(gov, bob, proposal_id)

    result = closed["result"]
    assert (result["yes"], result["no"], result["abstain"]) == (4, 1, 0)
    assert result["ballots"] == 5 and result["delegated"] == 2 and result["eligible"] == 8
    assert closed["ballots_cast"] == 3
    assert weights_by_receipt(closed["receipts"]) == {receipts["alice"]: 3, receipts["dave"]: 1, receipts["erin"]: 1}
    # The close is audited with the counts, never who delegated to whom.
    [entry] = audit_entries(subject=f"proposal:{proposal_id}", event="proposal.closed")
    assert entry.payload["result"]["delegated"] == 2
    assert "weight" not in json.dumps(entry.payload)


def test_a_cycle_through_a_voter_counts_for_that_voter(gov):
    coordinator, (alice, bob, carol) = gov.coop(members=3)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    delegate(alice, bob)
    delegate(bob, carol)
    delegate(carol, alice)
    receipt = gov.vote(bob, proposal_id, choice="no").json["receipt"]

    closed = close(gov, alice, proposal_id)

    # alice -> bob (voted); carol -> alice -> bob.
    assert closed["result"]["no"] == 3 and closed["result"]["delegated"] == 2
    assert weights_by_receipt(closed["receipts"]) == {receipt: 3}


def test_a_chain_passes_only_through_members_who_may_vote_on_the_proposal(gov, make):
    coordinator, (alice, bob, carol, dave) = gov.coop(members=4)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    late = make.client(make.member())  # joined after the vote opened: not eligible
    delegate(late, alice)
    delegate(carol, late)  # carol -> late -> alice: stops at late
    delegate(dave, bob)  # bob votes, then leaves
    alice_receipt = gov.vote(alice, proposal_id, choice="yes").json["receipt"]
    bob_receipt = gov.vote(bob, proposal_id, choice="no").json["receipt"]
    assert bob.post("/api/v1/membership/withdraw").status_code == 200

    closed = close(gov, alice, proposal_id)

    # Bob's own ballot still counts once; nobody counts through him, late, or carol's chain.
    assert (closed["result"]["yes"], closed["result"]["no"], closed["result"]["delegated"]) == (1, 1, 0)
    assert weights_by_receipt(closed["receipts"]) == {alice_receipt: 1, bob_receipt: 1}


def test_a_member_who_left_counts_for_no_one_through_their_delegate(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    delegate(bob, alice)
    gov.vote(alice, proposal_id, choice="yes")
    assert bob.post("/api/v1/membership/withdraw").status_code == 200

    assert close(gov, alice, proposal_id)["result"]["yes"] == 1


def test_delegation_counts_only_when_the_terms_the_vote_opened_under_allowed_it(gov, adopt_terms):
    coordinator, (alice, bob) = gov.coop(members=2)
    delegate(bob, alice)
    adopt_terms(delegation_allowed=False)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    adopt_terms(delegation_allowed=True)
    receipt = gov.vote(alice, proposal_id, choice="yes").json["receipt"]

    closed = close(gov, alice, proposal_id)

    assert closed["result"]["yes"] == 1 and closed["result"]["delegated"] == 0
    assert weights_by_receipt(closed["receipts"]) == {receipt: 1}


def test_delegated_members_count_toward_quorum(gov, adopt_terms):
    coordinator, (alice, bob, carol, dave) = gov.coop(members=4)
    adopt_terms(quorum_pct=60)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    gov.vote(alice, proposal_id, choice="yes")
    gov.vote(bob, proposal_id, choice="yes")
    delegate(carol, alice)

    closed = close(gov, alice, proposal_id)

    # 3 of 5 eligible are counted: alice, bob and carol through alice.
    assert closed["result"]["quorum_met"] is True and closed["status"] == "passed"
    assert closed["result"]["turnout_pct"] == 60.0


def test_changes_after_the_close_do_not_touch_the_result_or_the_weights(gov):
    coordinator, (alice, bob, carol) = gov.coop(members=3)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    delegate(bob, alice)
    gov.vote(alice, proposal_id, choice="yes")
    gov.vote(carol, proposal_id, choice="no")
    before = close(gov, alice, proposal_id)

    delegate(bob, carol)
    delegate(coordinator, carol)
    after = gov.get(alice, proposal_id)

    assert after["result"] == before["result"] and after["receipts"] == before["receipts"]
    assert published(alice, proposal_id) == before["receipts"]


# --- the recount --------------------------------------------------------------------------

BALLOTS = {
    "yes_no": ["yes", "no", "abstain", "yes"],
    "approval": [["A"], ["B", "C"], ["A", "C"], []],
    "ranked": [["A", "B"], ["B"], ["C", "A"], ["B", "A", "C"]],
    "median": [30, 45, 60, 45],
}


def recount(proposal: dict, receipts: list[dict]) -> dict:
    """The tally anyone can redo from the published receipts: each choice times its receipt's weight."""
    field = BALLOT_FIELDS[proposal["method"]]
    pairs = [(r["choice"][field], r["weight"]) for r in receipts]
    if proposal["method"] == "yes_no":
        counted = voting.tally_yes_no_grouped(pairs, proposal["eligible"])
    elif proposal["method"] == "approval":
        counted = voting.tally_approval_grouped(pairs, proposal["options"])
    elif proposal["method"] == "ranked":
        counted = voting.tally_ranked_grouped(pairs, proposal["options"])
    else:
        counted = voting.tally_median_grouped(pairs)
    counted["ballots"] = sum(weight for _, weight in pairs)
    counted["delegated"] = counted["ballots"] - len(receipts)
    return counted


@pytest.mark.parametrize("method", list(BALLOTS))
def test_the_tally_recomputed_from_the_published_receipts_and_weights_equals_the_result(gov, method):
    coordinator, members = gov.coop(members=9)
    voters, delegators = members[:4], members[4:]
    overrides = {"method": method}
    if method in ("approval", "ranked"):
        overrides["options"] = ["A", "B", "C"]
    if method == "median":
        overrides.update(kind="terms", change={"param": "claim_lease_minutes"})
    proposal_id = gov.open_vote(voters[0], coordinator, **overrides)["id"]
    # Chains of several lengths onto different voters, a voter who delegates, and a cycle.
    for who, to in [
        (delegators[0], voters[0]),
        (delegators[1], voters[0]),
        (delegators[2], delegators[1]),
        (delegators[3], voters[1]),
        (voters[2], voters[3]),
        (delegators[4], coordinator),
        (coordinator, delegators[4]),
    ]:
        delegate(who, to)
    field = BALLOT_FIELDS[method]
    for voter, ballot in zip(voters, BALLOTS[method], strict=True):
        assert gov.vote(voter, proposal_id, **{field: ballot}).status_code == 201

    closed = close(gov, voters[0], proposal_id)

    receipts = published(voters[0], proposal_id)
    assert receipts == closed["receipts"]
    assert sorted(r["weight"] for r in receipts) == [1, 1, 2, 4]
    recounted = recount(closed, receipts)
    assert {key: closed["result"][key] for key in recounted} == recounted
    assert recounted["ballots"] == 8 and recounted["delegated"] == 4
    csv_response = voters[0].get(f"/api/v1/proposals/{proposal_id}/receipts", query_string={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    from_csv = [
        {"receipt": row["receipt"], "choice": json.loads(row["choice"]), "weight": int(row["weight"])} for row in rows
    ]
    assert recount(closed, from_csv) == recounted


# --- secrecy ------------------------------------------------------------------------------


def test_no_published_response_says_who_delegates_to_whom(gov, as_requester):
    coordinator, (alice, bob, carol) = gov.coop(members=3)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    delegate(bob, alice)
    delegate(carol, bob)
    gov.vote(alice, proposal_id, choice="yes")
    close(gov, alice, proposal_id)

    delegators = {bob.user.display_name, carol.user.display_name}
    for reader in (alice, coordinator, as_requester):
        texts = [
            reader.get(f"/api/v1/proposals/{proposal_id}").text,
            reader.get(f"/api/v1/proposals/{proposal_id}/receipts").text,
            reader.get(f"/api/v1/proposals/{proposal_id}/receipts", query_string={"format": "csv"}).text,
            reader.get("/api/v1/proposals").text,
        ]
        assert not any(name in text for name in delegators for text in texts)
    # Alice learns how many name her, never who.
    assert alice.get(URL).json["delegators"] == 1 and bob.get(URL).json["delegators"] == 1


# --- the close against a reference walk of the chains ----------------------------------------


def walked_weights(delegations: dict[int, int], voters: set[int]) -> dict[int, int]:
    """The rules walked forward, member by member: the weight each voter's ballot should carry."""
    weights = dict.fromkeys(voters, 1)
    for member, current in delegations.items():
        if member in voters:
            continue
        seen = {member}
        while current not in voters and current not in seen and current in delegations:
            seen.add(current)
            current = delegations[current]
        if current in voters:
            weights[current] += 1
    return weights


SIZE = 8
graphs = st.tuples(
    st.lists(st.one_of(st.none(), st.integers(0, SIZE - 1)), min_size=SIZE, max_size=SIZE),
    st.sets(st.integers(0, SIZE - 1)),
)


@pytest.fixture
def chain_coop(make):
    """A coordinator and SIZE members, made once for all the examples (each starts by clearing their delegations)."""
    return make.coordinator(), [make.member() for _ in range(SIZE)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=graphs)
def test_the_close_weighs_every_ballot_as_walking_each_chain_would(chain_coop, session, graph):
    targets, voting = graph
    coordinator, members = chain_coop
    session.execute(sa.delete(Delegation).where(Delegation.member_id.in_([m.id for m in members])))
    delegations = {}
    for index, target in enumerate(targets):
        if target is not None and target != index:
            session.add(Delegation(member_id=members[index].id, delegate_id=members[target].id, set_at=clock.now()))
            delegations[members[index].id] = members[target].id
    proposal = services.create_proposal(
        coordinator, {"title": "Weigh", "body": "Check.", "kind": "general", "method": "yes_no"}
    )
    services.review_proposal(coordinator, proposal, "accept")
    for index in voting:
        services.cast_ballot(members[index], proposal, {"choice": "yes"})
    clock.advance(timedelta(days=30))

    proposal = services.close_if_due(proposal)

    voters = {members[index].id for index in voting}
    stored = dict(
        session.execute(sa.select(Ballot.member_id, Ballot.weight).where(Ballot.proposal_id == proposal.id)).all()
    )
    expected = walked_weights(delegations, voters)
    assert stored == expected
    assert proposal.result["yes"] == sum(expected.values())
    assert proposal.result["delegated"] == sum(expected.values()) - len(voters)
    clock.reset()
