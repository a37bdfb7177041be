"""The terms and rules in force, their histories, and the founding versions."""

import functools

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coop import audit, clock
from coop.accounts.models import User
from coop.errors import Invalid, NotFound
from coop.extensions import db
from coop.governance.founding import FOUNDING_RULES
from coop.governance.models import (
    RuleVersion,
    TermsVersion,
)
from coop.governance.terms import FOUNDING_TERMS
from coop.pagination import keyset_page

# Serialises the numbering of new terms and rule versions on PostgreSQL: two votes closing
# at once must not both create "the next" version.
_VERSIONS_LOCK_KEY = 7_267_003


@functools.cache
def _latest_terms():
    # Built once and reused (alone and inside the sign-in query), so its LIMIT is SQL rather
    # than an anonymous bound value.
    return sa.select(TermsVersion).order_by(TermsVersion.version.desc()).limit(sa.literal_column("1", sa.Integer))


@functools.cache
def terms_in_force_source() -> tuple:
    """The terms in force as (model, one-row selectable), for a sign-in query to read alongside the caller.

    Reading them in the statement that recognises the caller saves every signed-in request a
    round trip; `remember_terms_in_force` then hands them to `current_terms` for that request.
    """
    return TermsVersion, _latest_terms().subquery("terms_in_force")


def remember_terms_in_force(terms: TermsVersion | None) -> None:
    """Let `current_terms` answer from the terms read with the caller until the request ends."""
    if terms is not None:
        g.terms_in_force = terms


def forget_terms_in_force(*_args) -> None:
    """Drop the terms read with the caller (at the end of a request, or when new terms are flushed)."""
    if has_app_context():
        g.pop("terms_in_force", None)


@sa.event.listens_for(Session, "after_flush")
def _new_terms_replace_remembered(session, _flush_context) -> None:
    # A vote enacted in this transaction puts new terms in force at once, for the rest of it too.
    if any(isinstance(obj, TermsVersion) for obj in session.new):
        forget_terms_in_force()


def current_terms() -> TermsVersion:
    """The terms version in force; other domains read the terms only through this."""
    known = g.get("terms_in_force") if has_app_context() else None
    if known is not None:
        return known
    terms = db.session.scalar(_latest_terms())
    if terms is None:
        raise NotFound(_("The coop has no terms yet; run 'flask coop init'."))
    return terms


def current_rule(slug: str) -> RuleVersion | None:
    """The version of a rule document in force, or None when no such rule exists."""
    return db.session.scalar(
        sa.select(RuleVersion).where(RuleVersion.slug == slug).order_by(RuleVersion.version.desc()).limit(1)
    )


def found() -> list[str]:
    """Create the founding terms and rules where missing; returns what was created."""
    created = []
    if db.session.scalar(sa.select(sa.func.count()).select_from(TermsVersion)) == 0:
        db.session.add(TermsVersion(version=1, params=dict(FOUNDING_TERMS), effective_at=clock.now()))
        db.session.flush()
        audit.append("terms.version", "terms:1", None, {"version": 1, "params": FOUNDING_TERMS, "adopted_by": None})
        created.append("terms v1")
    for slug, (title, text) in FOUNDING_RULES.items():
        if current_rule(slug) is None:
            db.session.add(RuleVersion(slug=slug, version=1, title=title, text=text, effective_at=clock.now()))
            db.session.flush()
            audit.append("rule.version", f"rule:{slug}", None, {"slug": slug, "version": 1, "adopted_by": None})
            created.append(f"rule {slug}")
    return created


def terms_history(*, limit: int, cursor: str | None) -> tuple[list[TermsVersion], str | None]:
    """Terms versions, newest first."""
    return keyset_page(sa.select(TermsVersion), [TermsVersion.version], limit=limit, cursor=cursor, descending=True)


def current_rules() -> list[RuleVersion]:
    """The version in force of every rule document, by slug."""
    latest = (
        sa.select(RuleVersion.slug, sa.func.max(RuleVersion.version).label("version"))
        .group_by(RuleVersion.slug)
        .subquery()
    )
    return list(
        db.session.scalars(
            sa.select(RuleVersion)
            .join(latest, sa.and_(RuleVersion.slug == latest.c.slug, RuleVersion.version == latest.c.version))
            .order_by(RuleVersion.slug)
        )
    )


def rule_history(slug: str) -> list[RuleVersion]:
    """Every version of a rule document, newest first; NotFound when there is no such rule."""
    versions = list(
        db.session.scalars(sa.select(RuleVersion).where(RuleVersion.slug == slug).order_by(RuleVersion.version.desc()))
    )
    if not versions:
        raise NotFound(_("There is no rule '%(slug)s'; GET /api/v1/rules lists them.", slug=slug))
    return versions


def serialise_versions() -> None:
    """Take the lock that numbers new terms and rule versions one at a time (PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _VERSIONS_LOCK_KEY})


def highest_local_minimum(params: dict) -> tuple[str, int] | None:
    """The highest local minimum hourly wage among the countries members say they live in: (country, cents)."""
    table = params.get("local_min_hourly_cents") or {}
    if not table:
        return None
    countries = db.session.scalars(
        sa.select(User.country).where(User.is_member.is_(True), User.country.in_(sorted(table))).distinct()
    )
    found = sorted(((table[country], country) for country in countries), reverse=True)
    if not found:
        return None
    cents, country = found[0]
    return country, cents


def local_minimum_margin(params: dict) -> dict | None:
    """How far the coop floor sits above the highest local minimum wage of a member's country (None: no such country)."""
    highest = highest_local_minimum(params)
    if highest is None:
        return None
    country, cents = highest
    return {
        "country": country,
        "local_min_hourly_cents": cents,
        "margin_cents": params["min_hourly_rate_cents"] - cents,
    }


def current_terms_page() -> dict:
    """The terms in force with the margin of their floor over members' local minimum wages."""
    terms = current_terms()
    return {
        "version": terms.version,
        "params": terms.params,
        "effective_at": terms.effective_at,
        "adopted_by": terms.adopted_by,
        "local_minimum": local_minimum_margin(terms.params),
    }


FLOOR_PARAMS = ("min_hourly_rate_cents", "local_min_hourly_cents")


def check_floor_above_local_minimums(params: dict, change: dict) -> None:
    """Refuse a change of the floor or the local minimum table that leaves the floor below a member's local minimum."""
    # Only a change of these two can be to blame: a member stating a new country must not block
    # every other terms vote until the floor is raised.
    if not any(name in change for name in FLOOR_PARAMS):
        return
    highest = highest_local_minimum(params)
    if highest is None:
        return
    country, cents = highest
    floor = params["min_hourly_rate_cents"]
    if floor < cents:
        raise Invalid(
            _(
                "min_hourly_rate_cents would be %(floor)s, below the local minimum wage of %(cents)s cents an "
                "hour in %(country)s, where members work (local_min_hourly_cents); the coop floor may never be "
                "set below it.",
                floor=floor,
                cents=cents,
                country=country,
            ),
            {
                "min_hourly_rate_cents": [
                    _("At least %(cents)s (local minimum in %(country)s).", cents=cents, country=country)
                ]
            },
        )
