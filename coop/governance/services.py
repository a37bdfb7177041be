"""Governance services: terms and rules in force, membership and shares, proposals, ballots, tallies."""

import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coop import audit, clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.accounts.permissions import ROLE_MESSAGES, has_role
from coop.errors import Conflict, CoopError, Forbidden, Invalid, NotFound
from coop.extensions import db
from coop.governance import patronage, voting
from coop.governance.founding import FOUNDING_RULES
from coop.governance.models import (
    Ballot,
    Cosignature,
    Membership,
    Proposal,
    ProposalEligibility,
    RuleVersion,
    ShareLine,
    TermsVersion,
)
from coop.governance.motions import (
    MAX_OPTIONS,
    CoordinatorChangeSchema,
    MedianChangeSchema,
    ProposalCreateSchema,
    RuleChangeSchema,
    SurplusChangeSchema,
)
from coop.governance.terms import FOUNDING_TERMS, GOVERNANCE_PARAMS, apply_change
from coop.pagination import keyset_page

# Serialises the numbering of new terms and rule versions on PostgreSQL: two votes closing
# at once must not both create "the next" version.
_VERSIONS_LOCK_KEY = 7_267_003
# The ballot field each voting method takes.
BALLOT_FIELDS = {"yes_no": "choice", "approval": "approvals", "ranked": "ranking", "median": "value"}


def current_terms() -> TermsVersion:
    """The terms version in force; other domains read the terms only through this."""
    terms = db.session.scalar(sa.select(TermsVersion).order_by(TermsVersion.version.desc()).limit(1))
    if terms is None:
        raise NotFound("The coop has no terms yet; run 'flask coop init'.")
    return terms


def current_rule(slug: str) -> RuleVersion | None:
    """The version of a rule document in force, or None when no such rule exists."""
    return db.session.scalar(
        sa.select(RuleVersion).where(RuleVersion.slug == slug).order_by(RuleVersion.version.desc()).limit(1)
    )


def found() -> list[str]:
    """Create the founding terms and rules where missing; returns what was created."""
    created = []
    if db.session.scalar(sa.select(sa.func.count()).select_from(TermsVersion)) == 0:
        db.session.add(TermsVersion(version=1, params=dict(FOUNDING_TERMS), effective_at=clock.now()))
        db.session.flush()
        audit.append("terms.version", "terms:1", None, {"version": 1, "params": FOUNDING_TERMS, "adopted_by": None})
        created.append("terms v1")
    for slug, (title, text) in FOUNDING_RULES.items():
        if current_rule(slug) is None:
            db.session.add(RuleVersion(slug=slug, version=1, title=title, text=text, effective_at=clock.now()))
            db.session.flush()
            audit.append("rule.version", f"rule:{slug}", None, {"slug": slug, "version": 1, "adopted_by": None})
            created.append(f"rule {slug}")
    return created


def admit_founder(user: User, payment_reference: str) -> Membership:
    """Founding step (CLI, demo): a worker whose share transfer has arrived becomes a member.

    Before the coop has coordinators nobody can confirm a payment through the API, so the
    founder's command names the transfer; it is recorded like any confirmed payment.
    """
    user = _locked_user(user)
    if user.kind != "worker":
        raise Forbidden("Only worker accounts can become members; requesters never vote.")
    membership = db.session.get(Membership, user.id)
    if membership is not None and membership.status == "member":
        raise Conflict(f"{user.display_name} is already a member.")
    if membership is not None and membership.status == "applicant":
        raise Conflict(f"{user.display_name} paid the share from their earnings; admit them instead.")
    membership = _membership_row(user, membership, "member")
    return _admitted(user, membership, "founding", _share_by_transfer(user, payment_reference))


def found_coordinator(email: str, payment_reference: str = "founding") -> User:
    """Founding step: an existing worker becomes a member, their share paid by the named transfer, and a coordinator."""
    user = accounts.find_by_email(email)
    if user is None:
        raise NotFound(f"No account with email {email}; register it first.")
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


