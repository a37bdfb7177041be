"""The requester's pages: the desk, deposits, posting a batch with the terms checked as you type, review, denials."""

import io
import re

import sqlalchemy as sa

from coop import ledger
from coop.extensions import db
from coop.marketplace import services
from coop.marketplace.models import Assignment, Batch, Deposit
from tests.marketplace.conftest import fund

ITEMS = '{"url": "a.jpg"}\n{"url": "b.jpg"}\n\n{"url": "c.jpg"}'


def batch_form(**overrides) -> dict:
    """The new-batch form as a browser posts it: 20 cents for 55 seconds meets the founding floor."""
    form = {
        "title": "Label street photos",
        "description": "Mark every traffic sign.",
        "instructions": "Draw one box per sign.",
        "end_client": "Northwind Mobility",
        "purpose": "preparation",
        "reward_cents": "20",
        "est_seconds": "55",
        "assignments_per_item": "1",
        "items": ITEMS,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def field_block(html: str, name: str) -> str:
    """The markup of one field's block on a form page (from its div to the next field's)."""
    start = html.index(f'id="{name}-field"')
    end = html.find('class="field', start + 1)
    return html[start : end if end > 0 else len(html)]


def batch_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Batch))


def submitted_work(market, batch_id: int, count: int) -> list[Assignment]:
    """`count` assignments of the batch claimed and handed in by the market's members in turn."""
    batch = db.session.get(Batch, batch_id)
    done = []
    for n in range(count):
        member = market.members[n % len(market.members)]
        assignment = services.claim(member, batch)
        done.append(services.submit(member, assignment.id, {"ok": True}))
    db.session.flush()
    return done


# --- menu, desk, deposits ---------------------------------------------------------------------


def test_a_requester_sees_their_menu_balances_and_batches_with_progress(market, pages):
    posted = market.post()
    html = pages(market.requester).get("/requester").get_data(as_text=True)
    for label in ("Overview", "New batch", "Deposits"):
        assert f">{label}</a>" in html
    assert "Payments" not in html
    assert "<h1>" in html and "<title>" in html
    assert posted["title"] in html and "0 of 3 done" in html
    available = ledger.balance(ledger.requester_available(market.requester.id))
    assert f"€{available / 100:,.2f}" in html  # available funds
    assert "€0.66" in html  # escrow: 3 × 20 + 10% fee


def test_a_member_has_no_requester_menu_and_no_desk(make, pages):
    browser = pages(make.member())
    assert "New batch" not in browser.get("/").get_data(as_text=True)
    assert browser.get("/requester").status_code == 403
    assert browser.get("/requester/batches/new").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(pages):
    response = pages().get("/requester/deposits")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_deposit_is_declared_with_its_reference_and_listed_as_pending(make, pages):
    requester = make.requester()
    browser = pages(requester)
    response = browser.post("/requester/deposits", {"amount_cents": "50000", "payment_reference": "SEPA-2026-17"})
    assert response.status_code == 303
    deposit = db.session.scalar(sa.select(Deposit).where(Deposit.requester_id == requester.id))
    assert (deposit.amount_cents, deposit.payment_reference, deposit.status) == (50000, "SEPA-2026-17", "pending")
    html = browser.get("/requester/deposits").get_data(as_text=True)
    assert "SEPA-2026-17" in html and "pending confirmation by a coordinator" in html
    assert ledger.balance(ledger.requester_available(requester.id)) == 0


def test_a_deposit_without_an_amount_is_refused_beside_the_field(make, pages):
    requester = make.requester()
    response = pages(requester).post("/requester/deposits", {"amount_cents": "", "payment_reference": "x"})
    assert response.status_code == 422
    assert 'id="amount_cents-errors"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deposit)) == 0


# --- posting a batch --------------------------------------------------------------------------


def test_the_new_batch_form_labels_every_field_and_checks_the_terms_as_you_type(market, pages):
    html = pages(market.requester).get("/requester/batches/new").get_data(as_text=True)
    for name in ("title", "instructions", "end_client", "purpose", "reward_cents", "est_seconds", "items", "items_csv"):
        assert f'for="{name}"' in html, name
    assert 'hx-post="/requester/batches/check"' in html and 'hx-target="#terms-check"' in html
    assert 'enctype="multipart/form-data"' in html


