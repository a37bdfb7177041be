"""Outcomes: what came of a closed proposal, stated by its author or a coordinator, and its review date."""

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import audit, clock
from coop.accounts.models import User
from coop.accounts.permissions import has_role
from coop.errors import Conflict, Forbidden, Invalid
from coop.extensions import db
from coop.governance.models import Proposal, ProposalOutcome
from coop.governance.services.ballots import lock_proposal
from coop.notifications.services import notify

STATEMENT_MAX = 5000


def record_outcome(user: User, proposal: Proposal, statement: str, review_on: date | None = None) -> Proposal:
    """The proposal's author or a coordinator records, once, what came of a closed proposal.

    `review_on`, if given, is a day after today on which the author and co-signers are to be
    reminded to look at it again. 409 before close or when an outcome is already recorded.
    """
    if proposal.proposer_id != user.id and not has_role(user, "coordinator"):
        raise Forbidden(_("Only the proposal's author or a coordinator can record its outcome."))
    proposal = lock_proposal(proposal)
    if not proposal.is_closed:
        raise Conflict(
            _("This proposal is %(status)s; an outcome is recorded after its vote closes.", status=proposal.status)
        )
    if db.session.get(ProposalOutcome, proposal.id) is not None:
        raise Conflict(_("An outcome is already recorded for this proposal."))
    statement = (statement or "").strip()
    if not 1 <= len(statement) <= STATEMENT_MAX:
        raise Invalid(errors={"statement": [_("Write between 1 and %(most)s characters.", most=STATEMENT_MAX)]})
    today = clock.now().date()
    if review_on is not None and review_on <= today:
        raise Invalid(
            _("A review date must be in the future."),
            {"review_on": [_("Give a day after %(today)s (UTC).", today=today.isoformat())]},
        )
    outcome = ProposalOutcome(
        proposal_id=proposal.id,
        statement=statement,
        review_on=review_on,
        recorded_by_id=user.id,
        recorded_at=clock.now(),
    )
    db.session.add(outcome)
    db.session.flush()
    db.session.refresh(proposal, ["outcome"])
    audit.append(
        "proposal.outcome_recorded",
        f"proposal:{proposal.id}",
        user,
        {"statement": statement, "review_on": review_on.isoformat() if review_on else None},
    )
    return proposal


def mark_reviews_due(now: datetime) -> str:
    """Record, once per outcome, that its review date has come: an audit entry `proposal.outcome_review_due`.

    The entry names the proposal; the author and co-signers are read from it by whoever reminds
    them. Outcomes already marked are skipped, so running the tick again records nothing new.
    """
    due = db.session.scalars(
        sa.select(ProposalOutcome)
        .where(ProposalOutcome.review_due_at.is_(None), ProposalOutcome.review_on <= now.date())
        .order_by(ProposalOutcome.proposal_id)
        .with_for_update(skip_locked=True)
    ).all()
    for outcome in due:
        outcome.review_due_at = now
        audit.append(
            "proposal.outcome_review_due",
            f"proposal:{outcome.proposal_id}",
            "system",
            {"review_on": outcome.review_on.isoformat() if outcome.review_on else None},
        )
        proposal = db.session.get(Proposal, outcome.proposal_id)
        notify(
            {outcome.recorded_by_id, proposal.proposer_id},
            "outcome_review_due",
            f"proposal:{outcome.proposal_id}",
            {"proposal_id": outcome.proposal_id, "title": proposal.title, "review_on": outcome.review_on.isoformat()},
        )
    db.session.flush()
    return f"{len(due)} outcome review(s) due" if due else "no outcome review due"
