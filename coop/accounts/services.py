"""Account services: registration, email verification, passwords and their reset, sessions, API tokens, role changes."""

import functools
import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from coop import clock, mail
from coop.accounts import emails
from coop.accounts.models import ApiToken, EmailToken, User, UserSession
from coop.driver import DriverStatement, as_loaded
from coop.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from coop.extensions import db

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so response time does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "coop_"
# Last use is recorded to the minute: a busy token or session writes once a minute, not per request.
LAST_USE_PRECISION = timedelta(minutes=1)
# Where the session cookie (signed by Flask) carries the id of the server-side session.
SESSION_ID_KEY = "session_id"
NO_SUCH_TOKEN = _l("You have no token with this id.")
UNKNOWN_TOKEN = _l("This API token is unknown or revoked; create a new one with POST /api/v1/auth/token.")
# How long emailed links work: a verification link may wait in an inbox; a reset link opens the account.
VERIFY_LINK_LIFETIME = timedelta(hours=48)
RESET_LINK_LIFETIME = timedelta(hours=1)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    # Rate-limit keys hash what a caller sent before it is validated, lone surrogates included.
    return hashlib.sha256(token.encode(errors="surrogatepass")).hexdigest()


def register(email: str, password: str, display_name: str, kind: str, organization: str | None = None) -> User:
    """Create a worker or requester account."""
    email = normalize_email(email)
    display_name = display_name.strip()
    if kind == "requester" and not (organization or "").strip():
        raise Invalid(errors={"organization": [_("Requesters give the name of their organisation.")]})
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(
            _("An account with this email already exists; sign in instead."), {"email": [_("Already registered.")]}
        )
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.display_name) == display_name.lower())):
        raise Conflict(
            _("This display name is taken; choose another pseudonym."), {"display_name": [_("Already taken.")]}
        )
    user = User(
        email=email,
        display_name=display_name,
        kind=kind,
        organization=(organization or "").strip() or None if kind == "requester" else None,
        password_hash=_hasher.hash(password),
        created_at=clock.now(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def open_account(email: str, password: str, display_name: str, kind: str, organization: str | None = None) -> User:
    """Register (see `register`) and send the new account the link that verifies its email address."""
    user = register(email, password, display_name, kind, organization)
    send_verification(user)
    return user


def _password_matches(user: User | None, password: str) -> bool:
    try:
        # Verified even for an unknown account, so response time does not reveal which emails exist.
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or Unauthorized."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    if not _password_matches(user, password):
        raise Unauthorized(_("Email or password is wrong."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def change_password(
    user: User,
    current_password: str,
    new_password: str,
    *,
    keep_session_id: str | None = None,
    keep_token_id: int | None = None,
    revoke_tokens: bool = False,
) -> dict:
    """Change the password and end every other session of the account.

    The session or token making the change stays signed in. API tokens are credentials of
    their own (listed with their last use, revoked one by one), so they survive unless
    `revoke_tokens` asks to revoke every other one as well.
    """
    if not _password_matches(user, current_password):
        raise Invalid(
            _("Your current password is wrong; nothing was changed."),
            {"current_password": [_("This is not your current password.")]},
        )
    if new_password == current_password:
        raise Invalid(
            _("The new password is the same as the current one; choose another."),
            {"new_password": [_("Must differ from your current password.")]},
        )
    user.password_hash = _hasher.hash(new_password)
    return _end_credentials(user, keep_session_id, keep_token_id, revoke_tokens)


def _end_credentials(user: User, keep_session_id: str | None, keep_token_id: int | None, revoke_tokens: bool) -> dict:
    now = clock.now()
    sessions = sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_session_id:
        sessions = sessions.where(UserSession.id != keep_session_id)
    ended = cast(
        sa.CursorResult,
        db.session.execute(sessions.values(revoked_at=now).execution_options(synchronize_session=False)),
    ).rowcount
    revoked = 0
    if revoke_tokens:
        tokens = sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        if keep_token_id:
            tokens = tokens.where(ApiToken.id != keep_token_id)
        revoked = cast(
            sa.CursorResult,
            db.session.execute(tokens.values(revoked_at=now).execution_options(synchronize_session=False)),
        ).rowcount
    db.session.flush()
    return {"sessions_ended": ended, "tokens_revoked": revoked}


# --- emailed links: verification and password reset -------------------------------------


class LinkRefused(Invalid):
    """An emailed link that no longer works; `reason` is "unknown", "used" or "expired" (pages say it in words)."""

    def __init__(self, message: str, reason: str, field: str = "token"):
        super().__init__(message, {field: [message]})
        self.reason = reason


def _issue_link(user: User, purpose: str, lifetime: timedelta) -> str:
    plain = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            email=user.email,
            token_hash=hash_token(plain),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    return plain


def _redeem_link(plain: str, purpose: str, what: str, again: str) -> EmailToken:
    """The live link with this token, now used up; LinkRefused naming what to do when it is not live."""
    link = db.session.scalar(
        sa.select(EmailToken)
        .where(EmailToken.token_hash == hash_token(plain or ""), EmailToken.purpose == purpose)
        # Locked, so two clicks racing on one link cannot both use it.
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if link is None:
        raise LinkRefused(f"This {what} link is not one we sent, or a newer one replaced it; {again}", "unknown")
    if link.used_at is not None:
        raise LinkRefused(f"This {what} link was already used; each link works once. {again}", "used")
    if link.expires_at <= clock.now() or link.email != link.user.email:
        raise LinkRefused(f"This {what} link expired on {_when(link.expires_at)}; {again}", "expired")
    link.used_at = clock.now()
    return link


def send_verification(user: User) -> bool:
    """Email the account a link that verifies its address; False (nothing sent) when the coop sends no email."""
    if not mail.enabled() or user.email_verified_at is not None:
        return False
    emails.send_verification(user, _issue_link(user, "verify", VERIFY_LINK_LIFETIME), VERIFY_LINK_LIFETIME.days * 24)
    return True


def resend_verification(user: User) -> User:
    """Send the signed-in account a fresh verification link (409 when verified already or email is off)."""
    if user.email_verified_at is not None:
        raise Conflict(_("Your email address %(email)s is already verified; nothing to do.", email=user.email))
    if not mail.enabled():
        raise Conflict(_("This coop sends no email, so there is no address to verify; nothing requires it."))
    send_verification(user)
    return user


def verify_email(plain: str) -> User:
    """Follow a verification link: the address it was sent to is now known to be the account's."""
    link = _redeem_link(
        plain,
        "verify",
        "verification",
        "sign in and ask for a new link on your account page (or POST /api/v1/auth/verify-email/resend).",
    )
    user = link.user
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    db.session.flush()
    return user


def mark_email_verified(user: User) -> None:
    """Count the account's address as verified without a link: demo accounts and founding set-ups."""
    user.email_verified_at = user.email_verified_at or clock.now()
    db.session.flush()


def email_verification_required(user: User) -> bool:
    """Whether `user` must still verify their address: only while the coop sends email (else nothing can be verified)."""
    return mail.enabled() and user.email_verified_at is None


def require_verified_email(user: User, action: str) -> None:
    """Forbidden, saying how to verify, unless `user` may do `action` ("join" or "deposit") as far as their email is concerned."""
    if email_verification_required(user):
        how = _(
            "Follow the link we sent to %(email)s, or ask for a new one on your account page (/account) or with "
            "POST /api/v1/auth/verify-email/resend.",
            email=user.email,
        )
        if action == "join":
            raise Forbidden(_("Verify your email address before you join the coop: %(how)s", how=how))
        raise Forbidden(_("Verify your email address before you deposit funds: %(how)s", how=how))


def request_password_reset(email: str) -> None:
    """Email a single-use link to choose a new password, if an account uses `email`.

    The caller learns nothing either way: the same answer, and the same work (a token made
    and hashed, the same queries) whether or not the account exists.
    """
    user = find_by_email(email)
    if user is None:
        hash_token(secrets.token_urlsafe(32))
        db.session.execute(
            sa.select(EmailToken.id).where(
                EmailToken.user_id == -1, EmailToken.purpose == "reset", EmailToken.used_at.is_(None)
            )
        )
        return
    # Only the newest link works: an older email lying in an inbox opens nothing.
    db.session.execute(
        sa.update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == "reset", EmailToken.used_at.is_(None))
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    emails.send_password_reset(
        user, _issue_link(user, "reset", RESET_LINK_LIFETIME), int(RESET_LINK_LIFETIME.total_seconds() // 60)
    )


def reset_password(plain: str, new_password: str) -> dict:
    """Choose a new password with an emailed link; every session and every API token of the account ends.

    Whoever knew the old password may have made tokens with it, so none survives a reset.
    Following the link also shows the address is the account's.
    """
    link = _redeem_link(plain, "reset", "password reset", "ask for a new one at /password-reset.")
    user = link.user
    user.password_hash = _hasher.hash(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
    return _end_credentials(user, None, None, True)


# --- sessions -----------------------------------------------------------------------------


def start_session(user: User) -> UserSession:
    """A new server-side session for a browser that just signed in; its id goes in the cookie."""
    now = clock.now()
    user_session = UserSession(id=secrets.token_urlsafe(32), user_id=user.id, created_at=now, last_seen_at=now)
    db.session.add(user_session)
    db.session.flush()
    return user_session


def live_session(user_id: str, session_id: str | None) -> UserSession | None:
    """The live session with this id for this user, its user loaded by the same query; None if ended."""
    if not session_id or not isinstance(session_id, str) or not user_id.isdigit():
        return None
    return db.session.scalar(
        sa.select(UserSession)
        .join(UserSession.user)
        .options(contains_eager(UserSession.user))
        .where(UserSession.id == session_id, UserSession.user_id == int(user_id), UserSession.revoked_at.is_(None))
    )


def end_session(session_id: str | None) -> None:
    """Sign one browser out: its cookie, even replayed, no longer works."""
    if not session_id:
        return
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def record_use(credential: ApiToken | UserSession) -> bool:
    """Note that a token or session was just used, at most once a minute; True when it wrote."""
    now = clock.now()
    attribute = "last_used_at" if isinstance(credential, ApiToken) else "last_seen_at"
    last = getattr(credential, attribute)
    if last is not None and now - last < LAST_USE_PRECISION:
        return False
    setattr(credential, attribute, now)
    db.session.flush()
    return True


# --- API tokens ---------------------------------------------------------------------------


def issue_token(user: User, name: str = "", expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new personal API token; the plain token is returned once and only its hash kept.

    With `expires_in_days` it stops working that many days from now; without, when revoked.
    """
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        user=user,
        name=name or "",
        token_hash=hash_token(plain),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, plain


@functools.cache
def _token_statement(also: tuple) -> tuple[DriverStatement, tuple]:
    # Every signed-in API request runs it: built once, and run on the driver (coop.driver).
    sources = ((ApiToken, ApiToken.__table__), (User, User.__table__), *also)
    stmt = sa.select(
        *(column.label(f"s{n}_{column.name}") for n, (_model, source) in enumerate(sources) for column in source.c)
    ).select_from(sa.join(ApiToken.__table__, User.__table__, ApiToken.user_id == User.id))
    for _model, source in also:
        stmt = stmt.outerjoin(source, sa.true())
    stmt = stmt.where(
        ApiToken.token_hash == sa.bindparam("token_hash", type_=ApiToken.token_hash.type),
        ApiToken.revoked_at.is_(None),
    )
    # Which model each run of the row's columns makes, and their column names.
    layout = tuple((model, tuple(column.name for column in source.c)) for model, source in sources)
    return DriverStatement(stmt), layout


def token_statement(*also: tuple) -> DriverStatement:
    """The sign-in statement `token_in_use` runs with these `also` (so a new worker can prepare it)."""
    return _token_statement(also)[0]


def token_in_use(plain: str, *also: tuple, values: Mapping[str, Any] | None = None) -> tuple:
    """The live token with this value, its owner loaded by the same query; Unauthorized otherwise.

    `also` pairs a model with a one-row selectable of its table's columns (such as the terms in
    force), read in the same statement; each comes back after the token (None when it has no row).
    `values` are the selectables' bound values.
    """
    statement, layout = _token_statement(also)
    row = statement.first({**(values or {}), "token_hash": hash_token(plain)})
    if row is None:
        raise Unauthorized(UNKNOWN_TOKEN)
    found, at = [], 0
    for model, names in layout:
        run = row[at : at + len(names)]
        at += len(names)
        found.append(None if all(v is None for v in run) else as_loaded(model, dict(zip(names, run, strict=True))))
    token, user, *others = found
    set_committed_value(token, "user", user)
    if token.expires_at is not None and token.expires_at <= clock.now():
        raise Unauthorized(
            _(
                "This API token expired on %(expires_at)s; create a new one with POST /api/v1/auth/token.",
                expires_at=_when(token.expires_at),
            )
        )
    return (token, *others)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def own_token(user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens by id; NotFound for an id that names none of theirs."""
    token = db.session.get(ApiToken, token_id)
    _check_owner(user, token)
    return token


def _check_owner(user: User, token: ApiToken | None) -> None:
    # Another user's token is reported as missing, so ids reveal nothing.
    if token is None or token.user_id != user.id:
        raise NotFound(NO_SUCH_TOKEN)


def revoke_token(user: User, token: ApiToken) -> ApiToken:
    """Revoke one of the user's own tokens."""
    _check_owner(user, token)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
    db.session.flush()
    return token


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def set_roles(user: User, *, member: bool | None = None, coordinator: bool | None = None) -> None:
    """Change a user's roles; called only by governance services that decided it."""
    if member is not None:
        user.is_member = member
        if not member:
            user.is_coordinator = False
    if coordinator is not None:
        user.is_coordinator = coordinator
    db.session.flush()


def update_profile(user: User, data: dict) -> User:
    """Change what a person says about themselves: the country they live in, the language they read."""
    if "country" in data:
        user.country = data["country"]
    if "locale" in data:
        user.locale = data["locale"]
    db.session.flush()
    return user
