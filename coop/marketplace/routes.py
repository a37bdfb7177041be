"""Marketplace routes: funds, batches, claims, reviews, appeals, requester stats and reviews."""

from flask import current_app, jsonify
from flask_babel import gettext as _
from flask_login import current_user

from coop.accounts.models import User
from coop.accounts.permissions import authenticated_user, require
from coop.csvfiles import csv_download
from coop.errors import NotFound
from coop.extensions import limiter
from coop.loading import get_or_404, read_with_caller
from coop.marketplace import services
from coop.marketplace.models import Appeal, Assignment, Batch, Deposit, Withdrawal
from coop.marketplace.schemas import (
    AppealDecisionSchema,
    AssignmentListArgs,
    BalanceSchema,
    BatchAppealListArgs,
    BatchCreateSchema,
    BatchFlagInSchema,
    BatchFlagSchema,
    BatchItemSchema,
    BatchListArgs,
    BatchSchema,
    BonusInSchema,
    BonusSchema,
    ClaimInSchema,
    DepositCreateSchema,
    DepositListArgs,
    DepositSchema,
    EarningsLineSchema,
    FlagDecisionSchema,
    LaunchSchema,
    MessageInSchema,
    MessageSchema,
    MoneyAmountSchema,
    PendingWithdrawalListArgs,
    PilotFeedbackInSchema,
    PilotFeedbackSchema,
    RaiseRewardSchema,
    RequesterAssignmentSchema,
    RequesterReviewInSchema,
    RequesterReviewSchema,
    RequesterStatsSchema,
    SubmitAnswerSchema,
    WithdrawalListArgs,
    WithdrawalSchema,
    WorkAppealInSchema,
    WorkAppealListArgs,
    WorkAppealSchema,
    WorkerAssignmentSchema,
    WorkReviewSchema,
)
from coop.pagination import PageArgs, page_body, page_schema
from coop.parsing import Blueprint

blp = Blueprint("marketplace", __name__, url_prefix="/api/v1", description="Marketplace")


def _requester(user_id: int) -> User:
    """A requester account by user id; ids of other kinds of account name no requester either."""
    user = get_or_404(User, user_id, "requester")
    if user.kind != "requester":
        raise NotFound(_("There is no requester %(user_id)s.", user_id=user_id))
    return user


# --- funds --------------------------------------------------------------------------------


@blp.route("/deposits", methods=["POST"])
@blp.arguments(DepositCreateSchema)
@blp.response(201, DepositSchema)
@require("requester")
def create_deposit(data):
    """Announce a bank transfer into your funds, with its reference (pending until a coordinator confirms it)."""
    return services.request_deposit(authenticated_user(), data["amount_cents"], data["payment_reference"])


@blp.route("/deposits", methods=["GET"])
@blp.arguments(DepositListArgs, location="query")
@blp.response(200, page_schema(DepositSchema, "DepositPage"))
@require("requester", "coordinator")
def list_deposits(args):
    """Your deposits (requesters), or every deposit (coordinators; filter with ?status=pending)."""
    return page_body(*services.list_deposits(authenticated_user(), args))


@blp.route("/deposits/<int:deposit_id>/confirm", methods=["POST"])
@blp.response(200, DepositSchema)
@require("coordinator")
def confirm_deposit(deposit_id):
    """Record that a deposit's bank transfer arrived; the funds become available."""
    return services.confirm_deposit(authenticated_user(), get_or_404(Deposit, deposit_id, "deposit"))


@blp.route("/me/balance", methods=["GET"])
@blp.response(200, BalanceSchema)
@require()
def balance():
    """Your balances: available and escrow funds (requesters) or earnings (workers)."""
    return services.balance_of(authenticated_user())


@blp.route("/me/earnings", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(EarningsLineSchema, "EarningsPage"))
@require("worker")
def earnings(args):
    """The ledger lines of your earnings, newest first."""
    return page_body(*services.earnings_lines(authenticated_user(), args))


