"""Money in and out: deposits, balances, earnings, withdrawals and payouts."""

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from coop import audit, clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden
from coop.extensions import db
from coop.ledger import InsufficientFunds, LedgerEntry
from coop.marketplace.models import Deposit, Withdrawal
from coop.marketplace.services.common import lock_row, paged
from coop.notifications.services import notify


def request_deposit(requester: User, amount_cents: int, payment_reference: str | None = None) -> Deposit:
    """Announce a bank transfer (with its reference); it counts once a coordinator confirms it arrived."""
    accounts.require_verified_email(requester, "deposit")
    deposit = Deposit(
        requester_id=requester.id,
        amount_cents=amount_cents,
        payment_reference=payment_reference,
        status="pending",
        created_at=clock.now(),
    )
    db.session.add(deposit)
    db.session.flush()
    return deposit


def confirm_deposit(coordinator: User, deposit: Deposit) -> Deposit:
    """Record that the transfer arrived: external -> the requester's available funds."""
    lock_row(deposit)
    if deposit.status != "pending":
        raise Conflict(_("Deposit %(deposit_id)s was already confirmed.", deposit_id=deposit.id))
    ledger.move(
        ledger.EXTERNAL,
        ledger.requester_available(deposit.requester_id),
        deposit.amount_cents,
        f"deposit {deposit.id} confirmed",
    )
    deposit.status, deposit.confirmed_at, deposit.confirmed_by_id = "confirmed", clock.now(), coordinator.id
    audit.append(
        "deposit.confirmed",
        f"deposit:{deposit.id}",
        coordinator,
        {
            "requester_id": deposit.requester_id,
            "amount_cents": deposit.amount_cents,
            "payment_reference": deposit.payment_reference,
        },
    )
    notify(
        [deposit.requester_id],
        "payment_confirmed",
        f"deposit:{deposit.id}",
        {"what": "deposit", "deposit_id": deposit.id, "amount_cents": deposit.amount_cents},
    )
    return deposit


def list_deposits(user: User, args: dict) -> tuple[list[Deposit], str | None]:
    """A requester's own deposits; for coordinators every deposit (pending ones by default)."""
    stmt = sa.select(Deposit)
    if user.kind == "requester":
        stmt = stmt.where(Deposit.requester_id == user.id)
    if args.get("status"):
        stmt = stmt.where(Deposit.status == args["status"])
    return paged(stmt, Deposit.id, args)


def _source_accounts(user: User) -> tuple[str, str, str]:
    if user.kind == "requester":
        return "requester", ledger.requester_available(user.id), ledger.requester_payout_pending(user.id)
    return "worker", ledger.worker_earnings(user.id), ledger.worker_payout_pending(user.id)


def balance_of(user: User) -> dict:
    """The caller's balances: requesters' available and escrow funds, workers' earnings."""
    _kind, source, pending = _source_accounts(user)
    if user.kind == "requester":
        return {
            "available_cents": ledger.balance(source),
            "escrow_cents": ledger.balance(ledger.requester_escrow(user.id)),
            "payout_pending_cents": ledger.balance(pending),
        }
    return {"earnings_cents": ledger.balance(source), "payout_pending_cents": ledger.balance(pending)}


def earnings_lines(worker: User, args: dict) -> tuple[list[dict], str | None]:
    """The ledger lines of a worker's earnings account, newest first."""
    stmt = (
        sa.select(LedgerEntry)
        .where(LedgerEntry.account == ledger.worker_earnings(worker.id))
        .options(joinedload(LedgerEntry.transaction))
    )
    entries, next_cursor = paged(stmt, LedgerEntry.id, args)
    return [
        {"id": e.id, "at": e.transaction.at, "amount_cents": e.amount_cents, "memo": e.transaction.memo}
        for e in entries
    ], next_cursor


def request_withdrawal(user: User, amount_cents: int) -> Withdrawal:
    """Ask to be paid out; the amount is set aside at once so it cannot be spent twice."""
    source_kind, source, pending = _source_accounts(user)
    available = ledger.balance(source)
    if amount_cents > available:
        if source_kind == "requester":
            message = _(
                "You asked for %(amount_cents)s cents but your available funds are %(available)s cents.",
                amount_cents=amount_cents,
                available=available,
            )
        else:
            message = _(
                "You asked for %(amount_cents)s cents but your earnings are %(available)s cents.",
                amount_cents=amount_cents,
                available=available,
            )
        raise InsufficientFunds(message)
    withdrawal = Withdrawal(
        user_id=user.id, source=source_kind, amount_cents=amount_cents, status="pending", created_at=clock.now()
    )
    db.session.add(withdrawal)
    db.session.flush()
    ledger.move(source, pending, amount_cents, f"withdrawal {withdrawal.id} requested")
    return withdrawal


def list_withdrawals(user: User, args: dict, everyone: bool = False) -> tuple[list[Withdrawal], str | None]:
    """The caller's own withdrawals, or (coordinators) everyone's, pending ones by default."""
    stmt = sa.select(Withdrawal)
    if not everyone:
        stmt = stmt.where(Withdrawal.user_id == user.id)
    if args.get("status"):
        stmt = stmt.where(Withdrawal.status == args["status"])
    return paged(stmt, Withdrawal.id, args)


def confirm_withdrawal(coordinator: User, withdrawal: Withdrawal) -> Withdrawal:
    """Record that the payout was sent: the set-aside amount leaves the coop."""
    lock_row(withdrawal)
    if withdrawal.status != "pending":
        raise Conflict(_("Withdrawal %(withdrawal_id)s was already paid out.", withdrawal_id=withdrawal.id))
    if withdrawal.user_id == coordinator.id:
        raise Forbidden(_("Another coordinator must confirm your own payout."))
    pending = (ledger.requester_payout_pending if withdrawal.source == "requester" else ledger.worker_payout_pending)(
        withdrawal.user_id
    )
    ledger.move(pending, ledger.EXTERNAL, withdrawal.amount_cents, f"withdrawal {withdrawal.id} paid out")
    withdrawal.status, withdrawal.confirmed_at, withdrawal.confirmed_by_id = "confirmed", clock.now(), coordinator.id
    audit.append(
        "payout.confirmed",
        f"withdrawal:{withdrawal.id}",
        coordinator,
        {"user_id": withdrawal.user_id, "source": withdrawal.source, "amount_cents": withdrawal.amount_cents},
    )
    notify(
        [withdrawal.user_id],
        "payment_confirmed",
        f"withdrawal:{withdrawal.id}",
        {"what": "withdrawal", "withdrawal_id": withdrawal.id, "amount_cents": withdrawal.amount_cents},
    )
    return withdrawal
