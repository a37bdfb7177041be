"""Signing up and in with a real browser; the account pages pass axe-core."""

from tests.browser.conftest import serious_violations, sign_in


def test_a_worker_registers_and_is_welcomed_by_name(page):
    page.goto("/register")
    page.get_by_label("Email").fill("nadia@example.org")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_label("Pseudonym").fill("Nadia")
    page.get_by_label("a worker").check()
    page.get_by_role("button", name="Create my account").click()
    assert "Nadia" in page.locator("main").inner_text()


def test_a_wrong_password_is_said_beside_the_form(page, people):
    account = people.worker()
    account.password = "not-the-password"
    sign_in(page, account)
    assert "Email or password is wrong." in page.get_by_role("alert").inner_text()


def test_the_account_pages_have_no_serious_accessibility_violation(page, people):
    for path in ("/", "/sign-in", "/register"):
        page.goto(path)
        assert serious_violations(page) == [], path
    sign_in(page, people.member())
    page.goto("/")
    assert serious_violations(page) == []


def test_the_password_and_account_pages_have_no_serious_accessibility_violation(page, people):
    for path in ("/password-reset", "/password-reset/not-a-token", "/verify-email?token=not-a-token"):
        page.goto(path)
        assert serious_violations(page) == [], path
    sign_in(page, people.worker())
    for path in ("/account", "/account/password"):
        page.goto(path)
        assert serious_violations(page) == [], path


def test_a_forgotten_password_is_asked_for_from_the_sign_in_page(page, people):
    account = people.worker()
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(account.email)
    page.get_by_role("button", name="Send me a link").click()
    assert "If an account uses this address" in page.get_by_role("status").inner_text()


def test_a_member_chooses_french_on_the_account_page(page, people):
    sign_in(page, people.worker())
    page.goto("/account")
    page.get_by_label("Language of pages and emails").select_option("fr")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Votre compte"