@blp.route("/me/withdrawals", methods=["POST"])
@blp.arguments(MoneyAmountSchema)
@blp.response(201, WithdrawalSchema)
@require()
def create_withdrawal(data):
    """Ask for a payout of your earnings (workers) or unused available funds (requesters)."""
    return services.request_withdrawal(authenticated_user(), data["amount_cents"])


@blp.route("/me/withdrawals", methods=["GET"])
@blp.arguments(WithdrawalListArgs, location="query")
@blp.response(200, page_schema(WithdrawalSchema, "WithdrawalPage"))
@require()
def my_withdrawals(args):
    """Your payouts, newest first."""
    return page_body(*services.list_withdrawals(authenticated_user(), args))


@blp.route("/withdrawals", methods=["GET"])
@blp.arguments(PendingWithdrawalListArgs, location="query")
@blp.response(200, page_schema(WithdrawalSchema, "PendingWithdrawalPage"))
@require("coordinator")
def list_withdrawals(args):
    """Payouts to make (pending by default), for coordinators."""
    return page_body(*services.list_withdrawals(authenticated_user(), args, everyone=True))


@blp.route("/withdrawals/<int:withdrawal_id>/confirm", methods=["POST"])
@blp.response(200, WithdrawalSchema)
@require("coordinator")
def confirm_withdrawal(withdrawal_id):
    """Record that a payout was sent."""
    return services.confirm_withdrawal(authenticated_user(), get_or_404(Withdrawal, withdrawal_id, "withdrawal"))


# Preferences (GET/PATCH /me/preferences) are served by coop/notifications/routes.py with the notification choices.


# --- batches ------------------------------------------------------------------------------


@blp.route("/batches", methods=["POST"])
@blp.arguments(BatchCreateSchema)
@blp.response(201, BatchSchema)
@require("requester")
def create_batch(data):
    """Post a batch: checked against the terms in force; rewards and fee move into escrow."""
    return services.create_batch(authenticated_user(), data)


@blp.route("/batches", methods=["GET"])
@blp.arguments(BatchListArgs, location="query")
@blp.response(200, page_schema(BatchSchema, "BatchPage"))
@require("requester", "member")
def list_batches(args):
    """Members: open batches with work left that they can take. Requesters: their own batches."""
    return page_body(*services.list_batches(authenticated_user(), args))


@blp.route("/batches/<int:batch_id>", methods=["GET"])
@blp.response(200, BatchSchema)
@require("requester", "member")
def get_batch(batch_id):
    """One batch with its progress counts."""
    return services.batch_detail(authenticated_user(), get_or_404(Batch, batch_id, "batch"))


@blp.route("/batches/<int:batch_id>/items", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(BatchItemSchema, "BatchItemPage"))
@require("requester")
def batch_items(args, batch_id):
    """The items of your batch with their data."""
    return page_body(*services.batch_items(authenticated_user(), get_or_404(Batch, batch_id, "batch"), args))


