"""Consent, score and STV votes over HTTP: proposing, ballots, the close, receipts, elections of coordinators."""

import csv
import io
import json
from datetime import timedelta

import pytest

from coop import clock

V1 = "/api/v1"
OBJECTION = "This spends the reserve we promised to keep for lean months."


def vote_all(gov, proposal_id, ballots):
    """Cast each (client, ballot) in order; every one must be a first ballot."""
    responses = []
    for voter, ballot in ballots:
        response = gov.vote(voter, proposal_id, **ballot)
        assert response.status_code == 201, response.json
        responses.append(response)
    return responses


def closed(gov, client, proposal_id) -> dict:
    """The proposal after its voting period has run out."""
    clock.advance(timedelta(days=3))
    return gov.get(client, proposal_id)


def receipts_of(client, proposal_id) -> dict:
    response = client.get(f"{V1}/proposals/{proposal_id}/receipts", query_string={"limit": 100})
    assert response.status_code == 200, response.json
    return {item["receipt"]: item["choice"] for item in response.json["items"]}


def csv_receipts_of(client, proposal_id) -> dict:
    response = client.get(f"{V1}/proposals/{proposal_id}/receipts", query_string={"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return {row["receipt"].removeprefix("'"): json.loads(row["choice"]) for row in rows}


# --- terms ------------------------------------------------------------------------------------


def test_objection_pct_is_a_founding_term_of_10_that_only_takes_1_to_100(gov, as_requester):
    assert as_requester.get(f"{V1}/terms/current").json["params"]["objection_pct"] == 10
    coordinator, (alice,) = gov.coop(members=1)
    for bad in (0, 101, "10", True):
        response = alice.post(
            f"{V1}/proposals",
            json={
                "title": "Objections",
                "body": "b",
                "kind": "terms",
                "method": "yes_no",
                "change": {"objection_pct": bad},
            },
        )
        assert response.status_code == 422 and "objection_pct" in response.json["errors"]["change"], (
            bad,
            response.json,
        )


def test_changing_objection_pct_needs_the_supermajority(gov):
    coordinator, members = gov.coop(members=4)
    proposal = gov.open_vote(members[0], coordinator, kind="terms", change={"objection_pct": 20})
    # 3 yes of 5 is 60 %: above the 50 % majority, not above the 66 % supermajority.
    choices = ["yes", "yes", "yes", "no", "no"]
    vote_all(gov, proposal["id"], [(v, {"choice": c}) for v, c in zip([coordinator, *members], choices, strict=True)])
    result = gov.get(coordinator, proposal["id"])
    assert result["status"] == "rejected" and result["result"]["threshold_pct"] == 66


# --- consent ----------------------------------------------------------------------------------


def test_consent_with_one_objection_in_eleven_passes_enacts_and_publishes_the_objection(
    gov, as_requester, audit_entries
):
    coordinator, members = gov.coop(members=10)
    proposal = gov.open_vote(
        members[0], coordinator, title="Lower the fee", kind="terms", method="consent", change={"platform_fee_pct": 9}
    )
    voters = [coordinator, *members]
    if gov.get(coordinator, proposal["id"])["eligible"] != len(voters):
        pytest.skip("other members exist in this database")
    ballots = [(voter, {"consent": True}) for voter in voters[:-1]] + [(voters[-1], {"objection": f"  {OBJECTION}  "})]
    responses = vote_all(gov, proposal["id"], ballots)

    # 1 objection in 11 ballots is 9.1 %, under the 10 % that blocks: 1 × 100 < 10 × 11.
    assert responses[-1].json["proposal_status"] == "enacted"
    result = gov.get(as_requester, proposal["id"])
    assert result["result"] == {
        "consents": 10,
        "objections": 1,
        "blocked": False,
        "objection_pct": 10,
        "passes": True,
        "ballots": 11,
        "eligible": 11,
        "quorum_pct": 20,
        "quorum_met": True,
        "turnout_pct": 100.0,
        "delegated": 0,
    }
    assert as_requester.get(f"{V1}/terms/current").json["params"]["platform_fee_pct"] == 9
    # The objection and its reason (stripped) are published with its receipt, in the JSON and the CSV.
    published = receipts_of(as_requester, proposal["id"])
    assert published[responses[-1].json["receipt"]] == {"objection": OBJECTION}
    assert sorted(map(json.dumps, published.values())) == sorted(
        [json.dumps({"consent": True})] * 10 + [json.dumps({"objection": OBJECTION})]
    )
    assert csv_receipts_of(as_requester, proposal["id"]) == published
    [closing] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.closed")
    assert closing.payload["status"] == "passed" and closing.payload["result"]["objections"] == 1
    assert closing.actor == "system"
    assert [e.event for e in audit_entries()][-3:] == ["proposal.closed", "terms.version", "proposal.enacted"]


def test_objections_reaching_the_share_block_consent(gov):
    coordinator, members = gov.coop(members=9)
    proposal = gov.open_vote(members[0], coordinator, method="consent")
    voters = [coordinator, *members]
    # 1 objection in 10 ballots is exactly 10 %: reaching the share blocks.
    vote_all(
        gov, proposal["id"], [(v, {"consent": True}) for v in voters[:9]] + [(voters[9], {"objection": OBJECTION})]
    )

    result = closed(gov, coordinator, proposal["id"])
    assert result["status"] == "rejected"
    assert result["result"]["blocked"] is True and result["result"]["passes"] is False
    assert (result["result"]["consents"], result["result"]["objections"]) == (9, 1)


def test_consent_without_quorum_is_no_quorum_even_unopposed(gov):
    coordinator, members = gov.coop(members=5)
    proposal = gov.open_vote(members[0], coordinator, method="consent")
    # 1 ballot of 6 eligible is 16.7 %, under the 20 % quorum.
    vote_all(gov, proposal["id"], [(members[0], {"consent": True})])

    result = closed(gov, coordinator, proposal["id"])
    assert result["status"] == "no_quorum" and result["result"]["passes"] is False


def test_consent_on_a_rule_also_needs_consents_above_the_supermajority(gov, adopt_terms):
    # With objection_pct at 50, 2 objections in 5 (40 %) do not block, but 3 consents in 5
    # (60 %) are not above the 66 % a rule needs: a consent vote is never a weaker bar.
    adopt_terms(objection_pct=50)
    coordinator, members = gov.coop(members=4)
    voters = [coordinator, *members]
    ballots = [{"consent": True}] * 3 + [{"objection": OBJECTION}] * 2
    rule = gov.open_vote(
        members[0], coordinator, kind="rule", method="consent", change={"rule": "tea-rota", "text": "We take turns."}
    )
    general = gov.open_vote(members[0], coordinator, method="consent")
    for proposal in (rule, general):
        vote_all(gov, proposal["id"], list(zip(voters, ballots, strict=True)))

    rule_result, general_result = gov.get(coordinator, rule["id"]), gov.get(coordinator, general["id"])
    assert rule_result["status"] == "rejected" and rule_result["result"]["threshold_pct"] == 66
    assert rule_result["result"]["blocked"] is False and rule_result["result"]["passes"] is False
    assert general_result["status"] == "passed" and "threshold_pct" not in general_result["result"]


@pytest.mark.parametrize(
    ("ballot", "field"),
    [
        ({"consent": False}, "consent"),
        ({"objection": "Too short."}, "objection"),
        ({"objection": " " * 30}, "objection"),
        ({"objection": "x" * 2001}, "objection"),
        ({"choice": "yes"}, "consent"),
        ({"scores": {"A": 1}}, "consent"),
    ],
)
def test_a_bad_consent_ballot_is_422_with_the_field_named_and_casts_nothing(gov, ballot, field):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator, method="consent")

    response = gov.vote(alice, proposal["id"], **ballot)

    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert gov.get(alice, proposal["id"])["ballots_cast"] == 0


def test_consent_and_objection_together_or_a_string_true_are_422(gov):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator, method="consent")
    assert gov.vote(alice, proposal["id"], consent=True, objection=OBJECTION).status_code == 422
    assert gov.vote(alice, proposal["id"], consent="true").status_code == 422
    assert gov.get(alice, proposal["id"])["ballots_cast"] == 0


