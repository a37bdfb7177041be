"""Delegation: a member names one delegate; at close a member who did not vote counts as their chain's voter.

Rules:
- Only a member may delegate, and only to another current member; the terms in force must
  allow it (`delegation_allowed`). Removing a delegation is always possible.
- At a vote's close, a member who did not vote counts as the ballot of the first member down
  their chain who voted. Every link of the chain, the voter at its end included, must be a
  member who may vote on that proposal (eligible when it opened and still a member): a chain
  that reaches anyone else (a delegate who left, or joined after the vote opened) stops and
  counts for no one. Cycles count for no one; a member's own ballot always overrides.
- Whether delegation counts in a vote is decided by the terms it opened under, like its thresholds.
- Who delegates to whom is shown to the member alone; the delegate sees how many members name
  them, the audit log records only that a delegation changed, and the recount only each
  ballot's weight.

Lock order: a delegation change takes the delegation lock shared, then the member's row, then
the delegation row; a close takes the proposal rows, then the delegation lock exclusive, and
reads every delegation in one statement. So a change commits wholly before the weights are read
or waits until the close has committed, and delegation changes never wait on one another.
"""

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from coop import audit, clock
from coop.accounts.models import User
from coop.accounts.permissions import ROLE_MESSAGES
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.models import Ballot, Delegation, Proposal, ProposalEligibility, TermsVersion
from coop.governance.services.terms import current_terms

# Serialises delegation changes (shared) against the reading of delegations at a close (exclusive), on PostgreSQL.
_DELEGATION_LOCK_KEY = 7_267_013


def _lock_delegations(*, exclusive: bool) -> None:
    # SQLite lets one writer at a time anyway; PostgreSQL needs the lock to order changes and closes.
    if db.session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        db.session.execute(sa.text(f"SELECT {function}(:k)"), {"k": _DELEGATION_LOCK_KEY})


def delegation_of(member: User) -> dict:
    """The member's own delegation: their delegate (or None), how many members delegate to them, and whether delegation is allowed now."""
    delegation = db.session.get(Delegation, member.id)
    delegate = db.session.get(User, delegation.delegate_id) if delegation else None
    delegators = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delegation)
        .join(User, User.id == Delegation.member_id)
        .where(Delegation.delegate_id == member.id, User.is_member.is_(True))
    )
    return {
        "delegate": (
            {"user_id": delegate.id, "display_name": delegate.display_name, "is_member": delegate.is_member}
            if delegate
            else None
        ),
        "set_at": delegation.set_at if delegation else None,
        "delegators": delegators,
        "delegation_allowed": bool(current_terms().params.get("delegation_allowed")),
    }


def _locked_member(member: User) -> User:
    # Under the member's row lock, so two changes by the same member cannot both insert their row,
    # and a member who has just left cannot delegate.
    member = db.session.scalar(
        sa.select(User).where(User.id == member.id).with_for_update().execution_options(populate_existing=True)
    )
    if not member.is_member:
        raise Forbidden(ROLE_MESSAGES["member"])
    return member


def _record(event: str) -> None:
    # Neither member is named: the log is public, and who delegates is the member's own business.
    delegating = db.session.scalar(sa.select(sa.func.count()).select_from(Delegation))
    audit.append(event, "delegation", "a member", {"delegating_members": delegating})


