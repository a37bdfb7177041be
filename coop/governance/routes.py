"""Governance routes: membership and shares, terms and rules, proposals, co-signing and ballots."""

from functools import partial

from coop.accounts.models import User
from coop.accounts.permissions import authenticated_user, require
from coop.governance import serialize, services
from coop.governance.models import Amendment, Proposal, TermsVersion
from coop.governance.motions import ProposalCreateSchema
from coop.governance.schemas import (
    AdmissionSchema,
    AmendmentCreateSchema,
    AmendmentDeclineSchema,
    AmendmentSchema,
    BallotReceiptSchema,
    BallotSchema,
    CurrentTermsSchema,
    DelegationRequestSchema,
    DelegationSchema,
    MembersArgs,
    MemberSchema,
    MembershipApplicationSchema,
    MembershipSchema,
    OutcomeCreateSchema,
    ProposalArgs,
    ProposalDetailSchema,
    ProposalReviewSchema,
    ProposalSchema,
    ProposalVersionSchema,
    PublishedReceiptSchema,
    ReceiptArgs,
    RefusalSchema,
    RuleSchema,
    RuleVersionSchema,
    ShareRegisterSchema,
    TermsSchema,
)
from coop.loading import get_or_404
from coop.pagination import PageArgs, page_body, page_schema
from coop.parsing import Blueprint

blp = Blueprint("governance", __name__, url_prefix="/api/v1", description="Governance")


# --- membership and shares ---------------------------------------------------------


@blp.route("/membership", methods=["POST"])
@blp.arguments(MembershipApplicationSchema)
@blp.response(201, MembershipSchema)
@require("worker")
def apply_for_membership(data):
    """Join: pay the one share from your earnings, or announce your transfer and wait for a coordinator.

    `{"pay_from": "earnings"}` pays the share price from your earnings (409 naming what is
    missing when they do not suffice): under open admission you are a member at once, under
    "approval" the share is held until a coordinator decides. `{"payment_reference": "..."}`
    (or an empty body) makes you an applicant with status `pending_payment` until a
    coordinator confirms your transfer arrived. A former member may join again only after
    the terms' `rejoin_cooling_days` (409 with the date).
    """
    return services.apply_for_membership(authenticated_user(), data)


@blp.route("/membership/<int:user_id>/admit", methods=["POST"])
@blp.arguments(AdmissionSchema)
@blp.response(200, MembershipSchema)
@require("coordinator")
def admit_applicant(data, user_id):
    """Confirm an applicant's share payment arrived and admit them (coordinators; never yourself).

    For a transfer the share enters the coop here, under the `payment_reference` you confirm
    (the applicant's announced one by default); under "approval" this is also the decision
    to admit.
    """
    applicant = get_or_404(User, user_id, "user")
    return services.admit_applicant(authenticated_user(), applicant, data.get("payment_reference"))


@blp.route("/membership/<int:user_id>/refuse", methods=["POST"])
@blp.arguments(RefusalSchema)
@blp.response(200, MembershipSchema)
@require("coordinator")
def refuse_applicant(data, user_id):
    """Refuse an application with a reason (coordinators); a share paid from earnings goes back to them."""
    applicant = get_or_404(User, user_id, "user")
    return services.refuse_applicant(authenticated_user(), applicant, data["reason"].strip())


@blp.route("/membership/withdraw", methods=["POST"])
@blp.response(200, MembershipSchema)
@require("member")
def withdraw():
    """End your membership: the share you paid in and your patronage go to your earnings; your voting rights end."""
    return services.withdraw(authenticated_user())


@blp.route("/me/shares", methods=["GET"])
@blp.response(200, ShareRegisterSchema)
@require("worker")
def my_shares():
    """Your share register: the membership share, patronage allocations, redemptions, and the total."""
    return services.share_register(authenticated_user())


