"""The terms breaches of a batch, each keyed by the form field it belongs beside (the service's messages, in the reader's language)."""

from coop.governance.services import current_terms
from coop.marketplace.services import terms_breaches


def breaches_by_field(batch: dict, terms=None) -> dict[str, list[str]]:
    """Every breach of the terms in force (or `terms`) by `batch`, as {field: [message, ...]}.

    `batch` needs reward_cents, est_seconds and purpose, as the service's own check does.
    """
    terms = terms or current_terms()
    found: dict[str, list[str]] = {}
    for field, _parameter, message in terms_breaches(batch, terms.version, terms.params):
        found.setdefault(field, []).append(message)
    return found


def parameters_broken(batch: dict, terms=None) -> list[str]:
    """The terms parameters `batch` breaks, each named once, in the service's order."""
    terms = terms or current_terms()
    return list(
        dict.fromkeys(parameter for _field, parameter, _message in terms_breaches(batch, terms.version, terms.params))
    )
