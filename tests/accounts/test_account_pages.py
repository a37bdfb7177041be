"""The account page (pseudonym, language, email status) and the password change page."""

from coop.accounts.models import UserSession
from coop.extensions import db
from tests.accounts.emails import deliver, link_in
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase"


def test_the_account_page_needs_signing_in(pages):
    response = pages().get("/account")
    assert response.status_code == 302 and "/sign-in?next=/account" in response.headers["Location"]


def test_the_account_page_shows_the_pseudonym_and_a_resend_button_while_unverified(make, pages, smtp_server):
    user = make.unverified_worker()
    browser = pages(user)
    html = browser.get("/account").get_data(as_text=True)
    assert user.display_name in html and "not verified" in html
    assert 'action="/account/verify-email"' in html

    sent = browser.post("/account/verify-email")
    assert sent.status_code == 303
    deliver()
    [message] = smtp_server.to(user.email)
    confirmed = browser.post("/verify-email", {"token": link_in(message).split("token=")[1]})
    assert confirmed.headers["Location"] == "/account"
    html = browser.get("/account").get_data(as_text=True)
    assert "verified on" in html and 'action="/account/verify-email"' not in html


def test_without_email_the_account_page_offers_no_resend(make, pages):
    html = pages(make.unverified_worker()).get("/account").get_data(as_text=True)
    assert 'action="/account/verify-email"' not in html


def test_choosing_french_changes_the_pages_and_the_emails(make, pages, smtp_server):
    user = make.unverified_worker()
    browser = pages(user, lang="en")
    assert browser.post("/account", {"locale": "fr"}).status_code == 303
    assert user.locale == "fr"
    assert "Votre compte" in browser.get("/account").get_data(as_text=True)
    browser.post("/account/verify-email")
    deliver()
    assert smtp_server.to(user.email)[0]["Subject"] == "Confirmez votre adresse e-mail pour la coop"
    assert browser.post("/account", {"locale": ""}).status_code == 303
    assert user.locale is None


def test_an_unknown_language_is_refused(make, pages):
    assert pages(make.worker()).post("/account", {"locale": "de"}).status_code == 422


def test_the_api_sets_the_language_too(make):
    client = make.client(make.worker())
    assert client.patch("/api/v1/me", json={"locale": "fr"}).json["locale"] == "fr"
    refused = client.patch("/api/v1/me", json={"locale": "de"})
    assert refused.status_code == 422 and "locale" in refused.json["errors"]


def test_changing_the_password_keeps_this_device_and_signs_out_the_others(make, pages):
    user = make.worker()
    other, browser = pages(user), pages(user)
    assert browser.get("/account/password").status_code == 200
    wrong = browser.post("/account/password", {"current_password": "not-my-password", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert "This is not your current password." in wrong.get_data(as_text=True)
    changed = browser.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 303
    assert user.display_name in browser.get("/account").get_data(as_text=True)
    assert other.get("/account").status_code == 302
    live = db.session.query(UserSession).filter_by(user_id=user.id, revoked_at=None).count()
    assert live == 1


def test_the_password_page_needs_signing_in(pages):
    assert pages().get("/account/password").status_code == 302


def test_the_account_page_stays_within_the_query_budget(make, pages, count_queries):
    browser = pages(make.worker())
    with count_queries() as counted:
        assert browser.get("/account").status_code == 200
    assert counted.count <= 15
