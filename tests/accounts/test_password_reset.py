"""Password reset: an emailed single-use link for one hour; every session and token ends; nobody learns who has an account."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock, create_app
from coop.accounts.models import EmailToken
from coop.extensions import db
from tests.accounts.emails import deliver, link_in, token_of
from tests.conftest import PASSWORD

API = "/api/v1"
NEW_PASSWORD = "a-brand-new-passphrase"


def _ask(anon, email, lang=None):
    headers = {"Accept-Language": lang} if lang else {}
    response = anon.post(f"{API}/auth/password-reset", json={"email": email}, headers=headers)
    assert response.status_code == 202
    deliver()
    return response


def test_the_emailed_link_lets_a_person_choose_a_new_password_on_the_page(make, pages, anon, smtp_server):
    user = make.worker()
    signed_in = pages(user)
    token_client = make.client(user)
    _ask(anon, user.email.upper())
    [message] = smtp_server.to(user.email)
    assert message["Subject"] == "Choose a new password for the coop"
    path = link_in(message)
    assert path.startswith("/password-reset/")

    browser = pages()
    assert browser.get(path).status_code == 200
    mismatch = browser.post(path, {"password": NEW_PASSWORD, "confirm": "something-else-entirely"})
    assert mismatch.status_code == 422
    assert "The two passwords differ" in mismatch.get_data(as_text=True)
    changed = browser.post(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 303 and changed.headers["Location"] == "/sign-in"

    # Every session and every API token of the account ended; only the new password signs in.
    assert user.display_name not in signed_in.get("/").get_data(as_text=True)
    assert token_client.get(f"{API}/me").status_code == 401
    assert anon.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 401
    assert anon.post(f"{API}/auth/login", json={"email": user.email, "password": NEW_PASSWORD}).status_code == 200

    used = browser.post(path, {"password": "yet-another-password", "confirm": "yet-another-password"})
    assert used.status_code == 422
    assert "already used" in used.get_data(as_text=True)


def test_the_api_resets_once_and_the_email_is_in_the_accounts_language(make, anon, smtp_server):
    user = make.worker()
    user.locale = "fr"
    _ask(anon, user.email, lang="en")
    [message] = smtp_server.to(user.email)
    assert message["Subject"] == "Choisissez un nouveau mot de passe pour la coop"
    assert "pendant 60 minutes" in message.get_body(("plain",)).get_content()
    token = token_of(link_in(message))
    done = anon.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200
    assert done.json["tokens_revoked"] >= 0
    again = anon.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "another-password-1"})
    assert again.status_code == 422 and "already used" in again.json["message"]


def test_the_link_works_for_one_hour(make, anon, smtp_server, frozen_clock):
    user = make.worker()
    _ask(anon, user.email)
    token = token_of(link_in(smtp_server.to(user.email)[0]))
    clock.advance(timedelta(minutes=60, seconds=1))
    refused = anon.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert refused.status_code == 422
    assert "expired" in refused.json["message"] and "/password-reset" in refused.json["message"]
    assert anon.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_a_newer_link_replaces_the_older_one(make, anon, smtp_server):
    user = make.worker()
    _ask(anon, user.email)
    _ask(anon, user.email)
    first, second = (token_of(link_in(m)) for m in smtp_server.to(user.email))
    assert (
        anon.post(f"{API}/auth/password-reset/confirm", json={"token": first, "password": NEW_PASSWORD}).status_code
        == 422
    )
    assert (
        anon.post(f"{API}/auth/password-reset/confirm", json={"token": second, "password": NEW_PASSWORD}).status_code
        == 200
    )


def test_an_unknown_address_gets_the_same_answer_and_no_email(make, anon, smtp_server):
    user = make.worker()
    known = _ask(anon, user.email)
    unknown = _ask(anon, "nobody-here@example.org")
    assert unknown.json == known.json
    assert smtp_server.to("nobody-here@example.org") == []
    assert len(smtp_server.messages) == 1


def test_only_a_hash_of_the_token_is_stored(make, anon, smtp_server):
    user = make.worker()
    _ask(anon, user.email)
    token = token_of(link_in(smtp_server.to(user.email)[0]))
    stored = db.session.scalars(sa.select(EmailToken.token_hash).where(EmailToken.user_id == user.id)).all()
    assert stored and token not in stored


def test_the_reset_page_asks_for_an_email_and_says_the_same_thing_for_anyone(make, pages, smtp_server):
    user = make.worker()
    browser = pages()
    sign_in = browser.get("/sign-in").get_data(as_text=True)
    assert 'href="/password-reset"' in sign_in
    assert browser.get("/password-reset").status_code == 200
    sent = browser.post("/password-reset", {"email": user.email}, follow_redirects=True)
    nobody = browser.post("/password-reset", {"email": "nobody@example.org"}, follow_redirects=True)
    assert "If an account uses this address" in sent.get_data(as_text=True)
    assert "If an account uses this address" in nobody.get_data(as_text=True)
    deliver()
    assert len(smtp_server.to(user.email)) == 1 and len(smtp_server.messages) == 1


def test_an_unknown_link_on_the_page_says_what_to_do(pages):
    response = pages().post("/password-reset/not-a-token", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "Ask for a new one below." in response.get_data(as_text=True)


# The shared app built the schema these apps of their own use.
@pytest.mark.usefixtures("app")
def test_asking_for_resets_is_rate_limited_like_login(database_url):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "COOP_AUTH_RATE_PER_ACCOUNT": "2 per minute",
            "COOP_AUTH_RATE_PER_ADDRESS": "100 per minute",
        }
    )
    client = app.test_client()
    body = {"email": "someone@example.org"}
    statuses = [client.post(f"{API}/auth/password-reset", json=body).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    guesses = [
        client.post(f"{API}/auth/password-reset/confirm", json={"token": "guess", "password": NEW_PASSWORD}).status_code
        for _ in range(3)
    ]
    assert guesses == [422, 422, 429]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
