"""The claim and submit hot path: every rule kept, in at most two statements each on PostgreSQL."""

import contextlib

import sqlalchemy as sa

from coop.extensions import db
from coop.governance.services import current_terms, remember_terms_in_force
from tests.marketplace.conftest import new_terms

_TRANSACTION_CONTROL = ("begin", "commit", "rollback", "savepoint", "release")


@contextlib.contextmanager
def statements():
    """The SQL statements sent while the block runs, transaction control left out."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.strip().lower().startswith(_TRANSACTION_CONTROL):
            seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _claim_and_submit(market, batch):
    market.mc[0].get("/api/v1/me")  # the first request records the token's use
    with statements() as claim:
        assignment = market.claim(market.mc[0], batch["id"])
    with statements() as submit:
        submitted = market.submit(market.mc[0], assignment["id"])
    assert submitted["status"] == "submitted" and submitted["real_seconds"] is not None
    assert not [s for s in claim + submit if s.startswith("SELECT terms_versions")]
    return claim, submit


def test_a_claim_and_a_submit_take_two_statements_each(market, postgres_only):
    claim, submit = _claim_and_submit(market, market.post(items=5))
    # Sign-in (with the terms in force and the batch the URL names), the claim itself.
    assert len(claim) <= 2, claim
    assert not [s for s in claim if s.startswith("SELECT batches")]
    # Sign-in, then the guarded write counting the real time, finding no webhook listening and
    # reading the audit's median.
    assert len(submit) <= 2, submit
    assert not [s for s in submit if "procrastinate_defer_jobs" in s]


def test_a_submit_the_requester_listens_for_enqueues_its_webhook_event(market, postgres_only):
    hook = market.rc.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["assignment.submitted"]}
    )
    assert hook.status_code == 201, hook.json
    _claim, submit = _claim_and_submit(market, market.post(items=5))
    # At commit, one more statement enqueues the `assignment.submitted` event (its job finds the subscribers).
    enqueue = [s for s in submit if "procrastinate_defer_jobs" in s]
    assert len(enqueue) == 1, submit
    assert len(submit) - len(enqueue) <= 2, submit


def test_a_webhook_for_other_events_or_disabled_enqueues_nothing_on_submit(market, postgres_only):
    from coop.webhooks.models import Webhook

    for events in (["batch.completed"], ["assignment.submitted"]):
        made = market.rc.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": events})
        assert made.status_code == 201, made.json
    db.session.get(Webhook, made.json["id"]).disabled_at = db.session.get(Webhook, made.json["id"]).created_at
    db.session.commit()
    _claim, submit = _claim_and_submit(market, market.post(items=5))
    assert not [s for s in submit if "procrastinate_defer_jobs" in s]


def test_the_claim_statement_holds_the_slot_it_leased(market, postgres_only):
    batch = market.post(items=2)
    first = market.claim(market.mc[0], batch["id"])
    second = market.claim(market.mc[1], batch["id"])
    assert first["item"]["id"] != second["item"]["id"] and first["item"]["data"] != second["item"]["data"]
    states = db.session.execute(
        sa.text("SELECT state, count(*) FROM slots WHERE batch_id = :b GROUP BY state"), {"b": batch["id"]}
    ).all()
    assert dict(states) == {"held": 2}


def test_a_claim_on_a_full_batch_gives_back_lapsed_leases_first(market):
    from datetime import timedelta

    from coop import clock

    batch = market.post(items=1)
    lapsed = market.claim(market.mc[0], batch["id"])
    clock.advance(timedelta(hours=2))
    taken = market.claim(market.mc[1], batch["id"])
    assert taken["item"]["id"] == lapsed["item"]["id"]
    assert market.mc[0].get(f"/api/v1/assignments/{lapsed['id']}").get_json()["status"] == "expired"


def test_the_fast_submit_refuses_what_the_slow_one_refuses(market):
    batch = market.post(items=3)
    mine = market.claim(market.mc[0], batch["id"])
    theirs = market.mc[1].post(f"/api/v1/assignments/{mine['id']}/submit", json={"answer": {"ok": True}})
    assert theirs.status_code == 403
    missing = market.mc[0].post("/api/v1/assignments/999999/submit", json={"answer": {"ok": True}})
    assert missing.status_code == 404
    market.submit(market.mc[0], mine["id"])
    again = market.mc[0].post(f"/api/v1/assignments/{mine['id']}/submit", json={"answer": {"ok": True}})
    assert again.status_code == 409 and "already submitted" in again.get_json()["message"]


def test_terms_read_with_the_caller_give_way_to_terms_adopted_in_the_same_transaction(market, app):
    with app.test_request_context():
        old = current_terms()
        remember_terms_in_force(old)
        assert current_terms() is old
        adopted = new_terms(claim_lease_minutes=old.params["claim_lease_minutes"] + 5)
        assert current_terms().version == adopted.version == old.version + 1


def test_a_claim_on_a_batch_that_does_not_exist_is_a_404_naming_it(market):
    response = market.mc[0].post("/api/v1/batches/987654/claim", json={})
    assert response.status_code == 404, response.get_json()
    assert "batch 987654" in response.get_json()["message"]


def test_the_batch_read_with_the_caller_is_the_batch_as_it_is_now(market):
    batch = market.post(items=5)
    assert market.rc.post(f"/api/v1/batches/{batch['id']}/pause", json={}).status_code == 200
    refused = market.mc[0].post(f"/api/v1/batches/{batch['id']}/claim", json={})
    assert refused.status_code == 409 and "its requester paused it" in refused.get_json()["message"]
    assert market.rc.post(f"/api/v1/batches/{batch['id']}/unpause", json={}).status_code == 200
    assert market.claim(market.mc[0], batch["id"])["batch_id"] == batch["id"]


def test_a_view_reads_with_its_caller_only_the_object_it_names():
    from coop.loading import read_with_caller, url_object_sources
    from coop.marketplace.models import Batch

    @read_with_caller(Batch, "batch_id")
    def view(batch_id):
        pass

    sources, values = url_object_sources(view, {"batch_id": 7})
    assert [model for model, _source in sources] == [Batch] and values == {"url_batch_id": 7}
    assert url_object_sources(view, {"other_id": 7}) == ((), {})
    assert url_object_sources(lambda: None, {"batch_id": 7}) == ((), {})


def test_a_claim_that_records_the_tokens_use_reads_nothing_again(market, postgres_only):
    batch = market.post(items=5)
    # The token's first request writes its last use in a commit of its own, then claims with
    # the caller, terms and batch it read at sign-in: no statement loads them a second time.
    with statements() as claim:
        market.claim(market.mc[0], batch["id"])
    use = [s for s in claim if s.startswith("UPDATE api_tokens SET last_used_at")]
    assert len(use) == 1, claim
    assert len(claim) - len(use) <= 2, claim