def set_delegate(member: User, delegate_id: int) -> dict:
    """Name the member with id `delegate_id` as the member's one delegate, replacing any other; returns the member's delegation."""
    _lock_delegations(exclusive=False)
    member = _locked_member(member)
    terms = current_terms()
    if not terms.params.get("delegation_allowed"):
        raise Conflict(
            _(
                "The terms in force (v%(version)s) do not allow delegation; you can still vote yourself, or "
                "propose to change delegation_allowed.",
                version=terms.version,
            )
        )
    if delegate_id == member.id:
        raise Invalid(_("You cannot be your own delegate."), {"delegate_id": [_("Name another member.")]})
    # An id in the body, not the address: naming no one is a field error like naming a non-member.
    delegate = db.session.get(User, delegate_id)
    if delegate is None or not delegate.is_member:
        raise Invalid(
            _(
                "User %(delegate_id)s is not a member; only members vote, so only a member can be your delegate.",
                delegate_id=delegate_id,
            ),
            {"delegate_id": [_("Not a current member.")]},
        )
    delegation = db.session.get(Delegation, member.id)
    if delegation is None or delegation.delegate_id != delegate.id:
        if delegation is None:
            db.session.add(Delegation(member_id=member.id, delegate_id=delegate.id, set_at=clock.now()))
        else:
            delegation.delegate_id, delegation.set_at = delegate.id, clock.now()
        db.session.flush()
        _record("delegation.set")
    return delegation_of(member)


def remove_delegate(member: User) -> dict:
    """End the member's delegation, so their vote counts only when they cast it; 409 when they have none."""
    _lock_delegations(exclusive=False)
    member = _locked_member(member)
    delegation = db.session.get(Delegation, member.id)
    if delegation is None:
        raise Conflict(_("You have no delegate to remove."))
    db.session.delete(delegation)
    db.session.flush()
    _record("delegation.removed")
    return delegation_of(member)


def weigh_ballots(proposal: Proposal) -> int:
    """At close: set each ballot's weight to the members it counts for; returns how many are counted through delegation.

    The chains are walked backwards from the voters in one recursive statement: each voter
    collects the members who did not vote and name them, then those who name these, and so on.
    A member who did not vote names one delegate, so they are reached at most once, and a cycle
    with no voter in it is never reached at all: it counts for no one, with no depth limit needed.
    """
    params = db.session.get(TermsVersion, proposal.terms_version).params
    if not params.get("delegation_allowed"):
        return 0
    _lock_delegations(exclusive=True)
    voter, delegator = aliased(User), aliased(User)
    voted = sa.exists().where(Ballot.proposal_id == proposal.id, Ballot.member_id == Delegation.member_id)
    # The delegations that may pass a vote on: of members who may vote on this proposal and did not.
    # Read once, so each step down the chains is one probe of a hash of them.
    open_delegations = (
        sa.select(Delegation.member_id, Delegation.delegate_id)
        .join(
            ProposalEligibility,
            sa.and_(
                ProposalEligibility.proposal_id == proposal.id, ProposalEligibility.member_id == Delegation.member_id
            ),
        )
        .join(delegator, delegator.id == Delegation.member_id)
        .where(delegator.is_member.is_(True), ~voted)
        .cte("open_delegations")
        .prefix_with("MATERIALIZED")
    )
    chains = (
        sa.select(Ballot.member_id.label("root"), Ballot.member_id.label("member_id"))
        .join(voter, voter.id == Ballot.member_id)
        .where(
            Ballot.proposal_id == proposal.id,
            voter.is_member.is_(True),
            # Only voters someone names can gather weight; the rest keep theirs at 1 unread.
            sa.exists().where(Delegation.delegate_id == Ballot.member_id),
        )
        .cte("chains", recursive=True)
    )
    chains = chains.union_all(
        sa.select(chains.c.root, open_delegations.c.member_id).join(
            open_delegations, open_delegations.c.delegate_id == chains.c.member_id
        )
    )
    weights = (
        sa.select(chains.c.root, sa.func.count().label("weight"))
        .group_by(chains.c.root)
        .having(sa.func.count() > 1)
        .subquery()
    )
    db.session.execute(
        sa.update(Ballot)
        .where(Ballot.proposal_id == proposal.id, Ballot.member_id == weights.c.root)
        .values(weight=weights.c.weight)
        .execution_options(synchronize_session=False)
    )
    # Ballots already loaded in this session read their new weight when next used.
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Ballot) and loaded.proposal_id == proposal.id:
            db.session.expire(loaded, ["weight"])
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Ballot.weight - 1), 0)).where(
            Ballot.proposal_id == proposal.id, Ballot.weight > 1
        )
    )
