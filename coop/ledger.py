"""The double-entry money ledger: integer cents, every transaction sums to zero."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from coop import clock
from coop.errors import Conflict
from coop.extensions import Model, db
from coop.types import UTCDateTime

# Conventional account names, so no domain spells them by hand.
EXTERNAL = "external"
COOP_FEES = "coop:fees"
COOP_SHARE_CAPITAL = "coop:share_capital"


def requester_available(user_id: int) -> str:
    return f"requester:{user_id}:available"


def requester_escrow(user_id: int) -> str:
    return f"requester:{user_id}:escrow"


def requester_payout_pending(user_id: int) -> str:
    return f"requester:{user_id}:payout_pending"


def worker_earnings(user_id: int) -> str:
    return f"worker:{user_id}:earnings"


def worker_payout_pending(user_id: int) -> str:
    return f"worker:{user_id}:payout_pending"


def worker_share_held(user_id: int) -> str:
    """A share paid from earnings, held while its membership application waits for a decision."""
    return f"worker:{user_id}:share_held"


def member_patronage(user_id: int) -> str:
    """A member's patronage, held until they withdraw."""
    return f"member:{user_id}:patronage"


# Every worker's earnings account, and every account of a requester's, as LIKE patterns.
WORKER_EARNINGS = "worker:%:earnings"
REQUESTER_ACCOUNTS = "requester:%"

# Money enters and leaves the coop through `external`; it is the only account that may
# go below zero (its balance is minus what the coop holds for others).
MAY_GO_NEGATIVE = frozenset({EXTERNAL})

# Money that enters from `external` names the transfer that brought it: a bank (SEPA
# remittance line) or mobile-money reference, at most this long.
PAYMENT_REFERENCE_MAX = 140


class LedgerError(ValueError):
    """A malformed transaction: a programming error, never a user's."""


class InsufficientFunds(Conflict):
    default_message = "Not enough funds for this."


class LedgerAccount(Model):
    __tablename__ = "ledger_accounts"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    # Kept beside the entries so an overdraft check is one locked row, not a sum.
    balance_cents: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class LedgerTransaction(Model):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    memo: Mapped[str] = mapped_column(sa.String(255))
    entries: Mapped[list["LedgerEntry"]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")


class LedgerEntry(Model):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(sa.ForeignKey("ledger_accounts.name"), index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


def _ensure_accounts(names: Iterable[str]) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [{"name": n, "balance_cents": 0} for n in names]
    db.session.execute(insert(LedgerAccount).values(rows).on_conflict_do_nothing(index_elements=["name"]))


def transfer(lines: Iterable[tuple[str, int]], memo: str) -> LedgerTransaction:
    """Post one balanced transaction; refuses imbalance and overdrafts, changing nothing."""
    lines = list(lines)
    if len(lines) < 2:
        raise LedgerError("a transaction needs at least two lines")
    net: dict[str, int] = defaultdict(int)
    for account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise LedgerError(f"amount for {account!r} must be a non-zero integer of cents, got {amount!r}")
        if not account or not isinstance(account, str):
            raise LedgerError("account names are non-empty strings")
        net[account] += amount
    if sum(net.values()) != 0:
        raise LedgerError(f"transaction {memo!r} does not balance: sums to {sum(net.values())}")

    names = sorted(net)  # one lock order everywhere, so transfers never deadlock each other
    _ensure_accounts(names)
    accounts = {
        a.name: a
        for a in db.session.scalars(
            sa.select(LedgerAccount)
            .where(LedgerAccount.name.in_(names))
            .order_by(LedgerAccount.name)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    for name in names:
        if name not in MAY_GO_NEGATIVE and accounts[name].balance_cents + net[name] < 0:
            raise InsufficientFunds(
                _(
                    "Not enough funds in %(name)s: %(available)s cents available, %(needed)s needed.",
                    name=name,
                    available=accounts[name].balance_cents,
                    needed=-net[name],
                ),
            )
    txn = LedgerTransaction(memo=memo[:255], at=clock.now())
    db.session.add(txn)
    for account, amount in lines:
        txn.entries.append(LedgerEntry(account=account, amount_cents=amount))
    for name in names:
        accounts[name].balance_cents += net[name]
    db.session.flush()
    return txn


def move(source: str, destination: str, amount_cents: int, memo: str) -> LedgerTransaction:
    """Move an amount from one account to another."""
    return transfer([(source, -amount_cents), (destination, amount_cents)], memo)


def balance(account: str) -> int:
    """Current balance of an account in cents (0 for an account never used)."""
    value = db.session.scalar(sa.select(LedgerAccount.balance_cents).where(LedgerAccount.name == account))
    return value or 0


def paid_for_work(period_start: date, period_end: date) -> dict[int, int]:
    """User id -> cents requesters paid into workers' earnings in [start, end] (UTC days, inclusive).

    That is pay for approved work (approvals, raises on approved work, rejections overturned on
    appeal), never other credits to earnings such as a membership share given back.
    """
    low = datetime.combine(period_start, time.min, tzinfo=UTC)
    high = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=UTC)
    payer = aliased(LedgerEntry)
    from_requester = (
        sa.select(payer.id)
        .where(
            payer.transaction_id == LedgerEntry.transaction_id,
            payer.account.like(REQUESTER_ACCOUNTS),
            payer.amount_cents < 0,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(LedgerEntry.account, sa.func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            LedgerEntry.account.like(WORKER_EARNINGS),
            LedgerEntry.amount_cents > 0,
            LedgerTransaction.at >= low,
            LedgerTransaction.at < high,
            from_requester,
        )
        .group_by(LedgerEntry.account)
    ).all()
    return {int(account.split(":")[1]): int(cents) for account, cents in rows if cents}


def total_of_all_entries() -> int:
    """Sum of every entry ever posted; zero while the books balance."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0))) or 0)