def test_consent_proposals_take_no_options_or_seats(gov):
    coordinator, (alice,) = gov.coop(members=1)
    for extra, field in (({"options": ["A", "B"]}, "options"), ({"seats": 1}, "seats")):
        response = alice.post(
            f"{V1}/proposals", json={"title": "t", "body": "b", "kind": "general", "method": "consent", **extra}
        )
        assert response.status_code == 422 and field in response.json["errors"]


# --- score ------------------------------------------------------------------------------------

DAYS = ["Monday", "Tuesday", "Wednesday"]


def test_score_highest_mean_wins_with_each_mean_and_count_and_receipts_show_the_scores(
    gov, as_requester, audit_entries
):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator, title="Assembly day", method="score", options=DAYS)
    ballots = [
        (coordinator, {"scores": {"Monday": 5, "Tuesday": 3, "Wednesday": 0}}),
        (alice, {"scores": {"Wednesday": 5, "Tuesday": 4, "Monday": 1}}),
        (bob, {"scores": {"Monday": 2, "Tuesday": 4, "Wednesday": 5}}),
    ]
    responses = vote_all(gov, proposal["id"], ballots)

    result = closed(gov, as_requester, proposal["id"])
    # Sums 8, 11, 10 over 3 ballots: Tuesday's 3.67 is the highest mean.
    assert result["status"] == "passed"
    assert result["result"]["winner"] == "Tuesday"
    assert result["result"]["means"] == {"Monday": 2.67, "Tuesday": 3.67, "Wednesday": 3.33}
    assert result["result"]["sums"] == {"Monday": 8, "Tuesday": 11, "Wednesday": 10}
    assert result["result"]["count"] == 3 and result["result"]["ballots"] == 3
    assert result["result"]["counts"] == dict.fromkeys(DAYS, 3)
    published = receipts_of(as_requester, proposal["id"])
    assert published[responses[1].json["receipt"]] == {"scores": {"Monday": 1, "Tuesday": 4, "Wednesday": 5}}
    assert csv_receipts_of(as_requester, proposal["id"]) == published
    [closing] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.closed")
    assert closing.payload["result"]["winner"] == "Tuesday"


