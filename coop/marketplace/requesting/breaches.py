"""The terms breaches of a batch in the reader's language, each keyed by the form field it belongs beside."""

from flask_babel import gettext as _

from coop.governance.services import current_terms
from coop.marketplace import pay
from coop.marketplace.models import CONTENT_WARNINGS, PURPOSES
from coop.marketplace.services import terms_breaches


def _text(parameter: str, message: str, batch: dict, version: int, params: dict) -> str:
    # The same sentences the service writes for the API, so an English reader sees one wording everywhere.
    if parameter == "min_hourly_rate_cents":
        reward, seconds = batch["reward_cents"], batch["est_seconds"]
        minimum = params["min_hourly_rate_cents"]
        return _(
            "Pays %(rate)s cents an hour (reward_cents × 3600 / est_seconds); terms version %(version)s set "
            "min_hourly_rate_cents to %(minimum)s. For %(seconds)s seconds of work pay at least %(required)s cents.",
            rate=pay.hourly_rate_cents(reward, seconds),
            version=version,
            minimum=minimum,
            seconds=seconds,
            required=pay.required_reward_cents(seconds, minimum),
        )
    if parameter == "banned_purposes":
        return _(
            "'%(purpose)s' is in banned_purposes of terms version %(version)s; the coop refuses this work.",
            purpose=batch["purpose"],
            version=version,
        )
    if parameter == "purpose":
        return _(
            "'%(purpose)s' is not a purpose the coop accepts; use one of %(purposes)s.",
            purpose=batch["purpose"],
            purposes=", ".join(PURPOSES),
        )
    if parameter == "impersonation_notice":
        return _("An impersonation batch must say how end users are told that a human answers.")
    if parameter == "require_end_client":
        return _("Terms version %(version)s has require_end_client: name the client the data is for.", version=version)
    if parameter == "dpa_reference":
        return _("Items with personal data need the reference of a data-processing agreement.")
    if parameter == "content_warnings":
        unknown = [w for w in batch.get("content_warnings") or [] if w not in CONTENT_WARNINGS]
        return _(
            "Unknown content warnings %(unknown)s; use %(known)s.",
            unknown=", ".join(unknown),
            known=", ".join(CONTENT_WARNINGS),
        )
    return message


def breaches_by_field(batch: dict, terms=None) -> dict[str, list[str]]:
    """Every breach of the terms in force (or `terms`) by `batch`, as {field: [message, ...]}.

    `batch` needs reward_cents, est_seconds and purpose, as the service's own check does.
    """
    terms = terms or current_terms()
    found: dict[str, list[str]] = {}
    for field, parameter, message in terms_breaches(batch, terms.version, terms.params):
        found.setdefault(field, []).append(_text(parameter, message, batch, terms.version, terms.params))
    return found


def parameters_broken(batch: dict, terms=None) -> list[str]:
    """The terms parameters `batch` breaks, each named once, in the service's order."""
    terms = terms or current_terms()
    return list(
        dict.fromkeys(parameter for _field, parameter, _message in terms_breaches(batch, terms.version, terms.params))
    )
