"""Races on PostgreSQL with real commits: approve vs auto-approve, cancel vs claims, ballots vs the close."""

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.audit import AuditEntry
from coop.errors import CoopError
from coop.extensions import db
from coop.governance import services as governance
from coop.governance.models import Ballot, Proposal
from coop.marketplace import services as marketplace
from coop.marketplace.models import Assignment, Batch, Slot
from coop.marketplace.services.tick import expire_overdue_leases
from tests.reliability.conftest import batch_body, person

pytestmark = pytest.mark.usefixtures("postgres_only")

ROUNDS = 5


def together(calls):
    """Run each call in its own thread, released at once; returns (result or exception) in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def unit_of_work(app, work):
    """One transaction in its own app context, committed, or rolled back on a refusal (as a request is)."""

    def call():
        with app.app_context():
            try:
                result = work()
                db.session.commit()
                return result
            except CoopError as exc:
                db.session.rollback()
                return exc
            finally:
                db.session.remove()

    return call


def test_review_racing_auto_approval_pays_the_worker_once(app, committed, books):
    requester = person("requester", "reviewer")
    workers = [person("worker", f"worker{n}", member=True) for n in range(ROUNDS)]
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 10_000, "race deposit")
    batch = marketplace.create_batch(requester, batch_body(items=ROUNDS))
    assignment_ids = []
    for worker in workers:
        assignment_ids.append(marketplace.submit(worker, marketplace.claim(worker, batch), {"total": "1"}).id)
    _, token = accounts.issue_token(requester, "race")
    db.session.commit()
    requester_id, batch_id = requester.id, batch.id
    clock.advance(timedelta(hours=73))  # every submission is now due for automatic approval

    client = app.test_client()
    outcomes = []
    for assignment_id in assignment_ids:
        review, tick = together(
            [
                lambda assignment_id=assignment_id: client.post(
                    f"/api/v1/assignments/{assignment_id}/review",
                    json={"decision": "approve"},
                    headers={"Authorization": f"Bearer {token}"},
                ),
                unit_of_work(app, lambda: marketplace.tick(clock.now())),
            ]
        )
        assert not isinstance(tick, Exception), tick
        # Either the requester's approval or the tick's paid it; the loser was refused or found nothing due.
        assert review.status_code in (200, 409), review.get_json()
        outcomes.append(review.status_code)

    db.session.remove()
    for assignment_id in assignment_ids:
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment.status == "approved" and assignment.paid_cents == 20
        paid = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ledger.LedgerEntry)
            .where(ledger.LedgerEntry.account == ledger.worker_earnings(assignment.worker_id))
        )
        assert paid == 1, f"assignment {assignment_id} was paid {paid} times"
    assert ledger.balance(ledger.requester_escrow(requester_id)) == 0
    assert db.session.get(Batch, batch_id).status == "completed"


def test_cancel_racing_claims_never_refunds_a_claimed_slot(app, committed, books):
    requester = person("requester", "canceller")
    members = [person("worker", f"claimer{n}", member=True) for n in range(8)]
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 100_000, "race deposit")
    batches = [marketplace.create_batch(requester, batch_body(items=6, assignments_per_item=2)) for _ in range(ROUNDS)]
    db.session.commit()
    requester_id, member_ids, batch_ids = requester.id, [m.id for m in members], [b.id for b in batches]

    for batch_id in batch_ids:

        def claim(member_id, batch_id=batch_id):
            return unit_of_work(
                app, lambda: marketplace.claim(db.session.get(User, member_id), db.session.get(Batch, batch_id)).id
            )

        cancel = unit_of_work(
            app,
            lambda batch_id=batch_id: (
                marketplace.cancel_batch(db.session.get(User, requester_id), db.session.get(Batch, batch_id)).status
            ),
        )
        results = together([cancel] + [claim(m) for m in member_ids])
        assert results[0] == "cancelled", results[0]
        claimed = {r for r in results[1:] if isinstance(r, int)}
        assert all(isinstance(r, int | CoopError) for r in results[1:]), results

        db.session.remove()
        slots = dict(db.session.execute(sa.select(Slot.id, Slot.state).where(Slot.batch_id == batch_id)).all())
        holders = dict(
            db.session.execute(
                sa.select(Assignment.slot_id, Assignment.id).where(
                    Assignment.batch_id == batch_id, Assignment.holds_slot.is_(True)
                )
            ).all()
        )
        # Every claim that succeeded holds a slot that is held, never one that was refunded.
        assert set(holders.values()) == claimed
        assert all(slots[slot_id] == "held" for slot_id in holders)
        assert {s for s, state in slots.items() if state == "held"} == set(holders)
        assert set(slots.values()) <= {"held", "cancelled"}
        batch = db.session.get(Batch, batch_id)
        cancelled = sum(state == "cancelled" for state in slots.values())
        assert batch.escrow_cents == len(holders) * (20 + 2) + (batch.fee_cents - 2 * batch.slot_count)
        assert cancelled + len(holders) == batch.slot_count

    assert ledger.balance(ledger.requester_escrow(requester_id)) == marketplace.escrow_owed(requester_id)


def test_ballots_racing_the_close_are_counted_once_or_refused(app, committed):
    voters = [person("worker", f"voter{n}", member=True) for n in range(32)]
    coordinator = voters[0]
    accounts.set_roles(coordinator, coordinator=True)
    tokens = [accounts.issue_token(v, "race")[1] for v in voters]
    proposals = []
    for n in range(3):
        proposal = governance.create_proposal(
            coordinator, {"title": f"Race {n}", "body": "Vote now.", "kind": "general", "method": "yes_no"}
        )
        governance.review_proposal(coordinator, proposal, "accept")
        proposals.append(proposal.id)
    db.session.commit()

    for round_, proposal_id in enumerate(proposals):
        # The first 24 vote in good time; the last 8 race the close by the tick.
        early = together(
            [
                (
                    lambda t=t, c=c, proposal_id=proposal_id: app.test_client().post(
                        f"/api/v1/proposals/{proposal_id}/ballot",
                        json={"choice": c},
                        headers={"Authorization": f"Bearer {t}"},
                    )
                )
                for t, c in zip(tokens[:24], ["yes", "no", "abstain"] * 8, strict=False)
            ]
        )
        assert [r.status_code for r in early] == [201] * 24
        # The vote closes in a few milliseconds; a tick keeps trying to close it while the last 8 vote.
        db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id == proposal_id)
            .values(closes_at=clock.now() + timedelta(milliseconds=100))
        )
        db.session.commit()

        def ticker(proposal_id=proposal_id):
            for _ in range(500):
                unit_of_work(app, lambda: governance.tick(clock.now()))()
                with app.app_context():
                    if db.session.get(Proposal, proposal_id).status != "open":
                        return "closed"
                time.sleep(0.002)
            return "never closed"

        def late_ballot(n, token, proposal_id=proposal_id):
            time.sleep(n * 0.025)  # spread across the moment of closing
            return app.test_client().post(
                f"/api/v1/proposals/{proposal_id}/ballot",
                json={"choice": "yes"},
                headers={"Authorization": f"Bearer {token}"},
            )

        late = together([ticker] + [lambda n=n, t=t: late_ballot(n, t) for n, t in enumerate(tokens[24:])])
        assert late[0] == "closed", late[0]
        # A ballot either lands before the close (and is counted) or finds the vote closed: never lost.
        statuses = [r.status_code for r in late[1:]]
        assert set(statuses) <= {201, 409}, statuses
        accepted = statuses.count(201)

        db.session.remove()
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status in ("passed", "rejected"), round_
        cast = db.session.scalar(
            sa.select(sa.func.count()).select_from(Ballot).where(Ballot.proposal_id == proposal_id)
        )
        assert cast == 24 + accepted == proposal.ballot_count == proposal.result["ballots"]
        assert proposal.result["yes"] == 8 + accepted and proposal.result["no"] == 8
        closed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.subject == f"proposal:{proposal_id}",
                AuditEntry.event == "proposal.closed",
            )
        )
        assert closed == 1


def test_a_submit_racing_the_lease_sweep_is_either_in_time_or_refused(app, committed, books):
    """The lease ends while the submit is in flight: the work is handed in, or the slot goes back; never both."""
    requester = person("requester", "lessor")
    workers = [person("worker", f"late{n}", member=True) for n in range(ROUNDS * 2)]
    ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 100_000, "race deposit")
    batch = marketplace.create_batch(requester, batch_body(items=len(workers)))
    claims = [marketplace.claim(w, batch) for w in workers]
    db.session.commit()
    rounds = [(w.id, a.id, a.lease_expires_at) for w, a in zip(workers, claims, strict=True)]
    batch_id = batch.id

    outcomes = []
    for worker_id, assignment_id, lease_end in rounds:
        # The submit starts a moment before the lease ends; the sweep runs just after it ended.
        clock.reset()
        clock.advance(lease_end - clock.now() - timedelta(milliseconds=5))

        def submit(worker_id=worker_id, assignment_id=assignment_id):
            return marketplace.submit(db.session.get(User, worker_id), assignment_id, {"total": "1"}).status

        def sweep(assignment_id=assignment_id, at=lease_end + timedelta(milliseconds=1)):
            return expire_overdue_leases(at, assignment_id=assignment_id)

        outcomes.append(together([unit_of_work(app, submit), unit_of_work(app, sweep)])[0])
    clock.reset()

    db.session.remove()
    for (_, assignment_id, lease_end), outcome in zip(rounds, outcomes, strict=True):
        assignment = db.session.get(Assignment, assignment_id)
        if outcome != "submitted" and assignment.status == "claimed":
            # The submit, refused as late, held the row while the sweep ran, and the sweep leaves
            # a row another transaction holds to it: the next sweep gives the slot back.
            assert expire_overdue_leases(lease_end + timedelta(milliseconds=1), assignment_id=assignment_id) == 1
            db.session.commit()
        slot = db.session.get(Slot, assignment.slot_id)
        if outcome == "submitted":
            assert assignment.status == "submitted" and slot.state == "held" and assignment.holds_slot
        else:
            assert isinstance(outcome, CoopError) and "lease" in str(outcome), outcome
            assert assignment.status == "expired" and slot.state == "open" and not assignment.holds_slot
            assert assignment.answer is None
    counted = db.session.scalar(
        sa.text("SELECT coalesce(sum(submissions), 0) FROM batch_time_histogram WHERE batch_id = :b"), {"b": batch_id}
    )
    assert counted == outcomes.count("submitted")
