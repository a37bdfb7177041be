"""A requester reads the appeals against their batch's rejections and the coordinators' decisions."""

API = "/api/v1"


def _rejected_and_appealed(market, batch_id, client, reason="Those boxes were right."):
    a = market.claim(client, batch_id)
    market.submit(client, a["id"])
    market.review(a["id"], "reject", "Boxes around the wrong signs.")
    response = client.post(f"{API}/assignments/{a['id']}/appeal", json={"reason": reason})
    assert response.status_code == 201
    return response.get_json()


def test_the_requester_reads_appeals_and_decisions_paged(market, session):
    batch = market.post(items=3)
    other_batch = market.post(items=1)
    first = _rejected_and_appealed(market, batch["id"], market.mc[0])
    second = _rejected_and_appealed(market, batch["id"], market.mc[1])
    _rejected_and_appealed(market, other_batch["id"], market.mc[2])
    decided = market.cc.post(
        f"{API}/appeals/{first['id']}/decide", json={"decision": "uphold", "reason": "The boxes miss two signs."}
    )
    assert decided.status_code == 200

    page = market.rc.get(f"{API}/batches/{batch['id']}/appeals?limit=1").get_json()
    assert [a["id"] for a in page["items"]] == [first["id"]]
    shown = page["items"][0]
    assert shown["status"] == "upheld" and shown["decision_reason"] == "The boxes miss two signs."
    assert shown["decided_by"] == market.coordinator.display_name
    assert shown["worker"] == market.members[0].display_name  # the pseudonym, as on the batch's assignments
    assert shown["rejection_reason"] == "Boxes around the wrong signs." and shown["reason"] == "Those boxes were right."
    rest = market.rc.get(f"{API}/batches/{batch['id']}/appeals?limit=1&cursor={page['next_cursor']}").get_json()
    assert [a["id"] for a in rest["items"]] == [second["id"]] and rest["next_cursor"] is None

    pending = market.rc.get(f"{API}/batches/{batch['id']}/appeals?status=pending").get_json()
    assert [a["id"] for a in pending["items"]] == [second["id"]]
    assert market.rc.get(f"{API}/batches/{batch['id']}/appeals?status=lost").status_code == 422
    # Coordinators read them too.
    assert len(market.cc.get(f"{API}/batches/{batch['id']}/appeals").get_json()["items"]) == 2


def test_others_cannot_read_a_batchs_appeals(market, make, session):
    batch = market.post(items=1)
    _rejected_and_appealed(market, batch["id"], market.mc[0])
    url = f"{API}/batches/{batch['id']}/appeals"
    assert make.client(make.requester()).get(url).status_code == 403  # another requester
    assert market.mc[0].get(url).status_code == 403  # a worker, even the appealing one (GET /appeals/{id} is theirs)
    assert make.client().get(url).status_code == 401
    assert market.rc.get(f"{API}/batches/999999/appeals").status_code == 404
