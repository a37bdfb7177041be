"""A requester pauses their own open batch: no new claims, claims in flight go on; they resume it."""

import sqlalchemy as sa

from coop import ledger
from coop.audit import AuditEntry
from coop.marketplace.models import Batch
from tests.marketplace.conftest import new_terms

API = "/api/v1"
REASON = "Asks us to write fake product reviews."


def events(session, event, batch_id):
    return list(
        session.scalars(
            sa.select(AuditEntry).where(AuditEntry.event == event, AuditEntry.subject == f"batch:{batch_id}")
        )
    )


def listed(market, batch_id) -> bool:
    items = market.mc[2].get(f"{API}/batches").get_json()["items"]
    return batch_id in [b["id"] for b in items]


def test_the_requester_pauses_and_resumes_and_work_in_flight_goes_on(market, session):
    batch = market.post(items=2)
    claimed = market.claim(market.mc[0], batch["id"])
    escrow = ledger.balance(ledger.requester_escrow(market.requester.id))

    paused = market.rc.post(f"{API}/batches/{batch['id']}/pause")
    assert paused.status_code == 200, paused.get_json()
    assert (paused.get_json()["paused_reason"], paused.get_json()["status"]) == ("requester", "open")
    assert paused.get_json()["paused_at"]
    [entry] = events(session, "batch.paused", batch["id"])
    assert entry.payload["reason"] == "requester" and market.requester.display_name in entry.actor
    # Members no longer find it; nothing is refunded.
    assert not listed(market, batch["id"])
    assert ledger.balance(ledger.requester_escrow(market.requester.id)) == escrow
    # The claim made before the pause is submitted and reviewed as usual.
    market.submit(market.mc[0], claimed["id"])
    assert market.review(claimed["id"])["status"] == "approved"

    resumed = market.rc.post(f"{API}/batches/{batch['id']}/unpause")
    assert resumed.status_code == 200 and resumed.get_json()["paused_reason"] is None
    assert resumed.get_json()["paused_at"] is None
    [entry] = events(session, "batch.resumed", batch["id"])
    assert entry.payload["reason"] == "requester"
    assert listed(market, batch["id"])
    assert market.mc[1].post(f"{API}/batches/{batch['id']}/claim").status_code == 201


def test_a_paused_batch_refuses_new_claims_and_takes_work_in_flight(market, session):
    batch = market.post(items=2)
    in_flight = market.claim(market.mc[1], batch["id"])
    assert market.rc.post(f"{API}/batches/{batch['id']}/pause").status_code == 200
    refused = market.mc[0].post(f"{API}/batches/{batch['id']}/claim")
    assert refused.status_code == 409 and "requester paused" in refused.json["message"]
    market.submit(market.mc[1], in_flight["id"])


def test_only_the_batchs_requester_pauses_or_resumes_it(market, make, session):
    batch = market.post()
    other = make.client(make.requester())
    for action in ("pause", "unpause"):
        assert other.post(f"{API}/batches/{batch['id']}/{action}").status_code == 403
        assert market.mc[0].post(f"{API}/batches/{batch['id']}/{action}").status_code == 403
        assert market.cc.post(f"{API}/batches/{batch['id']}/{action}").status_code == 403
        assert make.client().post(f"{API}/batches/{batch['id']}/{action}").status_code == 401
        assert market.rc.post(f"{API}/batches/999999/{action}").status_code == 404
    assert market.rc.post(f"{API}/batches/{batch['id']}/pause").status_code == 200
    assert other.post(f"{API}/batches/{batch['id']}/unpause").status_code == 403
    assert session.get(Batch, batch["id"]).paused_reason == "requester"
    assert len(events(session, "batch.resumed", batch["id"])) == 0


def test_pausing_twice_resuming_an_unpaused_or_a_closed_batch_is_refused(market, session):
    batch = market.post()
    assert market.rc.post(f"{API}/batches/{batch['id']}/unpause").status_code == 409
    assert market.rc.post(f"{API}/batches/{batch['id']}/pause").status_code == 200
    again = market.rc.post(f"{API}/batches/{batch['id']}/pause")
    assert again.status_code == 409 and "already paused" in again.get_json()["message"]
    assert market.rc.post(f"{API}/batches/{batch['id']}/cancel").status_code == 200
    session.expire_all()
    # Cancelled says it all: the pause is lifted with it, and neither action applies any more.
    assert session.get(Batch, batch["id"]).paused_reason is None
    for action in ("pause", "unpause"):
        assert market.rc.post(f"{API}/batches/{batch['id']}/{action}").status_code == 409


def test_members_flags_take_over_the_requesters_pause_and_only_a_coordinator_lifts_them(market, make, session):
    new_terms(batch_flags_to_pause=2)
    batch = market.post()
    assert market.rc.post(f"{API}/batches/{batch['id']}/pause").status_code == 200
    for client in market.mc[:2]:
        assert client.post(f"{API}/batches/{batch['id']}/flags", json={"reason": REASON}).status_code == 201
    session.expire_all()
    assert session.get(Batch, batch["id"]).paused_reason == "flags"
    refused = market.rc.post(f"{API}/batches/{batch['id']}/unpause")
    assert refused.status_code == 409 and "coordinator" in refused.get_json()["message"]
    assert market.rc.post(f"{API}/batches/{batch['id']}/pause").status_code == 409
    assert session.get(Batch, batch["id"]).paused_reason == "flags"


# --- the batch page -----------------------------------------------------------------------


def test_the_requester_pauses_and_resumes_from_the_batch_page(market, pages, session):
    batch = market.post()
    browser = pages(market.requester)
    page = browser.get(f"/requester/batches/{batch['id']}").get_data(as_text=True)
    assert f"/requester/batches/{batch['id']}/pause" in page and "Pause the batch" in page
    done = browser.post(f"/requester/batches/{batch['id']}/pause")
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Batch, batch["id"]).paused_reason == "requester"
    page = browser.get(f"/requester/batches/{batch['id']}").get_data(as_text=True)
    assert "paused by you" in page and f"/requester/batches/{batch['id']}/unpause" in page
    # Sent again (a second tab), the pause is refused on the page, not as an error.
    again = browser.post(f"/requester/batches/{batch['id']}/pause")
    assert again.status_code == 409 and "already paused" in again.get_data(as_text=True)
    assert browser.post(f"/requester/batches/{batch['id']}/unpause").status_code == 303
    session.expire_all()
    assert session.get(Batch, batch["id"]).paused_reason is None


def test_nobody_else_pauses_from_the_pages_and_a_form_needs_its_token(market, make, pages, session):
    batch = market.post()
    other = pages(make.requester())
    assert other.post(f"/requester/batches/{batch['id']}/pause").status_code == 403
    assert pages(market.members[0]).post(f"/requester/batches/{batch['id']}/pause").status_code == 403
    owner = pages(market.requester)
    assert owner.post(f"/requester/batches/{batch['id']}/pause", csrf=False).status_code in (400, 403)
    assert owner.post(f"/requester/batches/{batch['id']}/halt").status_code == 404
    session.expire_all()
    assert session.get(Batch, batch["id"]).paused_reason is None


def test_the_pause_button_is_in_french(market, pages):
    batch = market.post()
    page = pages(market.requester, lang="fr").get(f"/requester/batches/{batch['id']}").get_data(as_text=True)
    assert "Mettre le lot en pause" in page
