"""Request and response schemas for the marketplace."""

import marshmallow as ma
from marshmallow import validate as v

from coop.fields import Cents, PaymentReference
from coop.marketplace import forms, pay
from coop.marketplace.models import (
    APPEAL_STATUSES,
    ASSIGNMENT_STATUSES,
    BATCH_STATUSES,
    CONTENT_WARNINGS,
    DEPOSIT_STATUSES,
    MAX_BATCH_ITEMS,
    WITHDRAWAL_STATUSES,
)
from coop.marketplace.services.pay_audit import AUDIT_MIN_SUBMISSIONS, RealTime, real_time_of
from coop.marketplace.services.reviews import appeal_deadline
from coop.pagination import PageArgs

MAX_ITEMS = MAX_BATCH_ITEMS
# A reward per item: with up to 10,000 items × 100 assignments a batch stays within MAX_CENTS.
MAX_REWARD_CENTS = 10_000_000


class MoneyAmountSchema(ma.Schema):
    amount_cents = Cents(required=True)


class DepositCreateSchema(MoneyAmountSchema):
    payment_reference = PaymentReference(
        load_default=None,
        metadata={"description": "The reference of your bank transfer, so a coordinator can match it."},
    )


class DepositSchema(ma.Schema):
    id = ma.fields.Integer()
    requester_id = ma.fields.Integer()
    amount_cents = ma.fields.Integer()
    payment_reference = ma.fields.String(allow_none=True, metadata={"description": "The transfer's reference."})
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    confirmed_at = ma.fields.DateTime(allow_none=True)


class DepositListArgs(PageArgs):
    status = ma.fields.String(validate=v.OneOf(DEPOSIT_STATUSES))


class WithdrawalSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    source = ma.fields.String(metadata={"description": "'requester' (available funds) or 'worker' (earnings)."})
    amount_cents = ma.fields.Integer()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    confirmed_at = ma.fields.DateTime(allow_none=True)


class WithdrawalListArgs(PageArgs):
    status = ma.fields.String(validate=v.OneOf(WITHDRAWAL_STATUSES))


class PendingWithdrawalListArgs(PageArgs):
    status = ma.fields.String(load_default="pending", validate=v.OneOf(WITHDRAWAL_STATUSES))


class BalanceSchema(ma.Schema):
    available_cents = ma.fields.Integer(metadata={"description": "Requesters: funds free to post batches."})
    escrow_cents = ma.fields.Integer(metadata={"description": "Requesters: funds held for posted work."})
    earnings_cents = ma.fields.Integer(metadata={"description": "Workers: approved rewards not yet paid out."})
    payout_pending_cents = ma.fields.Integer(metadata={"description": "Set aside for a payout not yet confirmed."})


class EarningsLineSchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    amount_cents = ma.fields.Integer()
    memo = ma.fields.String()


class MarketPreferencesSchema(ma.Schema):
    content_opt_in = ma.fields.List(
        ma.fields.String(validate=v.OneOf(CONTENT_WARNINGS)),
        required=True,
        metadata={"description": f"Content warnings you accept work under: any of {', '.join(CONTENT_WARNINGS)}."},
    )


class BatchItemInSchema(ma.Schema):
    data = ma.fields.Dict(required=True, metadata={"description": "Any JSON object, up to COOP_MAX_ITEM_BYTES."})


def _identifier(name: str) -> None:
    # fullmatch: the documented pattern's $ would let a trailing line break through.
    if not forms.NAME_PATTERN.fullmatch(name):
        raise ma.ValidationError(f"Use {forms.NAME_RULE}.")


class AnswerFieldSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=[v.Regexp(f"^{forms.NAME_PATTERN.pattern}$", error=f"Use {forms.NAME_RULE}."), _identifier],
        metadata={"description": "The answer's key and the results column (answer.<name>)."},
    )
    label = ma.fields.String(required=True, validate=v.Length(min=1, max=forms.MAX_LABEL))
    type = ma.fields.String(required=True, validate=v.OneOf(forms.FIELD_TYPES))
    options = ma.fields.List(
        ma.fields.String(validate=v.Length(min=1, max=forms.MAX_OPTION)),
        validate=v.Length(min=1, max=forms.MAX_OPTIONS),
        metadata={"description": f"Choice fields only: 1 to {forms.MAX_OPTIONS} distinct options."},
    )
    required = ma.fields.Boolean(
        load_default=True, metadata={"description": "Must the worker fill it in? Default true."}
    )

    @ma.post_load
    def _shape(self, data, **kwargs):
        # Stored in one shape, so the form a worker reads is the form their answer is checked against.
        shaped = {"name": data["name"], "label": data["label"], "type": data["type"], "required": data["required"]}
        if "options" in data:
            shaped["options"] = data["options"]
        return shaped


class BatchCreateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=v.Length(max=20_000))
    instructions = ma.fields.String(load_default="", validate=v.Length(max=50_000))
    end_client = ma.fields.String(
        load_default="",
        validate=v.Length(max=200),
        metadata={"description": "Who the data is for; required by the terms."},
    )
    purpose = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=64),
        metadata={"description": "preparation, verification or impersonation."},
    )
    impersonation_notice = ma.fields.String(load_default=None, allow_none=True, validate=v.Length(max=5_000))
    content_warnings = ma.fields.List(ma.fields.String(validate=v.Length(max=64)), load_default=list)
    personal_data = ma.fields.Boolean(load_default=False)
    dpa_reference = ma.fields.String(load_default=None, allow_none=True, validate=v.Length(max=200))
    reward_cents = Cents(required=True, max=MAX_REWARD_CENTS)
    est_seconds = ma.fields.Integer(required=True, strict=True, validate=v.Range(min=1, max=86_400))
    assignments_per_item = ma.fields.Integer(load_default=1, strict=True, validate=v.Range(min=1, max=100))
    expires_at = ma.fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    items = ma.fields.List(
        ma.fields.Nested(BatchItemInSchema),
        validate=v.Length(min=1, max=MAX_ITEMS, error="Give between 1 and 10,000 items."),
        metadata={"description": "The items as JSON; or give items_csv instead."},
    )
    items_csv = ma.fields.String(
        validate=v.Length(min=1),
        metadata={
            "description": "The items as CSV text instead of items: a header line naming the item fields, then one "
            "line per item (at most 10,000). Problems are listed as {line, message} and nothing is stored."
        },
    )
    answer_fields = ma.fields.List(
        ma.fields.Nested(AnswerFieldSchema),
        load_default=None,
        allow_none=True,
        validate=v.Length(min=1, max=forms.MAX_FIELDS),
        metadata={
            "description": f"The answer form, 1 to {forms.MAX_FIELDS} fields; answers are checked against it. "
            "Without it any JSON object is accepted as an answer."
        },
    )

    @ma.validates_schema
    def _items_and_form(self, data, **kwargs):
        if "items" in data and "items_csv" in data:
            raise ma.ValidationError("Give the items once: as items (JSON) or as items_csv, not both.", "items_csv")
        if "items" not in data and "items_csv" not in data:
            raise ma.ValidationError("Give the items: as a JSON list (items) or as CSV text (items_csv).", "items")
        if data.get("answer_fields"):
            errors = forms.form_errors(data["answer_fields"])
            if errors:
                raise ma.ValidationError(errors, "answer_fields")

    pilot_slots = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=v.Range(min=1, max=MAX_ITEMS * 100),
        metadata={
            "description": "Run a paid pilot of this many assignments first (required above "
            "pilot_required_above_items items; 10 by default there)."
        },
    )


class RequesterRefSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()
    organization = ma.fields.String(allow_none=True)


class BatchProgressSchema(ma.Schema):
    items = ma.fields.Integer()
    slots = ma.fields.Integer()
    open = ma.fields.Integer(metadata={"description": "Slots nobody holds."})
    in_progress = ma.fields.Integer(metadata={"description": "Slots claimed or submitted, not yet decided."})
    done = ma.fields.Integer(metadata={"description": "Slots whose work was approved."})
    cancelled = ma.fields.Integer(metadata={"description": "Slots refunded."})
    claimed = ma.fields.Integer()
    submitted = ma.fields.Integer()
    approved = ma.fields.Integer()
    rejected = ma.fields.Integer()
    expired = ma.fields.Integer()


class BatchSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": " | ".join(BATCH_STATUSES)})
    requester = ma.fields.Nested(RequesterRefSchema)
    title = ma.fields.String()
    description = ma.fields.String()
    instructions = ma.fields.String()
    end_client = ma.fields.String()
    purpose = ma.fields.String()
    impersonation_notice = ma.fields.String(allow_none=True)
    content_warnings = ma.fields.List(ma.fields.String())
    personal_data = ma.fields.Boolean()
    dpa_reference = ma.fields.String(allow_none=True)
    reward_cents = ma.fields.Integer()
    est_seconds = ma.fields.Integer()
    hourly_rate_cents = ma.fields.Method(
        "get_hourly_rate", metadata={"description": "Promised: reward × 3600 / est_seconds."}
    )
    assignments_per_item = ma.fields.Integer()
    expires_at = ma.fields.DateTime(allow_none=True)
    terms_version = ma.fields.Integer()
    protections = ma.fields.Dict(metadata={"description": "Worker protections promised at posting."})
    fee_pct = ma.fields.Integer()
    item_count = ma.fields.Integer()
    slot_count = ma.fields.Integer()
    rewards_total_cents = ma.fields.Integer()
    fee_cents = ma.fields.Integer()
    escrow_cents = ma.fields.Integer(metadata={"description": "What the batch still holds in escrow."})
    required_reward_cents = ma.fields.Integer(allow_none=True)
    underpay_finding = ma.fields.Dict(allow_none=True)
    message = ma.fields.Method("get_message", allow_none=True)
    created_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)
    paused_reason = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "flags: members flagged it as harmful and a coordinator reviews it (no claims meanwhile); "
            "suspension: the members suspended its requester; requester: its requester paused it (no new claims; "
            "claims already made may still be submitted)."
        },
    )
    paused_at = ma.fields.DateTime(allow_none=True)
    progress = ma.fields.Nested(BatchProgressSchema, metadata={"description": "Only on GET /batches/{id}."})
    answer_fields = ma.fields.List(
        ma.fields.Dict(), allow_none=True, metadata={"description": "The answer form; null takes any JSON object."}
    )
    item_fields = ma.fields.List(
        ma.fields.String(), allow_none=True, metadata={"description": "The items' fields (columns of results.csv)."}
    )
    estimated_seconds = ma.fields.Function(
        lambda batch: batch.est_seconds,
        metadata={"type": "integer", "description": "The requester's estimate of the time one item takes."},
    )
    estimated_hourly_cents = ma.fields.Method(
        "get_hourly_rate", metadata={"description": "The pay per hour if the estimate holds: reward × 3600 / estimate."}
    )
    timed_submissions = ma.fields.Method(
        "get_timed_submissions", metadata={"description": "Submissions whose real working time is known."}
    )
    median_real_seconds = ma.fields.Method(
        "get_median_real_seconds",
        allow_none=True,
        metadata={"description": f"The median real working time, once {AUDIT_MIN_SUBMISSIONS} submissions exist."},
    )
    real_hourly_cents = ma.fields.Method(
        "get_real_hourly_cents",
        allow_none=True,
        metadata={"description": "The pay per hour at the median real time (null until that is shown)."},
    )
    pilot_slots = ma.fields.Integer(
        allow_none=True, metadata={"description": "Slots opened for the paid pilot; null without a pilot."}
    )
    launched_at = ma.fields.DateTime(allow_none=True)

    def get_hourly_rate(self, batch):
        return pay.hourly_rate_cents(batch.reward_cents, batch.est_seconds)

    def _real_time(self, batch) -> RealTime:
        # Pages have it counted for all their batches at once; a single batch is counted here.
        return getattr(batch, "real_time", None) or real_time_of([batch])[batch.id]

    def get_timed_submissions(self, batch):
        return self._real_time(batch).submissions

    def get_median_real_seconds(self, batch):
        return self._real_time(batch).median_seconds

    def get_real_hourly_cents(self, batch):
        return self._real_time(batch).hourly_cents(batch.reward_cents)

    def get_message(self, batch):
        if batch.status != "paused_underpaid":
            return None
        finding = batch.underpay_finding or {}
        return (
            f"Paused by the real-pay audit: at the median real time of {finding.get('median_seconds')} seconds "
            f"this batch pays {finding.get('effective_hourly_cents')} cents an hour, below the minimum of "
            f"{finding.get('min_hourly_rate_cents')}. Raise the reward to at least "
            f"{batch.required_reward_cents} cents with POST /api/v1/batches/{batch.id}/raise to reopen it; "
            "the raise is paid to approved work too."
        )


