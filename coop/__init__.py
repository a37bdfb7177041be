"""Coop: the platform cooperative owned by micro-task workers."""

import os

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event

from coop.config import config_for
from coop.context import this_request
from coop.errors import register_error_handlers
from coop.extensions import db, limiter, login_manager, migrate
from coop.unit_of_work import CoopFlask


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides settings (tests pass their database here)."""
    app = CoopFlask(__name__, instance_path=os.environ.get("COOP_INSTANCE_PATH") or None)
    env = (config or {}).get("ENV_NAME") or os.environ.get("COOP_ENV")
    app.config.from_mapping(config_for(env).load(app.instance_path))
    if config:
        app.config.from_mapping(config)

    from coop import (
        i18n,
        models,  # noqa: F401  (the whole schema, before anything touches the database)
    )
    from coop.accounts import auth

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    login_manager.init_app(app)
    limiter.init_app(app)
    app.session_interface = CookieSessions()
    _configure_sqlite(app)
    _configure_postgresql(app)
    auth.init_app(app)
    i18n.init_app(app)

    from coop.api import register_api

    register_api(app)
    from coop import pages

    pages.init_app(app)
    _register_proposal_effects()
    # After the API, so these handlers replace the ones flask-smorest installs.
    register_error_handlers(app)
    _configure_unit_of_work(app)
    _configure_security_headers(app)
    _configure_jobs(app)

    from coop.cli import coop_cli

    app.cli.add_command(coop_cli)
    return app


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with nothing built for a request that brings no cookie (API calls with a token)."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _register_proposal_effects() -> None:
    # Governance carries out proposals whose effect lives in the marketplace without importing it.
    from coop.governance.services import register_effect
    from coop.marketplace.services import enact_requester_suspension

    register_effect("requester_suspension", enact_requester_suspension)


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


def _configure_postgresql(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    from psycopg.types.json import set_json_loads

    from coop.types import read_json

    # psycopg's default for every connection of the process (its own is json.loads); set on the
    # engine instead, it would give each connection slower loaders of its own.
    set_json_loads(read_json)


def _configure_security_headers(app: Flask) -> None:
    from coop.pages import PAGE_CSP

    # The docs page needs its own scripts and styles; pages only their own files; the API nothing.
    docs_csp = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'"
    )
    api_csp = "default-src 'none'; frame-ancestors 'none'"

    def wanted(csp: str) -> tuple[tuple[str, str], ...]:
        found = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Content-Security-Policy", csp),
        ]
        if app.config["SESSION_COOKIE_SECURE"]:
            found.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        return tuple(found)

    docs_headers, page_headers, other_api_headers = wanted(docs_csp), wanted(PAGE_CSP), wanted(api_csp)
    api_headers = (*other_api_headers, ("Cache-Control", "no-store"))

    @app.after_request
    def security_headers(response):
        # Every response passes here: one look at the headers a view set, not one per header.
        path = this_request().path
        if path.startswith("/api/docs"):
            defaults = docs_headers
        elif path.startswith("/api/v1"):
            defaults = api_headers
        elif path.startswith("/api"):
            defaults = other_api_headers
        else:
            defaults = page_headers
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        headers.extend([(name, value) for name, value in defaults if name.lower() not in present])
        return response


def _configure_jobs(app: Flask) -> None:
    # Every job is registered before a worker (or a request) needs it.
    from coop import jobs, mail, ticks  # noqa: F401

    jobs.init_app(app)


def _configure_unit_of_work(app: Flask) -> None:
    # Services only flush; the request is the unit of work and commits once, or not at all.
    # The view and its commit run in CoopFlask.dispatch_request, which runs them again once if
    # the database says the transaction lost a race (coop/unit_of_work.py).
    from coop import unit_of_work

    unit_of_work.configure(app)
