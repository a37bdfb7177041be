"""On PostgreSQL, with real commits: amendments decided while the vote opens, or together, never half-apply."""

import threading

import sqlalchemy as sa

from coop.accounts import services as accounts
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Amendment, Proposal, ProposalVersion
from tests.governance.test_vote_concurrency import make_member


def at_once(app, calls: list[tuple[str, str, dict | None]]):
    """Post every (token, url, body) from its own thread, released together; the responses in order."""
    barrier = threading.Barrier(len(calls))
    responses = [None] * len(calls)

    def post(index, token, url, body):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post(url, json=body or {}, headers={"Authorization": f"Bearer {token}"})

    threads = [threading.Thread(target=post, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def proposal_with_amendments(author, amender, bodies: list[str]) -> tuple[int, list[int]]:
    proposal = governance.create_proposal(
        author, {"title": "Meet", "body": "Let us meet.", "kind": "general", "method": "yes_no"}
    )
    amendments = [governance.propose_amendment(amender, proposal, {"body": b, "reason": "Clearer."}) for b in bodies]
    db.session.commit()
    return proposal.id, [a.id for a in amendments]


def test_an_amendment_accepted_as_the_vote_opens_is_either_in_the_vote_or_lapsed(postgres_only, app, committed):
    (author, author_token), (amender, _) = make_member("author"), make_member("amender")
    coordinator, coordinator_token = make_member("coordinator")
    accounts.set_roles(coordinator, coordinator=True)
    proposal_id, (amendment_id,) = proposal_with_amendments(author, amender, ["Let us meet on Tuesday."])

    accepted, opened = at_once(
        app,
        [
            (author_token, f"/api/v1/amendments/{amendment_id}/accept", None),
            (coordinator_token, f"/api/v1/proposals/{proposal_id}/review", {"action": "accept"}),
        ],
    )

    db.session.remove()
    proposal, amendment = db.session.get(Proposal, proposal_id), db.session.get(Amendment, amendment_id)
    assert opened.status_code == 200 and proposal.status == "open"
    if accepted.status_code == 200:
        assert (amendment.status, proposal.version, proposal.body) == ("accepted", 2, "Let us meet on Tuesday.")
    else:
        assert accepted.status_code == 409
        assert (amendment.status, proposal.version, proposal.body) == ("lapsed", 1, "Let us meet.")


def test_amendments_accepted_together_make_one_version_each(postgres_only, app, committed):
    (author, author_token), (amender, _) = make_member("author"), make_member("amender")
    proposal_id, amendment_ids = proposal_with_amendments(author, amender, ["On Tuesday.", "On Friday."])

    responses = at_once(app, [(author_token, f"/api/v1/amendments/{a}/accept", None) for a in amendment_ids])

    assert [r.status_code for r in responses] == [200, 200]
    assert sorted(r.get_json()["version"] for r in responses) == [2, 3]
    db.session.remove()
    numbers = db.session.scalars(sa.select(ProposalVersion.number).where(ProposalVersion.proposal_id == proposal_id))
    assert sorted(numbers) == [1, 2, 3]
    assert db.session.get(Proposal, proposal_id).version == 3
