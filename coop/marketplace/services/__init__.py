"""Marketplace services, one file per story; the public ones are re-exported here for other domains."""

from coop.marketplace.services.batches import (
    batch_detail,
    batch_items,
    cancel_batch,
    create_batch,
    get_preferences,
    list_batches,
    pause_batch,
    progress,
    set_preferences,
    terms_breaches,
    unpause_batch,
)
from coop.marketplace.services.bonuses import pay_bonus
from coop.marketplace.services.common import (
    CLAIMABLE,
    CLOSED,
    PROTECTIONS,
    protections_in_force,
)
from coop.marketplace.services.escrow import escrow_owed
from coop.marketplace.services.flags import (
    cancel_flagged_batch,
    flag_batch,
    open_flag_count,
    resume_flagged_batch,
)
from coop.marketplace.services.funds import (
    balance_of,
    confirm_deposit,
    confirm_withdrawal,
    earnings_lines,
    list_deposits,
    list_withdrawals,
    request_deposit,
    request_withdrawal,
)
from coop.marketplace.services.messages import read_messages, send_message
from coop.marketplace.services.pay_audit import AUDIT_MIN_SUBMISSIONS, audit_real_pay, raise_reward
from coop.marketplace.services.pilots import launch, leave_feedback, pilot_feedback
from coop.marketplace.services.requesters import requester_reviews, requester_stats, review_requester
from coop.marketplace.services.results import export_results
from coop.marketplace.services.reviews import (
    appeal_deadline,
    batch_appeals,
    batch_assignments,
    decide_appeal,
    file_appeal,
    list_appeals,
    read_appeal,
    review,
)
from coop.marketplace.services.suspension import check_not_suspended, enact_requester_suspension, suspension_of
from coop.marketplace.services.tick import refresh_assignment, refresh_batch, tick
from coop.marketplace.services.work import (
    claim,
    flagged_seconds_today,
    my_assignments,
    read_assignment,
    return_claim,
    submit,
)

__all__ = [
    "AUDIT_MIN_SUBMISSIONS",
    "CLAIMABLE",
    "CLOSED",
    "PROTECTIONS",
    "appeal_deadline",
    "audit_real_pay",
    "balance_of",
    "batch_appeals",
    "batch_assignments",
    "batch_detail",
    "batch_items",
    "cancel_batch",
    "cancel_flagged_batch",
    "check_not_suspended",
    "enact_requester_suspension",
    "flag_batch",
    "open_flag_count",
    "resume_flagged_batch",
    "suspension_of",
    "claim",
    "confirm_deposit",
    "confirm_withdrawal",
    "create_batch",
    "decide_appeal",
    "earnings_lines",
    "escrow_owed",
    "export_results",
    "file_appeal",
    "flagged_seconds_today",
    "get_preferences",
    "launch",
    "leave_feedback",
    "list_appeals",
    "list_batches",
    "list_deposits",
    "list_withdrawals",
    "my_assignments",
    "pay_bonus",
    "pilot_feedback",
    "pause_batch",
    "progress",
    "protections_in_force",
    "raise_reward",
    "read_appeal",
    "read_assignment",
    "read_messages",
    "refresh_assignment",
    "refresh_batch",
    "request_deposit",
    "request_withdrawal",
    "requester_reviews",
    "requester_stats",
    "return_claim",
    "review",
    "review_requester",
    "send_message",
    "set_preferences",
    "submit",
    "terms_breaches",
    "tick",
    "unpause_batch",
]
