"""Request and response schemas for governance: membership, terms, rules, proposals, ballots."""

import marshmallow as ma
from marshmallow import validate as v

from coop.fields import Count, PaymentReference
from coop.governance.models import MEMBERSHIP_STATUSES, PROPOSAL_KINDS, PROPOSAL_STATUSES
from coop.pagination import PageArgs

# --- membership and shares ----------------------------------------------------


class MembershipApplicationSchema(ma.Schema):
    pay_from = ma.fields.String(
        validate=v.OneOf(["earnings"]),
        metadata={"description": '"earnings": pay the share now from your own earnings, when they suffice.'},
    )
    payment_reference = PaymentReference(
        metadata={
            "description": "The reference of the bank or mobile-money transfer you made for the share; a coordinator "
            "confirms it arrived. Without pay_from you wait as pending_payment until then.",
        }
    )

    @ma.validates_schema
    def one_way_to_pay(self, data, **kwargs):
        if "pay_from" in data and "payment_reference" in data:
            raise ma.ValidationError("Pay either from your earnings or by transfer, not both.", "payment_reference")


class AdmissionSchema(ma.Schema):
    payment_reference = PaymentReference(
        metadata={
            "description": "The reference of the share transfer you received; defaults to the one the applicant "
            "announced. Not needed for a share paid from earnings.",
        }
    )


class RefusalSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=[v.Length(min=1, max=2000), v.Regexp(r"\s*\S", error="Give the reason for refusing the application.")],
        metadata={"description": "Kept in the audit log."},
    )


class MembershipSchema(ma.Schema):
    user_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": ", ".join(MEMBERSHIP_STATUSES) + "."})
    applied_at = ma.fields.DateTime()
    joined_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    share_paid_cents = ma.fields.Integer(
        metadata={
            "description": "What this membership paid in (held, for an applicant who paid from earnings); "
            "exactly what leaving redeems."
        }
    )
    payment_reference = ma.fields.String(
        allow_none=True, metadata={"description": "The share transfer's reference, announced or confirmed."}
    )


class ShareLineSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "membership_share, patronage or redemption (negative)."})
    amount_cents = ma.fields.Integer()
    at = ma.fields.DateTime()
    memo = ma.fields.String()
    payment_reference = ma.fields.String(allow_none=True, metadata={"description": "The confirmed transfer, if any."})


class ShareRegisterSchema(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(ShareLineSchema))
    total_cents = ma.fields.Integer(metadata={"description": "What the coop holds for you: share plus patronage."})


class MemberSchema(ma.Schema):
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    status = ma.fields.String()
    applied_at = ma.fields.DateTime()
    joined_at = ma.fields.DateTime(allow_none=True)
    is_coordinator = ma.fields.Boolean()
    email = ma.fields.String(metadata={"description": "Shown to coordinators only."})
    payment_reference = ma.fields.String(
        allow_none=True, metadata={"description": "Coordinators only: the share transfer's reference to match."}
    )
    share_paid_cents = ma.fields.Integer(
        metadata={"description": "Coordinators only: the share paid in (or held for an applicant)."}
    )


class MembersArgs(PageArgs):
    status = ma.fields.String(
        load_default="member",
        validate=v.OneOf(MEMBERSHIP_STATUSES),
        metadata={
            "description": "Coordinators may list applicants (pending_payment: the transfers to confirm; "
            "applicant: paid from earnings, awaiting a decision) and former members too."
        },
    )
    format = ma.fields.String(
        load_default="json",
        validate=v.OneOf(["json", "csv"]),
        metadata={
            "description": "csv (coordinators only): the share register of every membership in the status, "
            "streamed as text/csv, ignoring limit and cursor; no emails."
        },
    )


# --- terms and rules ------------------------------------------------------------


