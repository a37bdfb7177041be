"""What the governance pages call things: terms parameters, kinds, methods and statuses in the reader's language."""

from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coop.i18n import format_money

PARAM_LABELS = {
    "currency": _l("Currency"),
    "min_hourly_rate_cents": _l("Minimum hourly pay"),
    "platform_fee_pct": _l("Platform fee charged to requesters"),
    "auto_approve_hours": _l("Unreviewed work is approved and paid after"),
    "claim_lease_minutes": _l("Time to submit a claimed task"),
    "appeal_window_days": _l("Time to appeal a rejection"),
    "daily_flagged_minutes_cap": _l("Daily limit on content-warning work"),
    "banned_purposes": _l("Purposes refused"),
    "require_end_client": _l("Batches must name their end client"),
    "share_price_cents": _l("Price of the membership share"),
    "admission": _l("Admission"),
    "rejoin_cooling_days": _l("Wait before joining again after leaving"),
    "quorum_pct": _l("Quorum (share of members who must vote)"),
    "majority_pct": _l("Majority (yes share to exceed)"),
    "supermajority_pct": _l("Supermajority (rules and governance terms)"),
    "voting_days_min": _l("Shortest voting period"),
    "voting_days_max": _l("Longest voting period"),
    "petition_pct": _l("Co-signers that bring a proposal to ballot"),
    "objection_pct": _l("Objections that block a consent vote"),
    "delegation_allowed": _l("Members may delegate their vote"),
    "local_min_hourly_cents": _l("Local minimum hourly wages"),
    "pilot_required_above_items": _l("A paid pilot runs first for batches above"),
    "batch_flags_to_pause": _l("Member flags that pause a batch"),
    "post_flags_to_hide": _l("Member flags that hide a post"),
}

KIND_LABELS = {
    "terms": _l("Change of the terms"),
    "rule": _l("Rule"),
    "coordinator": _l("Coordinator role"),
    "surplus": _l("Surplus distribution"),
    "general": _l("General"),
    "requester_suspension": _l("Requester suspension"),
}

METHOD_LABELS = {
    "yes_no": _l("Yes or no"),
    "approval": _l("Approval (tick every option you accept)"),
    "ranked": _l("Ranked choice (instant runoff)"),
    "median": _l("Median of members' numbers"),
    "consent": _l("Consent (passes unless objections block it)"),
    "score": _l("Score each option from 0 to 5"),
    "stv": _l("Single transferable vote (several seats)"),
}

STATUS_LABELS = {
    "submitted": _l("Waiting for review"),
    "returned": _l("Sent back"),
    "open": _l("Voting open"),
    "passed": _l("Passed"),
    "rejected": _l("Rejected"),
    "no_quorum": _l("No quorum"),
    "enacted": _l("Passed and in force"),
}

AMENDMENT_STATUS_LABELS = {
    "pending": _l("Waiting for the author"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "lapsed": _l("Lapsed when voting opened"),
}

PURPOSE_LABELS = {"fake_engagement": _l("fake engagement (likes, follows, fake reviews)")}


def param_label(name: str) -> str:
    return str(PARAM_LABELS.get(name, name))


def is_money(name: str) -> bool:
    return name.endswith("_cents")


def param_value(name: str, value) -> str:
    """One terms parameter's value as a person reads it: money, shares, durations, yes or no."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name == "local_min_hourly_cents" and isinstance(value, dict):
        return ", ".join(f"{country}: {format_money(cents)}" for country, cents in sorted(value.items())) or "—"
    if name == "banned_purposes" and isinstance(value, list):
        return ", ".join(str(PURPOSE_LABELS.get(p, p)) for p in value) or _("none")
    if name == "admission":
        return _("open: paying the share admits") if value == "open" else _("a coordinator approves each member")
    if not isinstance(value, int):
        return str(value)
    if is_money(name):
        money = format_money(value)
        return _("%(money)s an hour", money=money) if "hourly" in name else money
    if name.endswith("_pct"):
        return _("%(value)s%%", value=value)
    if name.endswith("_hours"):
        return ngettext("%(num)d hour", "%(num)d hours", value)
    if name.endswith("_minutes") or name == "daily_flagged_minutes_cap":
        return ngettext("%(num)d minute", "%(num)d minutes", value)
    if name.endswith("_days") or name.startswith("voting_days"):
        return ngettext("%(num)d day", "%(num)d days", value)
    if name.endswith("_items"):
        return ngettext("%(num)d item", "%(num)d items", value)
    if name.endswith("_flags_to_pause") or name.endswith("_flags_to_hide"):
        return ngettext("%(num)d member", "%(num)d members", value)
    return str(value)


def time_left(delta) -> str:
    """How long until a vote closes, in the reader's language."""
    return format_timedelta(delta, threshold=1.5, add_direction=False)
