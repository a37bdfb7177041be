"""Coop: the platform cooperative owned by micro-task workers."""
import os

from flask import Flask, g, request, session
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import event

from coop.config import config_for
from coop.errors import Forbidden, Unauthorized, register_error_handlers
from coop.extensions import db, limiter, login_manager, migrate
from coop.unit_of_work import CoopFlask

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Endpoints a caller reaches before holding a session; they carry credentials themselves.
CSRF_EXEMPT_ENDPOINTS = frozenset({"accounts.login", "accounts.register", "accounts.create_token"})
# The only API endpoints open without signing in; every other one refuses before reading the body.
PUBLIC_ENDPOINTS = CSRF_EXEMPT_ENDPOINTS | {"accounts.csrf"}
# Read (GET) without signing in: the terms in force, the rules and the public boards; a signed-in
# caller is still recognised, and members boards still refuse outsiders.
PUBLIC_READ_ENDPOINTS = frozenset({
    "governance.current_terms", "governance.terms_history", "governance.terms_version",
    "governance.rules", "governance.rule",
    "forum.Boards", "forum.read_board", "forum.BoardThreads", "forum.read_thread", "forum.PostById",
    "forum.post_history",
})


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides settings (tests pass their database here)."""
    app = CoopFlask(__name__, instance_path=os.environ.get("COOP_INSTANCE_PATH") or None)
    env = (config or {}).get("ENV_NAME") or os.environ.get("COOP_ENV")
    app.config.from_mapping(config_for(env).load(app.instance_path))
    if config:
        app.config.from_mapping(config)

    from coop import models  # noqa: F401  (the whole schema, before anything touches the database)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    limiter.init_app(app)
    _configure_sqlite(app)
    _configure_auth(app)

    from coop.api import register_api

    register_api(app)
    # After the API, so these handlers replace the ones flask-smorest installs.
    register_error_handlers(app)
    _configure_unit_of_work(app)
    _configure_security_headers(app)

    from coop.cli import coop_cli

    app.cli.add_command(coop_cli)
    return app


def _configure_sqlite(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    # pysqlite's own transaction handling breaks SAVEPOINTs and starts transactions late;
    # let SQLAlchemy emit BEGIN itself (the documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")


def _configure_auth(app: Flask) -> None:
    from coop.accounts import services
    from coop.accounts.permissions import Visitor

    login_manager.anonymous_user = Visitor

    @login_manager.user_loader
    def load_user(user_id: str):
        # The cookie names the server-side session; one that was signed out loads no one.
        live = services.live_session(user_id, session.get(services.SESSION_ID_KEY))
        g.user_session = live
        return live.user if live else None

    def record_use(credential):
        # Its own short transaction, before the request's work: a refused request still counts
        # as a use, and the credential's row is locked for an instant, not the whole request.
        if services.record_use(credential):
            db.session.commit()

    @login_manager.unauthorized_handler
    def unauthorized():
        raise Unauthorized()

    @app.before_request
    def authenticate_and_check_csrf():
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Send API tokens as 'Authorization: Bearer <token>'.")
            api_token = services.token_in_use(token.strip())
            # Setting Flask-Login's per-request user makes a Bearer request ignore any cookie.
            g._login_user = api_token.user
            g.auth_via, g.api_token_id = "token", api_token.id
            record_use(api_token)
            return
        g.auth_via = "session"
        from flask_login import current_user

        if session.get(services.SESSION_ID_KEY) and current_user.is_authenticated:
            record_use(g.user_session)

        public = request.endpoint in PUBLIC_ENDPOINTS or (
            request.method in SAFE_METHODS and request.endpoint in PUBLIC_READ_ENDPOINTS)
        if request.endpoint and request.path.startswith("/api/v1/") and not public and not current_user.is_authenticated:
            raise Unauthorized()
        if request.method in SAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return
        if current_user.is_authenticated:
            token = next((request.headers[h] for h in app.config["WTF_CSRF_HEADERS"] if h in request.headers), None)
            try:
                validate_csrf(token)
            except Exception:  # flask-wtf raises ValidationError or CSRFError depending on the failure
                raise Forbidden(
                    "Missing or invalid CSRF token: send the csrf_token from login or GET /api/v1/auth/csrf "
                    "as the X-CSRF-Token header, or use an API token."
                ) from None

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        raise Forbidden("Missing or invalid CSRF token.")


def _configure_security_headers(app: Flask) -> None:
    # The docs page needs its own scripts and styles; everything else is JSON and needs nothing.
    docs_csp = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
    api_csp = "default-src 'none'; frame-ancestors 'none'"

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", docs_csp if request.path.startswith("/api/docs") else api_csp)
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/v1"):
            headers.setdefault("Cache-Control", "no-store")
        return response


def _configure_unit_of_work(app: Flask) -> None:
    # Services only flush; the request is the unit of work and commits once, or not at all.
    # The view and its commit run in CoopFlask.dispatch_request, which runs them again once if
    # the database says the transaction lost a race (coop/unit_of_work.py).
    from coop import unit_of_work

    unit_of_work.configure(app)
