"""A coordinator hides a post in the browser, citing a rule, and it shows in the public moderation log."""

from tests.browser.conftest import serious_violations, sign_in


def test_a_coordinator_hides_a_post_citing_a_rule_and_it_shows_in_the_log(page, people):
    author, coordinator = people.member(), people.coordinator()
    boards = people.api(author, "GET", "/api/v1/forum/boards")
    public = next(b for b in boards if b["slug"] == "public")
    opened = people.api(
        author,
        "POST",
        f"/api/v1/forum/boards/{public['id']}/threads",
        {"title": "Pay day", "body": "You are all fools."},
    )
    post_id = opened["posts"]["items"][0]["id"]
    sign_in(page, coordinator)

    page.goto(f"/forum/posts/{post_id}/moderate")
    assert serious_violations(page) == []
    page.get_by_label("Action").select_option("hide")
    page.get_by_label("Rule cited").select_option("forum-rules")
    page.get_by_label("Reason").fill("Rule 2: no insults")
    page.get_by_role("button", name="Record the action").click()
    page.wait_for_load_state()

    page.goto("/forum/moderation")
    assert serious_violations(page) == []
    log = page.locator("main").inner_text()
    assert "Rule 2: no insults" in log and coordinator.display_name in log
    assert "You are all fools." not in log