class TermsSchema(ma.Schema):
    version = ma.fields.Integer()
    params = ma.fields.Dict(metadata={"description": "Every terms parameter in force."})
    effective_at = ma.fields.DateTime()
    adopted_by = ma.fields.Integer(
        allow_none=True, metadata={"description": "The proposal that adopted it; null at founding."}
    )


class LocalMinimumSchema(ma.Schema):
    country = ma.fields.String(metadata={"description": "The members' country with the highest local minimum wage."})
    local_min_hourly_cents = ma.fields.Integer()
    margin_cents = ma.fields.Integer(metadata={"description": "min_hourly_rate_cents minus the local minimum."})


class CurrentTermsSchema(TermsSchema):
    local_minimum = ma.fields.Nested(
        LocalMinimumSchema,
        allow_none=True,
        metadata={"description": "null while no member states a country listed in local_min_hourly_cents."},
    )


class RuleVersionSchema(ma.Schema):
    slug = ma.fields.String()
    version = ma.fields.Integer()
    title = ma.fields.String()
    text = ma.fields.String(metadata={"description": "Markdown."})
    effective_at = ma.fields.DateTime()
    adopted_by = ma.fields.Integer(allow_none=True)


class RuleSchema(RuleVersionSchema):
    history = ma.fields.List(
        ma.fields.Nested(RuleVersionSchema), metadata={"description": "Every version, newest first."}
    )


# --- proposals ------------------------------------------------------------------

# The body of POST /proposals, ProposalCreateSchema, is in coop/governance/motions.py: the
# services check every proposal against it, the forum's escalated appeals included.


class ProposalReviewSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=v.OneOf(["accept", "return"]))
    reason = ma.fields.String(validate=v.Length(max=2000), metadata={"description": "Required (and public) to return."})
    voting_days = Count(
        min=1, metadata={"description": "accept only; defaults to voting_days_min, within the terms bounds."}
    )

    @ma.validates_schema
    def reason_to_return(self, data, **kwargs):
        if data["action"] == "return" and not (data.get("reason") or "").strip():
            raise ma.ValidationError("Give the public reason for returning the proposal.", "reason")
        if data["action"] == "return" and "voting_days" in data:
            raise ma.ValidationError("Only an accepted proposal has voting days.", "voting_days")


class ProposalArgs(PageArgs):
    status = ma.fields.String(validate=v.OneOf(PROPOSAL_STATUSES))
    kind = ma.fields.String(validate=v.OneOf(PROPOSAL_KINDS))


class OutcomeSchema(ma.Schema):
    statement = ma.fields.String()
    review_on = ma.fields.Date(allow_none=True, metadata={"description": "When the outcome is to be looked at again."})
    recorded_by = ma.fields.Function(lambda o: o.recorded_by.display_name, metadata={"description": "Pseudonym."})
    recorded_at = ma.fields.DateTime()
    review_due_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "When the review date was found to have come (by the tick)."}
    )


class ProposalSchema(ma.Schema):
    """A proposal as anyone signed in sees it: counts only, never who voted or how."""

    id = ma.fields.Integer()
    title = ma.fields.String()
    body = ma.fields.String()
    kind = ma.fields.String()
    method = ma.fields.String()
    options = ma.fields.List(ma.fields.String(), allow_none=True)
    change = ma.fields.Dict(allow_none=True)
    seats = ma.fields.Integer(allow_none=True, metadata={"description": "stv: how many options are elected."})
    status = ma.fields.String(metadata={"description": ", ".join(PROPOSAL_STATUSES)})
    proposer = ma.fields.Function(lambda p: p.proposer.display_name, metadata={"description": "Pseudonym."})
    created_at = ma.fields.DateTime()
    reviewed_by = ma.fields.Function(lambda p: p.reviewer.display_name if p.reviewer else None, allow_none=True)
    review_reason = ma.fields.String(allow_none=True)
    opened_by = ma.fields.String(allow_none=True, metadata={"description": "review (a coordinator) or petition."})
    opens_at = ma.fields.DateTime(allow_none=True)
    closes_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)
    cosigners = ma.fields.Integer(attribute="cosigner_count")
    petition_threshold = ma.fields.Integer(
        metadata={"description": "Co-signers that bring a submitted or returned proposal to ballot now."}
    )
    eligible = ma.fields.Integer(attribute="eligible_count", metadata={"description": "Members when voting opened."})
    ballots_cast = ma.fields.Integer(attribute="ballot_count")
    result = ma.fields.Dict(allow_none=True, metadata={"description": "The tally, after close."})
    enacted = ma.fields.Dict(
        allow_none=True, metadata={"description": "What the vote put in force: terms or rule version, role, patronage."}
    )
    thread_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The proposal's discussion thread in the forum's proposals board."}
    )
    version = ma.fields.Integer(
        metadata={"description": "1 as submitted, one more per accepted amendment; see /proposals/{id}/versions."}
    )
    outcome = ma.fields.Nested(
        OutcomeSchema, allow_none=True, metadata={"description": "What came of it, recorded after close."}
    )


