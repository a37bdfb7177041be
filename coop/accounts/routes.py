"""Account routes: registration, session login, API tokens, the caller's own profile."""
from flask import current_app, request
from flask.views import MethodView
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf

from coop.accounts import services
from coop.accounts.permissions import authenticated_user, require
from coop.accounts.schemas import (
    CredentialsSchema,
    CsrfSchema,
    LoginResultSchema,
    NewTokenSchema,
    RegisterSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from coop.extensions import limiter
from coop.parsing import Blueprint

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts, sign-in and API tokens")


def _account_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"account:{services.normalize_email(email) if isinstance(email, str) else '-'}"


def auth_limits(view):
    """Per-address and per-account limits on the doors a password guesser knocks on."""
    view = limiter.limit(lambda: current_app.config["COOP_AUTH_RATE_PER_ADDRESS"], scope="auth-address")(view)
    return limiter.limit(lambda: current_app.config["COOP_AUTH_RATE_PER_ACCOUNT"], key_func=_account_key,
                         scope="auth-account")(view)


@blp.route("/auth/register", methods=["POST"])
@auth_limits
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
def register(data):
    """Create a worker or requester account."""
    return services.register(**data)


@blp.route("/auth/login", methods=["POST"])
@auth_limits
@blp.arguments(CredentialsSchema)
@blp.response(200, LoginResultSchema)
def login(data):
    """Sign in with a session cookie (browsers); returns the CSRF token for later unsafe requests."""
    user = services.authenticate(data["email"], data["password"])
    login_user(user)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@require()
def logout():
    """End the session."""
    logout_user()


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
    """Issue a personal API token for programs (sent as 'Authorization: Bearer <token>')."""
    user = services.authenticate(data["email"], data["password"])
    token, plain = services.issue_token(user, data["name"])
    return {"id": token.id, "name": token.name, "created_at": token.created_at, "revoked_at": None, "token": plain}


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
        return services.revoke_token(authenticated_user(), token_id)


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@require()
def me():
    """Your own account, with your roles."""
    return authenticated_user()
