"""Amendments: proposing one before the vote, the author's accept or decline, versions kept, co-signers told."""

import pytest
import sqlalchemy as sa

from coop.forum.models import Board, Post, Thread
from coop.governance.models import Amendment

RAISE_PAY = {"kind": "terms", "method": "yes_no", "change": {"min_hourly_rate_cents": 1500}}
V1 = "/api/v1"


def amend(client, proposal_id: int, **body):
    return client.post(f"{V1}/proposals/{proposal_id}/amendments", json={"reason": "Clearer.", **body})


def amended(client, proposal_id: int, **body) -> dict:
    response = amend(client, proposal_id, **body)
    assert response.status_code == 201, response.json
    return response.json


def accept(client, amendment_id: int):
    return client.post(f"{V1}/amendments/{amendment_id}/accept")


def decline(client, amendment_id: int, reason="Out of scope."):
    return client.post(f"{V1}/amendments/{amendment_id}/decline", json={"reason": reason})


def versions(client, proposal_id: int) -> list[dict]:
    response = client.get(f"{V1}/proposals/{proposal_id}/versions")
    assert response.status_code == 200, response.json
    return response.json["items"]


def amendment_rows(session, proposal_id: int) -> list[Amendment]:
    return list(session.scalars(sa.select(Amendment).where(Amendment.proposal_id == proposal_id)))


# --- the discussion thread --------------------------------------------------------------------


def test_a_new_proposal_opens_its_thread_on_the_proposals_board(gov, make, session):
    alice = make.client(make.member())
    proposal = gov.propose(alice, title="Buy a second server")

    thread = session.get(Thread, proposal["thread_id"])
    assert thread.board.slug == "proposals" and thread.board.visibility == "members"
    assert thread.title == "Buy a second server" and thread.author_id == alice.user.id
    shown = alice.get(f"{V1}/forum/threads/{thread.id}").json
    assert shown["thread"]["title"] == "Buy a second server"
    [first] = shown["posts"]["items"]
    assert f"/api/v1/proposals/{proposal['id']}" in first["body"] and "Let us meet." in first["body"]


def test_the_proposals_board_is_made_on_demand_where_the_coop_was_founded_before_it(gov, as_member, session):
    session.execute(sa.delete(Board).where(Board.slug == "proposals"))
    proposal = gov.propose(as_member)
    assert session.get(Thread, proposal["thread_id"]).board.slug == "proposals"


def test_a_refused_proposal_opens_no_thread(as_member, session):
    threads = session.scalar(sa.select(sa.func.count()).select_from(Thread))
    response = as_member.post(
        f"{V1}/proposals", json={"title": "Raise", "body": "More.", "kind": "terms", "method": "yes_no"}
    )
    assert response.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(Thread)) == threads


def test_members_discuss_a_proposal_in_its_thread_and_others_cannot_read_it(gov, make, as_worker, as_requester):
    alice, bob = make.client(make.member()), make.client(make.member())
    thread_id = gov.propose(alice)["thread_id"]
    assert bob.post(f"{V1}/forum/threads/{thread_id}/posts", json={"body": "Which Tuesday?"}).status_code == 201
    assert as_worker.get(f"{V1}/forum/threads/{thread_id}").status_code == 403
    assert as_requester.get(f"{V1}/forum/threads/{thread_id}").status_code == 403


# --- proposing -------------------------------------------------------------------------------


def test_any_member_proposes_an_amendment_and_everyone_signed_in_reads_it(gov, make, as_requester, audit_entries):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal = gov.propose(alice)

    amendment = amended(bob, proposal["id"], body="Let us meet on Tuesday.", reason="  A day helps.  ")

    assert amendment["status"] == "pending" and amendment["author"] == bob.user.display_name
    assert (amendment["body"], amendment["options"], amendment["change"]) == ("Let us meet on Tuesday.", None, None)
    assert amendment["reason"] == "A day helps." and amendment["based_on_version"] == 1
    listed = as_requester.get(f"{V1}/proposals/{proposal['id']}/amendments").json["items"]
    assert [a["id"] for a in listed] == [amendment["id"]]
    assert gov.get(alice, proposal["id"])["body"] == "Let us meet."  # nothing changes until accepted
    [entry] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.amendment_proposed")
    assert entry.payload == {
        "amendment_id": amendment["id"],
        "fields": ["body"],
        "version": 1,
        "reason": "A day helps.",
    }
    assert entry.actor.startswith(bob.user.display_name)


