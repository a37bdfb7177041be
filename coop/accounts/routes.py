"""Account routes: registration, email verification, sign-in and out, password change and reset, API tokens, your profile."""

from flask import current_app, g, request, session
from flask.views import MethodView
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from coop.accounts import services
from coop.accounts.auth import close_browser_session, open_browser_session
from coop.accounts.permissions import authenticated_user, require
from coop.accounts.schemas import (
    CredentialsSchema,
    CsrfSchema,
    EmailVerifiedSchema,
    LoginResultSchema,
    NewTokenSchema,
    PasswordChangedSchema,
    PasswordChangeSchema,
    PasswordResetAcceptedSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    ProfileUpdateSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
    VerificationSentSchema,
    VerifyEmailSchema,
)
from coop.extensions import limiter
from coop.parsing import Blueprint

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts, sign-in and API tokens")


def _account_key() -> str:
    # The API reads any body as JSON; the sign-in page posts a form (reading it would consume an API body).
    body = request.get_json(silent=True) if request.path.startswith("/api/") else request.form
    email = body.get("email") if hasattr(body, "get") else None
    return f"account:{services.normalize_email(email) if isinstance(email, str) else '-'}"


def _signed_in_account_key() -> str:
    # Checked when the view is called, after the caller was authenticated.
    return f"account:user:{current_user.id if current_user.is_authenticated else '-'}"


def auth_limits(view, account_key=_account_key):
    """Per-address and per-account limits on the doors a password guesser knocks on."""
    view = limiter.limit(lambda: current_app.config["COOP_AUTH_RATE_PER_ADDRESS"], scope="auth-address")(view)
    return limiter.limit(
        lambda: current_app.config["COOP_AUTH_RATE_PER_ACCOUNT"], key_func=account_key, scope="auth-account"
    )(view)


def password_limits(view):
    """The same limits on changing a password, counted per signed-in account."""
    return auth_limits(view, account_key=_signed_in_account_key)


def _link_key() -> str:
    # A guesser of emailed-link tokens names no account; each token counts as its own "account".
    body = request.get_json(silent=True) if request.path.startswith("/api/") else request.form
    token = body.get("token") if hasattr(body, "get") else None
    if not isinstance(token, str):
        token = (request.view_args or {}).get("token")  # the reset page carries it in its path
    return f"link:{services.hash_token(token) if isinstance(token, str) else '-'}"


def link_limits(view):
    """The login limits on following an emailed link: per address, and per link."""
    return auth_limits(view, account_key=_link_key)


PASSWORD_RESET_ACCEPTED = (
    "If an account uses this address, a link to choose a new password is on its way; it works once, for one hour."
)


@blp.route("/auth/register", methods=["POST"])
@auth_limits
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
def register(data):
    """Create a worker or requester account; when the coop sends email, a link to verify the address is sent to it."""
    return services.open_account(**data)


@blp.route("/auth/verify-email", methods=["POST"])
@link_limits
@blp.arguments(VerifyEmailSchema)
@blp.response(200, EmailVerifiedSchema)
def verify_email(data):
    """Verify your email address with the token from the link we sent (works once; 422 when used or expired)."""
    return services.verify_email(data["token"])


@blp.route("/auth/verify-email/resend", methods=["POST"])
@password_limits
@blp.response(202, VerificationSentSchema)
@require()
def resend_verification():
    """Send yourself a new verification link (409 when already verified, or when the coop sends no email)."""
    user = services.resend_verification(authenticated_user())
    return {"sent_to": user.email}


@blp.route("/auth/password-reset", methods=["POST"])
@auth_limits
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202, PasswordResetAcceptedSchema)
def request_password_reset(data):
    """Ask for a link to choose a new password; always 202, so nobody learns which addresses have accounts."""
    services.request_password_reset(data["email"])
    return {"message": PASSWORD_RESET_ACCEPTED}


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@link_limits
@blp.arguments(PasswordResetSchema)
@blp.response(200, PasswordChangedSchema)
def confirm_password_reset(data):
    """Choose a new password with the emailed token (works once, for one hour); every session and API token ends."""
    return services.reset_password(data["token"], data["password"])


@blp.route("/auth/login", methods=["POST"])
@auth_limits
@blp.arguments(CredentialsSchema)
@blp.response(200, LoginResultSchema)
def login(data):
    """Sign in with a session cookie (browsers); returns the CSRF token for later unsafe requests."""
    user = services.authenticate(data["email"], data["password"])
    open_browser_session(user)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@require()
def logout():
    """End this session on the server: the cookie, even replayed, no longer signs anyone in.

    Other devices stay signed in; changing the password ends them.
    """
    close_browser_session()


@blp.route("/auth/password", methods=["POST"])
@password_limits
@blp.arguments(PasswordChangeSchema)
@blp.response(200, PasswordChangedSchema)
@require()
def change_password(data):
    """Change your password (422 if the current one is wrong); every other session of the account ends.

    The session or token making the change stays signed in. API tokens keep working unless
    `revoke_tokens` is true.
    """
    return services.change_password(
        authenticated_user(),
        data["current_password"],
        data["new_password"],
        keep_session_id=session.get(services.SESSION_ID_KEY) if g.auth_via == "session" else None,
        keep_token_id=g.get("api_token_id"),
        revoke_tokens=data["revoke_tokens"],
    )


@blp.route("/auth/csrf", methods=["GET"])
@blp.response(200, CsrfSchema)
def csrf():
    """The CSRF token to send as X-CSRF-Token with cookie-authenticated POST/PATCH/DELETE."""
    return {"csrf_token": generate_csrf()}


@blp.route("/auth/token", methods=["POST"])
@auth_limits
@blp.arguments(TokenRequestSchema)
@blp.response(201, NewTokenSchema)
def create_token(data):
    """Issue a personal API token for programs (sent as 'Authorization: Bearer <token>'), optionally expiring."""
    user = services.authenticate(data["email"], data["password"])
    token, plain = services.issue_token(user, data["name"], data["expires_in_days"])
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": None,
        "revoked_at": None,
        "token": plain,
    }


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    @require()
    def get(self):
        """Your API tokens (never the token values)."""
        return services.list_tokens(authenticated_user())


@blp.route("/auth/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(200, TokenSchema)
    @require()
    def delete(self, token_id):
        """Revoke one of your tokens."""
        user = authenticated_user()
        return services.revoke_token(user, services.own_token(user, token_id))


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@require()
def me():
    """Your own account, with your roles."""
    return authenticated_user()


@blp.route("/me", methods=["PATCH"])
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
@require()
def update_me(data):
    """Change your profile: the country you live in (it counts toward the coop's floor above local minimum wages)
    and the language of your pages and emails."""
    return services.update_profile(authenticated_user(), data)
