"""Sessions that end on the server: logout, password change, last seen."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock, create_app
from coop.accounts.models import ApiToken, UserSession
from coop.extensions import db
from tests.conftest import PASSWORD, ApiClient

NEW_PASSWORD = "a-brand-new-passphrase"


class Browser:
    """A test client signed in with a session cookie, sending its CSRF token on unsafe requests."""

    def __init__(self, app, user, password=PASSWORD):
        self.client = app.test_client()
        response = self.client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
        assert response.status_code == 200, response.json
        self.csrf = response.json["csrf_token"]

    def get(self, url):
        return self.client.get(url)

    def post(self, url, json=None):
        return self.client.post(url, json=json or {}, headers={"X-CSRF-Token": self.csrf})

    @property
    def cookie(self) -> str:
        return self.client.get_cookie("session").value


@pytest.fixture
def browser(app, session):
    return lambda user, password=PASSWORD: Browser(app, user, password)


def replay(app, cookie: str):
    """A fresh client presenting a copied session cookie, as someone who stole it would."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def live_sessions(session, user) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    )


# --- logout -------------------------------------------------------------------------------


def test_a_cookie_replayed_after_logout_is_refused(app, make, browser):
    phone = browser(make.worker())
    copied = phone.cookie
    assert replay(app, copied).get("/api/v1/me").status_code == 200
    assert phone.post("/api/v1/auth/logout").status_code == 204
    response = replay(app, copied).get("/api/v1/me")
    assert response.status_code == 401
    assert "Sign in" in response.json["message"]


def test_logging_out_on_one_device_keeps_the_others_signed_in(make, browser, session):
    user = make.worker()
    phone, laptop = browser(user), browser(user)
    assert live_sessions(session, user) == 2
    assert phone.post("/api/v1/auth/logout").status_code == 204
    assert phone.get("/api/v1/me").status_code == 401
    assert laptop.get("/api/v1/me").json["id"] == user.id
    assert live_sessions(session, user) == 1


def test_signing_in_again_in_the_same_browser_ends_the_earlier_session(app, make, browser, session):
    first, second = make.worker(), make.worker()
    shared = browser(first)
    earlier = shared.cookie
    response = shared.client.post("/api/v1/auth/login", json={"email": second.email, "password": PASSWORD})
    assert response.status_code == 200
    assert shared.get("/api/v1/me").json["id"] == second.id
    assert replay(app, earlier).get("/api/v1/me").status_code == 401
    assert live_sessions(session, first) == 0


def test_a_cookie_request_loads_the_user_and_its_session_in_one_query(frozen_clock, make, browser):
    phone = browser(make.worker())
    statements = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert phone.get("/api/v1/me").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 1 and "user_sessions" in statements[0] and "users" in statements[0]


def test_last_seen_is_written_at_most_once_a_minute(frozen_clock, make, browser, session):
    user = make.worker()
    phone = browser(user)
    signed_in_at = clock.now()

    def last_seen():
        return session.scalar(sa.select(UserSession.last_seen_at).where(UserSession.user_id == user.id))

    clock.advance(timedelta(seconds=30))
    assert phone.get("/api/v1/me").status_code == 200
    assert last_seen() == signed_in_at
    clock.advance(timedelta(seconds=31))
    assert phone.get("/api/v1/me").status_code == 200
    assert last_seen() == signed_in_at + timedelta(seconds=61)


# --- password change ----------------------------------------------------------------------


def change(client, current=PASSWORD, new=NEW_PASSWORD, **extra):
    return client.post("/api/v1/auth/password", json={"current_password": current, "new_password": new, **extra})


def test_changing_the_password_ends_every_other_session_but_this_one(app, make, browser, session):
    user = make.worker()
    phone, laptop = browser(user), browser(user)
    stolen = laptop.cookie
    response = change(phone)
    assert response.status_code == 200
    assert response.json == {"sessions_ended": 1, "tokens_revoked": 0}
    assert phone.get("/api/v1/me").status_code == 200
    assert laptop.get("/api/v1/me").status_code == 401
    assert replay(app, stolen).get("/api/v1/me").status_code == 401
    # The new password signs in; the old one no longer does.
    assert browser(user, NEW_PASSWORD).get("/api/v1/me").status_code == 200
    old = app.test_client().post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert old.status_code == 401


def test_api_tokens_survive_a_password_change_unless_revoked_with_it(app, make, browser):
    user = make.worker()
    program = make.client(user)
    assert change(browser(user)).status_code == 200
    assert program.get("/api/v1/me").status_code == 200

    response = change(browser(user, NEW_PASSWORD), current=NEW_PASSWORD, new="a-third-passphrase", revoke_tokens=True)
    assert response.status_code == 200 and response.json["tokens_revoked"] == 1
    refused = program.get("/api/v1/me")
    assert refused.status_code == 401 and "revoked" in refused.json["message"]


def test_a_token_changing_the_password_keeps_working_and_ends_every_session(make, browser, session):
    user = make.worker()
    phone = browser(user)
    program, other_program = make.client(user), make.client(user)
    response = change(program, revoke_tokens=True)
    assert response.status_code == 200
    assert response.json == {"sessions_ended": 1, "tokens_revoked": 1}
    assert program.get("/api/v1/me").status_code == 200
    assert other_program.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 401


def test_a_wrong_current_password_is_422_and_changes_nothing(make, browser, session):
    user = make.worker()
    phone, laptop = browser(user), browser(user)
    response = change(phone, current="not-my-password")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"current_password"}
    assert "current password" in response.json["message"]
    assert laptop.get("/api/v1/me").status_code == 200
    assert live_sessions(session, user) == 2
    assert browser(user, PASSWORD).get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    "new, field_message",
    [
        ("short", "at least 10"),
        (PASSWORD, "differ"),
    ],
)
def test_the_new_password_follows_the_rules_of_registration(make, browser, new, field_message):
    user = make.worker()
    response = change(browser(user), new=new)
    assert response.status_code == 422
    assert field_message in " ".join(response.json["errors"]["new_password"])
    assert browser(user, PASSWORD).get("/api/v1/me").status_code == 200


def test_changing_the_password_needs_the_csrf_token_with_a_cookie(make, browser):
    user = make.worker()
    phone = browser(user)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    refused = phone.client.post("/api/v1/auth/password", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json["message"]
    assert browser(user, PASSWORD).get("/api/v1/me").status_code == 200


def test_changing_the_password_is_rate_limited_per_account(database_url, make):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "COOP_AUTH_RATE_PER_ACCOUNT": "2 per minute",
            "COOP_AUTH_RATE_PER_ADDRESS": "100 per minute",
        }
    )
    guesser, neighbour = ApiClient(app, make.worker()), ApiClient(app, make.worker())
    statuses = [change(guesser, current=f"guess-{n}-password").status_code for n in range(3)]
    assert statuses == [422, 422, 429]
    limited = change(guesser)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # Another account from the same address is not locked out by the first one's limit.
    assert change(neighbour, current="guess-password").status_code == 422


def test_password_change_needs_sign_in(anon):
    response = change(anon)
    assert response.status_code == 401


def test_a_password_change_revokes_only_its_own_accounts_tokens(make, session):
    user, other = make.worker(), make.worker()
    neighbour = make.client(other)
    assert change(make.client(user), revoke_tokens=True).status_code == 200
    assert neighbour.get("/api/v1/me").status_code == 200
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == other.id, ApiToken.revoked_at.is_not(None))
        )
        == 0
    )