# --- membership and shares ---------------------------------------------------------


def apply_for_membership(user: User, data: dict) -> Membership:
    """Join: pay the share from earnings (`{"pay_from": "earnings"}`) or announce a transfer (`{"payment_reference"}`).

    Paid from earnings, open admission makes the worker a member at once; under "approval"
    the share is held until a coordinator admits (or refuses and refunds) them. A transfer
    makes the worker an applicant pending payment until a coordinator confirms it arrived.
    """
    if user.kind != "worker":
        raise Forbidden("Only worker accounts can become members; requesters never vote.")
    user = _locked_user(user)
    membership = db.session.get(Membership, user.id)
    if membership is not None and membership.status == "member":
        raise Conflict("You are already a member; each member holds exactly one share.")
    if membership is not None and membership.status in ("pending_payment", "applicant"):
        raise Conflict("You have already applied; a coordinator will confirm your share payment and admit you.")
    terms = current_terms()
    if membership is not None and membership.status == "withdrawn":
        rejoin_on = rejoin_possible_on(membership, terms)
        if clock.now().date() < rejoin_on:
            raise Conflict(
                f"You left on {membership.ended_at.date().isoformat()}; under terms v{terms.version} "
                f"(rejoin_cooling_days: {terms.params['rejoin_cooling_days']}) you may join again from "
                f"{rejoin_on.isoformat()}."
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
            f"The share costs {price} cents and your earnings are {earnings} cents: {price - earnings} cents "
            'are missing. Earn them, or pay by transfer with {"payment_reference": "..."}.'
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
        raise Forbidden("Another coordinator must confirm your own share payment.")
    user = _locked_user(applicant)
    membership = db.session.get(Membership, user.id)
    if membership is None or membership.status not in ("pending_payment", "applicant"):
        if user.is_member:
            raise Conflict(f"{user.display_name} is already a member.")
        raise Conflict(f"{user.display_name} has not applied for membership; they apply with POST /api/v1/membership.")
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
                f"{user.display_name} announced no payment reference; give the reference of the transfer you received.",
                {"payment_reference": ["Required to confirm a transfer."]},
            )
        share = _share_by_transfer(user, reference)
    return _admitted(user, membership, coordinator, share)


def refuse_applicant(coordinator: User, applicant: User, reason: str) -> Membership:
    """A coordinator turns down an application; a share held from the applicant's earnings goes back to them."""
    if applicant.id == coordinator.id:
        raise Forbidden("Another coordinator must decide on your own application.")
    user = _locked_user(applicant)
    membership = db.session.get(Membership, user.id)
    if membership is None or membership.status not in ("pending_payment", "applicant"):
        raise Conflict(f"{user.display_name} has no application waiting for a decision.")
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
        raise Conflict("You are not a member, so there is no membership to end.")
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
        raise Forbidden("Only coordinators can list applicants and former members.")
    stmt = sa.select(Membership).where(Membership.status == status)
    memberships, next_cursor = keyset_page(stmt, [Membership.user_id], limit=limit, cursor=cursor)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([m.user_id for m in memberships])))}
    return [(m, users[m.user_id]) for m in memberships], next_cursor


# --- terms and rules ------------------------------------------------------------------


def terms_history(*, limit: int, cursor: str | None) -> tuple[list[TermsVersion], str | None]:
    """Terms versions, newest first."""
    return keyset_page(sa.select(TermsVersion), [TermsVersion.version], limit=limit, cursor=cursor, descending=True)


def current_rules() -> list[RuleVersion]:
    """The version in force of every rule document, by slug."""
    latest = (
        sa.select(RuleVersion.slug, sa.func.max(RuleVersion.version).label("version"))
        .group_by(RuleVersion.slug)
        .subquery()
    )
    return list(
        db.session.scalars(
            sa.select(RuleVersion)
            .join(latest, sa.and_(RuleVersion.slug == latest.c.slug, RuleVersion.version == latest.c.version))
            .order_by(RuleVersion.slug)
        )
    )


