"""Races on PostgreSQL with real commits: the tick, deposits, batches, raises and payouts never deadlock.

Each of them moves money and appends to the audit log. The log is written last, at commit,
so its lock can never close a cycle with the ledger's row locks taken in another order.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import audit, clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.audit import AuditEntry
from coop.extensions import db
from coop.marketplace import services as marketplace
from coop.marketplace.models import Assignment, Batch, Deposit, Withdrawal
from tests.reliability.conftest import batch_body, person
from tests.reliability.test_races import together, unit_of_work

pytestmark = pytest.mark.usefixtures("postgres_only")

ROUNDS = 6
REQUESTERS = 3


def _stage_round(requesters: list[User], worker: User, expire_at) -> dict:
    """For each requester: two batches about to expire (one with work awaiting review), a batch with
    approved work to raise, a deposit to confirm and a payout to send."""
    staged = {"deposits": [], "raises": [], "payouts": [], "expiring": []}
    for requester in requesters:
        for with_work in (True, False):
            batch = marketplace.create_batch(requester, batch_body(items=2, expires_at=expire_at))
            if with_work:
                marketplace.submit(worker, marketplace.claim(worker, batch), {"total": "1"})
            staged["expiring"].append(batch.id)
        to_raise = marketplace.create_batch(requester, batch_body(items=3))
        claimed = marketplace.claim(worker, to_raise)
        marketplace.review(requester, marketplace.submit(worker, claimed, {"total": "1"}), "approve", None)
        staged["raises"].append((to_raise.id, requester.id, to_raise.reward_cents + 1))
        staged["deposits"].append(marketplace.request_deposit(requester, 1_000).id)
        staged["payouts"].append(marketplace.request_withdrawal(requester, 500).id)
    return staged


@pytest.mark.usefixtures("books")
def test_tick_deposits_batches_raises_and_payouts_never_deadlock(app, committed):
    coordinator = person("worker", "treasurer", member=True)
    accounts.set_roles(coordinator, coordinator=True)
    worker = person("worker", "labeller", member=True)
    requesters = [person("requester", f"payer{n}") for n in range(REQUESTERS)]
    for requester in requesters:
        ledger.move(ledger.EXTERNAL, ledger.requester_available(requester.id), 1_000_000, "race deposit")
    db.session.commit()
    coordinator_id, worker_id, requester_ids = coordinator.id, worker.id, [r.id for r in requesters]
    first_seq = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.seq), 0)))

    def confirm_deposit(deposit_id):
        return unit_of_work(
            app,
            lambda: (
                marketplace.confirm_deposit(
                    db.session.get(User, coordinator_id), db.session.get(Deposit, deposit_id)
                ).status
            ),
        )

    def post_batch(requester_id):
        return unit_of_work(
            app, lambda: marketplace.create_batch(db.session.get(User, requester_id), batch_body(items=2)).status
        )

    def raise_reward(batch_id, requester_id, cents):
        return unit_of_work(
            app,
            lambda: (
                marketplace.raise_reward(
                    db.session.get(User, requester_id), db.session.get(Batch, batch_id), cents
                ).reward_cents
            ),
        )

    def pay_out(withdrawal_id):
        return unit_of_work(
            app,
            lambda: (
                marketplace.confirm_withdrawal(
                    db.session.get(User, coordinator_id), db.session.get(Withdrawal, withdrawal_id)
                ).status
            ),
        )

    expected = {"batch.expired": 0, "deposit.confirmed": 0, "batch.posted": 0, "batch.raised": 0, "payout.confirmed": 0}
    for round_ in range(ROUNDS):
        staged = _stage_round(
            [db.session.get(User, i) for i in requester_ids],
            db.session.get(User, worker_id),
            clock.now() + timedelta(minutes=1),
        )
        db.session.commit()
        db.session.remove()
        # Far enough ahead that the staged batches have expired and their work is due for auto-approval.
        later = clock.now() + timedelta(hours=73)
        calls = [unit_of_work(app, lambda later=later: marketplace.tick(later))]
        for deposit_id, raise_args, withdrawal_id, requester_id in zip(
            staged["deposits"], staged["raises"], staged["payouts"], requester_ids, strict=False
        ):
            calls += [
                confirm_deposit(deposit_id),
                post_batch(requester_id),
                raise_reward(*raise_args),
                pay_out(withdrawal_id),
            ]
        results = together(calls)
        # No deadlock, no refusal: every one of them had what it needed and none waits on another's order.
        assert [r for r in results if isinstance(r, Exception)] == [], f"round {round_}: {results}"

        db.session.remove()
        statuses = set(db.session.scalars(sa.select(Batch.status).where(Batch.id.in_(staged["expiring"]))))
        assert statuses == {"expired"}, statuses
        expected["batch.expired"] += len(staged["expiring"])
        for event in ("deposit.confirmed", "batch.raised", "payout.confirmed"):
            expected[event] += REQUESTERS
        expected["batch.posted"] += REQUESTERS * 4  # three staged, one in the race
        # Work left awaiting review was approved by the tick, not lost with the expiry.
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Assignment)
                .where(Assignment.batch_id.in_(staged["expiring"]), Assignment.status != "approved")
            )
            == 0
        )

    written = dict(
        db.session.execute(
            sa.select(AuditEntry.event, sa.func.count())
            .where(AuditEntry.seq > first_seq, AuditEntry.event.in_(expected))
            .group_by(AuditEntry.event)
        ).all()
    )
    assert written == expected
    verdict = audit.verify()
    assert verdict.ok, verdict
