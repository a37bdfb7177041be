"""The double-entry ledger: balanced, never overdrawn, zero-sum."""

import random

import pytest
import sqlalchemy as sa

from coop import ledger
from coop.ledger import InsufficientFunds, LedgerAccount, LedgerEntry, LedgerError


def test_transfer_moves_money_between_accounts(session):
    ledger.move("external", "requester:1:available", 5000, "deposit")
    ledger.move("requester:1:available", "requester:1:escrow", 1200, "escrow")
    assert ledger.balance("requester:1:available") == 3800
    assert ledger.balance("requester:1:escrow") == 1200
    assert ledger.balance("external") == -5000


def test_unbalanced_transaction_is_refused_and_nothing_posted(session):
    with pytest.raises(LedgerError, match="does not balance"):
        ledger.transfer([("external", -100), ("coop:fees", 99)], "bad")
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0


@pytest.mark.parametrize("amount", [0, 1.5, True])
def test_amounts_must_be_nonzero_integer_cents(session, amount):
    with pytest.raises(LedgerError):
        ledger.transfer([("external", -amount), ("coop:fees", amount)], "bad")


def test_overdraft_is_refused_and_changes_nothing(session):
    ledger.move("external", "worker:1:earnings", 100, "pay")
    with pytest.raises(InsufficientFunds):
        ledger.move("worker:1:earnings", "external", 101, "payout")
    assert ledger.balance("worker:1:earnings") == 100
    assert ledger.total_of_all_entries() == 0


def test_sum_of_all_entries_is_zero_after_many_random_transfers(session):
    rng = random.Random(7)
    accounts = ["external", "coop:fees", "coop:share_capital"] + [f"worker:{i}:earnings" for i in range(5)]
    refused = 0
    for _ in range(400):
        source, destination = rng.sample(accounts, 2)
        try:
            ledger.move(source, destination, rng.randint(1, 5000), "random")
        except InsufficientFunds:
            refused += 1
    assert refused > 0  # the overdraft guard was exercised, not just the happy path
    assert ledger.total_of_all_entries() == 0
    for account in session.scalars(sa.select(LedgerAccount)):
        posted = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.account == account.name
            )
        )
        assert account.balance_cents == posted
        if account.name != "external":
            assert account.balance_cents >= 0