@blp.route("/batches/<int:batch_id>/results.csv", methods=["GET"])
@blp.doc(
    responses={
        "200": {
            "description": "A CSV file: item.<field> columns, answer.<name> columns, worker, submitted_at, approved_at.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
)
@require("requester")
def batch_results(batch_id):
    """Your batch's approved work as one streamed CSV file, oldest first; workers by pseudonym only.

    Columns: the item fields (`item.<field>`, or one `item` column of JSON), the answer fields
    (`answer.<name>`, or one `answer` column of JSON for a batch without a form), then `worker`,
    `submitted_at` and `approved_at` (ISO 8601, UTC). A cell a spreadsheet would run as a
    formula starts with `'`.
    """
    header, lines = services.export_results(authenticated_user(), get_or_404(Batch, batch_id, "batch"))
    return csv_download(header, lines, f"batch-{batch_id}-results.csv")


@blp.route("/batches/<int:batch_id>/cancel", methods=["POST"])
@blp.response(200, BatchSchema)
@require("requester")
def cancel_batch(batch_id):
    """Cancel your batch: unclaimed slots are refunded; claimed work is still paid when approved."""
    return services.cancel_batch(authenticated_user(), get_or_404(Batch, batch_id, "batch"))


@blp.route("/batches/<int:batch_id>/pause", methods=["POST"])
@blp.response(200, BatchSchema)
@require("requester")
def pause_batch(batch_id):
    """Pause your open batch: it takes no new claims; claims already made may still be submitted and reviewed."""
    return services.pause_batch(authenticated_user(), get_or_404(Batch, batch_id, "batch"))


@blp.route("/batches/<int:batch_id>/unpause", methods=["POST"])
@blp.response(200, BatchSchema)
@require("requester")
def unpause_batch(batch_id):
    """Lift your own pause: the batch takes claims again (a pause by members' flags stays until a coordinator decides)."""
    return services.unpause_batch(authenticated_user(), get_or_404(Batch, batch_id, "batch"))


@blp.route("/batches/<int:batch_id>/raise", methods=["POST"])
@blp.arguments(RaiseRewardSchema)
@blp.response(200, BatchSchema)
@require("requester")
def raise_reward(data, batch_id):
    """Raise your batch's reward: approved work is paid the difference, a paused batch reopens."""
    return services.raise_reward(authenticated_user(), get_or_404(Batch, batch_id, "batch"), data["reward_cents"])


@blp.route("/batches/<int:batch_id>/assignments", methods=["GET"])
@blp.arguments(AssignmentListArgs, location="query")
@blp.response(200, page_schema(RequesterAssignmentSchema, "RequesterAssignmentPage"))
@require("requester")
def batch_assignments(args, batch_id):
    """The work done on your batch; workers appear by pseudonym only."""
    return page_body(*services.batch_assignments(authenticated_user(), get_or_404(Batch, batch_id, "batch"), args))


@blp.route("/batches/<int:batch_id>/appeals", methods=["GET"])
@blp.arguments(BatchAppealListArgs, location="query")
@blp.response(200, page_schema(WorkAppealSchema, "BatchAppealPage"))
@require("requester", "coordinator")
def batch_appeals(args, batch_id):
    """The appeals against your batch's rejections and the coordinators' decisions, oldest first."""
    return page_body(*services.batch_appeals(authenticated_user(), get_or_404(Batch, batch_id, "batch"), args))


@blp.route("/batches/<int:batch_id>/flags", methods=["POST"])
@blp.arguments(BatchFlagInSchema)
@blp.response(201, BatchFlagSchema)
@require("member")
def flag_batch(data, batch_id):
    """Flag a batch as harmful; at batch_flags_to_pause distinct members it stops taking claims for review."""
    return services.flag_batch(authenticated_user(), get_or_404(Batch, batch_id, "batch"), data["reason"])


@blp.route("/batches/<int:batch_id>/resume", methods=["POST"])
@blp.arguments(FlagDecisionSchema)
@blp.response(200, BatchSchema)
@require("coordinator")
def resume_batch(data, batch_id):
    """Resume a batch paused by members' flags, answering them with a reason in the public log."""
    return services.resume_flagged_batch(authenticated_user(), get_or_404(Batch, batch_id, "batch"), data["reason"])


@blp.route("/batches/<int:batch_id>/flags/uphold", methods=["POST"])
@blp.arguments(FlagDecisionSchema)
@blp.response(200, BatchSchema)
@require("coordinator")
def uphold_batch_flags(data, batch_id):
    """Uphold members' flags: the batch is cancelled, unclaimed slots refunded, work in flight still paid."""
    return services.cancel_flagged_batch(authenticated_user(), get_or_404(Batch, batch_id, "batch"), data["reason"])


# --- work ---------------------------------------------------------------------------------


@blp.route("/batches/<int:batch_id>/claim", methods=["POST"])
@read_with_caller(Batch, "batch_id")
@blp.arguments(ClaimInSchema, required=False)
@blp.response(201, WorkerAssignmentSchema)
@require("member")
def claim(data, batch_id):
    """Claim one item of the batch; the claim is a lease that lapses if not submitted in time."""
    return services.claim(authenticated_user(), get_or_404(Batch, batch_id, "batch"), data["accept_confidentiality"])


@blp.route("/me/assignments", methods=["GET"])
@blp.arguments(AssignmentListArgs, location="query")
@blp.response(200, page_schema(WorkerAssignmentSchema, "WorkerAssignmentPage"))
@require("worker")
def my_assignments(args):
    """Your assignments, newest first."""
    return page_body(*services.my_assignments(authenticated_user(), args))


@blp.route("/assignments/<int:assignment_id>", methods=["GET"])
@blp.response(200, WorkerAssignmentSchema)
# One status, two shapes: OpenAPI holds one response per status, so both go in a oneOf.
@blp.doc(
    responses={
        "200": {
            "description": "The worker's shape for the worker; the batch's requester sees the other.",
            "content": {"application/json": {"schema": {"oneOf": [WorkerAssignmentSchema, RequesterAssignmentSchema]}}},
        }
    }
)
@require()
def get_assignment(assignment_id):
    """One assignment: for the worker who claimed it, or the batch's requester (pseudonym only)."""
    user = authenticated_user()
    assignment = services.read_assignment(user, get_or_404(Assignment, assignment_id, "assignment"))
    if assignment.worker_id == user.id:
        return assignment
    # Already serialised in the requester's shape, so the worker schema above is bypassed.
    return jsonify(RequesterAssignmentSchema().dump(assignment))


@blp.route("/assignments/<int:assignment_id>/submit", methods=["POST"])
@blp.arguments(SubmitAnswerSchema)
@blp.response(200, WorkerAssignmentSchema)
@require("worker")
def submit(data, assignment_id):
    """Hand in your answer; the time from claim to submit is recorded."""
    # The service loads the assignment itself: on the hot path its guarded write is the first read.
    return services.submit(authenticated_user(), assignment_id, data["answer"])


@blp.route("/assignments/<int:assignment_id>/return", methods=["POST"])
@blp.response(200, WorkerAssignmentSchema)
@require("worker")
def return_claim(assignment_id):
    """Give back your claim before submitting: the slot reopens for others and nothing counts against you."""
    return services.return_claim(authenticated_user(), get_or_404(Assignment, assignment_id, "assignment"))


@blp.route("/assignments/<int:assignment_id>/review", methods=["POST"])
@blp.arguments(WorkReviewSchema)
@blp.response(200, RequesterAssignmentSchema)
@require("requester")
def review(data, assignment_id):
    """Approve submitted work (paid from escrow) or reject it with a reason (the slot reopens)."""
    return services.review(
        authenticated_user(), get_or_404(Assignment, assignment_id, "assignment"), data["decision"], data["reason"]
    )


@blp.route("/assignments/<int:assignment_id>/appeal", methods=["POST"])
@blp.arguments(WorkAppealInSchema)
@blp.response(201, WorkAppealSchema)
@require("worker")
def appeal(data, assignment_id):
    """Appeal a rejection of your work, within the appeal window."""
    assignment = get_or_404(Assignment, assignment_id, "assignment")
    return services.file_appeal(authenticated_user(), assignment, data["reason"])


@blp.route("/appeals", methods=["GET"])
@blp.arguments(WorkAppealListArgs, location="query")
@blp.response(200, page_schema(WorkAppealSchema, "WorkAppealPage"))
@require("coordinator")
def list_appeals(args):
    """Appeals to decide (pending by default), oldest first."""
    return page_body(*services.list_appeals(args))


@blp.route("/appeals/<int:appeal_id>", methods=["GET"])
@blp.response(200, WorkAppealSchema)
@require()
def get_appeal(appeal_id):
    """One appeal: for coordinators and the appealing worker."""
    return services.read_appeal(authenticated_user(), get_or_404(Appeal, appeal_id, "appeal"))


@blp.route("/appeals/<int:appeal_id>/decide", methods=["POST"])
@blp.arguments(AppealDecisionSchema)
@blp.response(200, WorkAppealSchema)
@require("coordinator")
def decide_appeal(data, appeal_id):
    """Uphold a rejection or overturn it (the worker is paid), with a reason."""
    return services.decide_appeal(
        authenticated_user(), get_or_404(Appeal, appeal_id, "appeal"), data["decision"], data["reason"]
    )


# --- requesters in the open ---------------------------------------------------------------


@blp.route("/requesters/<int:requester_id>/stats", methods=["GET"])
@blp.response(200, RequesterStatsSchema)
@require()
def requester_stats(requester_id):
    """A requester's record computed from data: approval and rejection rates, appeals, review time, real pay."""
    return services.requester_stats(_requester(requester_id))


@blp.route("/requesters/<int:requester_id>/reviews", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(RequesterReviewSchema, "RequesterReviewPage"))
@require()
def requester_reviews(args, requester_id):
    """Members' reviews of a requester, newest first."""
    return page_body(*services.requester_reviews(_requester(requester_id), args))


@blp.route("/requesters/<int:requester_id>/reviews", methods=["POST"])
@blp.arguments(RequesterReviewInSchema)
@blp.response(201, RequesterReviewSchema)
@blp.alt_response(200, schema=RequesterReviewSchema, description="Your earlier review, updated.")
@require("member")
def review_requester(data, requester_id):
    """Review a requester you submitted work for; posting again updates your review."""
    review_row, created = services.review_requester(authenticated_user(), _requester(requester_id), data)
    return review_row, 201 if created else 200


# --- fair work: bonuses, pilots, messages -------------------------------------------------


@blp.route("/assignments/<int:assignment_id>/bonus", methods=["POST"])
@blp.arguments(BonusInSchema)
@blp.response(201, BonusSchema)
@require("requester")
def pay_bonus(data, assignment_id):
    """Pay a bonus on submitted or approved work of your batch, with the platform fee, from available funds."""
    return services.pay_bonus(
        authenticated_user(), get_or_404(Assignment, assignment_id, "assignment"), data["amount_cents"], data["reason"]
    )


@blp.route("/assignments/<int:assignment_id>/feedback", methods=["POST"])
@blp.arguments(PilotFeedbackInSchema)
@blp.response(201, PilotFeedbackSchema)
@require("member")
def leave_feedback(data, assignment_id):
    """Say how clear a pilot batch was and how long it took, once, after submitting your pilot work."""
    return services.leave_feedback(authenticated_user(), get_or_404(Assignment, assignment_id, "assignment"), data)


@blp.route("/batches/<int:batch_id>/feedback", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(PilotFeedbackSchema, "PilotFeedbackPage"))
@require("requester")
def pilot_feedback(args, batch_id):
    """What your batch's pilot workers said, oldest first, under their pseudonyms."""
    return page_body(*services.pilot_feedback(authenticated_user(), get_or_404(Batch, batch_id, "batch"), args))


@blp.route("/batches/<int:batch_id>/launch", methods=["POST"])
@blp.arguments(LaunchSchema, required=False)
@blp.response(200, BatchSchema)
@require("requester")
def launch(data, batch_id):
    """Open your piloted batch to everyone, optionally with revised instructions, reward or estimate."""
    return services.launch(authenticated_user(), get_or_404(Batch, batch_id, "batch"), data or {})


def _message_author_key() -> str:
    return f"messages:user:{current_user.id if current_user.is_authenticated else '-'}"


@blp.route("/assignments/<int:assignment_id>/messages", methods=["POST"])
@limiter.limit(lambda: current_app.config["COOP_MESSAGE_RATE"], key_func=_message_author_key, scope="messages")
@blp.arguments(MessageInSchema)
@blp.response(201, MessageSchema)
@require()
def send_message(data, assignment_id):
    """Write about this assignment to its worker (requesters) or to the batch's requester (the worker)."""
    return services.send_message(
        authenticated_user(), get_or_404(Assignment, assignment_id, "assignment"), data["body"]
    )


@blp.route("/assignments/<int:assignment_id>/messages", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(MessageSchema, "MessagePage"))
@require()
def read_messages(args, assignment_id):
    """The messages about an assignment, oldest first, under pseudonyms; coordinators read them during an appeal."""
    return page_body(
        *services.read_messages(authenticated_user(), get_or_404(Assignment, assignment_id, "assignment"), args)
    )