def test_a_batch_posted_through_the_form_is_created_with_its_items_in_escrow(market, pages):
    before = ledger.balance(ledger.requester_available(market.requester.id))
    response = pages(market.requester).post(
        "/requester/batches/new", batch_form(content_warnings="disturbing", expires_at="2099-01-01T12:00")
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    batch = db.session.scalar(sa.select(Batch).where(Batch.requester_id == market.requester.id))
    assert response.headers["Location"] == f"/requester/batches/{batch.id}"
    assert (batch.item_count, batch.reward_cents, batch.est_seconds, batch.status) == (3, 20, 55, "open")
    assert batch.content_warnings == ["disturbing"] and batch.expires_at.year == 2099
    assert ledger.balance(ledger.requester_available(market.requester.id)) == before - 66


def test_an_underpaying_batch_shows_the_breach_beside_reward_cents_and_creates_nothing(market, pages):
    browser = pages(market.requester)
    before = ledger.balance(ledger.requester_available(market.requester.id))
    response = browser.post("/requester/batches/new", batch_form(reward_cents="10"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    block = field_block(html, "reward_cents")
    assert 'id="reward_cents-errors"' in block
    assert "min_hourly_rate_cents" in block and "pay at least 20 cents" in block
    assert 'aria-invalid="true"' in block
    assert batch_count() == 0
    assert ledger.balance(ledger.requester_available(market.requester.id)) == before
    # What was typed stays in the form, so fixing one number is enough.
    assert "Northwind Mobility" in html and "a.jpg" in html

    fixed = browser.post("/requester/batches/new", batch_form(reward_cents="20"))
    assert fixed.status_code == 303
    assert batch_count() == 1


def test_every_breach_is_beside_its_own_field(market, pages):
    response = pages(market.requester).post(
        "/requester/batches/new",
        batch_form(end_client="", purpose="impersonation", personal_data="y", reward_cents="5"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "require_end_client" in field_block(html, "end_client")
    assert "a human answers" in field_block(html, "impersonation_notice")
    assert "data-processing agreement" in field_block(html, "dpa_reference")
    assert "min_hourly_rate_cents" in field_block(html, "reward_cents")
    assert batch_count() == 0


def test_the_check_endpoint_returns_each_breach_beside_its_field(market, pages):
    browser = pages(market.requester)
    response = browser.post(
        "/requester/batches/check", batch_form(reward_cents="10", end_client=""), headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html  # a fragment
    reward = re.search(r'<div id="reward_cents-feedback" hx-swap-oob="innerHTML">(.*?)</div>', html, re.S)
    assert reward and 'id="reward_cents-errors"' in reward.group(1) and "min_hourly_rate_cents" in reward.group(1)
    assert "require_end_client" in re.search(r'<div id="end_client-feedback".*?</div>', html, re.S).group(0)
    assert "min_hourly_rate_cents, require_end_client" in html
    assert batch_count() == 0

    fine = browser.post("/requester/batches/check", batch_form(), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "errors" not in fine and "Meets terms version" in fine


def test_the_check_waits_for_both_numbers_before_judging_the_pay(market, pages):
    html = (
        pages(market.requester)
        .post("/requester/batches/check", batch_form(reward_cents="", est_seconds="abc"))
        .get_data(as_text=True)
    )
    assert "min_hourly_rate_cents" not in html
    assert "Give a whole number" in html


def test_items_uploaded_as_csv_make_the_batch(market, pages):
    upload = (io.BytesIO(b"url,caption\na.jpg,stop sign\nb.jpg,yield\n"), "items.csv")
    response = pages(market.requester).post("/requester/batches/new", batch_form(items=None, items_csv=upload))
    assert response.status_code == 303, response.get_data(as_text=True)
    batch = db.session.scalar(sa.select(Batch))
    assert batch.item_count == 2 and batch.item_fields == ["url", "caption"]


def test_a_refused_upload_comes_back_as_text_so_fixing_needs_no_new_file(market, pages):
    browser = pages(market.requester)
    upload = (io.BytesIO(b"url,caption\na.jpg,stop sign\nb.jpg,yield\n"), "items.csv")
    refused = browser.post("/requester/batches/new", batch_form(items=None, items_csv=upload, reward_cents="1"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "a.jpg,stop sign" in field_block(html, "items")
    fixed = browser.post("/requester/batches/new", batch_form(items="url,caption\na.jpg,stop sign\nb.jpg,yield"))
    assert fixed.status_code == 303
    assert db.session.scalar(sa.select(Batch)).item_fields == ["url", "caption"]


def test_problems_of_pasted_csv_are_named_beside_the_items_box(market, pages):
    response = pages(market.requester).post("/requester/batches/new", batch_form(items="url,caption\na.jpg"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r"Line 2: ", field_block(html, "items"))
    assert 'id="items_csv-errors"' not in html


def test_bad_items_and_answer_forms_are_named_beside_their_fields(market, pages):
    response = pages(market.requester).post(
        "/requester/batches/new", batch_form(items='{"url": "a.jpg"}\nnot json', answer_fields="[{")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 2 is not a JSON object." in field_block(html, "items")
    assert 'id="answer_fields-errors"' in field_block(html, "answer_fields")
    assert batch_count() == 0


def test_a_batch_beyond_the_funds_is_refused_and_nothing_moves(make, pages):
    requester = make.requester()
    fund(requester, 10)
    response = pages(requester).post("/requester/batches/new", batch_form())
    assert response.status_code == 409
    assert batch_count() == 0 and ledger.balance(ledger.requester_available(requester.id)) == 10


# --- the batch page, review, messages ---------------------------------------------------------


def test_the_batch_page_shows_progress_results_and_workers_messages(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 2)
    services.send_message(market.members[0], work[0], "Is a faded sign still a sign?")
    html = pages(market.requester).get(f"/requester/batches/{batch['id']}").get_data(as_text=True)
    assert "0 of 3 done" in html and "Is a faded sign still a sign?" in html
    assert f"/requester/batches/{batch['id']}/results.csv" in html
    assert f"/requester/batches/{batch['id']}/review" in html


def test_only_the_batchs_requester_sees_its_pages(market, make, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 1)
    other = pages(make.requester())
    for url in ("", "/review", "/results.csv"):
        assert other.get(f"/requester/batches/{batch['id']}{url}").status_code == 403, url
    assert other.post(f"/requester/assignments/{work[0].id}/review", {"decision": "approve"}).status_code == 403
    assert other.get(f"/requester/assignments/{work[0].id}/messages").status_code == 403
    assert other.post(f"/requester/batches/{batch['id']}/cancel").status_code == 403
    assert db.session.get(Assignment, work[0].id).status == "submitted"
    assert pages(market.members[0]).get(f"/requester/batches/{batch['id']}").status_code == 403
    assert pages(market.requester).get("/requester/batches/999999").status_code == 404


def test_approving_through_the_review_queue_pays_the_worker_as_the_api_would(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 1)[0]
    browser = pages(market.requester)
    queue = browser.get(f"/requester/batches/{batch['id']}/review").get_data(as_text=True)
    assert f'for="reason-{work.id}"' in queue and "a.jpg" not in queue  # the item data of this batch is {"n": 0}
    earnings = ledger.balance(ledger.worker_earnings(work.worker_id))
    response = browser.post(f"/requester/assignments/{work.id}/review", {"decision": "approve"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/requester/batches/{batch['id']}/review"
    db.session.refresh(work)
    assert work.status == "approved" and work.paid_cents == 20
    assert ledger.balance(ledger.worker_earnings(work.worker_id)) == earnings + 20


def test_rejecting_needs_a_reason_shown_beside_that_work(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 2)
    browser = pages(market.requester)
    refused = browser.post(f"/requester/assignments/{work[1].id}/review", {"decision": "reject", "reason": "no"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f'id="reason-{work[1].id}-errors"' in html and f'id="reason-{work[0].id}-errors"' not in html
    db.session.refresh(work[1])
    assert work[1].status == "submitted"

    earnings = ledger.balance(ledger.worker_earnings(work[1].worker_id))
    reason = "Two signs were missed in the top left corner."
    assert (
        browser.post(
            f"/requester/assignments/{work[1].id}/review", {"decision": "reject", "reason": reason}
        ).status_code
        == 303
    )
    db.session.refresh(work[1])
    assert (work[1].status, work[1].review_reason) == ("rejected", reason)
    assert ledger.balance(ledger.worker_earnings(work[1].worker_id)) == earnings


def test_an_appeal_against_a_rejection_shows_on_the_batch_page(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 1)[0]
    services.review(market.requester, work, "reject", "Two signs were missed in the corner.")
    services.file_appeal(market.members[0], work, "Both signs were hidden by a tree.")
    html = pages(market.requester).get(f"/requester/batches/{batch['id']}").get_data(as_text=True)
    assert "Both signs were hidden by a tree." in html and "awaiting a coordinator" in html


def test_a_bonus_through_the_review_queue_pays_the_worker_and_the_fee(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 1)[0]
    available = ledger.balance(ledger.requester_available(market.requester.id))
    response = pages(market.requester).post(
        f"/requester/assignments/{work.id}/bonus", {"amount_cents": "50", "reason": "Careful work"}
    )
    assert response.status_code == 303
    assert ledger.balance(ledger.worker_earnings(work.worker_id)) == 50
    assert ledger.balance(ledger.requester_available(market.requester.id)) == available - 55


def test_a_reply_to_a_worker_goes_through_the_conversation_page(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 1)[0]
    browser = pages(market.requester)
    assert browser.post(f"/requester/assignments/{work.id}/messages", {"body": "Yes, mark it."}).status_code == 303
    page = browser.get(f"/requester/assignments/{work.id}/messages").get_data(as_text=True)
    assert "Yes, mark it." in page and market.members[0].display_name in page


def test_a_pilot_is_launched_from_the_batch_page(market, pages):
    batch = market.post(items=5, reward_cents=30, est_seconds=60, pilot_slots=2)
    browser = pages(market.requester)
    assert "Launch the batch" in browser.get(f"/requester/batches/{batch['id']}").get_data(as_text=True)
    low = browser.post(f"/requester/batches/{batch['id']}/launch", {"est_seconds": "600"})
    assert low.status_code == 422 and "min_hourly_rate_cents" in low.get_data(as_text=True)
    assert db.session.get(Batch, batch["id"]).status == "pilot"
    assert browser.post(f"/requester/batches/{batch['id']}/launch", {}).status_code == 303
    assert db.session.get(Batch, batch["id"]).status == "open"


def test_cancelling_from_the_batch_page_refunds_unclaimed_slots(market, pages):
    batch = market.post()
    available = ledger.balance(ledger.requester_available(market.requester.id))
    assert pages(market.requester).post(f"/requester/batches/{batch['id']}/cancel").status_code == 303
    assert db.session.get(Batch, batch["id"]).status == "cancelled"
    assert ledger.balance(ledger.requester_available(market.requester.id)) == available + 66


def test_the_results_download_is_the_apis_file(market, pages):
    batch = market.post()
    work = submitted_work(market, batch["id"], 1)[0]
    services.review(market.requester, work, "approve", None)
    response = pages(market.requester).get(f"/requester/batches/{batch['id']}/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert market.members[0].display_name in response.get_data(as_text=True)


# --- language and budget ----------------------------------------------------------------------


def test_the_new_batch_page_speaks_french(market, pages):
    html = pages(market.requester, lang="fr").get("/requester/batches/new").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Publier un nouveau lot" in html and "Récompense par élément, en centimes" in html
    assert "Nouveau lot" in html  # the menu


def test_a_breach_is_told_in_french_beside_its_field(market, pages):
    response = pages(market.requester, lang="fr").post("/requester/batches/new", batch_form(reward_cents="10"))
    block = field_block(response.get_data(as_text=True), "reward_cents")
    assert response.status_code == 422
    assert "Paie 654 centimes de l&#39;heure" in block and "payez au moins 20 centimes" in block


def test_the_heaviest_requester_pages_stay_within_the_query_budget(market, pages, count_queries):
    fund(market.requester, 100_000)
    for n in range(19):
        market.post(title=f"Batch {n}")
    big = market.post(items=30, title="Big batch")
    submitted_work(market, big["id"], 30)
    browser = pages(market.requester)
    for url in ("/requester", f"/requester/batches/{big['id']}/review", f"/requester/batches/{big['id']}"):
        with count_queries() as counted:
            response = browser.get(url)
        assert response.status_code == 200, url
        assert counted.count <= 15, (url, counted.count, counted.statements)
    review = browser.get(f"/requester/batches/{big['id']}/review").get_data(as_text=True)
    assert review.count('name="decision" value="approve"') == 30
    assert browser.get("/requester").get_data(as_text=True).count('class="card"') == 20