class BatchListArgs(PageArgs):
    status = ma.fields.String(
        validate=v.OneOf(BATCH_STATUSES), metadata={"description": "Requesters only: filter your batches by status."}
    )
    sort = ma.fields.String(
        validate=v.OneOf(("recommended", "pay", "newest")),
        metadata={
            "description": "Members only. recommended (default): your own rating of the requester, then the "
            "members' average, then the promised hourly pay; pay: promised hourly pay; newest."
        },
    )


class BatchItemSchema(ma.Schema):
    id = ma.fields.Integer()
    position = ma.fields.Integer()
    data = ma.fields.Dict()


class ClaimInSchema(ma.Schema):
    accept_confidentiality = ma.fields.Boolean(
        load_default=False, metadata={"description": "Required (true) for batches whose items hold personal data."}
    )


class SubmitAnswerSchema(ma.Schema):
    answer = ma.fields.Dict(required=True)


class WorkReviewSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=v.OneOf(["approve", "reject"]))
    reason = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=v.Length(max=5_000),
        metadata={"description": "Required when rejecting: at least 10 characters saying what was wrong."},
    )


class WorkAppealInSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5_000))


class AppealDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=v.OneOf(["uphold", "overturn"]))
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5_000))


class RaiseRewardSchema(ma.Schema):
    reward_cents = Cents(required=True, max=MAX_REWARD_CENTS)


class WorkAppealRefSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)


class AssignmentBaseSchema(ma.Schema):
    id = ma.fields.Integer()
    batch_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": " | ".join(ASSIGNMENT_STATUSES)})
    claimed_at = ma.fields.DateTime()
    lease_expires_at = ma.fields.DateTime()
    submitted_at = ma.fields.DateTime(allow_none=True)
    real_seconds = ma.fields.Integer(allow_none=True)
    answer = ma.fields.Dict(allow_none=True)
    reviewed_at = ma.fields.DateTime(allow_none=True)
    review_decision = ma.fields.String(allow_none=True)
    review_reason = ma.fields.String(allow_none=True)
    approved_at = ma.fields.DateTime(allow_none=True)
    paid_cents = ma.fields.Integer()
    appeal = ma.fields.Method("get_appeal", allow_none=True)

    def get_appeal(self, assignment):
        # Only rejected work can have been appealed; not asking saves a query per assignment.
        if assignment.review_decision != "reject" or assignment.appeal is None:
            return None
        return WorkAppealRefSchema().dump(assignment.appeal)


class WorkerAssignmentSchema(AssignmentBaseSchema):
    """The claimant's view: the item's data only while they hold the claim."""

    item = ma.fields.Method("get_item")
    batch_title = ma.fields.Function(lambda a: a.batch.title)
    answer_fields = ma.fields.Function(
        lambda a: a.batch.answer_fields,
        allow_none=True,
        metadata={"description": "The batch's answer form, which the answer must fit; null takes any JSON object."},
    )
    appeal_deadline = ma.fields.Method("get_appeal_deadline", allow_none=True)

    def get_item(self, assignment):
        item = {"id": assignment.item_id}
        if assignment.status == "claimed":
            item["data"] = assignment.item.data
        return item

    def get_appeal_deadline(self, assignment):
        deadline = appeal_deadline(assignment)
        return deadline.isoformat() if deadline else None


