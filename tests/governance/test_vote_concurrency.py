"""On PostgreSQL, with real commits: concurrent ballots leave one ballot per member and a tally that matches."""

import threading
import uuid
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.audit import AuditEntry
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Ballot, Membership, Proposal
from tests.conftest import PASSWORD

VOTERS = 32


def make_member(label: str):
    """A member and a Bearer token, without paying the share: the `committed` cleanup removes
    new rows but cannot put back ledger balances, which later tests rely on."""
    name = f"{label}-{uuid.uuid4().hex[:8]}"
    user = accounts.register(f"{name}@example.org", PASSWORD, name, "worker")
    db.session.add(Membership(user_id=user.id, status="member", applied_at=clock.now(), joined_at=clock.now()))
    accounts.set_roles(user, member=True)
    _, token = accounts.issue_token(user, "concurrency test")
    return user, token


def open_vote(coordinator) -> int:
    proposal = governance.create_proposal(
        coordinator, {"title": "Concurrent vote", "body": "Vote now.", "kind": "general", "method": "yes_no"}
    )
    governance.review_proposal(coordinator, proposal, "accept")
    db.session.commit()
    return proposal.id


def cast_at_once(app, proposal_id: int, ballots: list[tuple[str, dict]]):
    """Post every (token, ballot) from its own thread, released together; returns the responses in order."""
    barrier = threading.Barrier(len(ballots))
    responses = [None] * len(ballots)

    def cast(index, token, body):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.post(
            f"/api/v1/proposals/{proposal_id}/ballot", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    threads = [threading.Thread(target=cast, args=(i, token, body)) for i, (token, body) in enumerate(ballots)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def close(proposal_id: int) -> Proposal:
    db.session.remove()
    proposal = db.session.get(Proposal, proposal_id)
    if proposal.status == "open":
        clock.advance(timedelta(days=30))
        governance.tick(clock.now())
        db.session.commit()
    return db.session.get(Proposal, proposal_id)


def closed_entries(proposal_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.subject == f"proposal:{proposal_id}", AuditEntry.event == "proposal.closed")
    )


def test_concurrent_ballots_by_distinct_members_count_once_each(postgres_only, app, committed):
    members = [make_member(f"voter{i}") for i in range(VOTERS)]
    coordinator = members[0][0]
    accounts.set_roles(coordinator, coordinator=True)
    db.session.commit()
    proposal_id = open_vote(coordinator)
    member_ids = {user.id for user, _ in members}
    choices = [("yes", "no", "abstain")[i % 3] for i in range(VOTERS)]

    responses = cast_at_once(
        app, proposal_id, [(token, {"choice": c}) for (_, token), c in zip(members, choices, strict=False)]
    )

    assert [r.status_code for r in responses] == [201] * VOTERS
    assert len({r.json["receipt"] for r in responses}) == VOTERS
    db.session.remove()
    ballots = list(db.session.scalars(sa.select(Ballot).where(Ballot.proposal_id == proposal_id)))
    assert len(ballots) == VOTERS
    assert {b.member_id for b in ballots} == member_ids
    proposal = db.session.get(Proposal, proposal_id)
    if proposal.eligible_count == VOTERS:
        # Everyone eligible voted: exactly one request, the last, closed the vote.
        assert sum(r.json["proposal_status"] != "open" for r in responses) == 1
    proposal = close(proposal_id)
    assert proposal.ballot_count == VOTERS
    expected = Counter(choices)
    assert (proposal.result["yes"], proposal.result["no"], proposal.result["abstain"]) == (
        expected["yes"],
        expected["no"],
        expected["abstain"],
    )
    assert closed_entries(proposal_id) == 1


def test_concurrent_recasts_by_one_member_leave_one_ballot_and_the_latest_receipt(postgres_only, app, committed):
    (coordinator, _), (voter, token) = make_member("coordinator"), make_member("voter")
    accounts.set_roles(coordinator, coordinator=True)
    db.session.commit()
    proposal_id = open_vote(coordinator)
    voter_id = voter.id
    choices = [("yes", "no")[i % 2] for i in range(VOTERS)]

    responses = cast_at_once(app, proposal_id, [(token, {"choice": c}) for c in choices])

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 200: VOTERS - 1}
    receipts = {r.json["receipt"]: c for r, c in zip(responses, choices, strict=False)}
    assert len(receipts) == VOTERS
    db.session.remove()
    [ballot] = db.session.scalars(sa.select(Ballot).where(Ballot.proposal_id == proposal_id))
    assert ballot.member_id == voter_id
    # The ballot kept is one of those cast, with the receipt that was returned for it.
    assert receipts[ballot.receipt] == ballot.choice["choice"]
    proposal = close(proposal_id)
    assert proposal.ballot_count == 1
    assert proposal.result["yes"] + proposal.result["no"] == 1
    assert proposal.result[ballot.choice["choice"]] == 1
    assert closed_entries(proposal_id) == 1