class PublishedReceiptSchema(ma.Schema):
    receipt = ma.fields.String()
    choice = ma.fields.Dict(metadata={"description": 'In the ballot\'s own shape, e.g. {"choice": "yes"}.'})
    reason = ma.fields.String(allow_none=True, metadata={"description": "The voter's reason, if they gave one."})
    weight = ma.fields.Integer(
        metadata={
            "description": "How many members this ballot counted for: its voter plus the members who did not vote "
            "and whose delegation chain ends at this voter. The tally is the receipts' choices times their weights."
        }
    )


class ProposalDetailSchema(ProposalSchema):
    receipts = ma.fields.List(
        ma.fields.Nested(PublishedReceiptSchema),
        allow_none=True,
        metadata={
            "description": "After close: the counted ballots in receipt order, for a recount; at most 1,000 "
            "(see receipts_total and receipts_url for the rest)."
        },
    )
    receipts_total = ma.fields.Integer(
        allow_none=True, metadata={"description": "After close: how many receipts there are in all."}
    )
    receipts_url = ma.fields.String(
        allow_none=True,
        metadata={"description": "After close: the paged list of every receipt (?format=csv for all at once)."},
    )


class ReceiptArgs(PageArgs):
    format = ma.fields.String(
        load_default="json",
        validate=ma.validate.OneOf(["json", "csv"]),
        metadata={"description": "csv: every receipt in one streamed text/csv file, ignoring limit and cursor."},
    )


class BallotSchema(ma.Schema):
    """One of the shapes, matching the proposal's method."""

    choice = ma.fields.String(metadata={"description": "yes_no: yes, no or abstain."})
    approvals = ma.fields.List(ma.fields.String(), metadata={"description": "approval: the options you approve."})
    ranking = ma.fields.List(
        ma.fields.String(), metadata={"description": "ranked and stv: options, most preferred first."}
    )
    value = Count(metadata={"description": "median: your value for the parameter."})
    consent = ma.fields.Boolean(
        truthy={True}, falsy={False}, metadata={"description": "consent: true to consent (or send objection)."}
    )
    objection = ma.fields.String(
        metadata={"description": "consent: object, giving your reason (20 to 2,000 characters); published after close."}
    )
    # Values are checked by the vote itself, so true/false are refused as scores rather than read as 1/0.
    scores = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "score: every option with a whole number from 0 to 5."},
    )
    reason = ma.fields.String(
        validate=v.Length(max=500),
        metadata={"description": "Optional: why you vote so (at most 500 characters), published with your receipt."},
    )

    @ma.validates_schema
    def exactly_one(self, data, **kwargs):
        if len(set(data) - {"reason"}) != 1:
            raise ma.ValidationError(
                "Send exactly one of choice, approvals, ranking, value, consent, objection or scores.", "_schema"
            )


