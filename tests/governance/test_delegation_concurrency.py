"""On PostgreSQL, with real commits: delegation changes racing a vote's close land wholly before it or wholly after."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.audit import AuditEntry
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Ballot, Proposal
from tests.governance.test_vote_concurrency import closed_entries, make_member, open_vote

SWITCHERS = 8  # delegate to the "no" voter, and switch to the "yes" voter during the close
LEAVERS = 8  # delegate to the "no" voter, and remove their delegation during the close
ROUNDS = 3


def race(app, switchers: list[str], leavers: list[str], yes_voter_id: int) -> list:
    """Every switch and removal over HTTP, and the close by the tick, released together; returns the responses."""
    calls = [("PUT", token, {"delegate_id": yes_voter_id}) for token in switchers]
    calls += [("DELETE", token, None) for token in leavers]
    barrier = threading.Barrier(len(calls) + 1)
    responses: list = [None] * len(calls)

    def change(index, method, token, body):
        client = app.test_client()
        barrier.wait()
        responses[index] = client.open(
            "/api/v1/me/delegation", method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    def close():
        with app.app_context():
            barrier.wait()
            governance.tick(clock.now())
            db.session.commit()

    threads = [threading.Thread(target=change, args=(i, *call)) for i, call in enumerate(calls)]
    threads.append(threading.Thread(target=close))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_delegation_changes_racing_the_close_count_exactly_when_committed_before_it(postgres_only, app, committed):
    (coordinator, _), (yes_voter, _), (no_voter, _) = (make_member(label) for label in ("coord", "yes", "no"))
    accounts.set_roles(coordinator, coordinator=True)
    switchers = [make_member(f"switcher{i}") for i in range(SWITCHERS)]
    leavers = [make_member(f"leaver{i}") for i in range(LEAVERS)]
    db.session.commit()
    coordinator_id, yes_id, no_id = coordinator.id, yes_voter.id, no_voter.id
    delegator_ids = [member.id for member, _ in switchers + leavers]

    for _ in range(ROUNDS):
        db.session.remove()
        no_voter = db.session.get(User, no_id)
        for member_id in delegator_ids:
            governance.set_delegate(db.session.get(User, member_id), no_id)
        db.session.commit()
        proposal_id = open_vote(db.session.get(User, coordinator_id))
        proposal = db.session.get(Proposal, proposal_id)
        governance.cast_ballot(db.session.get(User, yes_id), proposal, {"choice": "yes"})
        governance.cast_ballot(no_voter, proposal, {"choice": "no"})
        db.session.commit()
        watermark = db.session.scalar(sa.select(sa.func.max(AuditEntry.seq)))
        clock.advance(timedelta(days=30))

        responses = race(app, [token for _, token in switchers], [token for _, token in leavers], yes_id)

        assert [r.status_code for r in responses] == [200] * (SWITCHERS + LEAVERS)
        db.session.remove()
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status != "open" and closed_entries(proposal_id) == 1
        switched = proposal.result["yes"] - 1
        removed = SWITCHERS + LEAVERS - switched - (proposal.result["no"] - 1)
        assert 0 <= switched <= SWITCHERS and 0 <= removed <= LEAVERS
        assert proposal.result["delegated"] == SWITCHERS + LEAVERS - removed
        # A change counted exactly when its commit (and so its audit entry) came before the close's.
        [closed_seq] = db.session.scalars(
            sa.select(AuditEntry.seq).where(
                AuditEntry.subject == f"proposal:{proposal_id}", AuditEntry.event == "proposal.closed"
            )
        )
        before = dict(
            db.session.execute(
                sa.select(AuditEntry.event, sa.func.count())
                .where(AuditEntry.seq > watermark, AuditEntry.seq < closed_seq, AuditEntry.subject == "delegation")
                .group_by(AuditEntry.event)
            ).all()
        )
        assert (before.get("delegation.set", 0), before.get("delegation.removed", 0)) == (switched, removed)
        # The published weights hold the same split.
        weights = dict(
            db.session.execute(
                sa.select(Ballot.member_id, Ballot.weight).where(Ballot.proposal_id == proposal_id)
            ).all()
        )
        assert weights == {yes_id: 1 + switched, no_id: 1 + SWITCHERS + LEAVERS - switched - removed}
        clock.reset()