def test_score_tie_goes_to_the_option_listed_first(gov):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator, method="score", options=["Beach", "Forest"])
    vote_all(
        gov,
        proposal["id"],
        [(coordinator, {"scores": {"Beach": 1, "Forest": 4}}), (alice, {"scores": {"Beach": 5, "Forest": 2}})],
    )
    result = closed(gov, alice, proposal["id"])
    assert result["result"]["means"] == {"Beach": 3.0, "Forest": 3.0} and result["result"]["winner"] == "Beach"


@pytest.mark.parametrize(
    "scores",
    [
        {"Monday": 5, "Tuesday": 3},  # Wednesday missing
        {"Monday": 5, "Tuesday": 3, "Wednesday": 6},
        {"Monday": -1, "Tuesday": 3, "Wednesday": 0},
        {"Monday": True, "Tuesday": 3, "Wednesday": 0},
        {"Monday": 2.5, "Tuesday": 3, "Wednesday": 0},
        {"Monday": "5", "Tuesday": 3, "Wednesday": 0},
        {"Monday": 5, "Tuesday": 3, "Wednesday": 0, "Friday": 1},
        ["Monday"],
    ],
)
def test_a_bad_score_ballot_is_422_naming_scores_and_casts_nothing(gov, scores):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator, method="score", options=DAYS)

    response = gov.vote(alice, proposal["id"], scores=scores)

    assert response.status_code == 422 and "scores" in response.json["errors"], response.json
    assert gov.get(alice, proposal["id"])["ballots_cast"] == 0


