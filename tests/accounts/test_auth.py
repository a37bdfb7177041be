"""Registration, session login with CSRF, API tokens, logout, roles."""

import pytest

from coop import create_app
from coop.accounts.models import ApiToken, User
from coop.extensions import db
from tests.conftest import PASSWORD


def register(client, **overrides):
    body = {"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada", "kind": "worker", **overrides}
    return client.post("/api/v1/auth/register", json=body)


def test_register_creates_a_worker_and_hides_the_password(client):
    response = register(client)
    assert response.status_code == 201
    assert response.json["display_name"] == "Ada"
    assert response.json["is_member"] is False
    assert "password" not in response.json and "password_hash" not in response.json


def test_register_stores_an_argon2id_hash_not_the_password(client, session):
    register(client)
    user = session.query(User).filter_by(email="ada@example.org").one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_duplicate_email_is_refused_case_insensitively(client):
    assert register(client).status_code == 201
    response = register(client, email="ADA@Example.org", display_name="Other")
    assert response.status_code == 409
    assert "already" in response.json["message"]


def test_short_password_and_missing_fields_get_field_errors(client, session):
    response = client.post("/api/v1/auth/register", json={"email": "a@example.org", "password": "short"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"password", "display_name", "kind"}
    assert session.query(User).count() == 0


def test_requester_must_name_an_organisation(client):
    response = register(client, kind="requester")
    assert response.status_code == 422
    assert "organization" in response.json["errors"]
    assert register(client, kind="requester", organization="Acme Research").status_code == 201


def test_login_sets_a_session_and_returns_a_csrf_token(client):
    register(client)
    response = client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["csrf_token"]
    assert "HttpOnly" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    assert client.get("/api/v1/me").json["email"] == "ada@example.org"


def test_wrong_password_is_401_without_saying_which_part_was_wrong(client):
    register(client)
    response = client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": "wrong-password!"})
    assert response.status_code == 401
    assert response.json["message"] == "Email or password is wrong."
    unknown = client.post("/api/v1/auth/login", json={"email": "nobody@example.org", "password": "wrong-password!"})
    assert unknown.json["message"] == response.json["message"]


def test_cookie_request_without_csrf_token_is_refused(client):
    register(client)
    token = client.post("/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}).json[
        "csrf_token"
    ]
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403
    assert "CSRF" in refused.json["message"]
    assert client.get("/api/v1/me").status_code == 200  # still signed in
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_bearer_token_works_without_csrf_and_is_stored_hashed(client, session):
    register(client)
    response = client.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": PASSWORD, "name": "cli"})
    assert response.status_code == 201
    plain = response.json["token"]
    stored = session.get(ApiToken, response.json["id"])
    assert stored.token_hash != plain and plain not in stored.token_hash
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/me", headers=headers).json["display_name"] == "Ada"
    listed = client.get("/api/v1/auth/tokens", headers=headers).json
    assert [t["name"] for t in listed] == ["cli"] and "token" not in listed[0]
    # Unsafe request with a token needs no CSRF header.
    assert client.delete(f"/api/v1/auth/tokens/{response.json['id']}", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_user_cannot_revoke_another_users_token(make):
    alice, bob = make.worker(), make.worker()
    from coop.accounts.services import issue_token

    token, _ = issue_token(alice, "alice's")
    response = make.client(bob).delete(f"/api/v1/auth/tokens/{token.id}")
    assert response.status_code == 404
    assert token.revoked_at is None


def test_malformed_authorization_header_is_401(client):
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_me_requires_authentication(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["code"] == 401 and "Sign in" in response.json["message"]


def test_me_reports_roles(make):
    coordinator = make.coordinator()
    body = make.client(coordinator).get("/api/v1/me").json
    assert body["is_member"] is True and body["is_coordinator"] is True
    assert set(body) == {
        "id",
        "email",
        "display_name",
        "kind",
        "organization",
        "is_member",
        "is_coordinator",
        "locale",
        "created_at",
        "country",
        "email_verified_at",
    }


# The shared app built the schema these apps of their own use.
@pytest.mark.usefixtures("app")
def test_login_is_rate_limited_per_account_with_retry_after(database_url, tmp_path):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "COOP_AUTH_RATE_PER_ACCOUNT": "3 per minute",
            "COOP_AUTH_RATE_PER_ADDRESS": "100 per minute",
        }
    )
    client = app.test_client()
    body = {"email": "guess@example.org", "password": "not-the-password"}
    answers = [client.post("/api/v1/auth/login", json=body) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    # A limited endpoint says how much of its limit is left; one without a limit says nothing of it.
    assert [answer.headers.get("X-RateLimit-Remaining") for answer in answers[:3]] == ["99", "98", "97"]
    assert "X-RateLimit-Remaining" not in client.get("/api/v1/terms").headers
    limited = client.post("/api/v1/auth/login", json=body)
    assert limited.json["code"] == 429 and int(limited.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by the first one's limit.
    assert client.post("/api/v1/auth/login", json={**body, "email": "other@example.org"}).status_code == 401
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# The shared app built the schema these apps of their own use.
@pytest.mark.usefixtures("app")
def test_login_is_rate_limited_per_address(database_url):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "COOP_AUTH_RATE_PER_ACCOUNT": "100 per minute",
            "COOP_AUTH_RATE_PER_ADDRESS": "2 per minute",
        }
    )
    client = app.test_client()
    statuses = [
        client.post("/api/v1/auth/login", json={"email": f"u{i}@example.org", "password": "x"}).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 429]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("env", ["production"])
def test_production_refuses_to_start_without_a_secret_key(env, monkeypatch):
    monkeypatch.delenv("COOP_SECRET_KEY", raising=False)
    monkeypatch.setenv("COOP_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(RuntimeError, match="COOP_SECRET_KEY"):
        create_app({"ENV_NAME": env})


def test_production_refuses_the_in_memory_rate_limit_store(monkeypatch):
    monkeypatch.setenv("COOP_SECRET_KEY", "x" * 40)
    monkeypatch.delenv("COOP_RATELIMIT_STORAGE_URL", raising=False)
    with pytest.raises(RuntimeError, match="COOP_RATELIMIT_STORAGE_URL"):
        create_app({"ENV_NAME": "production"})


def test_production_session_cookie_is_secure_httponly_samesite(database_url, make):
    from coop.config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    # The production cookie and header settings, on a testing app that shares this test's transaction.
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SESSION_COOKIE_SECURE": True})
    user = make.worker()
    response = app.test_client().post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