class RequesterAssignmentSchema(AssignmentBaseSchema):
    """The requester's view: the worker by pseudonym only."""

    item_id = ma.fields.Integer()
    worker = ma.fields.Function(lambda a: a.worker.display_name, metadata={"description": "The worker's pseudonym."})


class AssignmentListArgs(PageArgs):
    status = ma.fields.String(validate=v.OneOf(ASSIGNMENT_STATUSES))


class WorkAppealSchema(ma.Schema):
    id = ma.fields.Integer()
    assignment_id = ma.fields.Integer()
    batch_id = ma.fields.Function(lambda a: a.assignment.batch_id)
    worker = ma.fields.Function(lambda a: a.assignment.worker.display_name)
    rejection_reason = ma.fields.Function(lambda a: a.assignment.review_reason)
    answer = ma.fields.Function(lambda a: a.assignment.answer)
    reason = ma.fields.String()
    status = ma.fields.String(metadata={"description": " | ".join(APPEAL_STATUSES)})
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by = ma.fields.Function(lambda a: a.decided_by.display_name if a.decided_by else None)
    decision_reason = ma.fields.String(allow_none=True)
    paid_cents = ma.fields.Integer()
    paid_from = ma.fields.String(allow_none=True)


class WorkAppealListArgs(PageArgs):
    status = ma.fields.String(load_default="pending", validate=v.OneOf(APPEAL_STATUSES))


class BatchAppealListArgs(PageArgs):
    status = ma.fields.String(
        validate=v.OneOf(APPEAL_STATUSES), metadata={"description": "Only appeals in this state; all by default."}
    )


class RequesterFiguresSchema(ma.Schema):
    batches_posted = ma.fields.Integer()
    approval_rate = ma.fields.Float(allow_none=True)
    rejection_rate = ma.fields.Float(allow_none=True)
    appeals_overturned = ma.fields.Integer()
    median_review_hours = ma.fields.Float(allow_none=True)
    median_real_hourly_cents = ma.fields.Integer(allow_none=True)
    median_hours_to_payment = ma.fields.Float(
        allow_none=True,
        metadata={"description": "From submission to the worker being paid (approval, by hand or auto)."},
    )
    mean_hours_to_payment = ma.fields.Float(allow_none=True)
    review_count = ma.fields.Integer()
    average_rating = ma.fields.Float(allow_none=True)
    average_pay = ma.fields.Float(allow_none=True)
    average_approval_speed = ma.fields.Float(allow_none=True)
    average_communication = ma.fields.Float(allow_none=True)
    would_work_again_share = ma.fields.Float(allow_none=True, metadata={"description": "Of the reviews that said."})
    broke_terms_share = ma.fields.Float(allow_none=True, metadata={"description": "Of the reviews that said."})


class RequesterStatsSchema(RequesterFiguresSchema):
    requester_id = ma.fields.Integer()
    display_name = ma.fields.String()
    organization = ma.fields.String(allow_none=True)
    suspended = ma.fields.Boolean(metadata={"description": "Whether the members suspended this requester by vote."})
    last_90_days = ma.fields.Nested(
        RequesterFiguresSchema, metadata={"description": "The same figures over the last 90 days."}
    )


_score = v.Range(min=1, max=5)


class RequesterReviewInSchema(ma.Schema):
    rating = ma.fields.Integer(
        strict=True,
        validate=_score,
        metadata={
            "description": "Overall, 1-5; when left out, the rounded mean of pay, approval_speed and communication."
        },
    )
    pay = ma.fields.Integer(strict=True, validate=_score, metadata={"description": "Pay, 1-5."})
    approval_speed = ma.fields.Integer(strict=True, validate=_score, metadata={"description": "Approval speed, 1-5."})
    communication = ma.fields.Integer(strict=True, validate=_score, metadata={"description": "Communication, 1-5."})
    would_work_again = ma.fields.Boolean(allow_none=True, truthy={True}, falsy={False})
    broke_terms = ma.fields.Boolean(
        allow_none=True, truthy={True}, falsy={False}, metadata={"description": "Did they break the coop's terms?"}
    )
    text = ma.fields.String(load_default="", validate=v.Length(max=5_000))

    @ma.validates_schema
    def _rated(self, data, **kwargs):
        dimensions = [name for name in ("pay", "approval_speed", "communication") if name in data]
        if "rating" not in data and len(dimensions) < 3:
            missing = [n for n in ("pay", "approval_speed", "communication") if n not in data]
            raise ma.ValidationError(
                {name: ["Rate this 1-5 (or give an overall 'rating')."] for name in missing or ["rating"]}
            )


class RequesterReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    requester_id = ma.fields.Integer()
    author = ma.fields.Function(lambda r: r.member.display_name, metadata={"description": "The member's pseudonym."})
    rating = ma.fields.Integer()
    pay = ma.fields.Integer(attribute="pay_rating", allow_none=True)
    approval_speed = ma.fields.Integer(attribute="speed_rating", allow_none=True)
    communication = ma.fields.Integer(attribute="communication_rating", allow_none=True)
    would_work_again = ma.fields.Boolean(allow_none=True)
    broke_terms = ma.fields.Boolean(allow_none=True)
    text = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class BatchFlagInSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=5_000),
        metadata={"description": "Why the batch is harmful, 10 to 1000 characters; published in the audit log."},
    )


class BatchFlagSchema(ma.Schema):
    id = ma.fields.Integer()
    batch_id = ma.fields.Integer()
    reason = ma.fields.String()
    created_at = ma.fields.DateTime()
    open_flags = ma.fields.Integer(metadata={"description": "Members' flags on the batch awaiting a coordinator."})
    flags_to_pause = ma.fields.Integer(metadata={"description": "Terms parameter batch_flags_to_pause."})
    batch_paused = ma.fields.Boolean()


class FlagDecisionSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=5_000),
        metadata={"description": "The coordinator's answer to the flags, 10 to 1000 characters; published."},
    )


class BonusInSchema(ma.Schema):
    amount_cents = Cents(required=True, max=MAX_REWARD_CENTS)
    reason = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=2_000),
        metadata={"description": "Why, for the worker to read."},
    )


class BonusSchema(ma.Schema):
    id = ma.fields.Integer()
    assignment_id = ma.fields.Integer()
    amount_cents = ma.fields.Integer(metadata={"description": "Paid to the worker."})
    fee_cents = ma.fields.Integer(metadata={"description": "The platform fee on it, paid by the requester."})
    reason = ma.fields.String()
    created_at = ma.fields.DateTime()


class PilotFeedbackInSchema(ma.Schema):
    clarity = ma.fields.Integer(
        required=True,
        strict=True,
        validate=v.Range(min=1, max=5),
        metadata={"description": "How clear the instructions were, 1 (unclear) to 5 (clear)."},
    )
    minutes_taken = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=v.Range(min=1, max=1440)
    )
    comment = ma.fields.String(load_default=None, allow_none=True, validate=v.Length(max=2_000))


class PilotFeedbackSchema(ma.Schema):
    id = ma.fields.Integer()
    assignment_id = ma.fields.Integer()
    worker = ma.fields.Function(lambda f: f.assignment.worker.display_name, metadata={"description": "Pseudonym."})
    real_seconds = ma.fields.Function(lambda f: f.assignment.real_seconds, allow_none=True)
    clarity = ma.fields.Integer()
    minutes_taken = ma.fields.Integer(allow_none=True)
    comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class LaunchSchema(ma.Schema):
    instructions = ma.fields.String(load_default=None, allow_none=True, validate=v.Length(max=50_000))
    reward_cents = Cents(load_default=None, allow_none=True, max=MAX_REWARD_CENTS)
    est_seconds = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=v.Range(min=1, max=86_400)
    )


class MessageInSchema(ma.Schema):
    body = ma.fields.String(required=True, validate=v.Length(min=1, max=2_000))


class MessageSchema(ma.Schema):
    id = ma.fields.Integer()
    assignment_id = ma.fields.Integer()
    author = ma.fields.Function(lambda m: m.author.display_name, metadata={"description": "The author's pseudonym."})
    author_role = ma.fields.Function(lambda m: m.author.kind, metadata={"description": "worker | requester"})
    body = ma.fields.String()
    created_at = ma.fields.DateTime()