def test_an_amendments_options_are_normalised_as_a_new_proposals_are(gov, make):
    alice = make.client(make.member())
    proposal = gov.propose(alice, method="ranked", options=["Tuesday", "Thursday"])
    amendment = amended(alice, proposal["id"], options=[" Monday ", "Tuesday", "Thursday"])
    assert amendment["options"] == ["Monday", "Tuesday", "Thursday"]


@pytest.mark.parametrize(
    "proposal, body, field",
    [
        # the same rules as a new proposal, from the same checks
        ({}, {"options": ["A", "B"]}, "options"),
        ({"method": "ranked", "options": ["A", "B"]}, {"options": ["A", "A"]}, "options"),
        ({"method": "ranked", "options": ["A", "B"]}, {"options": ["A"]}, "options"),
        ({}, {"change": {"min_hourly_rate_cents": 1500}}, "change"),
        (RAISE_PAY, {"change": {"min_hourly_rate_cents": -5}}, "change"),
        (RAISE_PAY, {"change": {"no_such_parameter": 1}}, "change"),
        ({}, {"body": "x" * 20_001}, "body"),
        ({}, {"body": ""}, "body"),
        # an amendment must change something
        ({}, {"body": "Let us meet."}, "body"),
        (RAISE_PAY, {"change": {"min_hourly_rate_cents": 1500}}, "change"),
        # and say why
        ({}, {"body": "Let us meet soon.", "reason": "   "}, "reason"),
        ({}, {"body": "Let us meet soon.", "reason": None}, "reason"),
        ({}, {"reason": "Nothing to amend."}, "_schema"),
        ({}, {"body": None, "options": None, "change": None}, "_schema"),
    ],
)
def test_an_invalid_amendment_is_refused_naming_the_field_and_records_nothing(
    gov, make, session, audit_entries, proposal, body, field
):
    alice = make.client(make.member())
    proposal_id = gov.propose(alice, **proposal)["id"]

    response = amend(alice, proposal_id, **body)

    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert amendment_rows(session, proposal_id) == []
    assert audit_entries(event="proposal.amendment_proposed") == []


def test_an_amendment_without_a_reason_is_refused(gov, as_member):
    proposal_id = gov.propose(as_member)["id"]
    response = as_member.post(f"{V1}/proposals/{proposal_id}/amendments", json={"body": "Soon."})
    assert response.status_code == 422 and "reason" in response.json["errors"]


def test_a_returned_proposal_may_still_be_amended(gov, make):
    coordinator, (alice,) = gov.coop(members=1)
    proposal_id = gov.propose(alice)["id"]
    returned = coordinator.post(f"{V1}/proposals/{proposal_id}/review", json={"action": "return", "reason": "Vague."})
    assert returned.json["status"] == "returned"
    assert amend(alice, proposal_id, body="Let us meet on Tuesday at noon.").status_code == 201


def test_an_amendment_after_voting_opened_is_a_conflict(gov, make, session):
    coordinator, (alice,) = gov.coop(members=1)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    response = amend(alice, proposal_id, body="Too late.")
    assert response.status_code == 409 and "before its vote opens" in response.json["message"]
    assert amendment_rows(session, proposal_id) == []


def test_only_members_amend_and_an_unknown_proposal_is_404(gov, as_member, as_worker, as_requester):
    proposal_id = gov.propose(as_member)["id"]
    assert amend(as_worker, proposal_id, body="Me too.").status_code == 403
    assert amend(as_requester, proposal_id, body="Me too.").status_code == 403
    assert amend(as_member, 999_999, body="Nowhere.").status_code == 404


