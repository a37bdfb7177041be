"""What a response shows of governance: proposals with their threshold and receipts, the member register, rules."""

from coop.accounts.models import User
from coop.accounts.permissions import has_role
from coop.governance import services
from coop.governance.models import Membership, Proposal, RuleVersion

RULE_FIELDS = ("slug", "version", "title", "text", "effective_at", "adopted_by")


def proposal_view(proposal: Proposal, *, receipts: bool = False, threshold: int | None = None) -> Proposal:
    """The proposal with what depends on the membership now: the petition threshold, and after close the receipts.

    Pass `threshold` when showing many proposals, so it is counted once for the page.
    """
    # View-only figures on the instance; the model declares them unmapped with a None default.
    proposal.petition_threshold = services.petition_threshold() if threshold is None else threshold  # type: ignore[assignment]
    if receipts:
        proposal.receipts = services.published_receipts(proposal)  # type: ignore[assignment]
    return proposal


def member_view(membership: Membership, user: User, viewer: User) -> dict:
    """One line of the member register; coordinators also see the email, the payment reference and the share."""
    item = {
        "user_id": user.id,
        "display_name": user.display_name,
        "status": membership.status,
        "applied_at": membership.applied_at,
        "joined_at": membership.joined_at,
        "is_coordinator": user.is_coordinator,
    }
    if has_role(viewer, "coordinator"):
        item.update(
            email=user.email,
            payment_reference=membership.payment_reference,
            share_paid_cents=membership.share_paid_cents,
        )
    return item


def rule_view(history: list[RuleVersion]) -> dict:
    """A rule document: its version in force, with every version newest first."""
    current = history[0]
    return {**{k: getattr(current, k) for k in RULE_FIELDS}, "history": history}