@blp.route("/members", methods=["GET"])
@blp.arguments(MembersArgs, location="query")
@blp.response(200, page_schema(MemberSchema, "MemberPage"))
# The register also comes as CSV (?format=csv); the spec names both bodies.
@blp.doc(
    responses={
        "200": {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/MemberPage"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }
)
@require("member")
def members(args):
    """The member register: pseudonyms and join dates.

    Coordinators also see emails and payment references, and list applicants with
    `?status=pending_payment` (transfers to confirm) or `?status=applicant`.
    `?format=csv` (coordinators only) streams the share register of that status at once:
    `user_id,display_name,status,applied_at,joined_at,ended_at,share_paid_cents,held_cents`,
    never an email.
    """
    viewer = authenticated_user()
    if args["format"] == "csv":
        rows = services.export_share_register(viewer, args["status"])
        return serialize.register_csv(services.REGISTER_COLUMNS, rows, f"share-register-{args['status']}.csv")
    rows, next_cursor = services.member_register(viewer, args["status"], limit=args["limit"], cursor=args["cursor"])
    return page_body(rows, next_cursor, view=lambda row: serialize.member_view(*row, viewer))


# --- terms and rules ------------------------------------------------------------------


@blp.route("/terms/current", methods=["GET"])
@blp.response(200, CurrentTermsSchema)
def current_terms():
    """The terms in force: every parameter, its version, the proposal that adopted it.

    `local_minimum` shows how far the floor (`min_hourly_rate_cents`) sits above the highest
    local minimum wage (`local_min_hourly_cents`) of a country members live in.
    """
    return services.current_terms_page()


@blp.route("/terms", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(TermsSchema, "TermsPage"))
def terms_history(args):
    """Every terms version, newest first."""
    return page_body(*services.terms_history(limit=args["limit"], cursor=args["cursor"]))


@blp.route("/terms/<int:version>", methods=["GET"])
@blp.response(200, TermsSchema)
def terms_version(version):
    """One terms version."""
    return get_or_404(TermsVersion, version, "terms version")


@blp.route("/rules", methods=["GET"])
@blp.response(200, RuleVersionSchema(many=True))
def rules():
    """Every rule document in its version in force."""
    return services.current_rules()


@blp.route("/rules/<slug>", methods=["GET"])
@blp.response(200, RuleSchema)
def rule(slug):
    """One rule document: the text in force and every earlier version."""
    return serialize.rule_view(services.rule_history(slug))


# --- proposals ---------------------------------------------------------------------------


@blp.route("/proposals", methods=["POST"])
@blp.arguments(ProposalCreateSchema)
@blp.response(201, ProposalDetailSchema)
@require("member")
def create_proposal(data):
    """Submit a proposal (members); it waits for a coordinator's review or a petition."""
    return serialize.proposal_view(services.create_proposal(authenticated_user(), data))


@blp.route("/proposals", methods=["GET"])
@blp.arguments(ProposalArgs, location="query")
@blp.response(200, page_schema(ProposalSchema, "ProposalPage"))
@require()
def list_proposals(args):
    """Proposals, newest first, filtered by status or kind; receipts are on each proposal's own page."""
    items, next_cursor = services.list_proposals(
        status=args.get("status"), kind=args.get("kind"), limit=args["limit"], cursor=args["cursor"]
    )
    return page_body(items, next_cursor, view=partial(serialize.proposal_view, threshold=services.petition_threshold()))


@blp.route("/proposals/<int:proposal_id>", methods=["GET"])
@blp.response(200, ProposalDetailSchema)
@require()
def get_proposal(proposal_id):
    """One proposal with its counts; after close also its result and up to 1,000 receipts with their choice.

    `receipts_total` counts every receipt and `receipts_url` pages through all of them.
    """
    proposal = services.close_if_due(get_or_404(Proposal, proposal_id, "proposal"))
    return serialize.proposal_view(proposal, receipts=True)


@blp.route("/proposals/<int:proposal_id>/receipts", methods=["GET"])
@blp.arguments(ReceiptArgs, location="query")
@blp.response(200, page_schema(PublishedReceiptSchema, "ReceiptPage"))
@require()
def proposal_receipts(args, proposal_id):
    """Every counted ballot of a closed vote with its choice, in receipt order; 409 before close.

    Anyone signed in may read them, as they may read the proposal. `?format=csv` streams all of
    them at once (a `receipt,choice,reason,weight` header, the choice as JSON) instead of one page.
    """
    proposal = services.close_if_due(get_or_404(Proposal, proposal_id, "proposal"))
    if args["format"] == "csv":
        return serialize.receipts_csv(services.export_receipts(proposal), f"proposal-{proposal.id}-receipts.csv")
    items, next_cursor = services.receipt_page(proposal, limit=args["limit"], cursor=args["cursor"])
    return page_body(items, next_cursor, view=serialize.receipt_view)


@blp.route("/proposals/<int:proposal_id>/review", methods=["POST"])
@blp.arguments(ProposalReviewSchema)
@blp.response(200, ProposalDetailSchema)
@require("coordinator")
def review_proposal(data, proposal_id):
    """Accept a proposal for voting or return it with a public reason (coordinators)."""
    proposal = services.review_proposal(
        authenticated_user(),
        get_or_404(Proposal, proposal_id, "proposal"),
        data["action"],
        data.get("reason"),
        data.get("voting_days"),
    )
    return serialize.proposal_view(proposal, receipts=True)


@blp.route("/proposals/<int:proposal_id>/cosign", methods=["POST"])
@blp.response(200, ProposalDetailSchema)
@require("member")
def cosign(proposal_id):
    """Co-sign a submitted or returned proposal; at the petition threshold it opens for voting."""
    proposal = services.cosign(authenticated_user(), get_or_404(Proposal, proposal_id, "proposal"))
    return serialize.proposal_view(proposal, receipts=True)


@blp.route("/proposals/<int:proposal_id>/ballot", methods=["POST"])
@blp.arguments(BallotSchema)
@blp.response(201, BallotReceiptSchema, description="Your first ballot on this proposal.")
@blp.alt_response(200, schema=BallotReceiptSchema, description="Your ballot replaced the one you cast before.")
@require("member")
def cast_ballot(data, proposal_id):
    """Cast or replace your secret ballot; the answer is a receipt to find it after close.

    Send the field that matches the proposal's method: `{"choice": "yes"|"no"|"abstain"}`
    (yes_no), `{"approvals": [options]}` (approval), `{"ranking": [options]}` (ranked: a
    prefix of your order of preference, no repeats), `{"value": n}` (median: a valid
    value of the parameter), `{"consent": true}` or `{"objection": "<reason, 20 to 2,000
    characters>"}` (consent), `{"scores": {option: 0..5}}` for every option (score) or
    `{"ranking": [options]}` (stv; in a coordinator election the options are the candidates'
    user ids as text). Only members when voting opened, and still members, may vote.
    Casting again replaces your ballot and gives a new receipt; only the latest is counted
    and published. The vote closes at `closes_at`, or at once when every eligible member has
    voted.

    Tallies and ties:
    - yes_no: quorum is met when ballots (abstentions included) reach `quorum_pct` of the
      eligible; it passes when yes / (yes + no) is strictly above `majority_pct` (the
      `supermajority_pct` for rule proposals and for terms touching governance
      parameters), so an exact tie with the threshold fails.
    - approval: the option with most approvals wins; a tie goes to the option listed first.
    - ranked: instant-runoff; an option with more than half of the round's continuing
      ballots wins. The option eliminated is the one with fewest votes, then fewest
      first preferences, then the one listed last.
    - median: the lower median of the values cast (the middle one, or the smaller of the
      two middle ones) becomes the parameter's value.
    - consent: passes with quorum unless objections reach `objection_pct` of the ballots
      (reaching it blocks); where a yes/no vote would need the supermajority, consents must
      also exceed `supermajority_pct` of the ballots.
    - score: the highest mean (exact sums compared) wins, a tie to the option listed first;
      no winner when every score is 0.
    - stv: `seats` are filled with the Droop quota, floor(valid rankings / (seats + 1)) + 1;
      an option at the quota is elected and all its ballots move on at weight
      surplus / total; otherwise the fewest votes is excluded (ties as in ranked); when no
      more options continue than seats are left, each with a vote is elected. Each round's
      counts are in the result, as exact fractions.
    Thresholds are those of the terms in force when voting opened.
    """
    receipt, first = services.cast_ballot(authenticated_user(), get_or_404(Proposal, proposal_id, "proposal"), data)
    return receipt, 201 if first else 200


# --- amendments, versions and outcomes ---------------------------------------------------


@blp.route("/proposals/<int:proposal_id>/amendments", methods=["POST"])
@blp.arguments(AmendmentCreateSchema)
@blp.response(201, AmendmentSchema)
@require("member")
def propose_amendment(data, proposal_id):
    """Propose an amendment to a proposal before its vote opens (members); its author accepts or declines it.

    The fields given (`body`, `options`, `change`) replace the proposal's; the proposal they
    would make is checked as a new proposal is (422 with field errors). 409 once voting opened.
    """
    return services.propose_amendment(authenticated_user(), get_or_404(Proposal, proposal_id, "proposal"), data)


@blp.route("/proposals/<int:proposal_id>/amendments", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(AmendmentSchema, "AmendmentPage"))
@require()
def amendments(args, proposal_id):
    """A proposal's amendments, oldest first, with their status and the author's decision."""
    proposal = get_or_404(Proposal, proposal_id, "proposal")
    return page_body(*services.amendment_page(proposal, limit=args["limit"], cursor=args["cursor"]))


@blp.route("/amendments/<int:amendment_id>/accept", methods=["POST"])
@blp.response(200, AmendmentSchema)
@require("member")
def accept_amendment(amendment_id):
    """Accept an amendment to your proposal: it becomes the proposal's next version (checked again; 422 if it no longer holds).

    Co-signatures stay; the co-signers are to be told of the change.
    """
    return services.accept_amendment(authenticated_user(), get_or_404(Amendment, amendment_id, "amendment"))


@blp.route("/amendments/<int:amendment_id>/decline", methods=["POST"])
@blp.arguments(AmendmentDeclineSchema)
@blp.response(200, AmendmentSchema)
@require("member")
def decline_amendment(data, amendment_id):
    """Decline an amendment to your proposal with a public reason."""
    amendment = get_or_404(Amendment, amendment_id, "amendment")
    return services.decline_amendment(authenticated_user(), amendment, data["reason"])


@blp.route("/proposals/<int:proposal_id>/versions", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(ProposalVersionSchema, "ProposalVersionPage"))
@require()
def proposal_versions(args, proposal_id):
    """Every version of a proposal, oldest first: as submitted, then one per accepted amendment."""
    proposal = get_or_404(Proposal, proposal_id, "proposal")
    return page_body(*services.version_page(proposal, limit=args["limit"], cursor=args["cursor"]))


@blp.route("/proposals/<int:proposal_id>/outcome", methods=["POST"])
@blp.arguments(OutcomeCreateSchema)
@blp.response(200, ProposalDetailSchema)
@require("member")
def record_outcome(data, proposal_id):
    """Record what came of a closed proposal, once (its author or a coordinator; 409 before close).

    `review_on`, a day after today, is when the author and co-signers are to look at it again.
    """
    proposal = services.record_outcome(
        authenticated_user(), get_or_404(Proposal, proposal_id, "proposal"), data["statement"], data.get("review_on")
    )
    return serialize.proposal_view(proposal, receipts=True)


# --- delegation -----------------------------------------------------------------------------


@blp.route("/me/delegation", methods=["GET"])
@blp.response(200, DelegationSchema)
@require("member")
def my_delegation():
    """Your delegate, if any, and how many members delegate to you (a count: never who)."""
    return services.delegation_of(authenticated_user())


@blp.route("/me/delegation", methods=["PUT"])
@blp.arguments(DelegationRequestSchema)
@blp.response(200, DelegationSchema)
@require("member")
def set_delegation(data):
    """Name one member as your delegate, replacing any other; only you ever see whom you named.

    At every vote's close, if you did not vote, your vote counts as the ballot of your
    delegate, or if they did not vote either, of theirs, and so on down the chain; a chain
    that loops without a voter, or reaches someone who may not vote on that proposal (they
    left, or joined after it opened), counts for no one. Voting yourself always overrides.
    Refused with 409 while the terms' `delegation_allowed` is false, and with 422 for yourself
    or an id that names no current member.
    """
    return services.set_delegate(authenticated_user(), data["delegate_id"])


@blp.route("/me/delegation", methods=["DELETE"])
@blp.response(200, DelegationSchema)
@require("member")
def remove_delegation():
    """Stop delegating: from now on your vote counts only when you cast it (409 when you have no delegate)."""
    return services.remove_delegate(authenticated_user())
