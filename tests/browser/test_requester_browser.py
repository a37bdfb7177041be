"""A requester posts a batch that breaks the terms, reads the breach beside the field, fixes it and posts it."""

from tests.browser.conftest import serious_violations, sign_in


def test_a_requester_reads_the_breach_beside_the_field_fixes_it_and_posts(page, people):
    requester = people.requester()
    people.fund(requester, 5_000)
    sign_in(page, requester)

    page.goto("/requester/batches/new")
    assert serious_violations(page) == []
    page.get_by_label("Title", exact=True).fill("Transcribe market prices")
    page.get_by_label("Description").fill("Read the price boards.")
    page.get_by_label("Instructions").fill("Type each price as written.")
    page.get_by_label("End client").fill("Open Markets Lab")
    page.get_by_label("Items", exact=True).fill('{"url": "a.jpg"}\n{"url": "b.jpg"}')
    page.get_by_label("Estimated seconds per item").fill("60")
    page.get_by_label("Reward per item, in cents").fill("5")  # 3.00 an hour: under the floor
    page.get_by_role("button", name="Post the batch").click()

    breach = page.locator("#reward_cents-errors")
    assert "min_hourly_rate_cents" in breach.inner_text()
    assert page.get_by_label("Reward per item, in cents").get_attribute("aria-invalid") == "true"
    assert serious_violations(page) == []

    page.get_by_label("Reward per item, in cents").fill("30")
    page.get_by_role("button", name="Post the batch").click()

    page.wait_for_url("**/requester/batches/*")
    assert "Transcribe market prices" in page.locator("main").inner_text()
    assert page.locator(".errors").count() == 0
