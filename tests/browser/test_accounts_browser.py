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