class BallotReceiptSchema(ma.Schema):
    receipt = ma.fields.String(metadata={"description": "Keep it: after close it is published with your choice."})
    proposal_id = ma.fields.Integer()
    proposal_status = ma.fields.String(metadata={"description": "open, or the outcome if your ballot was the last."})


# --- amendments and outcomes ------------------------------------------------------


class AmendmentCreateSchema(ma.Schema):
    """The fields to replace; what they make is checked as a new proposal is (POST /proposals)."""

    body = ma.fields.String(allow_none=True, metadata={"description": "The new text (markdown)."})
    options = ma.fields.List(
        ma.fields.String(), allow_none=True, metadata={"description": "approval and ranked votes: the new options."}
    )
    change = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "The new change, whole (it replaces the proposal's), in the shape its kind takes."},
    )
    reason = ma.fields.String(
        required=True,
        validate=[v.Length(min=1, max=2000), v.Regexp(r"\s*\S", error="Say why you propose this amendment.")],
    )

    @ma.validates_schema
    def something_to_amend(self, data, **kwargs):
        if all(data.get(field) is None for field in ("body", "options", "change")):
            raise ma.ValidationError("Amend at least one of body, options or change.", "_schema")


class AmendmentDeclineSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=[v.Length(min=1, max=2000), v.Regexp(r"\s*\S", error="Say why you decline the amendment.")],
        metadata={"description": "Public, shown with the amendment."},
    )


class AmendmentSchema(ma.Schema):
    id = ma.fields.Integer()
    proposal_id = ma.fields.Integer()
    author = ma.fields.Function(lambda a: a.author.display_name, metadata={"description": "Pseudonym."})
    body = ma.fields.String(allow_none=True, metadata={"description": "Null when the amendment keeps the text."})
    options = ma.fields.List(ma.fields.String(), allow_none=True)
    change = ma.fields.Dict(allow_none=True)
    reason = ma.fields.String()
    status = ma.fields.String(
        metadata={"description": "pending, accepted, declined, or lapsed (still pending when voting opened)."}
    )
    based_on_version = ma.fields.Integer(metadata={"description": "The proposal version it was written against."})
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decline_reason = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(allow_none=True, metadata={"description": "The proposal version its acceptance made."})


class ProposalVersionSchema(ma.Schema):
    number = ma.fields.Integer()
    body = ma.fields.String()
    options = ma.fields.List(ma.fields.String(), allow_none=True)
    change = ma.fields.Dict(allow_none=True)
    at = ma.fields.DateTime()
    amendment_id = ma.fields.Integer(allow_none=True, metadata={"description": "Null for the version as submitted."})


class OutcomeCreateSchema(ma.Schema):
    statement = ma.fields.String(
        required=True,
        validate=[v.Length(min=1, max=5000), v.Regexp(r"\s*\S", error="Write what came of the proposal.")],
    )
    review_on = ma.fields.Date(
        allow_none=True, metadata={"description": "A day after today (UTC) to look at the outcome again."}
    )


# --- delegation -------------------------------------------------------------------


class DelegationRequestSchema(ma.Schema):
    delegate_id = Count(
        min=1,
        required=True,
        metadata={"description": "The user id of the member whose ballot counts for you when you do not vote."},
    )


class DelegateSchema(ma.Schema):
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    is_member = ma.fields.Boolean(
        metadata={"description": "False once they left: your vote then counts for no one until you name another."}
    )


class DelegationSchema(ma.Schema):
    """Your own delegation: never shown to anyone else."""

    delegate = ma.fields.Nested(
        DelegateSchema, allow_none=True, metadata={"description": "Null: you delegate to no one."}
    )
    set_at = ma.fields.DateTime(allow_none=True)
    delegators = ma.fields.Integer(metadata={"description": "How many members name you as their delegate (never who)."})
    delegation_allowed = ma.fields.Boolean(metadata={"description": "Whether the terms in force allow delegating."})
