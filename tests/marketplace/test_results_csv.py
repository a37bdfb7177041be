"""results.csv: a batch's approved work for its requester, columns from the item and answer fields, streamed in pages."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.extensions import db
from tests.marketplace.conftest import batch_body

API = "/api/v1"
FORM = [
    {"name": "sign", "label": "Which sign?", "type": "choice", "options": ["stop", "yield"]},
    {"name": "note", "label": "Anything else?", "type": "text", "required": False},
]
PAY = {"reward_cents": 30, "est_seconds": 60}


def post_csv(market, text, **overrides):
    body = {**batch_body(**PAY), "answer_fields": FORM, **overrides}
    del body["items"]
    response = market.rc.post(f"{API}/batches", json={**body, "items_csv": text})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def work(market, batch_id, answers, client=0):
    """One member claims and submits an answer per item; returns the assignment ids in claim order."""
    ids = []
    for answer in answers:
        assignment = market.claim(market.mc[client], batch_id)
        market.submit(market.mc[client], assignment["id"], answer)
        ids.append(assignment["id"])
    return ids


def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def results_url(batch_id):
    return f"{API}/batches/{batch_id}/results.csv"


def test_approved_work_is_exported_with_item_fields_answer_fields_worker_and_times(market, session):
    batch = post_csv(market, "url,caption\nu1,a dog\nu2,a cat\nu3,a bird\n")
    clock.advance(timedelta(seconds=5))
    approved, rejected, _waiting = work(
        market, batch["id"], [{"sign": "stop", "note": "clear"}, {"sign": "yield"}, {"sign": "stop"}]
    )
    market.review(approved)
    market.review(rejected, "reject", "The sign is a yield sign, look at its shape.")
    market.claim(market.mc[1], batch["id"])  # claimed, never submitted
    shown = market.rc.get(f"{API}/assignments/{approved}").get_json()

    response = market.rc.get(results_url(batch["id"]))

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="batch-{batch["id"]}-results.csv"'
    rows = rows_of(response)
    assert rows[0] == [
        "item.url",
        "item.caption",
        "answer.sign",
        "answer.note",
        "worker",
        "submitted_at",
        "approved_at",
    ]
    # Only approved work: not the rejected, the waiting or the unsubmitted one.
    assert rows[1:] == [
        [
            "u1",
            "a dog",
            "stop",
            "clear",
            market.members[0].display_name,
            datetime.fromisoformat(shown["submitted_at"]).astimezone(UTC).isoformat(),
            datetime.fromisoformat(shown["approved_at"]).astimezone(UTC).isoformat(),
        ]
    ]
    assert rows[1][5].endswith("+00:00")


def test_cells_a_spreadsheet_would_run_are_defused(market, session):
    batch = post_csv(market, 'url,caption\n"=HYPERLINK(""http://evil"")",+1\n')
    (assignment,) = work(market, batch["id"], [{"sign": "stop", "note": "@SUM(A1)"}])
    market.review(assignment)

    rows = rows_of(market.rc.get(results_url(batch["id"])))

    assert rows[1][:4] == ['\'=HYPERLINK("http://evil")', "'+1", "stop", "'@SUM(A1)"]


def test_a_batch_without_declared_fields_exports_json_cells(market, session):
    body = {**batch_body(**PAY), "items": [{"data": {f"k{i}": i for i in range(101)}}]}
    batch = market.rc.post(f"{API}/batches", json=body).get_json()
    assert batch["item_fields"] is None and batch["answer_fields"] is None
    (assignment,) = work(market, batch["id"], [{"ok": True, "boxes": [1, 2]}])
    market.review(assignment)

    rows = rows_of(market.rc.get(results_url(batch["id"])))

    assert rows[0] == ["item", "answer", "worker", "submitted_at", "approved_at"]
    assert rows[1][1] == '{"boxes":[1,2],"ok":true}' and rows[1][0].startswith('{"k0":0,')


def test_work_due_for_auto_approval_is_exported(market, session):
    batch = post_csv(market, "url\nu1\n")
    work(market, batch["id"], [{"sign": "yield"}])
    assert len(rows_of(market.rc.get(results_url(batch["id"])))) == 1
    clock.advance(timedelta(hours=73))

    rows = rows_of(market.rc.get(results_url(batch["id"])))

    assert [row[0] for row in rows[1:]] == ["u1"]


def test_the_file_is_read_in_pages_of_the_configured_size(market, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "COOP_RESULTS_PAGE_ROWS", 2)
    batch = post_csv(market, "url\n" + "".join(f"u{i}\n" for i in range(5)))
    for assignment in work(market, batch["id"], [{"sign": "stop", "note": str(i)} for i in range(5)]):
        market.review(assignment)
    pages = []

    def count_pages(conn, cursor, statement, parameters, context, executemany):
        if "FROM assignments JOIN items" in statement:
            pages.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count_pages)
    try:
        response = market.rc.get(results_url(batch["id"]))
        assert response.is_streamed
        rows = rows_of(response)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count_pages)

    # 2 + 2 + 1 lines: three pages, the short last one ending the file.
    assert len(pages) == 3
    assert [row[0] for row in rows[1:]] == [f"u{i}" for i in range(5)]
    assert [row[2] for row in rows[1:]] == [str(i) for i in range(5)]


@pytest.mark.parametrize("who", ["other requester", "coordinator", "member", "anonymous"])
def test_only_the_batchs_requester_may_download_its_results(market, session, make, who):
    batch = post_csv(market, "url\nu1\n")
    (assignment,) = work(market, batch["id"], [{"sign": "stop"}])
    market.review(assignment)
    client = {
        "other requester": lambda: make.client(make.requester()),
        "coordinator": lambda: market.cc,
        "member": lambda: market.mc[0],
        "anonymous": lambda: make.client(),
    }[who]()

    response = client.get(results_url(batch["id"]))

    assert response.status_code == (401 if who == "anonymous" else 403)
    assert response.mimetype == "application/json"


def test_an_unknown_batch_has_no_results(market, session):
    assert market.rc.get(results_url(999_999_999)).status_code == 404
