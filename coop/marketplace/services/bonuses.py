"""Bonuses: a requester adds to a worker's pay for one piece of work, from available funds."""

from flask_babel import gettext as _

from coop import audit, clock, ledger
from coop.accounts.models import User
from coop.errors import Conflict
from coop.extensions import db
from coop.ledger import InsufficientFunds
from coop.marketplace import pay
from coop.marketplace.models import Assignment, Bonus
from coop.marketplace.services.common import check_owns_batch, lock_row

# Work handed in (under review or approved). A claim is not yet work; rejected work is for the
# appeal to settle, and an expired or returned claim was never done.
BONUS_STATUSES = ("submitted", "approved")


def pay_bonus(requester: User, assignment: Assignment, amount_cents: int, reason: str) -> Bonus:
    """Pay the worker a bonus on top of the reward, with the batch's platform fee, from available funds."""
    batch = assignment.batch
    check_owns_batch(requester, batch)
    lock_row(assignment)
    if assignment.status not in BONUS_STATUSES:
        raise Conflict(
            _(
                "A bonus is for work handed in (submitted or approved); this assignment is %(status)s.",
                status=assignment.status,
            )
        )
    # Charged as on rewards: the batch's fee, rounded up once on the amount.
    fee = pay.platform_fee_cents(amount_cents, batch.fee_pct)
    cost = amount_cents + fee
    source = ledger.requester_available(requester.id)
    available = ledger.balance(source)
    if cost > available:
        raise InsufficientFunds(
            _(
                "This bonus costs %(cost)s cents (%(amount_cents)s + %(fee_pct)s%% fee %(fee)s); your available "
                "funds are %(available)s cents, %(short)s cents short. Deposit more with POST /api/v1/deposits.",
                cost=cost,
                amount_cents=amount_cents,
                fee_pct=batch.fee_pct,
                fee=fee,
                available=available,
                short=cost - available,
            )
        )
    lines = [(source, -cost), (ledger.worker_earnings(assignment.worker_id), amount_cents)]
    if fee:
        lines.append((ledger.COOP_FEES, fee))
    ledger.transfer(lines, f"bonus on assignment {assignment.id} of batch {batch.id}")
    bonus = Bonus(
        assignment_id=assignment.id,
        requester_id=requester.id,
        worker_id=assignment.worker_id,
        amount_cents=amount_cents,
        fee_cents=fee,
        reason=reason,
        created_at=clock.now(),
    )
    db.session.add(bonus)
    db.session.flush()
    audit.append(
        "assignment.bonus",
        f"assignment:{assignment.id}",
        requester,
        {"batch_id": batch.id, "bonus_id": bonus.id, "amount_cents": amount_cents, "fee_cents": fee},
    )
    return bonus
