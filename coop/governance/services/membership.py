"""Membership and shares: founding members, applying, admitting, refusing, withdrawing, the registers."""

from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import audit, clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.accounts.permissions import has_role
from coop.errors import Conflict, Forbidden, Invalid, NotFound
from coop.extensions import db
from coop.governance.models import (
    Delegation,
    Membership,
    ShareLine,
    TermsVersion,
)
from coop.governance.services.terms import current_terms
from coop.notifications.services import notify
from coop.pagination import keyset_page


def admit_founder(user: User, payment_reference: str) -> Membership:
    """Founding step (CLI, demo): a worker whose share transfer has arrived becomes a member.

    Before the coop has coordinators nobody can confirm a payment through the API, so the
    founder's command names the transfer; it is recorded like any confirmed payment.
    """
    user = _locked_user(user)
    if user.kind != "worker":
        raise Forbidden(_("Only worker accounts can become members; requesters never vote."))
    membership = db.session.get(Membership, user.id)
    if membership is not None and membership.status == "member":
        raise Conflict(_("%(display_name)s is already a member.", display_name=user.display_name))
    if membership is not None and membership.status == "applicant":
        raise Conflict(
            _(
                "%(display_name)s paid the share from their earnings; admit them instead.",
                display_name=user.display_name,
            )
        )
    membership = _membership_row(user, membership, "member")
    return _admitted(user, membership, "founding", _share_by_transfer(user, payment_reference))


def found_coordinator(email: str, payment_reference: str = "founding") -> User:
    """Founding step: an existing worker becomes a member, their share paid by the named transfer, and a coordinator."""
    user = accounts.find_by_email(email)
    if user is None:
        raise NotFound(_("No account with email %(email)s; register it first.", email=email))
    if not user.is_member:
        admit_founder(user, payment_reference)
    if not user.is_coordinator:
        accounts.set_roles(user, coordinator=True)
        audit.append("role.granted", f"user:{user.id}", "founding", {"role": "coordinator", "by": "founding"})
    return user


def patronage_account(user_id: int) -> str:
    """The ledger account holding a member's patronage until they withdraw."""
    return ledger.member_patronage(user_id)


def _locked_user(user: User) -> User:
    # Applying, admitting and withdrawing lock the person first, so a double click cannot
    # pay the share twice or redeem it twice.
    return db.session.scalar(
        sa.select(User).where(User.id == user.id).with_for_update().execution_options(populate_existing=True)
    )


