"""The OpenAPI spec, the offline docs page and the blueprints that make up the API."""

import flask_swagger_ui
from apispec import BasePlugin
from flask import Blueprint, Flask, send_from_directory
from flask_limiter.util import get_qualified_name
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, UnicodeConverter

from coop import parsing
from coop.extensions import api, limiter
from coop.pagination import MAX_ID

_SWAGGER_DIST = f"{flask_swagger_ui.__path__[0]}/dist"

docs_assets = Blueprint("docs_assets", __name__)


@docs_assets.route("/api/docs/assets/<path:filename>")
def asset(filename):
    """Swagger UI files shipped in a Python package, so /api/docs needs no CDN."""
    return send_from_directory(_SWAGGER_DIST, filename, max_age=86400)


class IdConverter(IntegerConverter):
    """`<int:...>` in our routes: a non-negative id within the column's range; a larger one is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        # Refusing here rather than letting werkzeug skip the rule: a skipped rule would make the
        # same path's other methods answer 405 for what is only an id that names nothing.
        number = int(value)
        if number > self.max:
            raise NotFound()
        return number


class TextConverter(UnicodeConverter):
    """A text segment of a path (a rule's slug): one holding a NUL character names nothing (404)."""

    def to_python(self, value: str) -> str:
        # The database could not even be asked about it: PostgreSQL refuses NUL in text.
        if "\x00" in value:
            raise NotFound()
        return value


UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})

# Every error answer has the one shape of coop/errors.py; flask-smorest's Error schema describes it.
ERROR_RESPONSES = {
    "400": ("BadRequest", "The body is not valid JSON."),
    "401": ("Unauthorized", "No session or token, or the token is malformed, unknown or revoked."),
    "403": ("Forbidden", "Your role or your relation to this object forbids it, or the CSRF token is missing."),
    "404": ("NotFound", "Nothing exists with this id (or you may not know that it does)."),
    "409": ("Conflict", "The object's state does not allow it now: closed, already done, insufficient funds..."),
    "413": ("PayloadTooLarge", "The body is larger than the server accepts (COOP_MAX_BODY_BYTES, 1 MiB by default)."),
    "422": ("Invalid", "Some fields are not valid, or the request breaks the terms in force; see `errors`."),
    "429": ("TooManyAttempts", "Past the rate limit; wait the seconds in Retry-After."),
}


# Who may call: a token, or the session cookie (with its CSRF header on any change).
READ_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cookieAuth": []}]
CHANGE_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}]
OPTIONAL_AUTH = [{}, *READ_AUTH]


class ErrorResponsesPlugin(BasePlugin):
    """Documents on each operation the errors it can answer, so the spec is a contract a client can check.

    Which errors apply follows from how the route is built: every route refuses a bad token
    (401); a role check, a per-object check or a cookie request without its CSRF token
    refuses with 403; an id in the path may name nothing (404); a change may meet a state
    that forbids it (409) or fields or terms that refuse it (422); the password doors are
    rate-limited (429); a change may send too large a body (413). Public routes (no
    `@require`) need no credentials; changes by session cookie need the CSRF header too.
    """

    def __init__(self, app: Flask):
        super().__init__()
        self.app = app

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        for name, description in ERROR_RESPONSES.values():
            response = {"description": description, "content": {"application/json": {"schema": "Error"}}}
            if name == "TooManyAttempts":
                response["headers"] = {
                    "Retry-After": {
                        "description": "Seconds to wait before trying again.",
                        "schema": {"type": "integer"},
                    }
                }
            spec.components.response(name, response)

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs) -> None:
        view = self.app.view_functions[rule.endpoint]
        with self.app.app_context():  # limits are read from the config
            rate_limited = bool(limiter.limit_manager.decorated_limits(get_qualified_name(view)))
        for method, operation in operations.items():
            func = getattr(view.view_class, method) if hasattr(view, "view_class") else view
            roles = _required_roles(func)
            public = roles is None
            codes = {"401"}
            if "{" in path:
                codes |= {"403", "404"}
            if roles or (method in UNSAFE_METHODS and not public):
                codes.add("403")
            if method in UNSAFE_METHODS:
                codes |= {"400", "409", "413", "422"}
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.add("422")
            if rate_limited:
                codes.add("429")
            responses = operation.setdefault("responses", {})
            # Named errors replace flask-smorest's catch-all `default`, which would make any status conform.
            responses.pop("default", None)
            for code in sorted(codes):
                responses[code] = ERROR_RESPONSES[code][0]
            if public and method in UNSAFE_METHODS:
                operation["security"] = []  # the doors in: they carry their own credentials
            elif public:
                operation["security"] = OPTIONAL_AUTH  # open to all; a signed-in caller may see more
            elif method in UNSAFE_METHODS:
                operation["security"] = CHANGE_AUTH


def _required_roles(func) -> tuple | None:
    """The roles `@require` asks of this view (empty: any signed-in user), or None for a public view."""
    while func is not None:
        if hasattr(func, "required_roles"):
            return func.required_roles
        func = getattr(func, "__wrapped__", None)
    return None


def register_api(app: Flask) -> None:
    parsing.init_app(app)
    # Before any blueprint, so every `<int:...>` and `<slug>` rule is built with them.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    from coop.unit_of_work import UnitOfWorkDocs

    api.init_app(app, spec_kwargs={"extra_plugins": [ErrorResponsesPlugin(app), UnitOfWorkDocs()]})
    api.flask_plugin.register_converter(IdConverter, integerconverter2paramschema)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme(
        "cookieAuth", {"type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME") or "session"}
    )
    api.spec.components.security_scheme(
        "csrfToken",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": "With the session cookie, on every change: the csrf_token from login or GET /api/v1/auth/csrf.",
        },
    )
    api.spec.options["security"] = READ_AUTH

    from coop.accounts.routes import blp as accounts
    from coop.forum.routes import blp as forum
    from coop.governance.routes import blp as governance
    from coop.marketplace.routes import blp as marketplace
    from coop.notifications.routes import blp as notifications
    from coop.routes import blp as core
    from coop.webhooks.routes import blp as webhooks

    for blueprint in (accounts, governance, marketplace, forum, notifications, webhooks, core):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs_assets)
