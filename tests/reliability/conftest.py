"""Reliability fixtures: people, valid batch bodies and the books as one set of checks (the frozen clock is suite-wide)."""

import uuid
from collections import defaultdict

import pytest
import sqlalchemy as sa

from coop import clock, ledger
from coop.accounts import services as accounts
from coop.extensions import db
from coop.governance.models import Membership
from coop.ledger import MAY_GO_NEGATIVE, LedgerAccount, LedgerEntry
from coop.marketplace import pay
from coop.marketplace import services as marketplace
from coop.marketplace.models import Assignment, Batch, Slot, Withdrawal
from tests.conftest import PASSWORD
from tests.marketplace.conftest import batch_body  # noqa: F401  (shared: one valid batch for every suite)


def person(kind, label, member=False):
    """A committed-data user: unique name, a member without paying the share when `member`."""
    name = f"{label}-{uuid.uuid4().hex[:8]}"
    user = accounts.register(f"{name}@example.org", PASSWORD, name, kind, "Race Ltd" if kind == "requester" else None)
    if member:
        # Made a member without paying the share, so no balance outlives the test's clean-up.
        db.session.add(Membership(user_id=user.id, status="member", applied_at=clock.now(), joined_at=clock.now()))
        accounts.set_roles(user, member=True)
    return user


@pytest.fixture
def books(committed):
    """The books checked after the test, against what was out of step before it."""
    drift = ledger_drift()
    yield
    db.session.remove()
    check_books(drift)


def ledger_drift() -> dict[str, int]:
    """Accounts whose stored balance is not the sum of their entries: name -> balance minus entries."""
    sums = (
        sa.select(LedgerEntry.account, sa.func.sum(LedgerEntry.amount_cents).label("total"))
        .group_by(LedgerEntry.account)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(LedgerAccount.name, LedgerAccount.balance_cents, sa.func.coalesce(sums.c.total, 0)).outerjoin(
            sums, sums.c.account == LedgerAccount.name
        )
    ).all()
    return {name: balance - int(total) for name, balance, total in rows if balance != total}


def check_books(baseline_drift: dict[str, int] | None = None, rounding: set[int] | None = None) -> None:
    """Every money invariant the coop promises, derived independently where it can be.

    `baseline_drift` names accounts already out of step before the test began (rows other
    tests' clean-up left behind); they must not move further. `rounding` names the batches
    whose fees were not whole cents (None: any batch may be one).
    """
    assert ledger.total_of_all_entries() == 0, "the ledger does not sum to zero"
    negative = db.session.execute(
        sa.select(LedgerAccount.name, LedgerAccount.balance_cents).where(
            LedgerAccount.balance_cents < 0, LedgerAccount.name.not_in(MAY_GO_NEGATIVE)
        )
    ).all()
    assert negative == [], f"accounts below zero: {negative}"
    assert ledger_drift() == (baseline_drift or {}), "a stored balance differs from the sum of its entries"

    batches = list(db.session.scalars(sa.select(Batch).order_by(Batch.id)))
    by_requester: dict[int, int] = defaultdict(int)
    for batch in batches:
        by_requester[batch.requester_id] += batch.escrow_cents
    for requester_id, held in by_requester.items():
        account = ledger.balance(ledger.requester_escrow(requester_id))
        assert account == marketplace.escrow_owed(requester_id) == held, (
            f"requester {requester_id}: escrow account {account}, batches hold {held}"
        )

    check_slots_and_escrow(batches, rounding)
    check_payouts_pending(set(baseline_drift or ()))


def check_slots_and_escrow(batches: list[Batch], rounding: set[int] | None = None) -> None:
    """Slots agree with the assignments holding them, and each batch's escrow is what its open work is owed."""
    holders: dict[int, list[str]] = defaultdict(list)
    for slot_id, status in db.session.execute(
        sa.select(Assignment.slot_id, Assignment.status).where(Assignment.holds_slot.is_(True))
    ):
        holders[slot_id].append(status)
    slots_by_batch: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for slot_id, batch_id, state in db.session.execute(sa.select(Slot.id, Slot.batch_id, Slot.state)):
        slots_by_batch[batch_id].append((slot_id, state))
        held = holders.get(slot_id, [])
        expected = {"held": [["claimed"], ["submitted"]], "done": [["approved"]], "open": [[]], "cancelled": [[]]}
        assert held in expected[state], f"slot {slot_id} is {state} but the assignments holding it are {held}"

    for batch in batches:
        # Owed: every slot neither paid (an approved assignment holds it) nor refunded (cancelled).
        unpaid = [
            slot_id
            for slot_id, state in slots_by_batch[batch.id]
            if state != "cancelled" and holders.get(slot_id) != ["approved"]
        ]
        per_slot = batch.reward_cents + pay.payout_fee_cents(batch.reward_cents, batch.fee_pct)
        owed = per_slot * len(unpaid)
        # The fee is charged rounded up on totals and paid out floored per reward, so what the
        # batch holds beyond the slots' money is a rounding remainder within the fee charged.
        remainder = batch.escrow_cents - owed
        may_round = rounding is None or batch.id in rounding
        assert 0 <= remainder <= (batch.fee_cents if may_round else 0), (
            f"batch {batch.id} holds {batch.escrow_cents} in escrow for {len(unpaid)} unpaid slots owed {owed} "
            f"(fee charged {batch.fee_cents})"
        )
        if not unpaid:
            assert batch.escrow_cents == 0 and batch.settled_at is not None, f"batch {batch.id} is done but unsettled"
            assert batch.status != "open", f"batch {batch.id} has no work left but is still open"


def check_payouts_pending(ignored: set[str] = frozenset()) -> None:
    """Money set aside for payouts equals the payouts still to be sent."""
    pending: dict[str, int] = defaultdict(int)
    for user_id, source, cents in db.session.execute(
        sa.select(Withdrawal.user_id, Withdrawal.source, Withdrawal.amount_cents).where(Withdrawal.status == "pending")
    ):
        pending[
            (ledger.requester_payout_pending if source == "requester" else ledger.worker_payout_pending)(user_id)
        ] += cents
    held = dict(
        db.session.execute(
            sa.select(LedgerAccount.name, LedgerAccount.balance_cents).where(
                LedgerAccount.name.like("%:payout_pending"), LedgerAccount.balance_cents != 0
            )
        ).all()
    )
    held = {name: cents for name, cents in held.items() if name not in ignored}
    assert held == dict(pending), f"payout accounts hold {held} but the pending withdrawals are {dict(pending)}"