def members_count() -> int:
    """How many members the coop has now."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_member.is_(True)))


def apply_for_membership(user: User, data: dict) -> Membership:
    """Join: pay the share from earnings (`{"pay_from": "earnings"}`) or announce a transfer (`{"payment_reference"}`).

    Paid from earnings, open admission makes the worker a member at once; under "approval"
    the share is held until a coordinator admits (or refuses and refunds) them. A transfer
    makes the worker an applicant pending payment until a coordinator confirms it arrived.
    """
    if user.kind != "worker":
        raise Forbidden(_("Only worker accounts can become members; requesters never vote."))
    accounts.require_verified_email(user, "join")
    user = _locked_user(user)
    membership = db.session.get(Membership, user.id)
    if membership is not None and membership.status == "member":
        raise Conflict(_("You are already a member; each member holds exactly one share."))
    if membership is not None and membership.status in ("pending_payment", "applicant"):
        raise Conflict(_("You have already applied; a coordinator will confirm your share payment and admit you."))
    terms = current_terms()
    if membership is not None and membership.status == "withdrawn":
        rejoin_on = rejoin_possible_on(membership, terms)
        if clock.now().date() < rejoin_on:
            raise Conflict(
                _(
                    "You left on %(ended_at)s; under terms v%(version)s (rejoin_cooling_days: "
                    "%(rejoin_cooling_days)s) you may join again from %(rejoin_on)s.",
                    ended_at=membership.ended_at.date().isoformat(),
                    version=terms.version,
                    rejoin_cooling_days=terms.params["rejoin_cooling_days"],
                    rejoin_on=rejoin_on.isoformat(),
                )
            )
    if data.get("pay_from") != "earnings":
        membership = _membership_row(user, membership, "pending_payment")
        membership.payment_reference = data.get("payment_reference")
        db.session.flush()
        audit.append(
            "membership.applied",
            f"user:{user.id}",
            user,
            {"paid_from": "transfer", "admission": terms.params["admission"]},
        )
        return membership

    price = terms.params["share_price_cents"]
    earnings = ledger.balance(ledger.worker_earnings(user.id))
    if earnings < price:
        raise Conflict(
            _(
                "The share costs %(price)s cents and your earnings are %(earnings)s cents: %(missing)s cents are "
                'missing. Earn them, or pay by transfer with {"payment_reference": "..."}.',
                price=price,
                earnings=earnings,
                missing=price - earnings,
            )
        )
    if terms.params["admission"] == "open":
        membership = _membership_row(user, membership, "member")
        return _admitted(user, membership, user, _share_from_earnings(user, ledger.COOP_SHARE_CAPITAL, price))
    # Under approval the money leaves the earnings now, so it cannot also be paid out while
    # a coordinator decides; it reaches the share capital only on admission.
    membership = _membership_row(user, membership, "applicant")
    membership.share_paid_cents = _share_from_earnings(user, share_held_account(user.id), price)["amount"]
    audit.append(
        "membership.applied",
        f"user:{user.id}",
        user,
        {"paid_from": "earnings", "admission": "approval", "share_held_cents": price},
    )
    return membership


def admit_applicant(coordinator: User, applicant: User, payment_reference: str | None = None) -> Membership:
    """A coordinator confirms an applicant's share payment arrived (and, under "approval", admits them).

    A transfer enters the coop from `external` only here, under the reference the
    coordinator confirms (the applicant's announced one when none is given).
    """
    if applicant.id == coordinator.id:
        raise Forbidden(_("Another coordinator must confirm your own share payment."))
    user = _locked_user(applicant)
    membership = db.session.get(Membership, user.id)
    if membership is None or membership.status not in ("pending_payment", "applicant"):
        if user.is_member:
            raise Conflict(_("%(display_name)s is already a member.", display_name=user.display_name))
        raise Conflict(
            _(
                "%(display_name)s has not applied for membership; they apply with POST /api/v1/membership.",
                display_name=user.display_name,
            )
        )
    if membership.status == "applicant":
        # The share line was written when the earnings paid it; only the held money moves now.
        amount = membership.share_paid_cents
        ledger.move(
            share_held_account(user.id),
            ledger.COOP_SHARE_CAPITAL,
            amount,
            f"membership share of user {user.id} admitted",
        )
        share = {"amount": amount, "paid_from": "earnings", "payment_reference": None}
    else:
        reference = payment_reference or membership.payment_reference
        if not reference:
            raise Invalid(
                _(
                    "%(display_name)s announced no payment reference; give the reference of the transfer you received.",
                    display_name=user.display_name,
                ),
                {"payment_reference": [_("Required to confirm a transfer.")]},
            )
        share = _share_by_transfer(user, reference)
    admitted = _admitted(user, membership, coordinator, share)
    notify(
        [user.id],
        "payment_confirmed",
        f"user:{user.id}",
        {"what": "share", "amount_cents": share["amount"]},
    )
    return admitted


def refuse_applicant(coordinator: User, applicant: User, reason: str) -> Membership:
    """A coordinator turns down an application; a share held from the applicant's earnings goes back to them."""
    if applicant.id == coordinator.id:
        raise Forbidden(_("Another coordinator must decide on your own application."))
    user = _locked_user(applicant)
    membership = db.session.get(Membership, user.id)
    if membership is None or membership.status not in ("pending_payment", "applicant"):
        raise Conflict(_("%(display_name)s has no application waiting for a decision.", display_name=user.display_name))
    refunded = 0
    if membership.status == "applicant":
        refunded = membership.share_paid_cents
        txn = ledger.move(
            share_held_account(user.id),
            ledger.worker_earnings(user.id),
            refunded,
            f"membership share of user {user.id} refunded",
        )
        db.session.add(
            ShareLine(
                user_id=user.id,
                kind="redemption",
                amount_cents=-refunded,
                at=clock.now(),
                ledger_transaction_id=txn.id,
                memo="share refunded: application refused",
            )
        )
    membership.status, membership.ended_at, membership.share_paid_cents = "refused", clock.now(), 0
    db.session.flush()
    audit.append("membership.refused", f"user:{user.id}", coordinator, {"reason": reason, "refunded_cents": refunded})
    return membership


def withdraw(user: User) -> Membership:
    """End a membership: exactly the share it paid in and any patronage go to the member's earnings; voting ends."""
    user = _locked_user(user)
    membership = db.session.get(Membership, user.id)
    if membership is None or membership.status != "member":
        raise Conflict(_("You are not a member, so there is no membership to end."))
    now = clock.now()
    earnings = ledger.worker_earnings(user.id)
    share_paid = membership.share_paid_cents
    patronage_held = ledger.balance(patronage_account(user.id))
    for source, amount, memo in (
        (ledger.COOP_SHARE_CAPITAL, share_paid, "membership share redeemed"),
        (patronage_account(user.id), patronage_held, "patronage redeemed"),
    ):
        if amount > 0:
            txn = ledger.move(source, earnings, amount, f"{memo} to user {user.id}")
            db.session.add(
                ShareLine(
                    user_id=user.id,
                    kind="redemption",
                    amount_cents=-amount,
                    at=now,
                    ledger_transaction_id=txn.id,
                    memo=memo,
                )
            )
    was_coordinator = user.is_coordinator
    membership.status, membership.ended_at, membership.share_paid_cents = "withdrawn", now, 0
    accounts.set_roles(user, member=False)
    # Their delegation ends with their membership: coming back, they choose again. Those who named
    # them keep their choice, which counts for no one while they are not a member.
    db.session.execute(sa.delete(Delegation).where(Delegation.member_id == user.id))
    audit.append(
        "membership.withdrawn",
        f"user:{user.id}",
        user,
        {"share_redeemed_cents": share_paid, "patronage_redeemed_cents": patronage_held},
    )
    if was_coordinator:
        audit.append("role.revoked", f"user:{user.id}", user, {"role": "coordinator", "by": "withdrawal"})
    return membership


def rejoin_possible_on(membership: Membership, terms: TermsVersion | None = None) -> date:
    """The first day a former member may join again under the terms in force."""
    days = (terms or current_terms()).params["rejoin_cooling_days"]
    return membership.ended_at.date() + timedelta(days=days)


def share_held_account(user_id: int) -> str:
    """The ledger account holding a share paid from earnings while its application waits for a decision."""
    return ledger.worker_share_held(user_id)


def _membership_row(user: User, membership: Membership | None, status: str) -> Membership:
    """The worker's membership row, started afresh for a new application (a former member's included)."""
    now = clock.now()
    if membership is None:
        membership = Membership(user_id=user.id, applied_at=now)
        db.session.add(membership)
    membership.status = status
    membership.applied_at, membership.joined_at, membership.ended_at = now, None, None
    membership.share_paid_cents, membership.payment_reference = 0, None
    return membership


def _share_by_transfer(user: User, payment_reference: str) -> dict:
    """A transfer that arrived: the share price enters from outside into the share capital, in the register."""
    price = current_terms().params["share_price_cents"]
    txn = ledger.move(
        ledger.EXTERNAL,
        ledger.COOP_SHARE_CAPITAL,
        price,
        f"membership share of user {user.id} received by transfer {payment_reference}",
    )
    db.session.add(
        ShareLine(
            user_id=user.id,
            kind="membership_share",
            amount_cents=price,
            at=clock.now(),
            ledger_transaction_id=txn.id,
            payment_reference=payment_reference,
            memo="membership share received by transfer",
        )
    )
    return {"amount": price, "paid_from": "transfer", "payment_reference": payment_reference}


def _share_from_earnings(user: User, destination: str, price: int) -> dict:
    """The share paid out of the worker's own earnings, into the capital or held for a decision, in the register."""
    txn = ledger.move(
        ledger.worker_earnings(user.id), destination, price, f"membership share of user {user.id} paid from earnings"
    )
    db.session.add(
        ShareLine(
            user_id=user.id,
            kind="membership_share",
            amount_cents=price,
            at=clock.now(),
            ledger_transaction_id=txn.id,
            memo="membership share paid from earnings",
        )
    )
    return {"amount": price, "paid_from": "earnings", "payment_reference": None}


def _admitted(user: User, membership: Membership, actor, share: dict) -> Membership:
    """The share is in the capital: the worker becomes a member, the payment named in the audit log."""
    membership.status, membership.joined_at, membership.ended_at = "member", clock.now(), None
    membership.share_paid_cents = share["amount"]
    if share["payment_reference"]:
        membership.payment_reference = share["payment_reference"]
    accounts.set_roles(user, member=True)
    audit.append(
        "membership.admitted",
        f"user:{user.id}",
        actor,
        {
            "share_price_cents": share["amount"],
            "paid_from": share["paid_from"],
            "payment_reference": share["payment_reference"],
        },
    )
    return membership


def share_register(user: User) -> dict:
    """A worker's share register: every line and the total the coop holds for them."""
    lines = list(db.session.scalars(sa.select(ShareLine).where(ShareLine.user_id == user.id).order_by(ShareLine.id)))
    return {"lines": lines, "total_cents": sum(line.amount_cents for line in lines)}


def member_register(
    viewer: User, status: str, *, limit: int, cursor: str | None
) -> tuple[list[tuple[Membership, User]], str | None]:
    """One page of memberships in a status, oldest account first, with their users.

    Members see the register of members; coordinators also list applicants and former members.
    """
    if status != "member" and not has_role(viewer, "coordinator"):
        raise Forbidden(_("Only coordinators can list applicants and former members."))
    stmt = sa.select(Membership).where(Membership.status == status)
    memberships, next_cursor = keyset_page(stmt, [Membership.user_id], limit=limit, cursor=cursor)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([m.user_id for m in memberships])))}
    return [(m, users[m.user_id]) for m in memberships], next_cursor