# --- accepting -------------------------------------------------------------------------------


def test_the_author_accepts_an_amendment_and_the_proposal_changes_keeping_its_versions(gov, make, audit_entries):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal = gov.propose(alice, **RAISE_PAY)
    amendment = amended(bob, proposal["id"], change={"min_hourly_rate_cents": 1600}, body="Raise it to 16 €.")

    response = accept(alice, amendment["id"])

    assert response.status_code == 200, response.json
    assert response.json["status"] == "accepted" and response.json["version"] == 2
    now = gov.get(bob, proposal["id"])
    assert (now["version"], now["body"], now["change"]) == (2, "Raise it to 16 €.", {"min_hourly_rate_cents": 1600})
    history = versions(bob, proposal["id"])
    assert [(v["number"], v["change"], v["amendment_id"]) for v in history] == [
        (1, {"min_hourly_rate_cents": 1500}, None),
        (2, {"min_hourly_rate_cents": 1600}, amendment["id"]),
    ]
    assert history[0]["body"] == "Let us meet."
    [entry] = audit_entries(subject=f"proposal:{proposal['id']}", event="proposal.amendment_accepted")
    assert entry.payload == {"amendment_id": amendment["id"], "fields": ["body", "change"], "version": 2}
    # Nobody co-signed, so there is nobody to tell.
    assert audit_entries(event="proposal.cosigners_told") == []


def test_an_amendment_replaces_only_its_own_fields_on_the_version_in_force(gov, make):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal_id = gov.propose(alice, method="approval", options=["Tuesday", "Thursday"])["id"]
    new_text = amended(bob, proposal_id, body="Pick the days that suit you.")
    new_days = amended(bob, proposal_id, options=["Monday", "Friday"])

    assert accept(alice, new_text["id"]).status_code == 200
    assert accept(alice, new_days["id"]).json["version"] == 3

    now = gov.get(alice, proposal_id)
    assert (now["body"], now["options"]) == ("Pick the days that suit you.", ["Monday", "Friday"])
    assert [v["number"] for v in versions(alice, proposal_id)] == [1, 2, 3]


def test_co_signatures_stay_after_an_accepted_amendment_and_the_co_signers_are_told(
    gov, make, audit_entries, adopt_terms
):
    adopt_terms(petition_pct=100)  # two signatures do not yet open the vote
    coordinator, (alice, bob, carol) = gov.coop(members=3)
    proposal_id = gov.propose(alice)["id"]
    for signer in (bob, carol):
        assert signer.post(f"{V1}/proposals/{proposal_id}/cosign").status_code == 200
    amendment = amended(bob, proposal_id, body="Let us meet on Tuesday.")

    assert accept(alice, amendment["id"]).status_code == 200

    shown = gov.get(alice, proposal_id)
    assert shown["cosigners"] == 2 and shown["status"] == "submitted"
    [told] = audit_entries(subject=f"proposal:{proposal_id}", event="proposal.cosigners_told")
    assert told.payload == {"amendment_id": amendment["id"], "version": 2, "cosigners": 2}
    # Who signed is not published.
    assert bob.user.display_name not in str(told.payload) and told.actor == "system"


def test_only_the_proposals_author_accepts_or_declines(gov, make, session):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal_id = gov.propose(alice)["id"]
    amendment = amended(bob, proposal_id, body="Let us meet on Tuesday.")

    for outsider in (bob, coordinator):
        assert accept(outsider, amendment["id"]).status_code == 403
        assert decline(outsider, amendment["id"]).status_code == 403
    assert accept(make.client(make.worker()), amendment["id"]).status_code == 403
    assert [a.status for a in amendment_rows(session, proposal_id)] == ["pending"]
    assert gov.get(alice, proposal_id)["version"] == 1