def rule_history(slug: str) -> list[RuleVersion]:
    """Every version of a rule document, newest first; NotFound when there is no such rule."""
    versions = list(
        db.session.scalars(sa.select(RuleVersion).where(RuleVersion.slug == slug).order_by(RuleVersion.version.desc()))
    )
    if not versions:
        raise NotFound(f"There is no rule '{slug}'; GET /api/v1/rules lists them.")
    return versions


def _serialise_versions() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _VERSIONS_LOCK_KEY})


# --- proposals -------------------------------------------------------------------------


def create_proposal(author: User, data: dict) -> Proposal:
    """Submit a proposal `{title, body, kind, method, options?, change?}` for triage; author must be a member."""
    if not author.is_member:
        raise Forbidden(ROLE_MESSAGES["member"])
    try:
        # Loaded again here, so callers other than the route (the forum's appeals) obey the same schema.
        data = ProposalCreateSchema().load(data)
    except ma.ValidationError as exc:
        raise Invalid(errors=exc.normalized_messages()) from None
    options, change = _checked_motion(data["kind"], data["method"], data.get("options"), data.get("change"))
    proposal = Proposal(
        title=data["title"].strip(),
        body=data["body"],
        kind=data["kind"],
        method=data["method"],
        options=options,
        change=change,
        status="submitted",
        proposer_id=author.id,
        created_at=clock.now(),
    )
    if not proposal.title:
        raise Invalid(errors={"title": ["Give the proposal a title."]})
    db.session.add(proposal)
    db.session.flush()
    audit.append(
        "proposal.submitted",
        f"proposal:{proposal.id}",
        author,
        {"title": proposal.title, "kind": proposal.kind, "method": proposal.method},
    )
    return proposal


def _checked_motion(kind: str, method: str, options, change) -> tuple[list | None, dict | None]:
    """The options and change of a new proposal, normalised; Invalid with field errors otherwise."""
    if method in ("approval", "ranked"):
        if kind != "general":
            raise Invalid(
                "Approval and ranked votes choose among options and have no automatic effect; "
                "use them with kind 'general'.",
                {"kind": ["Must be 'general' for an approval or ranked vote."]},
            )
        if change:
            raise Invalid(errors={"change": ["An approval or ranked vote takes options, not a change."]})
        return _checked_options(options), None
    if options:
        raise Invalid(errors={"options": ["Only approval and ranked votes take options."]})
    if method == "median":
        if kind != "terms":
            raise Invalid(
                "A median vote sets one numeric terms parameter; use it with kind 'terms'.",
                {"method": ["'median' is only for kind 'terms'."]},
            )
        return None, _loaded(MedianChangeSchema, change)
    return None, {
        "terms": _checked_terms_change,
        "rule": _checked_rule_change,
        "coordinator": _checked_coordinator_change,
        "surplus": _checked_surplus_change,
        "general": _checked_no_change,
    }[kind](change)


def _loaded(schema: type[ma.Schema], change) -> dict:
    if not isinstance(change, dict):
        raise Invalid(
            "This kind of proposal needs a 'change'; see the API docs for its shape.",
            {"change": ["Missing or not an object."]},
        )
    try:
        return schema().load(change)
    except ma.ValidationError as exc:
        raise Invalid("The change is not valid; see 'errors'.", {"change": exc.messages}) from None


def _checked_options(options) -> list[str]:
    cleaned = [option.strip() for option in options or []]
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise Invalid(errors={"options": [f"Give between 2 and {MAX_OPTIONS} options."]})
    if not all(cleaned):
        raise Invalid(errors={"options": ["Options must not be blank."]})
    if len(set(cleaned)) != len(cleaned):
        raise Invalid(errors={"options": ["Options must be distinct."]})
    return cleaned


