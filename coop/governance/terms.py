"""The terms parameters: founding values and the one schema that validates them."""

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import validate as v

from coop.fields import country_code

FOUNDING_TERMS = {
    "currency": "EUR",
    "min_hourly_rate_cents": 1300,
    "platform_fee_pct": 10,
    "auto_approve_hours": 72,
    "claim_lease_minutes": 30,
    "appeal_window_days": 14,
    "daily_flagged_minutes_cap": 120,
    "banned_purposes": ["fake_engagement"],
    "require_end_client": True,
    "share_price_cents": 2500,
    "admission": "open",
    "rejoin_cooling_days": 30,
    "quorum_pct": 20,
    "majority_pct": 50,
    "supermajority_pct": 66,
    "voting_days_min": 3,
    "voting_days_max": 21,
    "petition_pct": 10,
    "delegation_allowed": True,
    "objection_pct": 10,
    "batch_flags_to_pause": 5,
    "post_flags_to_hide": 3,
    # Members' table of local minimum hourly wages (ISO country -> cents); the coop floor stays above all.
    "local_min_hourly_cents": {"FR": 1202},
    "pilot_required_above_items": 200,
}

# Changing how the coop decides needs the supermajority.
GOVERNANCE_PARAMS = frozenset(
    {
        "quorum_pct",
        "majority_pct",
        "supermajority_pct",
        "petition_pct",
        "voting_days_min",
        "voting_days_max",
        "admission",
        "delegation_allowed",
        "objection_pct",
    }
)

# Parameters a `median` vote may set: single numbers.
NUMERIC_PARAMS = frozenset(k for k, val in FOUNDING_TERMS.items() if isinstance(val, int) and not isinstance(val, bool))

_pct = v.Range(min=0, max=100)


class TermsParamsSchema(ma.Schema):
    """Every terms parameter with its type and range; used for whole sets and partial changes."""

    class Meta:
        unknown = ma.RAISE

    currency = ma.fields.String(validate=v.OneOf(["EUR"]))
    min_hourly_rate_cents = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=1_000_000))
    platform_fee_pct = ma.fields.Integer(strict=True, validate=_pct)
    auto_approve_hours = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=24 * 60))
    claim_lease_minutes = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=24 * 60))
    appeal_window_days = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=365))
    daily_flagged_minutes_cap = ma.fields.Integer(strict=True, validate=v.Range(min=0, max=24 * 60))
    banned_purposes = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=64)))
    require_end_client = ma.fields.Boolean(truthy={True}, falsy={False})
    share_price_cents = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=10_000_000))
    admission = ma.fields.String(validate=v.OneOf(["open", "approval"]))
    rejoin_cooling_days = ma.fields.Integer(strict=True, validate=v.Range(min=0, max=3650))
    quorum_pct = ma.fields.Integer(strict=True, validate=_pct)
    majority_pct = ma.fields.Integer(strict=True, validate=v.Range(min=0, max=99))
    supermajority_pct = ma.fields.Integer(strict=True, validate=v.Range(min=0, max=99))
    voting_days_min = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=365))
    voting_days_max = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=365))
    petition_pct = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=100))
    delegation_allowed = ma.fields.Boolean(truthy={True}, falsy={False})
    # At 0 every consent proposal would be blocked, so a share of ballots from 1 to 100.
    objection_pct = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=100))
    batch_flags_to_pause = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=1000))
    post_flags_to_hide = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=1000))
    local_min_hourly_cents = ma.fields.Dict(
        keys=ma.fields.String(validate=country_code),
        values=ma.fields.Integer(strict=True, validate=v.Range(min=1, max=1_000_000)),
    )
    pilot_required_above_items = ma.fields.Integer(strict=True, validate=v.Range(min=1, max=1_000_000))


def validate_params(params: dict) -> dict[str, list[str]]:
    """Field errors of a complete parameter set (empty when valid)."""
    errors = TermsParamsSchema().validate(params)
    missing = set(FOUNDING_TERMS) - set(params)
    for name in sorted(missing):
        errors.setdefault(name, []).append(_("Missing parameter."))
    if not errors:
        if params["voting_days_min"] > params["voting_days_max"]:
            errors["voting_days_min"] = [_("Must not exceed voting_days_max.")]
        if params["supermajority_pct"] < params["majority_pct"]:
            errors["supermajority_pct"] = [_("Must be at least majority_pct.")]
    return errors


def apply_change(current: dict, change: dict) -> tuple[dict, dict[str, list[str]]]:
    """The parameter set after a partial change, and the field errors it would have."""
    if not isinstance(change, dict) or not change:
        return current, {"change": [_("Give at least one terms parameter to change.")]}
    unknown = sorted(set(change) - set(FOUNDING_TERMS))
    if unknown:
        return current, {name: [_("Not a terms parameter.")] for name in unknown}
    merged = {**current, **change}
    return merged, validate_params(merged)
