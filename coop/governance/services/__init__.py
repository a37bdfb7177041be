"""Governance services, one file per story; the public ones are re-exported here for other domains."""
from coop.governance.services.ballots import (
    BALLOT_FIELDS,
    cast_ballot,
    close_due,
    close_if_due,
    needs_supermajority,
    published_receipts,
    tick,
)
from coop.governance.services.membership import (
    admit_applicant,
    admit_founder,
    apply_for_membership,
    found_coordinator,
    member_register,
    members_count,
    patronage_account,
    refuse_applicant,
    rejoin_possible_on,
    share_held_account,
    share_register,
    withdraw,
)
from coop.governance.services.proposals import (
    cosign,
    create_proposal,
    list_proposals,
    petition_threshold,
    review_proposal,
)
from coop.governance.services.terms import (
    current_rule,
    current_rules,
    current_terms,
    found,
    rule_history,
    terms_history,
)

__all__ = [
    "BALLOT_FIELDS", "admit_applicant", "admit_founder", "apply_for_membership", "cast_ballot", "close_due",
    "close_if_due", "cosign", "create_proposal", "current_rule", "current_rules", "current_terms", "found",
    "found_coordinator", "list_proposals", "member_register", "members_count", "needs_supermajority",
    "patronage_account", "petition_threshold", "published_receipts", "refuse_applicant", "rejoin_possible_on",
    "review_proposal", "rule_history", "share_held_account", "share_register", "terms_history", "tick", "withdraw",
]