def _checked_terms_change(change) -> dict:
    if not isinstance(change, dict) or not change:
        raise Invalid(
            'A terms proposal names the parameters it changes, e.g. {"min_hourly_rate_cents": 1500}.',
            {"change": ["Give at least one terms parameter to change."]},
        )
    current = current_terms()
    merged, errors = apply_change(current.params, change)
    if errors:
        raise Invalid(
            f"The change would make the terms invalid (checked against terms v{current.version}); see 'errors'.",
            {"change": errors},
        )
    if merged == current.params:
        raise Invalid(
            "This change sets every parameter to the value it already has.",
            {"change": ["Changes nothing in the terms in force."]},
        )
    return dict(change)


def _checked_rule_change(change) -> dict:
    data = _loaded(RuleChangeSchema, change)
    existing = current_rule(data["rule"])
    if existing is not None and existing.text == data["text"] and data.get("title", existing.title) == existing.title:
        message = f"This is already the text of '{data['rule']}' v{existing.version}."
        raise Invalid(message, {"change": {"text": [message]}})
    return data


def _checked_coordinator_change(change) -> dict:
    data = _loaded(CoordinatorChangeSchema, change)
    target = db.session.get(User, data["member_id"])
    if target is None or not target.is_member:
        raise Invalid(
            "Only a current member can be granted or lose the coordinator role.",
            {"change": {"member_id": ["Not a current member."]}},
        )
    if data["action"] == "grant" and target.is_coordinator:
        raise Invalid(errors={"change": {"action": [f"{target.display_name} is already a coordinator."]}})
    if data["action"] == "revoke" and not target.is_coordinator:
        raise Invalid(errors={"change": {"action": [f"{target.display_name} is not a coordinator."]}})
    return data


def _checked_surplus_change(change) -> dict:
    data = _loaded(SurplusChangeSchema, change)
    return {**data, "period_start": data["period_start"].isoformat(), "period_end": data["period_end"].isoformat()}


def _checked_no_change(change) -> None:
    if change:
        raise Invalid(errors={"change": ["A general proposal has no automatic effect and takes no change."]})
    return None


