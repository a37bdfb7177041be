"""Account services: registration, passwords, API tokens, role changes."""
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from coop import clock
from coop.accounts.models import ApiToken, User
from coop.errors import Conflict, Invalid, NotFound, Unauthorized
from coop.extensions import db

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the email is unknown, so response time does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "coop_"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(email: str, password: str, display_name: str, kind: str, organization: str | None = None) -> User:
    """Create a worker or requester account."""
    email = normalize_email(email)
    display_name = display_name.strip()
    if kind == "requester" and not (organization or "").strip():
        raise Invalid(errors={"organization": ["Requesters give the name of their organisation."]})
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists; sign in instead.", {"email": ["Already registered."]})
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.display_name) == display_name.lower())):
        raise Conflict("This display name is taken; choose another pseudonym.", {"display_name": ["Already taken."]})
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


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or Unauthorized."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise Unauthorized("Email or password is wrong.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new personal API token; the plain token is returned once and only its hash kept."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name or "", token_hash=hash_token(plain), created_at=clock.now())
    db.session.add(token)
    db.session.flush()
    return token, plain


def user_for_token(plain: str) -> User | None:
    """The owner of a live token, or None."""
    # One query on every Bearer request: the user joined through the live token.
    return db.session.scalar(
        sa.select(User).join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None))
    )


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens."""
    token = db.session.get(ApiToken, token_id)
    # Another user's token is reported as missing, so ids reveal nothing.
    if token is None or token.user_id != user.id:
        raise NotFound("You have no token with this id.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
    db.session.flush()
    return token


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


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
