"""Every API error has one JSON shape: code, status, message, errors."""

import pytest

from coop import create_app
from coop.extensions import db


def assert_error_shape(response, code):
    assert response.status_code == code
    assert response.is_json
    assert response.json["code"] == code
    assert isinstance(response.json["status"], str) and response.json["status"]
    assert isinstance(response.json["message"], str) and len(response.json["message"]) > 10


def test_unknown_url_is_json_404(client):
    assert_error_shape(client.get("/api/v1/no-such-thing"), 404)


def test_wrong_method_is_json_405_with_allow_header(client):
    response = client.delete("/api/v1/me")
    assert_error_shape(response, 405)
    assert "GET" in response.headers["Allow"]


def test_invalid_body_is_422_with_field_errors(client):
    response = client.post("/api/v1/auth/register", json={"email": "not-an-email", "kind": "robot"})
    assert_error_shape(response, 422)
    assert "email" in response.json["errors"] and "kind" in response.json["errors"]


def test_invalid_cursor_is_422_naming_the_cursor(as_worker):
    response = as_worker.get("/api/v1/audit?cursor=@@@")
    assert_error_shape(response, 422)
    assert "cursor" in response.json["errors"]


def test_unexpected_error_is_json_500_without_a_stack_trace(database_url, caplog):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/boom")
    assert_error_shape(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("secret internals" in r.getMessage() or r.exc_info for r in caplog.records)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs"])
def test_spec_and_docs_are_served(client, path):
    assert client.get(path).status_code == 200


def test_docs_page_assets_are_served_by_the_app_itself(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    assert "//cdn" not in page and "unpkg" not in page
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and len(asset.data) > 100_000


def test_security_headers_are_set_on_api_responses(client):
    response = client.get("/api/v1/me")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # development serves plain HTTP
