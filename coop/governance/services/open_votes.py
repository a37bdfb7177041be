"""The votes open now, as one member sees them: time left, and whether they have voted."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from coop.accounts.models import User
from coop.extensions import db
from coop.governance.models import Ballot, Proposal, ProposalEligibility


@dataclass(frozen=True)
class OpenVote:
    """One open vote for one member: whether they may vote on it and whether they did."""

    proposal: Proposal
    eligible: bool
    voted: bool


def open_votes(member: User, now: datetime, limit: int = 20) -> list[OpenVote]:
    """The votes still open at `now`, closing soonest first, in one query.

    A vote past its closing time that nobody has closed yet is left out: it takes no more ballots.
    """
    eligible = sa.and_(ProposalEligibility.proposal_id == Proposal.id, ProposalEligibility.member_id == member.id)
    cast = sa.and_(Ballot.proposal_id == Proposal.id, Ballot.member_id == member.id)
    rows = db.session.execute(
        sa.select(Proposal, ProposalEligibility.member_id.is_not(None), Ballot.id.is_not(None))
        .outerjoin(ProposalEligibility, eligible)
        .outerjoin(Ballot, cast)
        .where(Proposal.status == "open", Proposal.closes_at > now)
        .order_by(Proposal.closes_at, Proposal.id)
        .options(lazyload(Proposal.outcome))  # an open vote has no outcome to load yet
        .limit(limit)
    ).all()
    return [OpenVote(proposal, bool(may), bool(did)) for proposal, may, did in rows]