def requests_at_once(app, calls: dict[str, tuple[str, str, str]]) -> dict[str, int]:
    """Send every named (method, url, token) from its own thread, released together; their status codes."""
    barrier = threading.Barrier(len(calls))
    statuses: dict[str, int] = {}

    def send(name, method, url, token):
        barrier.wait()
        response = app.test_client().open(url, method=method, headers={"Authorization": f"Bearer {token}"})
        statuses[name] = response.status_code

    threads = [threading.Thread(target=send, args=(name, *call)) for name, call in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_a_candidate_leaving_while_the_election_closes_never_ends_a_coordinator_without_membership(
    postgres_only, app, committed
):
    for attempt in range(4):
        (coordinator, coord_token), (a, a_token), (b, b_token), (absent, _) = (
            make_member(f"{label}{attempt}") for label in ("coord", "cand-a", "cand-b", "absent")
        )
        accounts.set_roles(coordinator, coordinator=True)
        db.session.commit()
        proposal = governance.create_proposal(
            coordinator,
            {
                "title": "Elect a coordinator",
                "body": "One seat.",
                "kind": "coordinator",
                "method": "stv",
                "change": {"seats": 1, "candidates": [a.id, b.id]},
            },
        )
        governance.review_proposal(coordinator, proposal, "accept")
        db.session.commit()
        proposal_id, a_id, b_id, others = proposal.id, a.id, b.id, (coordinator.id, absent.id)
        ranking = {"coord": [str(a_id), str(b_id)], "a": [str(a_id)], "b": [str(a_id), str(b_id)]}
        client = app.test_client()
        for token, key in ((coord_token, "coord"), (a_token, "a"), (b_token, "b")):
            response = client.post(
                f"/api/v1/proposals/{proposal_id}/ballot",
                json={"ranking": ranking[key]},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 201, response.json
        clock.advance(timedelta(days=30))
        statuses = requests_at_once(
            app,
            {
                "withdraw": ("POST", "/api/v1/membership/withdraw", a_token),
                "close": ("GET", f"/api/v1/proposals/{proposal_id}", coord_token),
            },
        )

        assert statuses == {"withdraw": 200, "close": 200}
        db.session.remove()
        proposal = db.session.get(Proposal, proposal_id)
        a, b = db.session.get(User, a_id), db.session.get(User, b_id)
        assert not a.is_member and not a.is_coordinator
        assert proposal.status == "enacted"
        if proposal.result["elected"] == [str(a_id)]:
            # Counted before the withdrawal: elected, then the role went with the membership.
            events = db.session.scalars(
                sa.select(AuditEntry.event).where(AuditEntry.subject == f"user:{a_id}").order_by(AuditEntry.seq)
            ).all()
            assert events[-3:] == ["role.granted", "membership.withdrawn", "role.revoked"]
            assert not b.is_coordinator
        else:
            # Counted after: passed over, both ballots ranking b next elect b at the quota of 2.
            assert proposal.result["withdrawn"] == [str(a_id)] and proposal.result["elected"] == [str(b_id)]
            assert b.is_coordinator
        assert closed_entries(proposal_id) == 1
        # The next attempt's electorate is its own four, so its quorum does not depend on this one.
        for user_id in (b_id, *others):
            accounts.set_roles(db.session.get(User, user_id), member=False)
        db.session.commit()