def test_a_score_vote_needs_a_general_proposal_with_options_and_a_score_ballot(gov):
    coordinator, (alice,) = gov.coop(members=1)
    base = {"title": "t", "body": "b", "method": "score"}
    for body, field in (
        ({"kind": "general", "options": ["Only"]}, "options"),
        ({"kind": "general"}, "options"),
        ({"kind": "terms", "options": DAYS}, "kind"),
        ({"kind": "general", "options": DAYS, "change": {"x": 1}}, "change"),
        ({"kind": "general", "options": DAYS, "seats": 1}, "seats"),
    ):
        response = alice.post(f"{V1}/proposals", json={**base, **body})
        assert response.status_code == 422 and field in response.json["errors"], (body, response.json)
    proposal = gov.open_vote(alice, coordinator, method="score", options=DAYS)
    assert gov.vote(alice, proposal["id"], ranking=DAYS).status_code == 422


# --- stv --------------------------------------------------------------------------------------

FOOD = ["Oranges", "Pears", "Chocolate", "Strawberries", "Hamburgers"]


def test_stv_reproduces_the_wikipedia_food_election_through_real_ballots(gov, make, as_requester, audit_entries):
    # Wikipedia, "Single transferable vote", section "Example": 20 guests elect 3 foods
    # (mirrored at https://www.liquisearch.com/single_transferable_vote/example). Quota
    # floor(20 / 4) + 1 = 6; Chocolate elected with 12, its 6 surplus moving every Chocolate
    # ballot on at 1/2; Pears excluded, giving Oranges 6; Hamburgers excluded; Strawberries
    # take the last seat with 5.
    coordinator, members = gov.coop(members=19)
    voters = [coordinator, *members]
    proposal = gov.open_vote(members[0], coordinator, title="Party food", method="stv", options=FOOD, seats=3)
    if gov.get(coordinator, proposal["id"])["eligible"] != len(voters):
        pytest.skip("other members exist in this database")
    assert proposal["seats"] == 3
    rankings = (
        [["Oranges", "Pears"]] * 4
        + [["Pears", "Oranges"]] * 2
        + [["Chocolate", "Strawberries"]] * 8
        + [["Chocolate", "Hamburgers"]] * 4
        + [["Strawberries"]]
        + [["Hamburgers"]]
    )
    responses = vote_all(gov, proposal["id"], [(v, {"ranking": r}) for v, r in zip(voters, rankings, strict=True)])

    assert responses[-1].json["proposal_status"] == "passed"
    result = gov.get(as_requester, proposal["id"])["result"]
    assert result["quota"] == 6 and result["seats"] == 3 and result["ballots"] == 20
    assert result["elected"] == ["Chocolate", "Oranges", "Strawberries"]
    assert [r["counts"] for r in result["rounds"]] == [
        {"Oranges": "4", "Pears": "2", "Chocolate": "12", "Strawberries": "1", "Hamburgers": "1"},
        {"Oranges": "4", "Pears": "2", "Strawberries": "5", "Hamburgers": "3"},
        {"Oranges": "6", "Strawberries": "5", "Hamburgers": "3"},
        {"Strawberries": "5", "Hamburgers": "3"},
        {"Strawberries": "5"},
    ]
    assert [r["excluded"] for r in result["rounds"]] == [None, "Pears", None, "Hamburgers", None]
    assert [r["exhausted"] for r in result["rounds"]] == ["0", "0", "0", "0", "3"]
    published = receipts_of(as_requester, proposal["id"])
    assert sorted(map(tuple, (c["ranking"] for c in published.values()))) == sorted(map(tuple, rankings))
    [closing] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.closed")
    assert closing.payload["result"]["elected"] == ["Chocolate", "Oranges", "Strawberries"]


