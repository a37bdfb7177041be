"""Email verification: a single-use emailed link, confirmed by a button (never by a GET), required to join or deposit."""

from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.accounts.models import User
from coop.extensions import db
from tests.accounts.emails import deliver, link_in, token_of
from tests.conftest import PASSWORD

API = "/api/v1"


def _register(anon, email="nia@example.org", kind="worker", lang=None):
    body = {"email": email, "password": PASSWORD, "display_name": email.split("@")[0], "kind": kind}
    if kind == "requester":
        body["organization"] = "Nia Lab"
    headers = {"Accept-Language": lang} if lang else {}
    response = anon.post(f"{API}/auth/register", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_registering_emails_a_link_in_the_language_of_the_registration(anon, smtp_server):
    user = _register(anon, lang="fr")
    deliver()
    [message] = smtp_server.to(user.email)
    assert message["Subject"] == "Confirmez votre adresse e-mail pour la coop"
    assert "Bonjour nia," in message.get_body(("plain",)).get_content()
    assert link_in(message).startswith("/verify-email?token=")
    assert user.email_verified_at is None


def test_the_link_shows_a_button_and_only_the_button_verifies(anon, pages, smtp_server):
    user = _register(anon)
    deliver()
    path = link_in(smtp_server.to(user.email)[0])
    browser = pages()
    page = browser.get(path)
    assert page.status_code == 200
    assert "Confirm my email address" in page.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email_verified_at is None  # a mail scanner following the link verifies nothing

    confirmed = browser.post("/verify-email", {"token": token_of(path)})
    assert confirmed.status_code == 303
    db.session.refresh(user)
    assert user.email_verified_at is not None

    again = browser.post("/verify-email", {"token": token_of(path)})
    assert again.status_code == 422
    assert "already used" in again.get_data(as_text=True)


def test_the_api_verifies_once_and_then_refuses_the_same_token(anon, smtp_server):
    user = _register(anon)
    deliver()
    token = token_of(link_in(smtp_server.to(user.email)[0]))
    verified = anon.post(f"{API}/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json["email"] == user.email and verified.json["email_verified_at"]
    again = anon.post(f"{API}/auth/verify-email", json={"token": token})
    assert again.status_code == 422
    assert "already used" in again.json["message"] and "resend" in again.json["message"]


def test_an_unknown_token_is_refused_with_what_to_do(anon):
    refused = anon.post(f"{API}/auth/verify-email", json={"token": "not-a-token"})
    assert refused.status_code == 422
    assert "ask for a new link" in refused.json["message"]
    assert "token" in refused.json["errors"]


def test_a_link_expires_after_two_days(anon, smtp_server, frozen_clock):
    user = _register(anon)
    deliver()
    token = token_of(link_in(smtp_server.to(user.email)[0]))
    clock.advance(timedelta(hours=48, seconds=1))
    refused = anon.post(f"{API}/auth/verify-email", json={"token": token})
    assert refused.status_code == 422
    assert "expired" in refused.json["message"]
    db.session.refresh(user)
    assert user.email_verified_at is None


def test_resend_sends_a_new_link_in_the_accounts_own_language(make, smtp_server):
    user = make.unverified_worker()
    user.locale = "fr"
    client = make.client(user)
    response = client.post(f"{API}/auth/verify-email/resend")
    assert response.status_code == 202 and response.json == {"sent_to": user.email}
    deliver()
    [message] = smtp_server.to(user.email)
    assert message["Subject"] == "Confirmez votre adresse e-mail pour la coop"
    assert client.post(f"{API}/auth/verify-email", json={"token": token_of(link_in(message))}).status_code == 200
    assert client.post(f"{API}/auth/verify-email/resend").status_code == 409  # already verified


def test_resend_needs_a_signed_in_account_and_email_on(make, anon):
    assert anon.post(f"{API}/auth/verify-email/resend").status_code == 401
    refused = make.client(make.unverified_worker()).post(f"{API}/auth/verify-email/resend")
    assert refused.status_code == 409 and "sends no email" in refused.json["message"]


def test_with_email_on_joining_and_depositing_need_a_verified_address(anon, make, smtp_server):
    worker = _register(anon, "wen@example.org")
    requester = _register(anon, "lab@example.org", kind="requester")
    deliver()
    as_worker, as_requester = make.client(worker), make.client(requester)

    join = as_worker.post(f"{API}/membership", json={"payment_reference": "SEPA 1"})
    assert join.status_code == 403
    assert "Verify your email address before you join the coop: Follow the link" in join.json["message"]
    deposit = as_requester.post(f"{API}/deposits", json={"amount_cents": 5000})
    assert deposit.status_code == 403
    assert "before you deposit funds" in deposit.json["message"]

    for user, client in ((worker, as_worker), (requester, as_requester)):
        token = token_of(link_in(smtp_server.to(user.email)[0]))
        assert client.post(f"{API}/auth/verify-email", json={"token": token}).status_code == 200
    assert as_worker.post(f"{API}/membership", json={"payment_reference": "SEPA 1"}).status_code == 201
    assert as_requester.post(f"{API}/deposits", json={"amount_cents": 5000}).status_code == 201


def test_without_email_nothing_can_be_verified_so_nothing_requires_it(anon, make, app):
    assert not app.config["COOP_SMTP_URL"]
    worker = _register(anon, "wen@example.org")
    requester = _register(anon, "lab@example.org", kind="requester")
    assert worker.email_verified_at is None
    assert make.client(worker).post(f"{API}/membership", json={"payment_reference": "SEPA 1"}).status_code == 201
    assert make.client(requester).post(f"{API}/deposits", json={"amount_cents": 5000}).status_code == 201


def test_me_shows_whether_the_address_is_verified(make):
    user = make.unverified_worker()
    assert make.client(user).get(f"{API}/me").json["email_verified_at"] is None