def test_an_unknown_amendment_is_404(as_member):
    assert accept(as_member, 999_999).status_code == 404
    assert decline(as_member, 999_999).status_code == 404


def test_an_amendment_is_decided_once(gov, make):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal_id = gov.propose(alice)["id"]
    taken = amended(bob, proposal_id, body="Let us meet on Tuesday.")
    refused = amended(bob, proposal_id, body="Let us meet on Friday.")
    assert accept(alice, taken["id"]).status_code == 200
    assert decline(alice, refused["id"]).status_code == 200

    for amendment_id in (taken["id"], refused["id"]):
        assert accept(alice, amendment_id).status_code == 409
        assert decline(alice, amendment_id).status_code == 409
    assert gov.get(alice, proposal_id)["version"] == 2


def test_pending_amendments_lapse_when_voting_opens_and_cannot_be_decided(gov, make, session):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal_id = gov.propose(alice)["id"]
    amendment = amended(bob, proposal_id, body="Let us meet on Tuesday.")
    gov.accept(coordinator, proposal_id)

    listed = bob.get(f"{V1}/proposals/{proposal_id}/amendments").json["items"]
    assert [a["status"] for a in listed] == ["lapsed"]
    response = accept(alice, amendment["id"])
    assert response.status_code == 409
    assert decline(alice, amendment["id"]).status_code == 409
    assert gov.get(alice, proposal_id)["body"] == "Let us meet."


def test_accepting_checks_the_amendment_again_against_the_terms_of_now(gov, make, adopt_terms, session):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal_id = gov.propose(alice, **RAISE_PAY)["id"]
    amendment = amended(bob, proposal_id, change={"min_hourly_rate_cents": 1600})
    # Meanwhile another vote put 16 € in force: the amended proposal would change nothing.
    adopt_terms(min_hourly_rate_cents=1600)

    response = accept(alice, amendment["id"])

    assert response.status_code == 422, response.json
    assert "change" in response.json["errors"]
    assert [a.status for a in amendment_rows(session, proposal_id)] == ["pending"]
    assert gov.get(alice, proposal_id)["change"] == {"min_hourly_rate_cents": 1500}
    assert decline(alice, amendment["id"], reason="Overtaken by the terms.").status_code == 200


# --- declining -------------------------------------------------------------------------------


def test_the_author_declines_with_a_public_reason_and_the_proposal_stays(gov, make, audit_entries):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal_id = gov.propose(alice)["id"]
    amendment = amended(bob, proposal_id, body="Let us not meet.")

    response = decline(alice, amendment["id"], reason="  That is another proposal.  ")

    assert response.status_code == 200, response.json
    assert response.json["status"] == "declined" and response.json["decline_reason"] == "That is another proposal."
    assert response.json["version"] is None
    shown = gov.get(bob, proposal_id)
    assert (shown["version"], shown["body"]) == (1, "Let us meet.")
    assert len(versions(bob, proposal_id)) == 1
    [entry] = audit_entries(subject=f"proposal:{proposal_id}", event="proposal.amendment_declined")
    assert entry.payload == {"amendment_id": amendment["id"], "reason": "That is another proposal."}


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}])
def test_declining_needs_a_reason(gov, make, session, body):
    alice, bob = make.client(make.member()), make.client(make.member())
    proposal_id = gov.propose(alice)["id"]
    amendment = amended(bob, proposal_id, body="Let us not meet.")
    response = alice.post(f"{V1}/amendments/{amendment['id']}/decline", json=body)
    assert response.status_code == 422 and "reason" in response.json["errors"]
    assert [a.status for a in amendment_rows(session, proposal_id)] == ["pending"]


def test_a_new_proposals_first_post_is_by_its_author(gov, as_member, session):
    thread_id = gov.propose(as_member)["thread_id"]
    [post] = session.scalars(sa.select(Post).where(Post.thread_id == thread_id))
    assert post.author_id == as_member.user.id
