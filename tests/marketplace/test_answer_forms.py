"""Answer forms through the API: declared with a batch, shown to workers, every answer checked; items as CSV."""

import pytest
import sqlalchemy as sa

from coop.marketplace.models import Assignment, Batch, Item
from tests.marketplace.conftest import batch_body, snapshot

API = "/api/v1"
FORM = [
    {"name": "sign", "label": "Which sign is it?", "type": "choice", "options": ["stop", "yield", "none"]},
    {"name": "count", "label": "How many signs?", "type": "number"},
    {"name": "blurry", "label": "Is the photo blurry?", "type": "boolean"},
    {"name": "note", "label": "Anything else?", "type": "text", "required": False},
]
# Well above any minimum hourly rate the terms may set: 30 cents for 60 s is 18 €/h.
PAY = {"reward_cents": 30, "est_seconds": 60}


def count(session, model):
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_batch_declares_its_form_and_workers_see_it_when_they_claim(market, session):
    batch = market.post(answer_fields=FORM, **PAY)

    stored = [{"required": True, **field} for field in FORM]
    assert batch["answer_fields"] == stored
    assert market.mc[0].get(f"{API}/batches/{batch['id']}").get_json()["answer_fields"] == stored
    claimed = market.claim(market.mc[0], batch["id"])
    assert claimed["answer_fields"] == stored


def test_an_answer_that_fits_the_form_is_submitted(market, session):
    batch = market.post(answer_fields=FORM, **PAY)
    assignment = market.claim(market.mc[0], batch["id"])

    done = market.submit(market.mc[0], assignment["id"], {"sign": "yield", "count": 2, "blurry": False})

    assert done["status"] == "submitted" and done["answer"] == {"sign": "yield", "count": 2, "blurry": False}


def test_an_answer_that_does_not_fit_is_422_per_field_and_the_claim_stays_open(market, session):
    batch = market.post(answer_fields=FORM, **PAY)
    assignment = market.claim(market.mc[0], batch["id"])

    response = market.mc[0].post(
        f"{API}/assignments/{assignment['id']}/submit",
        json={"answer": {"sign": "go", "count": True, "note": 3, "colour": "red"}},
    )

    assert response.status_code == 422
    errors = response.get_json()["errors"]["answer"]
    assert set(errors) == {"sign", "count", "blurry", "note", "colour"}
    assert errors["blurry"] == ["This field is required."]
    stored = session.get(Assignment, assignment["id"])
    session.refresh(stored)
    assert stored.status == "claimed" and stored.answer is None and stored.submitted_at is None
    # Fixed, the same claim is handed in.
    assert market.submit(market.mc[0], assignment["id"], {"sign": "none", "count": 0, "blurry": True})


def test_a_batch_without_a_form_takes_any_json_answer_as_before(market, session):
    batch = market.post(**PAY)
    assert batch["answer_fields"] is None
    assignment = market.claim(market.mc[0], batch["id"])
    assert market.submit(market.mc[0], assignment["id"], {"anything": [1, {"goes": None}]})["status"] == "submitted"


@pytest.mark.parametrize(
    "fields, where",
    [
        ([{"name": "a b", "label": "A", "type": "text"}], ("0", "name")),
        ([{"name": "ok", "label": "", "type": "text"}], ("0", "label")),
        ([{"name": "ok", "label": "x" * 201, "type": "text"}], ("0", "label")),
        ([{"name": "ok", "label": "A", "type": "date"}], ("0", "type")),
        ([{"name": "ok", "label": "A", "type": "choice"}], ("0", "options")),
        ([{"name": "ok", "label": "A", "type": "choice", "options": []}], ("0", "options")),
        ([{"name": "ok", "label": "A", "type": "choice", "options": [str(i) for i in range(101)]}], ("0", "options")),
        ([{"name": "ok", "label": "A", "type": "text", "options": ["x"]}], ("0", "options")),
        ([{"name": "ok", "label": "A", "type": "text"}, {"name": "ok", "label": "B", "type": "text"}], ("1", "name")),
        ([{"name": "ok", "label": "A", "type": "text", "size": 3}], ("0", "size")),
        ([{"name": f"f{i}", "label": "F", "type": "text"} for i in range(51)], None),
        ([], None),
    ],
)
def test_a_malformed_form_is_refused_naming_the_field_and_nothing_is_posted(market, session, fields, where):
    before, batches = snapshot(market.requester), count(session, Batch)

    response = market.rc.post(f"{API}/batches", json=batch_body(answer_fields=fields, **PAY))

    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]["answer_fields"]
    if where:
        index, key = where
        assert key in errors[index]
    assert snapshot(market.requester) == before and count(session, Batch) == batches


