"""Enactment of passed proposals: new terms and rule versions, coordinator roles, surplus as patronage."""

from collections.abc import Callable
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.errors import Conflict, Invalid
from coop.extensions import db
from coop.governance import patronage
from coop.governance.models import (
    Proposal,
    RuleVersion,
    ShareLine,
    TermsVersion,
)
from coop.governance.services.membership import patronage_account
from coop.governance.services.terms import (
    check_floor_above_local_minimums,
    current_rule,
    current_terms,
    serialise_versions,
)
from coop.governance.terms import apply_change
from coop.webhooks import services as webhooks

Effect = Callable[[Proposal, datetime], tuple[dict, list[tuple]]]

# Kinds whose effect lives in another domain (a requester's suspension, in the marketplace), which
# registers it when the app is built: governance never imports the domains that build on it.
EFFECTS: dict[str, Effect] = {}


def register_effect(kind: str, effect: Effect) -> None:
    """Name the function that carries out a passed proposal of `kind` for another domain."""
    EFFECTS[kind] = effect


def enact(proposal: Proposal, result: dict, now: datetime) -> tuple[dict, list[tuple]]:
    """Carry out what a passed proposal decided; returns the enacted summary and its audit events."""
    if proposal.kind in EFFECTS:
        return EFFECTS[proposal.kind](proposal, now)
    if proposal.kind == "terms":
        return _enact_terms(proposal, result, now)
    if proposal.kind == "rule":
        return _enact_rule(proposal, now)
    if proposal.kind == "coordinator" and proposal.method == "stv":
        return _enact_coordinator_election(proposal, result)
    if proposal.kind == "coordinator":
        return _enact_coordinator(proposal)
    return _enact_surplus(proposal, now)


def _enact_terms(proposal: Proposal, result: dict, now: datetime) -> tuple[dict, list[tuple]]:
    if proposal.method == "median":
        if result["value"] is None:
            raise Invalid(_("No values were cast, so there is no median to adopt; no new terms version was made."))
        change = {proposal.change["param"]: result["value"]}
    else:
        change = proposal.change
    serialise_versions()
    current = current_terms()
    # Applied to the terms in force now, which another vote may have changed since submission.
    merged, errors = apply_change(current.params, change)
    if errors:
        problems = "; ".join(f"{name}: {' '.join(found)}" for name, found in errors.items())
        raise Invalid(
            _(
                "Terms v%(version)s with this change would be invalid (%(problems)s), so no new terms version "
                "was made.",
                version=current.version,
                problems=problems,
            )
        )
    try:
        check_floor_above_local_minimums(merged, change)
    except Invalid as exc:
        raise Invalid(_("%(message)s No new terms version was made.", message=exc.message)) from None
    terms = TermsVersion(version=current.version + 1, params=merged, effective_at=now, adopted_by=proposal.id)
    db.session.add(terms)
    db.session.flush()
    # Inside the enactment's savepoint: a refused enactment drops this announcement with it.
    webhooks.emit("terms.changed", {"version": terms.version, "changed": change, "adopted_by": proposal.id})
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
    serialise_versions()
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
        raise Conflict(_("The person named is no longer a member, so the coordinator role was not changed."))
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


def _enact_coordinator_election(proposal: Proposal, result: dict) -> tuple[dict, list[tuple]]:
    """Give the coordinator role to everyone the count elected; the role is added, nobody loses theirs."""
    if not result["elected"]:
        raise Conflict(_("No ballot counted for a candidate still a member, so nobody was elected."))
    elected = [int(uid) for uid in result["elected"]]
    users = {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(elected)))}
    events, granted = [], []
    for uid in elected:
        user = users[uid]
        # The count passed over anyone who left, so every one elected is a member now.
        if not user.is_coordinator:
            accounts.set_roles(user, coordinator=True)
            granted.append(uid)
            events.append(
                ("role.granted", f"user:{uid}", None, {"role": "coordinator", "by": f"proposal:{proposal.id}"})
            )
    return {"elected": elected, "granted": granted, "coordinator": True}, events


def _enact_surplus(proposal: Proposal, now: datetime) -> tuple[dict, list[tuple]]:
    amount = proposal.change["amount_cents"]
    available = ledger.balance(ledger.COOP_FEES)
    if amount > available:
        raise Conflict(
            _(
                "The surplus of %(amount)s cents exceeds the %(available)s cents in %(account)s, so nothing "
                "was allocated.",
                amount=amount,
                available=available,
                account=ledger.COOP_FEES,
            )
        )
    start, end = (date.fromisoformat(proposal.change[k]) for k in ("period_start", "period_end"))
    earnings = ledger.paid_for_work(start, end)
    # Patronage is for members: earnings of workers who are not (or no longer) members share nothing.
    members = set(db.session.scalars(sa.select(User.id).where(User.id.in_(list(earnings)), User.is_member.is_(True))))
    allocations = patronage.allocate(amount, {uid: cents for uid, cents in earnings.items() if uid in members})
    shares = {uid: cents for uid, cents in allocations.items() if cents}
    if not shares:
        raise Conflict(
            _(
                "No member had approved earnings between %(start)s and %(end)s, so nothing was allocated.",
                start=start,
                end=end,
            )
        )
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
