"""A worker claims a task, answers it in the browser and finds it in their work."""

from tests.browser.conftest import serious_violations, sign_in
from tests.marketplace.conftest import batch_body

FORM = [
    {"name": "sign", "label": "Which sign is it?", "type": "choice", "options": ["stop", "yield", "none"]},
    {"name": "count", "label": "How many signs?", "type": "number"},
]


def test_a_worker_claims_a_task_answers_it_and_sees_it_in_their_work(page, people):
    requester = people.requester()
    people.fund(requester, 5_000)
    title = "Count road signs"
    people.api(
        requester,
        "POST",
        "/api/v1/batches",
        batch_body(items=1, title=title, answer_fields=FORM, reward_cents=30, est_seconds=60),
    )
    worker = people.member()
    sign_in(page, worker)

    page.goto("/tasks")
    assert serious_violations(page) == []
    page.get_by_role("listitem").filter(has_text=title).get_by_role("button", name="Claim a task").click()
    page.get_by_label("How many signs?").wait_for()  # the claimed task's page, not the list in between
    assert serious_violations(page) == []
    page.get_by_label("yield").check()
    page.get_by_label("How many signs?").fill("2")
    page.get_by_role("button", name="Hand in my answer").click()

    page.wait_for_url("**/work")
    assert title in page.locator("main").inner_text()
    assert serious_violations(page) == []