def test_stv_with_a_fractional_surplus_publishes_exact_fractions(gov):
    # Hand-worked: 4 ballots, 2 seats among A, B, C: quota floor(4 / 3) + 1 = 2.
    # A has 3 (surplus 1, each A ballot moves at 1/3): B gets 2 × 1/3 = 2/3, C 1 + 1/3 = 4/3.
    # Nobody reaches 2; B (2/3) is excluded; its 2/3 moves to C: 2, elected.
    coordinator, members = gov.coop(members=3)
    proposal = gov.open_vote(members[0], coordinator, method="stv", options=["A", "B", "C"], seats=2)
    ballots = [["A", "B", "C"], ["A", "B", "C"], ["A", "C"], ["C"]]
    vote_all(gov, proposal["id"], [(v, {"ranking": r}) for v, r in zip([coordinator, *members], ballots, strict=True)])

    result = closed(gov, coordinator, proposal["id"])["result"]
    assert result["quota"] == 2
    assert [r["counts"] for r in result["rounds"]] == [
        {"A": "3", "B": "0", "C": "1"},
        {"B": "2/3", "C": "4/3"},
        {"C": "2"},
    ]
    assert result["elected"] == ["A", "C"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"options": FOOD}, "seats"),  # no seats
        ({"options": FOOD, "seats": 5}, "seats"),  # as many seats as options
        ({"options": FOOD, "seats": 0}, "seats"),
        ({"options": FOOD, "seats": "2"}, "seats"),
        ({"options": ["Alone"], "seats": 1}, "options"),
        ({"options": FOOD, "seats": 2, "kind": "terms"}, "kind"),
        ({"options": FOOD, "seats": 2, "change": {"rule": "x"}}, "change"),
    ],
)
def test_a_bad_stv_proposal_is_422_with_the_field_named(gov, body, field):
    coordinator, (alice,) = gov.coop(members=1)
    response = alice.post(
        f"{V1}/proposals", json={"title": "t", "body": "b", "kind": "general", "method": "stv", **body}
    )
    assert response.status_code == 422 and field in response.json["errors"], response.json


@pytest.mark.parametrize("ranking", [["Oranges", "Oranges"], ["Kiwis"], "Oranges", [1]])
def test_a_bad_stv_ranking_is_422_and_casts_nothing(gov, ranking):
    coordinator, (alice,) = gov.coop(members=1)
    proposal = gov.open_vote(alice, coordinator, method="stv", options=FOOD, seats=2)
    response = gov.vote(alice, proposal["id"], ranking=ranking)
    assert response.status_code == 422 and "ranking" in response.json["errors"], response.json
    assert gov.vote(alice, proposal["id"], choice="yes").status_code == 422
    assert gov.get(alice, proposal["id"])["ballots_cast"] == 0


# --- coordinator elections ----------------------------------------------------------------------


def election(candidates, change_seats, **extra) -> dict:
    return {
        "title": "Elect coordinators",
        "body": "Seats for the spring.",
        "kind": "coordinator",
        "method": "stv",
        "change": {"seats": change_seats, "candidates": [c.id for c in candidates]},
        **extra,
    }


