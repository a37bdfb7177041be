"""Governance pages: who may read and act on each, ballots of every method through their forms, receipts, triage."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.forum.models import Thread
from coop.forum.services import add_post
from coop.governance.models import Amendment, Ballot, Delegation, Proposal

OPTIONS = ["Red", "Blue", "Green"]
OBJECTION = "We need a budget before we can agree to this."

# method: (proposal fields, what the form posts, the ballot recorded)
BALLOTS = {
    "yes_no": ({}, {"choice": "no"}, {"choice": "no"}),
    "approval": ({"options": OPTIONS}, {"approvals": ["Red", "Green"]}, {"approvals": ["Red", "Green"]}),
    "ranked": ({"options": OPTIONS}, {"rank-0": "2", "rank-1": "1", "rank-2": ""}, {"ranking": ["Blue", "Red"]}),
    "stv": (
        {"options": OPTIONS, "seats": 2},
        {"rank-0": "3", "rank-1": "1", "rank-2": "2"},
        {"ranking": ["Blue", "Green", "Red"]},
    ),
    "score": (
        {"options": OPTIONS},
        {"score-0": "5", "score-1": "0", "score-2": "3"},
        {"scores": {"Red": 5, "Blue": 0, "Green": 3}},
    ),
    "median": (
        {"kind": "terms", "change": {"param": "min_hourly_rate_cents"}},
        {"value": "14,50"},
        {"value": 1450},
    ),
    "consent": ({}, {"decision": "object", "objection": OBJECTION}, {"objection": OBJECTION}),
}


def html(response) -> str:
    return response.get_data(as_text=True)


def ballot_of(session, proposal_id: int, member) -> Ballot | None:
    return session.scalar(sa.select(Ballot).where(Ballot.proposal_id == proposal_id, Ballot.member_id == member.id))


@pytest.fixture
def voters(make, gov):
    """A coordinator and a member, as users and API clients."""
    coordinator, member = make.coordinator(), make.member()
    return coordinator, member, make.client(coordinator), make.client(member)


def open_vote(gov, voters, method="yes_no", **fields):
    _, _, coordinator_api, member_api = voters
    return gov.open_vote(member_api, coordinator_api, method=method, **fields)


# --- public pages ----------------------------------------------------------------------------


def test_the_terms_in_force_are_public_with_readable_labels_and_money(pages):
    response = pages().get("/terms")
    page = html(response)
    assert response.status_code == 200
    assert "<h1>Terms in force</h1>" in page and "<title>Terms in force" in page
    assert "Minimum hourly pay" in page and "€13.00 an hour" in page
    assert "Price of the membership share" in page and "€25.00" in page
    assert "Founding terms." in page
    assert "min_hourly_rate_cents" not in re.sub(r'id="param-[a-z_]+"', "", page)


def test_the_terms_history_says_what_each_version_changed_and_which_proposal_adopted_it(pages, adopt_terms):
    terms = adopt_terms(min_hourly_rate_cents=1500)
    terms.adopted_by = 7
    page = html(pages().get("/terms/history"))
    assert f"Version {terms.version}" in page
    assert "€13.00 an hour → <strong>€15.00 an hour</strong>" in page
    assert 'href="/proposals/7"' in page


def test_rules_and_one_rule_are_public(pages):
    index = pages().get("/rules")
    assert index.status_code == 200 and 'href="/rules/bylaws"' in html(index)
    rule = pages().get("/rules/bylaws")
    assert rule.status_code == 200 and "<h1>" in html(rule)
    assert pages().get("/rules/no-such-rule").status_code == 404


def test_the_french_terms_page_is_in_french(pages):
    page = html(pages(lang="fr").get("/terms"))
    assert '<html lang="fr">' in page
    assert "Conditions en vigueur" in page and "Salaire horaire minimum" in page
    assert "13,00\xa0€" in page


def test_the_menu_shows_each_reader_what_they_may_use(pages, make):
    anonymous = html(pages().get("/terms"))
    assert 'href="/terms"' in anonymous and 'href="/rules"' in anonymous
    assert 'href="/proposals"' not in anonymous
    member = html(pages(make.member()).get("/terms"))
    assert 'href="/proposals"' in member and 'href="/coordination/proposals"' not in member
    assert 'href="/coordination/proposals"' in html(pages(make.coordinator()).get("/terms"))


# --- proposals: list, detail, new, amend, co-sign ---------------------------------------------------


def test_the_proposal_list_asks_to_sign_in_and_shows_time_left_and_whether_you_voted(pages, gov, voters, session):
    _, member, _, member_api = voters
    assert pages().get("/proposals").status_code in (302, 303)
    voted = open_vote(gov, voters, title="Voted on")
    open_vote(gov, voters, title="Not yet")
    assert gov.vote(member_api, voted["id"], choice="yes").status_code == 201
    page = html(pages(member).get("/proposals"))
    assert "Voted on" in page and "Not yet" in page
    assert "Closes in 3 days." in page
    assert page.count("You voted.") == 1 and page.count("You have not voted.") == 1
    closed = html(pages(member).get("/proposals?show=closed"))
    assert "Voted on" not in closed


def test_a_member_writes_a_terms_proposal_with_parameter_fields(pages, make, session):
    member = make.member()
    browser = pages(member)
    assert browser.get("/proposals/new").status_code == 200
    response = browser.post(
        "/proposals/new",
        {
            "title": "Raise the floor",
            "body": "Pay keeps falling behind rents.",
            "kind": "terms",
            "method": "yes_no",
            "param-min_hourly_rate_cents": "14.50",
            "param-delegation_allowed": "",
        },
    )
    assert response.status_code == 303, html(response)
    proposal = session.scalar(sa.select(Proposal).where(Proposal.title == "Raise the floor"))
    assert proposal.change == {"min_hourly_rate_cents": 1450} and proposal.status == "submitted"
    page = html(browser.get(response.headers["Location"]))
    assert "Minimum hourly pay" in page and "€14.50 an hour (now €13.00 an hour)" in page
    assert f'href="/forum/threads/{proposal.thread_id}"' in page


def test_a_proposal_the_terms_refuse_shows_the_error_beside_the_parameter(pages, make, session):
    response = pages(make.member()).post(
        "/proposals/new",
        {"title": "Fee", "body": "Too much.", "kind": "terms", "method": "yes_no", "param-platform_fee_pct": "150"},
    )
    assert response.status_code == 422
    assert 'id="param-platform_fee_pct-errors"' in html(response)
    assert session.scalar(sa.select(Proposal).where(Proposal.title == "Fee")) is None


def test_a_ranked_proposal_takes_its_options_one_a_line(pages, make, session):
    response = pages(make.member()).post(
        "/proposals/new",
        {"title": "Logo", "body": "Pick one.", "kind": "general", "method": "ranked", "options": "Red\nBlue\n\nGreen"},
    )
    assert response.status_code == 303, html(response)
    assert session.scalar(sa.select(Proposal.options).where(Proposal.title == "Logo")) == OPTIONS


def test_only_members_may_write_proposals(pages, make):
    response = pages(make.worker()).get("/proposals/new")
    assert response.status_code == 403 and "Only members can make proposals." in html(response)


def test_a_member_amends_and_the_author_accepts_through_the_pages(pages, make, gov, session):
    author, other = make.member(), make.member()
    proposal = gov.propose(make.client(author), title="Assembly")
    amended = pages(other).post(
        f"/proposals/{proposal['id']}/amend", {"body": "Let us meet in June.", "reason": "A date helps."}
    )
    assert amended.status_code == 303, html(amended)
    amendment = session.scalar(sa.select(Amendment).where(Amendment.proposal_id == proposal["id"]))
    assert amendment.body == "Let us meet in June." and amendment.status == "pending"
    author_browser = pages(author)
    assert "Accept this amendment" in html(author_browser.get(f"/proposals/{proposal['id']}"))
    assert author_browser.post(f"/amendments/{amendment.id}/accept").status_code == 303
    assert session.get(Proposal, proposal["id"]).body == "Let us meet in June."


def test_an_amendment_without_a_reason_is_refused_beside_the_field(pages, make, gov):
    proposal = gov.propose(make.client(make.member()))
    response = pages(make.member()).post(f"/proposals/{proposal['id']}/amend", {"body": "Other text", "reason": " "})
    assert response.status_code == 422 and 'id="reason-errors"' in html(response)


def test_members_cosign_through_the_page(pages, make, gov, session):
    proposal = gov.propose(make.client(make.member()))
    member = make.member()
    assert pages(member).post(f"/proposals/{proposal['id']}/cosign").status_code == 303
    assert session.get(Proposal, proposal["id"]).cosigner_count == 1
    again = pages(member).post(f"/proposals/{proposal['id']}/cosign")
    assert again.status_code in (200, 409)
    assert session.get(Proposal, proposal["id"]).cosigner_count == 1


# --- ballots -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(BALLOTS))
def test_a_ballot_of_each_method_is_recorded_through_its_form_and_shows_the_receipt(
    method, pages, gov, voters, session
):
    fields, form, recorded = BALLOTS[method]
    _, member, _, _ = voters
    proposal = open_vote(gov, voters, method=method, **fields)
    browser = pages(member)
    page = html(browser.get(f"/proposals/{proposal['id']}"))
    assert "Cast my ballot" in page
    response = browser.post(f"/proposals/{proposal['id']}/ballot", form)
    assert response.status_code == 303, html(response)
    ballot = ballot_of(session, proposal["id"], member)
    assert ballot is not None and ballot.choice == recorded
    assert ballot.receipt in html(browser.get(response.headers["Location"]))


def test_the_ranked_form_labels_a_rank_choice_for_every_option(pages, gov, voters):
    proposal = open_vote(gov, voters, method="ranked", options=OPTIONS)
    page = html(pages(voters[1]).get(f"/proposals/{proposal['id']}"))
    for index, option in enumerate(OPTIONS):
        assert f'<label for="rank-{index}">Rank for {option}</label>' in page
        assert f'<select id="rank-{index}" name="rank-{index}"' in page


def test_with_htmx_the_ballot_answers_with_the_receipt_alone(pages, gov, voters, session):
    _, member, _, _ = voters
    proposal = open_vote(gov, voters)
    response = pages(member).post(
        f"/proposals/{proposal['id']}/ballot", {"choice": "yes"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in html(response)
    assert ballot_of(session, proposal["id"], member).receipt in html(response)


def test_duplicate_ranks_are_refused_beside_the_fields_and_nothing_is_recorded(pages, gov, voters, session):
    _, member, _, _ = voters
    proposal = open_vote(gov, voters, method="ranked", options=OPTIONS)
    response = pages(member).post(f"/proposals/{proposal['id']}/ballot", {"rank-0": "1", "rank-1": "1", "rank-2": "2"})
    page = html(response)
    assert response.status_code == 422
    assert 'id="rank-0-errors"' in page and 'id="rank-1-errors"' in page and 'id="rank-2-errors"' not in page
    assert "Rank 1 is given to more than one option." in page
    assert ballot_of(session, proposal["id"], member) is None


def test_a_too_short_objection_is_refused_by_the_vote_beside_its_field(pages, gov, voters, session):
    _, member, _, _ = voters
    proposal = open_vote(gov, voters, method="consent")
    response = pages(member).post(f"/proposals/{proposal['id']}/ballot", {"decision": "object", "objection": "No."})
    assert response.status_code == 422 and 'id="objection-errors"' in html(response)
    assert ballot_of(session, proposal["id"], member) is None


def test_a_non_member_is_told_why_they_cannot_vote_and_cannot_post_a_ballot(pages, make, gov, voters, session):
    worker = make.worker()
    proposal = open_vote(gov, voters)
    page = html(pages(worker).get(f"/proposals/{proposal['id']}"))
    assert "Only members can vote." in page and "Cast my ballot" not in page
    refused = pages(worker).post(f"/proposals/{proposal['id']}/ballot", {"choice": "yes"})
    assert refused.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_a_member_who_joined_after_voting_opened_is_told_they_cannot_vote(pages, make, gov, voters):
    proposal = open_vote(gov, voters)
    page = html(pages(make.member()).get(f"/proposals/{proposal['id']}"))
    assert "Only those who were members when voting opened can vote on this proposal." in page


# --- results and receipts --------------------------------------------------------------------------------


def test_the_receipt_lookup_finds_a_cast_ballot_after_close(pages, gov, voters, frozen_clock):
    _, member, _, _ = voters
    proposal = open_vote(gov, voters)
    browser = pages(member)
    browser.post(f"/proposals/{proposal['id']}/ballot", {"choice": "yes", "reason": "Overdue."})
    early = browser.get(f"/proposals/{proposal['id']}/results")
    assert early.status_code == 409
    receipt = gov.get(voters[3], proposal["id"])  # the API shows no receipts before close
    assert receipt["receipts"] is None
    clock.advance(timedelta(days=30))
    results = browser.get(f"/proposals/{proposal['id']}/results")
    assert results.status_code == 200
    published = re.search(r"<code>([0-9a-f]{32})</code>", html(results)).group(1)
    found = html(browser.get(f"/proposals/{proposal['id']}/results?receipt={published}"))
    assert "This ballot was counted as cast:" in found and "Overdue." in found
    assert f"/api/v1/proposals/{proposal['id']}/receipts?format=csv" in found
    missing = html(browser.get(f"/proposals/{proposal['id']}/results?receipt={'0' * 32}"))
    assert "No counted ballot has this receipt." in missing


def test_ranked_results_show_every_round(pages, make, gov, voters, frozen_clock):
    coordinator, member, coordinator_api, member_api = voters
    proposal = open_vote(gov, voters, method="ranked", options=OPTIONS)
    gov.vote(member_api, proposal["id"], ranking=["Green", "Blue"])
    gov.vote(coordinator_api, proposal["id"], ranking=["Blue"])
    clock.advance(timedelta(days=30))
    page = html(pages(member).get(f"/proposals/{proposal['id']}/results"))
    assert "Votes in each round of the instant runoff" in page
    assert "Round 2" in page and "Winner: Blue" in page


# --- delegation ------------------------------------------------------------------------------------------------


def test_a_member_chooses_and_revokes_a_delegate(pages, make, session):
    member, delegate = make.member(), make.member()
    browser = pages(member)
    assert browser.get("/delegation").status_code == 200
    assert browser.post("/delegation", {"action": "set", "delegate_id": str(delegate.id)}).status_code == 303
    assert session.get(Delegation, member.id).delegate_id == delegate.id
    assert f"You delegate to {delegate.display_name}." in html(browser.get("/delegation"))
    assert browser.post("/delegation", {"action": "revoke"}).status_code == 303
    assert session.get(Delegation, member.id) is None


def test_delegating_to_yourself_is_refused_beside_the_field(pages, make):
    member = make.member()
    response = pages(member).post("/delegation", {"action": "set", "delegate_id": str(member.id)})
    assert response.status_code == 422 and 'id="delegate_id-errors"' in html(response)


def test_workers_have_no_delegation_page(pages, make):
    assert pages(make.worker()).get("/delegation").status_code == 403


# --- triage --------------------------------------------------------------------------------------------------------


def test_a_coordinator_accepts_a_proposal_from_the_triage_page(pages, make, gov, session):
    coordinator = make.coordinator()
    proposal = gov.propose(make.client(make.member()), title="Picnic")
    browser = pages(coordinator)
    page = html(browser.get("/coordination/proposals"))
    assert "Picnic" in page and f'id="reason-{proposal["id"]}"' in page
    response = browser.post(
        f"/coordination/proposals/{proposal['id']}/review", {"action": "accept", "voting_days": "5"}
    )
    assert response.status_code == 303, html(response)
    assert session.get(Proposal, proposal["id"]).status == "open"


def test_sending_back_needs_a_public_reason(pages, make, gov, session):
    coordinator = make.coordinator()
    proposal = gov.propose(make.client(make.member()))
    browser = pages(coordinator)
    refused = browser.post(f"/coordination/proposals/{proposal['id']}/review", {"action": "return", "reason": ""})
    assert refused.status_code == 422 and f'id="reason-{proposal["id"]}-errors"' in html(refused)
    assert session.get(Proposal, proposal["id"]).status == "submitted"
    sent = browser.post(
        f"/coordination/proposals/{proposal['id']}/review", {"action": "return", "reason": "Too vague."}
    )
    assert sent.status_code == 303
    assert session.get(Proposal, proposal["id"]).review_reason == "Too vague."


@pytest.mark.parametrize("who", ["worker", "member", "requester"])
def test_only_coordinators_see_the_triage(pages, make, gov, who, session):
    user = getattr(make, who)()
    proposal = gov.propose(make.client(make.member()))
    browser = pages(user)
    assert browser.get("/coordination/proposals").status_code == 403
    response = browser.post(f"/coordination/proposals/{proposal['id']}/review", {"action": "accept"})
    assert response.status_code == 403
    assert session.get(Proposal, proposal["id"]).status == "submitted"


# --- query budget --------------------------------------------------------------------------------------------------


def test_the_proposal_list_with_twenty_proposals_stays_within_budget(pages, gov, voters, count_queries):
    _, member, _, member_api = voters
    for n in range(20):
        proposal = open_vote(gov, voters, title=f"Proposal {n}")
        if n % 2:
            gov.vote(member_api, proposal["id"], choice="yes")
    browser = pages(member)
    with count_queries() as counted:
        response = browser.get("/proposals")
    assert response.status_code == 200 and html(response).count("Closes in") == 20
    assert counted.count <= 15, counted.statements


def test_a_proposal_with_amendments_and_thirty_posts_stays_within_budget(pages, make, gov, session, count_queries):
    author = make.member()
    proposal = gov.propose(make.client(author))
    for n in range(5):
        amender = make.client(make.member())
        response = amender.post(
            f"/api/v1/proposals/{proposal['id']}/amendments", json={"body": f"Version {n}", "reason": "Better."}
        )
        assert response.status_code == 201, response.json
    thread = session.get(Thread, proposal["thread_id"])
    for n in range(30):
        add_post(author, thread, f"Post {n}")
    browser = pages(author)
    with count_queries() as counted:
        response = browser.get(f"/proposals/{proposal['id']}")
    assert response.status_code == 200 and html(response).count("Accept this amendment") == 5
    assert counted.count <= 15, counted.statements


def test_ranked_results_stay_within_budget(pages, make, gov, voters, frozen_clock, count_queries):
    coordinator, member, coordinator_api, member_api = voters
    others = [make.client(make.member()) for _ in range(4)]
    proposal = open_vote(gov, voters, method="ranked", options=OPTIONS)
    for n, client in enumerate([coordinator_api, member_api, *others]):
        gov.vote(client, proposal["id"], ranking=[OPTIONS[n % 3], OPTIONS[(n + 1) % 3]])
    clock.advance(timedelta(days=30))
    browser = pages(member)
    browser.get(f"/proposals/{proposal['id']}/results")  # closes the vote
    with count_queries() as counted:
        response = browser.get(f"/proposals/{proposal['id']}/results?receipt=abc")
    assert response.status_code == 200 and "Round 1" in html(response)
    assert counted.count <= 15, counted.statements


def test_with_htmx_a_bad_ballot_comes_back_with_its_errors_and_records_nothing(pages, gov, voters, session):
    _, member, _, _ = voters
    proposal = open_vote(gov, voters, method="score", options=OPTIONS)
    response = pages(member).post(
        f"/proposals/{proposal['id']}/ballot", {"score-0": "5", "score-1": "9"}, headers={"HX-Request": "true"}
    )
    page = html(response)
    assert "<html" not in page and 'id="score-1-errors"' in page and 'id="score-2-errors"' in page
    assert ballot_of(session, proposal["id"], member) is None


RESULT_TEXT = {
    "yes_no": '<th scope="row">No</th><td>1</td>',
    "approval": "Approvals per option",
    "ranked": "Winner: Blue",
    "stv": "Votes in each round of the count",
    "score": "Scores per option",
    "median": "Median of 1 values for Minimum hourly pay: €14.50 an hour",
    "consent": "Objections block at 10% of ballots:",
}


@pytest.mark.parametrize("method", sorted(BALLOTS))
def test_the_results_of_each_method_show_their_count_and_the_receipt(method, pages, gov, voters, frozen_clock):
    fields, form, _ = BALLOTS[method]
    _, member, _, _ = voters
    proposal = open_vote(gov, voters, method=method, **fields)
    browser = pages(member)
    browser.post(f"/proposals/{proposal['id']}/ballot", form)
    clock.advance(timedelta(days=30))
    response = browser.get(f"/proposals/{proposal['id']}/results")
    page = html(response)
    assert response.status_code == 200
    assert RESULT_TEXT[method] in page
    assert len(re.findall(r"<td><code>[0-9a-f]{32}</code></td>", page)) == 1


def test_the_author_records_the_outcome_of_a_closed_proposal(pages, gov, voters, session, frozen_clock):
    _, member, _, _ = voters
    proposal = open_vote(gov, voters)
    clock.advance(timedelta(days=30))
    browser = pages(member)
    assert "Record the outcome" in html(browser.get(f"/proposals/{proposal['id']}"))
    refused = browser.post(f"/proposals/{proposal['id']}/outcome", {"statement": " "})
    assert refused.status_code == 422 and 'id="statement-errors"' in html(refused)
    response = browser.post(f"/proposals/{proposal['id']}/outcome", {"statement": "We met in June."})
    assert response.status_code == 303
    assert session.get(Proposal, proposal["id"]).outcome.statement == "We met in June."


def test_an_election_of_coordinators_is_proposed_and_ranked_by_name(pages, make, gov, session):
    proposer, coordinator = make.member(), make.coordinator()
    candidates = [make.member() for _ in range(3)]
    response = pages(proposer).post(
        "/proposals/new",
        {
            "title": "Elect coordinators",
            "body": "Two seats.",
            "kind": "coordinator",
            "method": "stv",
            "seats": "2",
            "candidates": [str(c.id) for c in candidates],
        },
    )
    assert response.status_code == 303, html(response)
    proposal = session.scalar(sa.select(Proposal).where(Proposal.title == "Elect coordinators"))
    assert proposal.change == {"seats": 2, "candidates": [c.id for c in candidates]}
    gov.accept(make.client(coordinator), proposal.id)
    page = html(pages(proposer).get(f"/proposals/{proposal.id}"))
    assert f'<label for="rank-0">Rank for {candidates[0].display_name}</label>' in page


def test_a_terms_proposal_is_amended_through_its_parameter_fields(pages, make, gov, session):
    proposal = gov.propose(make.client(make.member()), kind="terms", change={"min_hourly_rate_cents": 1400})
    browser = pages(make.member())
    form = html(browser.get(f"/proposals/{proposal['id']}/amend"))
    assert 'name="param-min_hourly_rate_cents" type="text" value="14"' in form
    response = browser.post(
        f"/proposals/{proposal['id']}/amend",
        {"body": proposal["body"], "param-min_hourly_rate_cents": "15", "reason": "Rents rose again."},
    )
    assert response.status_code == 303, html(response)
    amendment = session.scalar(sa.select(Amendment).where(Amendment.proposal_id == proposal["id"]))
    assert amendment.change == {"min_hourly_rate_cents": 1500} and amendment.body is None