def petition_threshold() -> int:
    """Co-signers needed now to bring a proposal to ballot: ceil(petition_pct × members / 100), at least one."""
    pct = current_terms().params["petition_pct"]
    return max(1, -(-pct * members_count() // 100))


def published_receipts(proposal: Proposal) -> list[dict] | None:
    """After close, every counted ballot as {receipt, choice}, in receipt order; None before."""
    if not proposal.is_closed:
        return None
    rows = db.session.execute(sa.select(Ballot.receipt, Ballot.choice).where(Ballot.proposal_id == proposal.id))
    # Sorted by receipt (in Python, the same on every database's collation), never by casting
    # order, which could tell who voted when.
    return [{"receipt": row.receipt, "choice": row.choice} for row in sorted(rows, key=lambda row: row.receipt)]


def close_if_due(proposal: Proposal) -> Proposal:
    """The proposal as of now: closed first, in this transaction, if its vote is due."""
    if _is_due(proposal, clock.now()):
        proposal = _locked(proposal)
    return proposal


def list_proposals(*, status: str | None, kind: str | None, limit: int, cursor: str | None):
    """One page of proposals, newest first, after closing every vote that is due."""
    close_due(clock.now())
    stmt = sa.select(Proposal).options(selectinload(Proposal.proposer), selectinload(Proposal.reviewer))
    if status:
        stmt = stmt.where(Proposal.status == status)
    if kind:
        stmt = stmt.where(Proposal.kind == kind)
    return keyset_page(stmt, [Proposal.id], limit=limit, cursor=cursor, descending=True)


def _is_due(proposal: Proposal, now: datetime) -> bool:
    return proposal.status == "open" and proposal.closes_at <= now


def _locked(proposal: Proposal) -> Proposal:
    """The proposal read again with its row locked for the rest of the transaction, closed first if due.

    Every change to a proposal (review, co-sign, ballot, close) takes this lock, so they
    happen one after the other and a vote is tallied exactly once.
    """
    proposal = db.session.scalar(
        sa.select(Proposal)
        .where(Proposal.id == proposal.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    now = clock.now()
    if _is_due(proposal, now):
        _record(_close(proposal, now))
    return proposal


def _record(events: list[tuple]) -> None:
    # Audit entries are appended last in a transaction: the append lock is then the last
    # lock taken, so it cannot close a cycle with proposal, version or ledger locks.
    for event, subject, actor, payload in events:
        audit.append(event, subject, actor, payload)


def review_proposal(
    coordinator: User, proposal: Proposal, action: str, reason: str | None = None, voting_days: int | None = None
) -> Proposal:
    """A coordinator opens a proposal for voting or returns it with a public reason."""
    proposal = _locked(proposal)
    reason = (reason or "").strip() or None
    subject = f"proposal:{proposal.id}"
    if action == "accept":
        if proposal.status not in ("submitted", "returned"):
            raise Conflict(f"This proposal is {proposal.status}; only submitted or returned proposals can be accepted.")
        terms = current_terms()
        low, high = terms.params["voting_days_min"], terms.params["voting_days_max"]
        days = low if voting_days is None else voting_days
        if not low <= days <= high:
            raise Invalid(
                f"The voting period must last between {low} and {high} days (terms v{terms.version}).",
                {"voting_days": [f"Must be between {low} and {high}."]},
            )
        events = [("proposal.reviewed", subject, coordinator, {"action": "accept", "reason": reason})]
        events += _open(proposal, days, via="review", actor=coordinator)
    else:
        if proposal.status != "submitted":
            raise Conflict(f"This proposal is {proposal.status}; only a submitted proposal can be returned.")
        if reason is None:
            raise Invalid(errors={"reason": ["Give the public reason for returning the proposal."]})
        proposal.status = "returned"
        events = [("proposal.reviewed", subject, coordinator, {"action": "return", "reason": reason})]
    proposal.reviewer_id, proposal.reviewed_at, proposal.review_reason = coordinator.id, clock.now(), reason
    db.session.flush()
    _record(events)
    return proposal


def cosign(member: User, proposal: Proposal) -> Proposal:
    """A member co-signs the petition to bring a proposal to ballot; enough signatures open the vote."""
    proposal = _locked(proposal)
    if proposal.proposer_id == member.id:
        raise Forbidden("You proposed this; a petition needs the signatures of other members.")
    if proposal.status not in ("submitted", "returned"):
        raise Conflict(f"This proposal is {proposal.status}; only submitted or returned proposals take co-signatures.")
    if db.session.get(Cosignature, (proposal.id, member.id)) is not None:
        raise Conflict("You have already co-signed this proposal.")
    db.session.add(Cosignature(proposal_id=proposal.id, member_id=member.id, at=clock.now()))
    proposal.cosigner_count += 1
    db.session.flush()
    threshold = petition_threshold()
    events = []
    if proposal.cosigner_count >= threshold:
        events.append(
            (
                "proposal.petition_reached",
                f"proposal:{proposal.id}",
                "petition",
                {"cosigners": proposal.cosigner_count, "threshold": threshold},
            )
        )
        events += _open(proposal, current_terms().params["voting_days_min"], via="petition", actor="petition")
    _record(events)
    return proposal


def _open(proposal: Proposal, days: int, *, via: str, actor) -> list[tuple]:
    now = clock.now()
    terms = current_terms()
    proposal.status, proposal.opened_by, proposal.terms_version = "open", via, terms.version
    proposal.opens_at, proposal.closes_at = now, now + timedelta(days=days)
    # Eligible voters are the members at this moment; later members vote on later proposals.
    db.session.execute(
        sa.insert(ProposalEligibility).from_select(
            ["proposal_id", "member_id"],
            sa.select(sa.literal(proposal.id), User.id).where(User.is_member.is_(True)),
        )
    )
    proposal.eligible_count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ProposalEligibility)
        .where(ProposalEligibility.proposal_id == proposal.id)
    )
    db.session.flush()
    return [
        (
            "proposal.opened",
            f"proposal:{proposal.id}",
            actor,
            {
                "via": via,
                "eligible": proposal.eligible_count,
                "voting_days": days,
                "terms_version": terms.version,
                "opens_at": proposal.opens_at.isoformat(),
                "closes_at": proposal.closes_at.isoformat(),
            },
        )
    ]


# --- ballots, closing, enactment ---------------------------------------------------------


def cast_ballot(member: User, proposal: Proposal, ballot: dict) -> tuple[dict, bool]:
    """Record a member's secret ballot and return a fresh receipt; True when it is their first."""
    proposal = _locked(proposal)
    if proposal.status != "open":
        if proposal.is_closed:
            raise Conflict(f"Voting on this proposal has closed ({proposal.status}); ballots are no longer taken.")
        raise Conflict(f"This proposal is {proposal.status}; voting has not opened yet.")
    eligible = db.session.get(ProposalEligibility, (proposal.id, member.id)) is not None
    if not (eligible and member.is_member):
        raise Forbidden("Only those who were members when voting opened, and still are, can vote on this proposal.")
    choice = _checked_ballot(proposal, ballot)
    receipt = secrets.token_urlsafe(16)
    existing = db.session.scalar(
        sa.select(Ballot).where(Ballot.proposal_id == proposal.id, Ballot.member_id == member.id)
    )
    if existing is None:
        db.session.add(Ballot(proposal_id=proposal.id, member_id=member.id, receipt=receipt, choice=choice))
        proposal.ballot_count += 1
    else:
        # The new ballot replaces the old one, receipt included: only the latest is counted.
        existing.choice, existing.receipt = choice, receipt
    db.session.flush()
    if _everyone_has_voted(proposal):
        # Closed by the system, not by this voter: the audit log must not say who voted last.
        _record(_close(proposal, clock.now()))
    return {"receipt": receipt, "proposal_id": proposal.id, "proposal_status": proposal.status}, existing is None


def _checked_ballot(proposal: Proposal, ballot: dict) -> dict:
    field = BALLOT_FIELDS[proposal.method]
    if set(ballot) != {field}:
        raise Invalid(
            f'This is a {proposal.method} vote: send {{"{field}": ...}}.',
            {field: ["Missing; this is the field for this vote."]},
        )
    value = ballot[field]
    try:
        if proposal.method == "yes_no":
            return {"choice": voting.validate_choice(value)}
        if proposal.method == "approval":
            return {"approvals": voting.validate_approvals(value, proposal.options)}
        if proposal.method == "ranked":
            return {"ranking": voting.validate_ranking(value, proposal.options)}
    except voting.TallyError as exc:
        raise Invalid(str(exc), {field: [str(exc)]}) from None
    param = proposal.change["param"]
    _, errors = apply_change(current_terms().params, {param: value})
    if errors:
        messages = [f"{name}: {message}" for name, found in errors.items() for message in found]
        raise Invalid(f"{value} is not a valid value for {param}: " + " ".join(messages), {"value": messages})
    return {"value": value}


def _everyone_has_voted(proposal: Proposal) -> bool:
    # Members who withdrew cannot vote any more, so the vote does not wait for them.
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ProposalEligibility)
        .join(User, User.id == ProposalEligibility.member_id)
        .where(
            ProposalEligibility.proposal_id == proposal.id,
            User.is_member.is_(True),
            ~sa.exists().where(Ballot.proposal_id == proposal.id, Ballot.member_id == ProposalEligibility.member_id),
        )
    )
    return waiting == 0