def test_an_election_gives_the_elected_the_role_skips_a_candidate_who_left_and_keeps_sitting_coordinators(
    gov, make, as_requester, audit_entries
):
    coordinator, (m1, m2, m3, m4, m5) = gov.coop(members=5)
    cands = [coordinator.user, m2.user, m3.user, m4.user]
    c0, c2, c3, c4 = (str(u.id) for u in cands)
    proposal = gov.propose(m1, **election(cands, 2))
    # Options are the candidates' ids as text, in the order given; seats are stored from the change.
    assert proposal["options"] == [c0, c2, c3, c4] and proposal["seats"] == 2
    [submitted] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.submitted")
    assert {k: submitted.payload[k] for k in ("title", "kind", "method")} == {
        "title": "Elect coordinators",
        "kind": "coordinator",
        "method": "stv",
    }
    gov.accept(coordinator, proposal["id"])
    # A candidate who leaves before close is passed over: ballots skip them to their next choice.
    assert m4.post(f"{V1}/membership/withdraw").status_code == 200

    # Hand-worked: m3's ballot names only the candidate who left, so 4 rankings are valid and
    # the quota is floor(4 / 3) + 1 = 2. Round 1: c0 2 (its own and the one moved on from c4),
    # c2 1, c3 1: c0 elected with no surplus. Round 2: c2 and c3 tie on 1 and on round-1
    # votes; c3 is listed last, so excluded; m5's ballot moves to c2. Round 3: c2 alone for
    # the last seat, elected.
    ballots = [
        (coordinator, {"ranking": [c4, c0]}),
        (m1, {"ranking": [c0, c2]}),
        (m2, {"ranking": [c2, c0]}),
        (m3, {"ranking": [c4]}),
        (m5, {"ranking": [c3, c2]}),
    ]
    responses = vote_all(gov, proposal["id"], ballots[:-1])
    # A coordinator not standing; made after opening, so not a voter: the vote still closes at once.
    sitting = make.coordinator()
    responses += vote_all(gov, proposal["id"], ballots[-1:])

    # Everyone still a member has voted, so the last ballot closed and enacted the election.
    assert responses[-1].json["proposal_status"] == "enacted"
    result = gov.get(as_requester, proposal["id"])
    assert result["result"]["quota"] == 2 and result["result"]["withdrawn"] == [c4]
    assert [r["counts"] for r in result["result"]["rounds"]] == [
        {c0: "2", c2: "1", c3: "1"},
        {c2: "1", c3: "1"},
        {c2: "2"},
    ]
    assert [r["excluded"] for r in result["result"]["rounds"]] == [None, c3, None]
    assert result["result"]["elected"] == [c0, c2]
    assert result["enacted"] == {"elected": [int(c0), int(c2)], "granted": [int(c2)], "coordinator": True}
    # The role is added: the elected sitting coordinator keeps it, one not standing keeps it too.
    members = {m["user_id"]: m for m in coordinator.get(f"{V1}/members", query_string={"limit": 100}).json["items"]}
    assert members[int(c0)]["is_coordinator"] and members[int(c2)]["is_coordinator"]
    assert members[sitting.id]["is_coordinator"] and not members[int(c3)]["is_coordinator"]
    granted = audit_entries(event="role.granted")
    assert [(e.subject, e.payload) for e in granted] == [
        (f"user:{c2}", {"role": "coordinator", "by": f"proposal:{proposal['id']}"})
    ]
    assert granted[0].actor == "system"
    events = [e.event for e in audit_entries()][-3:]
    assert events == ["proposal.closed", "role.granted", "proposal.enacted"]
    # The newly elected coordinator can act as one at once.
    newcomer = gov.propose(m1)
    assert m2.post(f"{V1}/proposals/{newcomer['id']}/review", json={"action": "accept"}).status_code == 200
    published = receipts_of(as_requester, proposal["id"])
    assert published[responses[3].json["receipt"]] == {"ranking": [c4]}


def test_an_election_without_quorum_grants_nothing(gov, audit_entries):
    coordinator, (m1, m2, m3, m4, m5) = gov.coop(members=5)
    proposal = gov.open_vote(m1, coordinator, **election([m2.user, m3.user, m4.user], 1))
    vote_all(gov, proposal["id"], [(m1, {"ranking": [str(m2.user.id)]})])

    result = closed(gov, m1, proposal["id"])
    assert result["status"] == "no_quorum" and result["enacted"] is None
    assert audit_entries(event="role.granted") == []


def test_an_election_where_no_ballot_counts_for_a_member_passes_and_grants_nothing(gov, adopt_terms, audit_entries):
    adopt_terms(quorum_pct=0)
    coordinator, (m1, m2, m3) = gov.coop(members=3)
    proposal = gov.open_vote(m1, coordinator, **election([m2.user, m3.user], 1))
    vote_all(gov, proposal["id"], [(m1, {"ranking": []})])

    result = closed(gov, m1, proposal["id"])
    assert result["status"] == "passed" and result["enacted"] is None
    assert result["result"]["elected"] == [] and "nobody was elected" in result["result"]["error"]
    assert audit_entries(event="role.granted") == []


