"""Voting in a real browser: a ranked ballot and its receipt; the whole vote flow in French on a phone."""

from datetime import timedelta

from coop import clock
from tests.browser.conftest import fits_the_screen, serious_violations, sign_in


def open_vote(people, **proposal) -> tuple[int, object]:
    """A proposal by a member, accepted by a coordinator: open for voting. Returns its id and a voter."""
    proposer, coordinator, voter = people.member(), people.coordinator(), people.member()
    body = {"title": "Choose the coop's colour", "body": "For the new pages.", "kind": "general", **proposal}
    created = people.api(proposer, "POST", "/api/v1/proposals", body)
    people.api(coordinator, "POST", f"/api/v1/proposals/{created['id']}/review", {"action": "accept"})
    return created["id"], voter


def test_a_member_casts_a_ranked_ballot_and_later_finds_the_receipt_in_the_results(page, people):
    proposal_id, voter = open_vote(people, method="ranked", options=["Red", "Blue", "Green"])
    sign_in(page, voter)

    page.goto(f"/proposals/{proposal_id}")
    assert serious_violations(page) == []
    page.get_by_label("Rank for Blue").select_option("1")
    page.get_by_label("Rank for Green").select_option("2")
    page.get_by_role("button", name="Cast my ballot").click()
    receipt = page.locator("code.receipt").inner_text().strip()
    assert len(receipt) == 32

    clock.advance(timedelta(days=30))  # the vote's time is over; the results page closes it
    page.goto(f"/proposals/{proposal_id}/results")
    assert serious_violations(page) == []
    page.get_by_label("Your receipt").fill(receipt)
    page.get_by_role("button", name="Look it up").click()
    found = page.get_by_role("status").filter(has_text="counted as cast").inner_text()
    assert "Blue" in found and "Green" in found


def test_the_whole_vote_flow_in_french_on_a_phone(phone, people):
    proposal_id, voter = open_vote(people, method="yes_no")
    sign_in(phone, voter)

    phone.goto("/proposals")
    assert phone.locator("html").get_attribute("lang") == "fr"
    assert "Propositions" in phone.locator("h1").inner_text()
    assert fits_the_screen(phone)
    phone.get_by_role("link", name="Choose the coop's colour").first.click()
    phone.wait_for_url(f"**/proposals/{proposal_id}")
    assert fits_the_screen(phone)
    assert serious_violations(phone) == []
    phone.locator("input[name=choice][value=yes]").check()
    phone.get_by_role("button", name="Voter").click()
    receipt = phone.locator("code.receipt").inner_text().strip()  # waits for the receipt to arrive
    assert "Votre reçu" in phone.locator("main").inner_text()
    assert fits_the_screen(phone)

    clock.advance(timedelta(days=30))
    phone.goto(f"/proposals/{proposal_id}/results")
    assert fits_the_screen(phone)
    assert serious_violations(phone) == []
    phone.locator("#receipt").fill(receipt)
    phone.get_by_role("button", name="Rechercher").click()
    assert "Ce bulletin a été compté tel qu’exprimé" in phone.locator("main").inner_text()
    assert fits_the_screen(phone)