def needs_supermajority(proposal: Proposal) -> bool:
    """Rules, and terms that change how the coop decides, need the supermajority."""
    if proposal.kind == "rule":
        return True
    return proposal.kind == "terms" and proposal.method == "yes_no" and bool(set(proposal.change) & GOVERNANCE_PARAMS)


def _tally(proposal: Proposal, groups: Sequence[Any], eligible: int) -> dict:
    field = BALLOT_FIELDS[proposal.method]
    pairs = [(choice[field], count) for choice, count in groups]
    if proposal.method == "yes_no":
        return voting.tally_yes_no_grouped(pairs, eligible)
    if proposal.method == "approval":
        result = voting.tally_approval_grouped(pairs, proposal.options)
    elif proposal.method == "ranked":
        result = voting.tally_ranked_grouped(pairs, proposal.options)
    else:
        result = {"param": proposal.change["param"], **voting.tally_median_grouped(pairs)}
    cast = sum(count for _, count in groups)
    result["turnout_pct"] = round(cast * 100 / eligible, 2) if eligible else 0.0
    return result


def _close(proposal: Proposal, now: datetime) -> list[tuple]:
    """Tally a locked, open proposal and enact what passed, in this transaction; returns the audit events."""
    # Identical ballots are counted by the database, so a million ballots arrive as a few
    # hundred (ballot, count) groups instead of a million rows.
    groups = db.session.execute(
        sa.select(Ballot.choice, sa.func.count()).where(Ballot.proposal_id == proposal.id).group_by(Ballot.choice)
    ).all()
    params = db.session.get(TermsVersion, proposal.terms_version).params
    cast, eligible = sum(count for _, count in groups), proposal.eligible_count
    quorum = voting.quorum_met(cast, eligible, params["quorum_pct"])
    result = {
        **_tally(proposal, groups, eligible),
        "ballots": cast,
        "eligible": eligible,
        "quorum_pct": params["quorum_pct"],
        "quorum_met": quorum,
    }
    status = "passed" if quorum else "no_quorum"
    if proposal.method == "yes_no":
        threshold = params["supermajority_pct"] if needs_supermajority(proposal) else params["majority_pct"]
        result["threshold_pct"] = threshold
        if quorum and not voting.yes_share_exceeds(result["yes"], result["no"], threshold):
            status = "rejected"
    proposal.status, proposal.closed_at = status, now
    effect_events: list[tuple] = []
    if status == "passed" and proposal.kind != "general" and proposal.method in ("yes_no", "median"):
        try:
            # A savepoint, so an enactment refused halfway (say, fees spent meanwhile) leaves no trace.
            with db.session.begin_nested():
                enacted, effect_events = _enact(proposal, result, now)
        except CoopError as exc:
            result["error"] = exc.message
        else:
            proposal.status, proposal.enacted = "enacted", enacted
    proposal.result = result
    db.session.flush()
    subject = f"proposal:{proposal.id}"
    events = [("proposal.closed", subject, None, {"status": status, "result": result})]
    if proposal.status == "enacted":
        events += effect_events + [("proposal.enacted", subject, None, proposal.enacted)]
    return events