# The columns of the share register export, in order; never an email or a payment reference.
REGISTER_COLUMNS = (
    "user_id",
    "display_name",
    "status",
    "applied_at",
    "joined_at",
    "ended_at",
    "share_paid_cents",
    "held_cents",
)
# Rows fetched per round trip when the register streams.
REGISTER_BATCH = 1000


def export_share_register(viewer: User, status: str) -> Iterator[tuple]:
    """Every membership in a status as a row of REGISTER_COLUMNS, by account (coordinators only).

    `held_cents` is what the coop holds for the person now: the share plus patronage, less
    redemptions. The check runs now; the rows are read as the iterator is consumed.
    """
    if not has_role(viewer, "coordinator"):
        raise Forbidden(_("Only coordinators can export the share register."))
    held = (
        sa.select(sa.func.coalesce(sa.func.sum(ShareLine.amount_cents), 0))
        .where(ShareLine.user_id == Membership.user_id)
        .scalar_subquery()
    )
    stmt = (
        sa.select(
            Membership.user_id,
            User.display_name,
            Membership.status,
            Membership.applied_at,
            Membership.joined_at,
            Membership.ended_at,
            Membership.share_paid_cents,
            held,
        )
        .join(User, User.id == Membership.user_id)
        .where(Membership.status == status)
        .order_by(Membership.user_id)
        .execution_options(yield_per=REGISTER_BATCH)
    )

    def rows() -> Iterator[tuple]:
        for row in db.session.execute(stmt):
            yield tuple(row)

    return rows()
