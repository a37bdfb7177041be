"""The OpenAPI spec, the offline docs page and the blueprints that make up the API."""
import flask_swagger_ui
from flask import Blueprint, Flask, send_from_directory

from coop.extensions import api

_SWAGGER_DIST = f"{flask_swagger_ui.__path__[0]}/dist"

docs_assets = Blueprint("docs_assets", __name__)


@docs_assets.route("/api/docs/assets/<path:filename>")
def asset(filename):
    """Swagger UI files shipped in a Python package, so /api/docs needs no CDN."""
    return send_from_directory(_SWAGGER_DIST, filename, max_age=86400)


def register_api(app: Flask) -> None:
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("cookieAuth", {"type": "apiKey", "in": "cookie", "name": "session"})
    api.spec.options["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]

    from coop.accounts.routes import blp as accounts
    from coop.forum.routes import blp as forum
    from coop.governance.routes import blp as governance
    from coop.marketplace.routes import blp as marketplace
    from coop.routes import blp as core

    for blueprint in (accounts, governance, marketplace, forum, core):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs_assets)
