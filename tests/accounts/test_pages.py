"""The account pages: landing, register, sign in and out, in either language, with CSRF and a strict CSP."""

import re

from tests.conftest import PASSWORD


def test_the_landing_page_is_public_and_has_a_language_and_landmarks(pages):
    response = pages().get("/", headers={"Accept-Language": "fr"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    for landmark in ("<header", "<main", "<nav", "<footer", "<title>"):
        assert landmark in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_registering_signs_the_new_worker_in(pages):
    browser = pages()
    response = browser.post(
        "/register",
        {"email": "amina@example.org", "password": PASSWORD, "display_name": "Amina", "kind": "worker"},
    )
    assert response.status_code == 303
    assert "Amina" in browser.get("/").get_data(as_text=True)


def test_a_refused_registration_shows_each_error_beside_its_field_and_creates_nothing(pages, make):
    taken = make.worker()
    response = pages().post(
        "/register",
        {"email": taken.email, "password": "short", "display_name": "x", "kind": "requester"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="password-errors"', html)
    assert re.search(r'id="display_name-errors"', html)
    assert 'aria-invalid="true"' in html


def test_signing_in_with_a_wrong_password_says_so_and_signs_nobody_in(pages, make):
    user = make.worker()
    browser = pages()
    response = browser.post("/sign-in", {"email": user.email, "password": "wrong-password-here"})
    assert response.status_code == 422
    assert "Email or password is wrong." in response.get_data(as_text=True)
    assert user.display_name not in browser.get("/").get_data(as_text=True)


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(pages, make):
    user = make.worker()
    browser = pages()
    back = browser.post("/sign-in?next=/register", {"email": user.email, "password": PASSWORD})
    assert back.headers["Location"] == "/register"
    away = pages().post("/sign-in?next=//evil.example/x", {"email": user.email, "password": PASSWORD})
    assert away.headers["Location"] == "/"


def test_a_form_without_its_csrf_token_is_refused_with_a_page(pages, make):
    user = make.worker()
    response = pages().post("/sign-in", {"email": user.email, "password": PASSWORD}, csrf=False)
    assert response.status_code in (400, 403)
    assert response.mimetype == "text/html"


def test_signing_out_ends_the_session(pages, make):
    user = make.worker()
    browser = pages(user)
    assert user.display_name in browser.get("/").get_data(as_text=True)
    assert browser.post("/sign-out").status_code == 303
    assert user.display_name not in browser.get("/").get_data(as_text=True)


def test_an_unknown_address_is_a_page_not_json(pages):
    response = pages().get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_the_landing_page_stays_within_the_query_budget(pages, make, count_queries):
    browser = pages(make.member())
    with count_queries() as counted:
        assert browser.get("/").status_code == 200
    assert counted.count <= 15
