"""Who is calling: the session and Bearer sign-in hooks, CSRF on cookie changes, and the doors open to all."""

from flask import Flask, g, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, validate_csrf

from coop.accounts import services
from coop.accounts.permissions import Visitor
from coop.context import only_when, this_app, this_request
from coop.errors import Forbidden, Unauthorized, error_response
from coop.extensions import login_manager
from coop.governance import services as governance
from coop.loading import url_object_source, url_object_sources
from coop.unit_of_work import commit_keeping_loaded

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints a caller reaches before holding a session; they carry credentials themselves.
# Emailed links are their own credential, followed from any device, signed in or not.
CSRF_EXEMPT_ENDPOINTS = frozenset(
    {
        "accounts.login",
        "accounts.register",
        "accounts.create_token",
        "accounts.verify_email",
        "accounts.request_password_reset",
        "accounts.confirm_password_reset",
    }
)
# The only API endpoints open without signing in; every other one refuses before reading the body.
PUBLIC_ENDPOINTS = CSRF_EXEMPT_ENDPOINTS | {"accounts.csrf"}
# Read (GET) without signing in: the terms in force, the rules and the public boards; a signed-in
# caller is still recognised, and members boards still refuse outsiders.
PUBLIC_READ_ENDPOINTS = frozenset(
    {
        "governance.current_terms",
        "governance.terms_history",
        "governance.terms_version",
        "governance.rules",
        "governance.rule",
        "forum.Boards",
        "forum.read_board",
        "forum.BoardThreads",
        "forum.read_thread",
        "forum.PostById",
        "forum.post_history",
    }
)


def init_app(app: Flask) -> None:
    """Install the sign-in hooks: every request is recognised (or refused) before its view runs."""
    login_manager.anonymous_user = Visitor
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(authenticate_and_check_csrf)
    app.teardown_request(governance.forget_terms_in_force)
    # Flask-Login's remember-cookie upkeep runs only on requests that may carry the session cookie:
    # one signed in by API token (`g.api_token_id` set) ignores the cookie session altogether.
    hooks = app.after_request_funcs.setdefault(None, [])
    index = hooks.index(login_manager._update_remember_cookie)
    hooks[index] = only_when(hooks[index], "api_token_id", present=False)
    app.register_error_handler(CSRFError, _csrf_error)


def _load_user(user_id: str):
    # The cookie names the server-side session; one that was signed out loads no one.
    live = services.live_session(user_id, session.get(services.SESSION_ID_KEY))
    g.user_session = live
    return live.user if live else None


def _unauthorized():
    raise Unauthorized()


def _csrf_error(exc):
    return error_response(
        403, "This form has expired or did not come from this site; nothing was changed. Reload the page and try again."
    )


def _record_use(credential) -> None:
    # Its own short transaction, before the request's work: a refused request still counts
    # as a use, and the credential's row is locked for an instant, not the whole request.
    # What sign-in read stays loaded: reading the caller again after this commit would cost a
    # query per object and tell the request nothing a request without a use to record is told.
    if services.record_use(credential):
        commit_keeping_loaded()


def authenticate_and_check_csrf():
    """Recognise the caller (Bearer token or session cookie), refuse the unsigned-in, check CSRF on cookie changes."""
    req = this_request()
    header = req.headers.get("Authorization", "")
    if header:
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(_("Send API tokens as 'Authorization: Bearer <token>'."))
        url_sources, url_values = url_object_sources(this_app().view_functions.get(req.endpoint or ""), req.view_args)
        api_token, terms, *url_objects = services.token_in_use(
            token.strip(), governance.terms_in_force_source(), *url_sources, values=url_values
        )
        # Held for the request: the session keeps loaded objects only while something refers to them.
        g.url_objects = url_objects
        governance.remember_terms_in_force(terms)
        # Setting Flask-Login's per-request user makes a Bearer request ignore any cookie.
        g._login_user = api_token.user
        g.auth_via, g.api_token_id = "token", api_token.id
        _record_use(api_token)
        return
    g.auth_via = "session"

    if session.get(services.SESSION_ID_KEY) and current_user.is_authenticated:
        _record_use(g.user_session)

    public = req.endpoint in PUBLIC_ENDPOINTS or (req.method in SAFE_METHODS and req.endpoint in PUBLIC_READ_ENDPOINTS)
    if req.endpoint and req.path.startswith("/api/v1/") and not public and not current_user.is_authenticated:
        raise Unauthorized()
    if req.method in SAFE_METHODS or req.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    if not req.path.startswith("/api/"):
        return  # pages check their forms' CSRF token themselves (coop/pages.py)
    if current_user.is_authenticated:
        token = next((req.headers[h] for h in this_app().config["WTF_CSRF_HEADERS"] if h in req.headers), None)
        try:
            validate_csrf(token)
        except Exception:  # flask-wtf raises ValidationError or CSRFError depending on the failure
            raise Forbidden(
                _(
                    "Missing or invalid CSRF token: send the csrf_token from login or GET /api/v1/auth/csrf as the "
                    "X-CSRF-Token header, or use an API token."
                )
            ) from None


def sign_in_statements(app: Flask) -> list:
    """Every statement Bearer sign-in can run in `app`: the plain one and one per kind of object a view reads with it."""
    kinds = {getattr(view, "read_with_caller", None) for view in app.view_functions.values()}
    terms = governance.terms_in_force_source()
    return [services.token_statement(terms, *(() if kind is None else (url_object_source(*kind),))) for kind in kinds]


def open_browser_session(user) -> None:
    """Sign `user` in with the session cookie (the API's login and the sign-in page)."""
    # A browser signing in again (perhaps as someone else) leaves no earlier session alive behind it.
    services.end_session(session.get(services.SESSION_ID_KEY))
    session[services.SESSION_ID_KEY] = services.start_session(user).id
    login_user(user)


def close_browser_session() -> None:
    """End this browser's session on the server and forget the cookie's user."""
    services.end_session(session.pop(services.SESSION_ID_KEY, None))
    logout_user()