# --- items as CSV ---------------------------------------------------------------------------


def test_items_posted_as_csv_become_items_with_the_header_as_fields(market, session):
    text = 'url,caption\r\nhttps://img/1.jpg,"a stop sign, at night"\r\nhttps://img/2.jpg,"two\nlines"\r\n'
    body = batch_body(**PAY)
    del body["items"]

    response = market.rc.post(f"{API}/batches", json={**body, "items_csv": text, "answer_fields": FORM})

    assert response.status_code == 201, response.get_json()
    batch = response.get_json()
    assert batch["item_count"] == 2 and batch["item_fields"] == ["url", "caption"]
    items = market.rc.get(f"{API}/batches/{batch['id']}/items", query_string={"limit": 10}).get_json()["items"]
    assert sorted((i["position"], i["data"]["caption"]) for i in items) == [
        (0, "a stop sign, at night"),
        (1, "two\nlines"),
    ]
    assert market.claim(market.mc[0], batch["id"])["item"]["data"] == {
        "url": "https://img/1.jpg",
        "caption": "a stop sign, at night",
    }


def test_json_items_record_their_keys_as_fields(market, session):
    body = {**batch_body(**PAY), "items": [{"data": {"url": "u1"}}, {"data": {"url": "u2", "hint": "left"}}]}
    response = market.rc.post(f"{API}/batches", json=body)
    assert response.status_code == 201 and response.get_json()["item_fields"] == ["url", "hint"]


def test_bad_csv_lines_are_listed_by_number_and_nothing_is_stored(market, session):
    body = batch_body(**PAY)
    del body["items"]
    before, batches, items = snapshot(market.requester), count(session, Batch), count(session, Item)

    response = market.rc.post(f"{API}/batches", json={**body, "items_csv": "url,caption\nu1,ok\nu2\nu3,a,b\nu4,ok\n"})

    assert response.status_code == 422
    payload = response.get_json()
    assert payload["errors"]["items_csv"] == [
        {"line": 3, "message": "1 cells, but the header names 2 columns."},
        {"line": 4, "message": "3 cells, but the header names 2 columns."},
    ]
    assert "line 3" in payload["message"] and "Nothing was stored" in payload["message"]
    assert snapshot(market.requester) == before
    assert (count(session, Batch), count(session, Item)) == (batches, items)


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"items_csv": "a\n1\n"}, "items_csv"),  # and items too
        ({"items": None}, "items"),  # neither
    ],
)
def test_items_are_given_once_either_as_json_or_as_csv(market, session, extra, field):
    body = {**batch_body(**PAY), **extra}
    if body.get("items") is None:
        del body["items"]

    response = market.rc.post(f"{API}/batches", json=body)

    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_more_csv_lines_than_a_batch_holds_are_refused(market, session):
    body = batch_body(**PAY)
    del body["items"]
    text = "n\n" + "".join(f"{i}\n" for i in range(10_001))

    response = market.rc.post(f"{API}/batches", json={**body, "items_csv": text})

    assert response.status_code == 422
    assert response.get_json()["errors"]["items_csv"] == [
        {"line": 10_002, "message": "More than 10,000 items; post at most 10,000 in one batch."}
    ]


def test_a_nul_in_the_csv_is_refused_like_any_text_the_database_cannot_store(market, session):
    body = batch_body(**PAY)
    del body["items"]
    response = market.rc.post(f"{API}/batches", json={**body, "items_csv": "a\n1\x00\n"})
    assert response.status_code == 422 and "items_csv" in response.get_json()["errors"]
