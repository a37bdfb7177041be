"""Governance services: terms and rules in force, membership."""
import sqlalchemy as sa

from coop import audit, clock, ledger
from coop.accounts import services as accounts
from coop.accounts.models import User
from coop.errors import Conflict, Forbidden, NotFound
from coop.extensions import db
from coop.governance.founding import FOUNDING_RULES
from coop.governance.models import Membership, RuleVersion, ShareLine, TermsVersion
from coop.governance.terms import FOUNDING_TERMS


def current_terms() -> TermsVersion:
    """The terms version in force; other domains read the terms only through this."""
    terms = db.session.scalar(sa.select(TermsVersion).order_by(TermsVersion.version.desc()).limit(1))
    if terms is None:
        raise NotFound("The coop has no terms yet; run 'flask coop init'.")
    return terms


def terms_version(version: int) -> TermsVersion:
    """One terms version by number."""
    terms = db.session.get(TermsVersion, version)
    if terms is None:
        raise NotFound(f"There is no terms version {version}.")
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


def admit(user: User, actor=None) -> Membership:
    """Make a worker a member: the one share is paid in and recorded, voting rights begin."""
    if user.kind != "worker":
        raise Forbidden("Only worker accounts can become members; requesters never vote.")
    membership = db.session.get(Membership, user.id)
    if membership is not None and membership.status == "member":
        raise Conflict("You are already a member; each member holds exactly one share.")
    price = current_terms().params["share_price_cents"]
    now = clock.now()
    txn = ledger.move(ledger.EXTERNAL, ledger.COOP_SHARE_CAPITAL, price, f"membership share of user {user.id}")
    if membership is None:
        membership = Membership(user_id=user.id, applied_at=now)
        db.session.add(membership)
    membership.status, membership.joined_at, membership.ended_at = "member", now, None
    db.session.add(ShareLine(user_id=user.id, kind="membership_share", amount_cents=price, at=now,
                             ledger_transaction_id=txn.id, memo="membership share"))
    accounts.set_roles(user, member=True)
    audit.append("membership.admitted", f"user:{user.id}", actor or user, {"share_price_cents": price})
    return membership


def found_coordinator(email: str) -> User:
    """Founding step: an existing worker becomes a member with one share and a coordinator."""
    user = accounts.find_by_email(email)
    if user is None:
        raise NotFound(f"No account with email {email}; register it first.")
    if not user.is_member:
        admit(user, actor="founding")
    if not user.is_coordinator:
        accounts.set_roles(user, coordinator=True)
        audit.append("role.granted", f"user:{user.id}", "founding", {"role": "coordinator", "by": "founding"})
    return user


def tick(now) -> str:
    """Time-driven governance work that is due."""
    return "nothing due"
