"""What a proposal may ask: the shape of a new proposal and of each kind's change, checked without the database."""

import marshmallow as ma
from marshmallow import validate as v

from coop.fields import Cents
from coop.governance.models import PROPOSAL_KINDS, VOTING_METHODS
from coop.governance.terms import NUMERIC_PARAMS
from coop.pagination import id_range

MAX_OPTIONS = 20
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


class ProposalCreateSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    body = ma.fields.String(required=True, validate=v.Length(min=1, max=20_000), metadata={"description": "Markdown."})
    kind = ma.fields.String(required=True, validate=v.OneOf(PROPOSAL_KINDS))
    method = ma.fields.String(required=True, validate=v.OneOf(VOTING_METHODS))
    options = ma.fields.List(
        ma.fields.String(validate=v.Length(min=1, max=200)),
        allow_none=True,
        metadata={"description": f"approval, ranked, score and stv votes: 2 to {MAX_OPTIONS} distinct options."},
    )
    seats = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=v.Range(min=1, max=MAX_OPTIONS - 1),
        metadata={
            "description": "stv votes only: how many options are elected, at least 1 and fewer than the options."
        },
    )
    change = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": (
                'terms: the parameters to change, e.g. {"min_hourly_rate_cents": 1500}; '
                'median (kind terms): {"param": name}; rule: {"rule": slug, "text": markdown, "title"?}; '
                'coordinator: {"member_id": user id, "action": "grant"|"revoke"}, or with method stv an election '
                '{"seats": N, "candidates": [user ids]}; '
                'surplus: {"amount_cents", "period_start", "period_end"} (ISO dates, inclusive); general: none; '
                'requester_suspension: {"requester_id": user id}.'
            )
        },
    )


class MedianChangeSchema(ma.Schema):
    param = ma.fields.String(required=True, validate=v.OneOf(sorted(NUMERIC_PARAMS)))


class RuleChangeSchema(ma.Schema):
    rule = ma.fields.String(
        required=True,
        validate=v.Regexp(SLUG_PATTERN, error="Use lower-case letters, digits and hyphens (at most 64)."),
    )
    text = ma.fields.String(required=True, validate=v.Length(min=1, max=100_000))
    title = ma.fields.String(validate=v.Length(min=1, max=200))


class CoordinatorChangeSchema(ma.Schema):
    member_id = ma.fields.Integer(required=True, strict=True, validate=id_range)
    action = ma.fields.String(required=True, validate=v.OneOf(["grant", "revoke"]))


class CoordinatorElectionSchema(ma.Schema):
    seats = ma.fields.Integer(required=True, strict=True, validate=v.Range(min=1, max=MAX_OPTIONS - 1))
    candidates = ma.fields.List(
        ma.fields.Integer(strict=True, validate=id_range),
        required=True,
        validate=v.Length(min=2, max=MAX_OPTIONS),
    )

    @ma.validates_schema
    def fewer_seats_than_candidates(self, data, **kwargs):
        if len(set(data["candidates"])) != len(data["candidates"]):
            raise ma.ValidationError("Name each candidate once.", "candidates")
        if data["seats"] >= len(data["candidates"]):
            raise ma.ValidationError("An election has fewer seats than candidates.", "seats")


class RequesterSuspensionChangeSchema(ma.Schema):
    requester_id = ma.fields.Integer(required=True, strict=True, validate=id_range)


class SurplusChangeSchema(ma.Schema):
    amount_cents = Cents(required=True)
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)

    @ma.validates_schema
    def period_in_order(self, data, **kwargs):
        if data["period_start"] > data["period_end"]:
            raise ma.ValidationError("The period must not end before it starts.", "period_end")