def _enact(proposal: Proposal, result: dict, now: datetime) -> tuple[dict, list[tuple]]:
    if proposal.kind == "terms":
        return _enact_terms(proposal, result, now)
    if proposal.kind == "rule":
        return _enact_rule(proposal, now)
    if proposal.kind == "coordinator":
        return _enact_coordinator(proposal)
    return _enact_surplus(proposal, now)


def _enact_terms(proposal: Proposal, result: dict, now: datetime) -> tuple[dict, list[tuple]]:
    if proposal.method == "median":
        if result["value"] is None:
            raise Invalid("No values were cast, so there is no median to adopt; no new terms version was made.")
        change = {proposal.change["param"]: result["value"]}
    else:
        change = proposal.change
    _serialise_versions()
    current = current_terms()
    # Applied to the terms in force now, which another vote may have changed since submission.
    merged, errors = apply_change(current.params, change)
    if errors:
        problems = "; ".join(f"{name}: {' '.join(found)}" for name, found in errors.items())
        raise Invalid(
            f"Terms v{current.version} with this change would be invalid ({problems}), "
            "so no new terms version was made."
        )
    terms = TermsVersion(version=current.version + 1, params=merged, effective_at=now, adopted_by=proposal.id)
    db.session.add(terms)
    db.session.flush()
    return {"terms_version": terms.version}, [
        (
            "terms.version",
            f"terms:{terms.version}",
            None,
            {"version": terms.version, "params": merged, "changed": change, "adopted_by": proposal.id},
        ),
    ]