def test_a_bad_election_is_422_with_the_field_named(gov, make):
    coordinator, (m1, m2, m3) = gov.coop(members=3)
    requester = make.requester()
    cands = [m2.user, m3.user]
    for body, where in (
        (election([m2.user, requester], 1), "candidates"),  # not a member
        ({**election(cands, 1), "change": {"seats": 1, "candidates": [m2.user.id, 10**9]}}, "candidates"),
        ({**election(cands, 1), "change": {"seats": 1, "candidates": [m2.user.id, m2.user.id]}}, "candidates"),
        (
            {**election(cands, 1), "change": {"seats": 1, "candidates": [str(m2.user.id), str(m3.user.id)]}},
            "candidates",
        ),
        (election(cands, 2), "seats"),  # as many seats as candidates
        (election(cands, 0), "seats"),
        ({**election(cands, 1), "change": {"candidates": [m2.user.id, m3.user.id]}}, "seats"),
        ({**election(cands, 1), "change": {"seats": 1}}, "candidates"),
    ):
        response = m1.post(f"{V1}/proposals", json=body)
        assert response.status_code == 422 and where in response.json["errors"]["change"], (body, response.json)
    for body, field in (
        (election(cands, 1, options=["a", "b"]), "options"),
        (election(cands, 1, seats=2), "seats"),
    ):
        response = m1.post(f"{V1}/proposals", json=body)
        assert response.status_code == 422 and field in response.json["errors"], response.json
    # The same seats at the top level are accepted.
    assert m1.post(f"{V1}/proposals", json=election(cands, 1, seats=1)).status_code == 201


def test_an_election_ballot_must_rank_candidate_ids_as_text(gov):
    coordinator, (m1, m2, m3) = gov.coop(members=3)
    proposal = gov.open_vote(m1, coordinator, **election([m2.user, m3.user], 1))
    assert gov.vote(m1, proposal["id"], ranking=[m2.user.id]).status_code == 422
    assert gov.vote(m1, proposal["id"], ranking=[m2.user.display_name]).status_code == 422
    assert gov.vote(m1, proposal["id"], ranking=[str(m2.user.id)]).status_code == 201


# --- denials common to the three methods ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "ballot"),
    [
        ({"method": "consent"}, {"consent": True}),
        ({"method": "score", "options": DAYS}, {"scores": dict.fromkeys(DAYS, 3)}),
        ({"method": "stv", "options": FOOD, "seats": 2}, {"ranking": FOOD[:2]}),
    ],
)
def test_ballots_of_every_method_are_refused_to_outsiders_before_opening_and_after_close(
    gov, make, anon, as_requester, overrides, ballot
):
    coordinator, (alice, bob) = gov.coop(members=2)
    submitted = gov.propose(alice, **overrides)
    assert gov.vote(alice, submitted["id"], **ballot).status_code == 409  # not open yet
    proposal = gov.accept(coordinator, submitted["id"])
    latecomer = make.client(make.member())

    assert gov.vote(anon, proposal["id"], **ballot).status_code == 401
    assert gov.vote(as_requester, proposal["id"], **ballot).status_code == 403
    assert gov.vote(latecomer, proposal["id"], **ballot).status_code == 403  # joined after opening
    assert gov.vote(alice, 10**9, **ballot).status_code == 404
    assert alice.get(f"{V1}/proposals/{proposal['id']}/receipts").status_code == 409
    assert gov.vote(alice, proposal["id"], **ballot).status_code == 201
    assert gov.vote(alice, proposal["id"], **ballot).status_code == 200  # replaced

    clock.advance(timedelta(days=3))
    assert gov.vote(bob, proposal["id"], **ballot).status_code == 409
    assert gov.get(bob, proposal["id"])["ballots_cast"] == 1
    assert (
        as_requester.post(
            f"{V1}/proposals", json={"title": "t", "body": "b", "kind": "general", **overrides}
        ).status_code
        == 403
    )
