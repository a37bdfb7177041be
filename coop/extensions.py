"""Extensions, created unbound and initialised in the app factory."""

import functools
from typing import TYPE_CHECKING

from flask import g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from coop.context import only_when, this_app, this_request

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _render_item(type_, obj, autogen_context):
    # Migrations spell our column types with plain SQLAlchemy types, so they never import app code.
    from coop.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and obj.__class__.__name__ == "JSON" and getattr(obj, "_variant_mapping", None):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


db = SQLAlchemy(model_class=Base)
# Models subclass `Model`: at run time Flask-SQLAlchemy's class built on Base, for the type
# checker Base itself, whose mapped attributes it understands.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
login_manager = LoginManager()
api = Api()


# Set in `g` on the requests whose limits flask-limiter checked.
_LIMITS_CHECKED = "coop_limits_checked"


class _Limiter(Limiter):
    """flask-limiter, which steps aside before any work on a request to an endpoint with no limit."""

    def init_app(self, app) -> None:
        super().init_app(app)
        # Its after-request hook (limit headers) and teardown (the request's limit context) are
        # kept for the requests whose limits it checked; any other request has nothing for them.
        after = app.after_request_funcs.get(None, [])
        for index, hook in enumerate(after):
            if isinstance(hook, functools.partial) and hook.args == (self,):
                after[index] = only_when(hook, _LIMITS_CHECKED)
        teardown = app.teardown_request_funcs.get(None, [])
        for index, hook in enumerate(teardown):
            if getattr(hook, "__qualname__", "") == "Limiter.__release_context":
                teardown[index] = only_when(hook, _LIMITS_CHECKED)

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and _endpoint_without_limits():
            return
        setattr(g, _LIMITS_CHECKED, True)
        super()._check_request_limit(callable_name, in_middleware)


limiter = _Limiter(key_func=get_remote_address, default_limits=[])


def _endpoint_without_limits() -> bool:
    """True for an endpoint with no rate limit of its own, when none applies to every endpoint.

    flask-limiter works out each request's limits from scratch, at more CPU than a claim's SQL
    costs; what it found for an endpoint is kept for the app's life (limits are set at start).
    """
    from flask_limiter.util import get_qualified_name

    app, req = this_app(), this_request()
    known = app.extensions.setdefault("coop_unlimited_endpoints", {})
    endpoint = req.endpoint
    if endpoint not in known:
        manager = limiter.limit_manager
        view = app.view_functions.get(endpoint or "")
        known[endpoint] = (
            view is not None
            and not manager.default_limits
            and not manager.application_limits
            and not manager.decorated_limits(get_qualified_name(view))
            and not (req.blueprint and manager.blueprint_limits(app, req.blueprint))
        )
    return known[endpoint]