def _enact_rule(proposal: Proposal, now: datetime) -> tuple[dict, list[tuple]]:
    slug = proposal.change["rule"]
    _serialise_versions()
    existing = current_rule(slug)
    title = proposal.change.get("title") or (existing.title if existing else slug.replace("-", " ").capitalize())
    rule = RuleVersion(
        slug=slug,
        version=existing.version + 1 if existing else 1,
        title=title,
        text=proposal.change["text"],
        effective_at=now,
        adopted_by=proposal.id,
    )
    db.session.add(rule)
    db.session.flush()
    return {"rule": slug, "version": rule.version}, [
        ("rule.version", f"rule:{slug}", None, {"slug": slug, "version": rule.version, "adopted_by": proposal.id}),
    ]


def _enact_coordinator(proposal: Proposal) -> tuple[dict, list[tuple]]:
    target = db.session.get(User, proposal.change["member_id"])
    if target is None or not target.is_member:
        raise Conflict("The person named is no longer a member, so the coordinator role was not changed.")
    grant = proposal.change["action"] == "grant"
    accounts.set_roles(target, coordinator=grant)
    return {"member_id": target.id, "coordinator": grant}, [
        (
            "role.granted" if grant else "role.revoked",
            f"user:{target.id}",
            None,
            {"role": "coordinator", "by": f"proposal:{proposal.id}"},
        ),
    ]


def _enact_surplus(proposal: Proposal, now: datetime) -> tuple[dict, list[tuple]]:
    amount = proposal.change["amount_cents"]
    available = ledger.balance(ledger.COOP_FEES)
    if amount > available:
        raise Conflict(
            f"The surplus of {amount} cents exceeds the {available} cents in {ledger.COOP_FEES}, "
            "so nothing was allocated."
        )
    start, end = (date.fromisoformat(proposal.change[k]) for k in ("period_start", "period_end"))
    earnings = ledger.paid_for_work(start, end)
    # Patronage is for members: earnings of workers who are not (or no longer) members share nothing.
    members = set(db.session.scalars(sa.select(User.id).where(User.id.in_(list(earnings)), User.is_member.is_(True))))
    allocations = patronage.allocate(amount, {uid: cents for uid, cents in earnings.items() if uid in members})
    shares = {uid: cents for uid, cents in allocations.items() if cents}
    if not shares:
        raise Conflict(f"No member had approved earnings between {start} and {end}, so nothing was allocated.")
    for user_id, cents in sorted(shares.items()):
        txn = ledger.move(ledger.COOP_FEES, patronage_account(user_id), cents, f"patronage from proposal {proposal.id}")
        memo = f"patronage {start} to {end} (proposal {proposal.id})"
        db.session.add(
            ShareLine(
                user_id=user_id, kind="patronage", amount_cents=cents, at=now, ledger_transaction_id=txn.id, memo=memo
            )
        )
    db.session.flush()
    summary = {"amount_cents": amount, "members": len(shares)}
    return summary, [
        (
            "surplus.allocated",
            f"proposal:{proposal.id}",
            None,
            {**summary, "period_start": start.isoformat(), "period_end": end.isoformat()},
        )
    ]


def close_due(now: datetime) -> int:
    """Close every vote whose time is up; returns how many closed."""
    # Locked together in id order before anything else, so two closers never wait on each other in a cycle.
    due = list(
        db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.status == "open", Proposal.closes_at <= now)
            .order_by(Proposal.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    events = []
    for proposal in due:
        events += _close(proposal, now)
    _record(events)
    return len(due)


def tick(now) -> str:
    """Time-driven governance work that is due: close the votes whose time is up."""
    closed = close_due(now)
    return f"closed {closed} proposal(s)" if closed else "nothing due"
