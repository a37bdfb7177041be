"""The workers' marketplace pages: feed, claim, the answer form, return, my work, appeals, dashboard, denials."""

import re
from datetime import timedelta

import sqlalchemy as sa

from coop import clock
from coop.marketplace import services
from coop.marketplace.models import Appeal, Assignment
from tests.marketplace.conftest import fund

API = "/api/v1"
FORM = [
    {"name": "sign", "label": "Which sign is it?", "type": "choice", "options": ["stop", "yield", "none"]},
    {"name": "count", "label": "How many signs?", "type": "number"},
    {"name": "blurry", "label": "Is the photo blurry?", "type": "boolean"},
    {"name": "note", "label": "Anything else?", "type": "text", "required": False},
]
# 30 cents for 60 s: 18.00 an hour.
PAY = {"reward_cents": 30, "est_seconds": 60}


def html(response) -> str:
    return response.get_data(as_text=True)


def claim_through_page(browser, batch_id) -> int:
    response = browser.post(f"/tasks/claim/{batch_id}")
    assert response.status_code == 303, html(response)
    match = re.fullmatch(r"/tasks/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_the_feed_shows_pay_time_warnings_client_and_purpose(market, pages, session):
    member = market.members[0]
    services.set_preferences(member, ["violence"])
    market.post(title="Moderate clips", content_warnings=["violence"], end_client="Acme Video", **PAY)
    market.post(title="Check captions", purpose="verification", end_client="Globex", reward_cents=20, est_seconds=55)

    page = html(pages(member).get("/tasks"))

    assert "<h1>" in page and "<title>Tasks" in page
    assert "Moderate clips" in page and "Check captions" in page
    assert "€18.00 an hour" in page and "€13.09 an hour" in page
    assert "Content warning:" in page and "Violence" in page
    assert "Acme Video" in page and "Globex" in page
    assert "Checking an AI system" in page and "Preparing data" in page
    assert "1 min" in page and "55 s" in page
    # Sorted by pay, the better paid batch comes first.
    by_pay = html(pages(member).get("/tasks?sort=pay"))
    assert by_pay.index("Moderate clips") < by_pay.index("Check captions")


def test_a_batch_under_a_warning_the_member_has_not_accepted_stays_out_of_the_feed(market, pages, session):
    member = market.members[0]
    market.post(title="Moderate clips", content_warnings=["violence"], **PAY)
    browser = pages(member)
    assert "Moderate clips" not in html(browser.get("/tasks"))

    saved = browser.post("/tasks/preferences", {"content_opt_in": "violence"})

    assert saved.status_code == 303
    assert services.get_preferences(member)["content_opt_in"] == ["violence"]
    assert "Moderate clips" in html(browser.get("/tasks"))


def test_claiming_through_the_page_creates_the_assignment_and_shows_the_item_and_form(market, pages, session):
    batch = market.post(answer_fields=FORM, items=1, **PAY)
    session.execute(sa.text("UPDATE items SET data = :d"), {"d": '{"photo": "<script>alert(1)</script>"}'})
    member = market.members[0]
    browser = pages(member)

    assignment_id = claim_through_page(browser, batch["id"])

    stored = session.get(Assignment, assignment_id)
    assert stored.worker_id == member.id and stored.status == "claimed" and stored.batch_id == batch["id"]
    page = html(browser.get(f"/tasks/{assignment_id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert '<label for="answer_count">How many signs?</label>' in page
    assert "Anything else? (optional)" in page
    assert 'name="answer_sign" type="radio" value="yield"' in page
    assert "Your lease ends" in page


def test_a_requesters_labels_and_options_are_text_never_markup(market, pages, session):
    form = [{"name": "tag", "label": "<em>Tag</em>", "type": "choice", "options": ["<b>a</b>", "b"]}]
    batch = market.post(answer_fields=form, items=1, **PAY)
    browser = pages(market.members[0])

    page = html(browser.get(f"/tasks/{claim_through_page(browser, batch['id'])}"))

    assert "&lt;em&gt;Tag&lt;/em&gt;" in page and "<em>" not in page and "<b>a" not in page


def test_answering_through_the_generated_form_submits_it(market, pages, session):
    batch = market.post(answer_fields=FORM, items=1, **PAY)
    browser = pages(market.members[0])
    assignment_id = claim_through_page(browser, batch["id"])
    clock.advance(timedelta(seconds=40))

    response = browser.post(
        f"/tasks/{assignment_id}/submit",
        {"answer_sign": "yield", "answer_count": "2", "answer_blurry": "false", "answer_note": ""},
    )

    assert response.status_code == 303 and response.headers["Location"] == "/work"
    stored = session.get(Assignment, assignment_id)
    session.refresh(stored)
    assert stored.status == "submitted" and stored.real_seconds == 40
    assert stored.answer == {"sign": "yield", "count": 2, "blurry": False}
    work = html(browser.get("/work"))
    assert "Label street photos" in work and "Submitted, awaiting review" in work


def test_a_wrong_answer_is_shown_beside_its_field_with_422_and_nothing_is_submitted(market, pages, session):
    batch = market.post(answer_fields=FORM, items=1, **PAY)
    browser = pages(market.members[0])
    assignment_id = claim_through_page(browser, batch["id"])

    response = browser.post(f"/tasks/{assignment_id}/submit", {"answer_sign": "stop", "answer_count": "2"})

    page = html(response)
    assert response.status_code == 422
    errors = re.search(r'<ul class="errors" id="answer_blurry-errors">(.*?)</ul>', page, re.S)
    assert errors and "This field is required." in errors.group(1)
    assert 'id="answer_count-errors"' not in page
    stored = session.get(Assignment, assignment_id)
    session.refresh(stored)
    assert stored.status == "claimed" and stored.answer is None

    not_a_number = browser.post(
        f"/tasks/{assignment_id}/submit", {"answer_sign": "stop", "answer_count": "two", "answer_blurry": "true"}
    )
    assert not_a_number.status_code == 422 and 'id="answer_count-errors"' in html(not_a_number)


def test_a_batch_without_a_form_takes_a_json_answer(market, pages, session):
    batch = market.post(items=1)
    browser = pages(market.members[0])
    assignment_id = claim_through_page(browser, batch["id"])
    assert '<label for="answer">' in html(browser.get(f"/tasks/{assignment_id}"))

    bad = browser.post(f"/tasks/{assignment_id}/submit", {"answer": "[1, 2"})
    assert bad.status_code == 422 and 'id="answer-errors"' in html(bad)
    good = browser.post(f"/tasks/{assignment_id}/submit", {"answer": '{"boxes": 3}'})
    assert good.status_code == 303
    assert session.get(Assignment, assignment_id).answer == {"boxes": 3}


def test_returning_a_task_gives_the_slot_back(market, pages, session):
    batch = market.post(items=1)
    browser = pages(market.members[0])
    assignment_id = claim_through_page(browser, batch["id"])

    response = browser.post(f"/tasks/{assignment_id}/return")

    assert response.status_code == 303
    stored = session.get(Assignment, assignment_id)
    session.refresh(stored)
    assert stored.status == "expired"
    # The item is open again: another member can claim it.
    assert claim_through_page(pages(market.members[1]), batch["id"])
    again = browser.post(f"/tasks/{assignment_id}/return")
    assert again.status_code == 409


def test_a_rejected_worker_appeals_from_my_work_and_sees_the_outcome(market, pages, session):
    batch = market.post(items=1)
    member = market.members[0]
    browser = pages(member)
    assignment_id = claim_through_page(browser, batch["id"])
    market.submit(market.mc[0], assignment_id)
    market.review(assignment_id, "reject", "The boxes miss half the signs.")

    work = html(browser.get("/work"))
    assert "The boxes miss half the signs." in work
    assert f'href="/work/{assignment_id}/appeal"' in work
    assert '<label for="reason">' in html(browser.get(f"/work/{assignment_id}/appeal"))
    assert browser.post(f"/work/{assignment_id}/appeal", {"reason": ""}).status_code == 422

    filed = browser.post(f"/work/{assignment_id}/appeal", {"reason": "Every sign has its box; see photo 3."})

    assert filed.status_code == 303
    appeal = session.scalar(sa.select(Appeal).where(Appeal.assignment_id == assignment_id))
    assert appeal.status == "pending" and appeal.reason == "Every sign has its box; see photo 3."
    assert "Appeal pending" in html(browser.get("/work"))
    decided = market.cc.post(f"{API}/appeals/{appeal.id}/decide", json={"decision": "overturn", "reason": "Right."})
    assert decided.status_code == 200
    work = html(browser.get("/work"))
    assert "Appeal won: paid" in work and "€0.20" in work
    assert browser.post(f"/work/{assignment_id}/appeal", {"reason": "Again."}).status_code == 422


def test_messages_on_a_task_reach_the_requester(market, pages, session):
    batch = market.post(items=1)
    browser = pages(market.members[0])
    assignment_id = claim_through_page(browser, batch["id"])

    sent = browser.post(f"/tasks/{assignment_id}/messages", {"body": "Is a faded sign still a sign?"})

    assert sent.status_code == 303
    thread = market.rc.get(f"{API}/assignments/{assignment_id}/messages").get_json()["items"]
    assert [m["body"] for m in thread] == ["Is a faded sign still a sign?"]
    assert "Is a faded sign still a sign?" in html(browser.get(f"/tasks/{assignment_id}"))


def test_another_workers_task_is_refused(market, pages, session):
    batch = market.post(items=1)
    assignment_id = claim_through_page(pages(market.members[0]), batch["id"])
    other = pages(market.members[1])

    for response in (
        other.get(f"/tasks/{assignment_id}"),
        other.post(f"/tasks/{assignment_id}/submit", {"answer": "{}"}),
        other.post(f"/tasks/{assignment_id}/return"),
        other.post(f"/tasks/{assignment_id}/messages", {"body": "hi"}),
        other.get(f"/work/{assignment_id}/appeal"),
    ):
        assert response.status_code in (403, 404)
        assert response.mimetype == "text/html"
    assert session.get(Assignment, assignment_id).status == "claimed"
    assert pages(market.members[0]).get("/tasks/999999").status_code == 404


def test_a_requester_cannot_claim_and_a_worker_not_yet_a_member_sees_why(market, pages, make, session):
    batch = market.post(items=1)
    requester = pages(market.requester)
    assert requester.post(f"/tasks/claim/{batch['id']}").status_code == 403
    assert requester.get("/tasks").status_code == 403
    assert requester.get("/work").status_code == 403
    worker = make.worker()
    browser = pages(worker)
    assert "Only members claim tasks" in html(browser.get("/tasks"))
    assert browser.post(f"/tasks/claim/{batch['id']}").status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_a_personal_data_batch_is_claimed_only_by_accepting_confidentiality(market, pages, session):
    batch = market.post(items=1, personal_data=True, dpa_reference="DPA-2026-07")
    browser = pages(market.members[0])
    assert "DPA-2026-07" in html(browser.get("/tasks"))

    refused = browser.post(f"/tasks/claim/{batch['id']}")

    assert refused.status_code == 403 and "confidentiality" in html(refused)
    assert session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    accepted = browser.post(f"/tasks/claim/{batch['id']}", {"accept_confidentiality": "y"})
    assert accepted.status_code == 303


def test_a_requester_dashboard_shows_their_funds_and_no_worker_menu(market, pages, session):
    page = html(pages(market.requester).get("/dashboard"))
    assert "€100.00" in page and "Your funds" in page
    assert 'href="/tasks"' not in page and 'href="/dashboard"' in page


def test_signed_out_visitors_are_sent_to_sign_in(pages):
    response = pages().get("/tasks")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_claim_the_batch_cannot_give_says_why_above_the_feed(market, pages, session):
    batch = market.post(items=1)
    claim_through_page(pages(market.members[0]), batch["id"])

    response = pages(market.members[1]).post(f"/tasks/claim/{batch['id']}")

    assert response.status_code == 409
    assert "Nothing left for you to claim" in html(response)


def test_the_feed_in_french_has_french_text_and_euros(make, market, pages, session):
    member = market.members[0]
    market.post(reward_cents=1300, est_seconds=3600)

    page = html(pages(member, lang="fr").get("/tasks"))

    assert '<html lang="fr">' in page
    assert "Tâches" in page
    assert "13,00\xa0€" in page or "13,00\u202f€" in page


def test_the_dashboard_shows_votes_tasks_earnings_and_share(make, market, pages, session):
    from tests.governance.conftest import Governance

    gov = Governance(make)
    member = market.members[0]
    voter = make.client(member)
    first = gov.open_vote(market.cc, market.cc, title="Raise the floor")
    gov.open_vote(market.cc, market.cc, title="Hold an assembly")
    assert gov.vote(voter, first["id"], choice="yes").status_code == 201
    market.post(title="Check captions", reward_cents=30, est_seconds=60)

    page = html(pages(member).get("/dashboard"))

    assert "Raise the floor" in page and "Hold an assembly" in page
    assert page.count("You voted") == 1 and page.count("You have not voted yet") == 1
    assert "Check captions" in page and "€18.00 an hour" in page
    assert "Your earnings" in page and "€0.00" in page
    assert "Member" in page and "€25.00" in page
    assert 'href="/dashboard"' in html(pages(member).get("/"))


def test_the_heaviest_pages_stay_within_the_query_budget(make, market, pages, session, count_queries):
    fund(market.requester, 100_000)
    member = market.members[0]
    gov_client = market.cc
    for n in range(30):
        market.post(title=f"Batch {n}", items=1)
    batch_ids = [market.post(title=f"Work {n}", items=1)["id"] for n in range(30)]
    for n, batch_id in enumerate(batch_ids):
        assignment = market.claim(market.mc[0], batch_id)
        if n % 3:
            market.submit(market.mc[0], assignment["id"])
        if n % 3 == 2:
            market.review(assignment["id"], "reject" if n % 2 else "approve", "Not what was asked for.")
    from tests.governance.conftest import Governance

    gov = Governance(make)
    for n in range(4):
        gov.open_vote(gov_client, gov_client, title=f"Vote {n}")
    browser = pages(member)
    mine = session.scalars(sa.select(Assignment.id).where(Assignment.worker_id == member.id)).all()
    rejected = session.scalar(
        sa.select(Assignment.id).where(Assignment.worker_id == member.id, Assignment.status == "rejected")
    )
    market.rc.post(f"{API}/assignments/{mine[0]}/messages", json={"body": "Thanks!"})
    budgets = {}
    for url in ("/tasks", "/work", "/dashboard", "/tasks?sort=pay", f"/tasks/{mine[0]}", f"/work/{rejected}/appeal"):
        with count_queries() as counted:
            response = browser.get(url)
        assert response.status_code == 200
        budgets[url] = counted.count
    print("query budgets", budgets)
    assert all(count <= 15 for count in budgets.values()), budgets
    assert html(browser.get("/work")).count("<tr>") == 31
