"""Each event is announced by the service where it happens, to the requester of the batch or to members."""

from tests.webhooks.helpers import API, event_types, run_jobs, subscribe


def test_requester_events_from_the_marketplace(shop, make, receiver):
    hook = subscribe(
        shop.rc,
        receiver.url,
        ["assignment.submitted", "assignment.returned", "batch.completed", "appeal.decided", "message.received"],
    )
    returned = shop.claim()
    assert shop.mc.post(f"{API}/assignments/{returned['id']}/return").status_code == 200
    first = shop.claim()
    assert (
        shop.mc.post(f"{API}/assignments/{first['id']}/messages", json={"body": "Is a sign a box?"}).status_code == 201
    )
    # The requester's own message is not announced back to the requester.
    assert shop.rc.post(f"{API}/assignments/{first['id']}/messages", json={"body": "Yes."}).status_code == 201
    shop.submit(first["id"])
    second = shop.claim()
    shop.submit(second["id"])
    review = {"decision": "reject", "reason": "No boxes were drawn."}
    assert shop.rc.post(f"{API}/assignments/{first['id']}/review", json=review).status_code == 200
    review = {"decision": "approve"}
    assert shop.rc.post(f"{API}/assignments/{second['id']}/review", json=review).status_code == 200
    appeal = shop.mc.post(f"{API}/assignments/{first['id']}/appeal", json={"reason": "I drew them all."})
    assert appeal.status_code == 201, appeal.json
    coordinator = make.client(make.coordinator())
    decided = coordinator.post(
        f"{API}/appeals/{appeal.json['id']}/decide", json={"decision": "overturn", "reason": "The boxes are there."}
    )
    assert decided.status_code == 200, decided.json
    run_jobs()
    types = event_types(receiver, hook["secret"])
    assert types[:4] == ["assignment.returned", "message.received", "assignment.submitted", "assignment.submitted"]
    assert set(types[4:]) == {"batch.completed", "appeal.decided"}
    bodies = {body["type"]: body["data"] for body in receiver.verified(hook["secret"])}
    assert bodies["message.received"]["body"] == "Is a sign a box?"
    assert bodies["message.received"]["from"] == shop.member.display_name
    assert bodies["appeal.decided"]["decision"] == "overturn"
    assert bodies["batch.completed"] == {"batch_id": shop.batch["id"]}


def _flag_until_paused(shop, make, members: int = 5) -> None:
    """Enough distinct members flag the shop's batch to pause it (the founding threshold is 5)."""
    for _ in range(members):
        flagged = make.client(make.member()).post(
            f"{API}/batches/{shop.batch['id']}/flags", json={"reason": "The photos show injured people."}
        )
        assert flagged.status_code in (200, 201), flagged.json


def test_a_batch_paused_by_members_flags_is_announced(shop, make, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.paused"])
    _flag_until_paused(shop, make)
    run_jobs()
    [body] = receiver.verified(hook["secret"])
    assert body["type"] == "batch.paused" and body["data"] == {"batch_id": shop.batch["id"], "reason": "flags"}


def test_governance_events_reach_members(make, receiver):
    coordinator, member = make.client(make.coordinator()), make.client(make.member())
    hook = subscribe(member, receiver.url, ["proposal.opened", "proposal.closed", "terms.changed"])
    proposal = coordinator.post(
        f"{API}/proposals",
        json={
            "title": "Raise the floor",
            "body": "Pay more.",
            "kind": "terms",
            "method": "yes_no",
            "change": {"min_hourly_rate_cents": 1400},
        },
    )
    assert proposal.status_code == 201, proposal.json
    pid = proposal.json["id"]
    assert coordinator.post(f"{API}/proposals/{pid}/review", json={"action": "accept"}).status_code == 200
    for client in (coordinator, member):
        assert client.post(f"{API}/proposals/{pid}/ballot", json={"choice": "yes"}).status_code in (200, 201)
    run_jobs()
    # Receivers order by the body's timestamp; terms enacted at the close are announced with it.
    bodies = {body["type"]: body["data"] for body in receiver.verified(hook["secret"])}
    assert len(receiver.requests) == 3
    assert bodies["proposal.opened"]["proposal_id"] == pid and bodies["proposal.opened"]["title"] == "Raise the floor"
    assert bodies["proposal.closed"]["status"] == "enacted"
    assert bodies["terms.changed"]["changed"] == {"min_hourly_rate_cents": 1400}


def test_a_member_who_left_hears_no_more(make, receiver):
    coordinator = make.client(make.coordinator())
    leaver = make.member()
    hook = subscribe(make.client(leaver), receiver.url, ["proposal.opened"])
    assert make.client(leaver).post(f"{API}/membership/withdraw").status_code == 200
    proposal = coordinator.post(
        f"{API}/proposals", json={"title": "Assembly", "body": "Meet.", "kind": "general", "method": "yes_no"}
    )
    assert (
        coordinator.post(f"{API}/proposals/{proposal.json['id']}/review", json={"action": "accept"}).status_code == 200
    )
    run_jobs()
    assert receiver.requests == []
    assert hook["id"]


def test_a_batch_the_requester_pauses_and_resumes_is_announced_to_them(shop, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.paused", "batch.resumed"])
    assert shop.rc.post(f"{API}/batches/{shop.batch['id']}/pause", json={}).status_code == 200
    assert shop.rc.post(f"{API}/batches/{shop.batch['id']}/unpause", json={}).status_code == 200
    run_jobs()
    sent = [(body["type"], body["data"]) for body in receiver.verified(hook["secret"])]
    assert sent == [
        ("batch.paused", {"batch_id": shop.batch["id"], "reason": "requester"}),
        ("batch.resumed", {"batch_id": shop.batch["id"], "reason": "requester"}),
    ]


def test_a_flagged_batch_a_coordinator_resumes_is_announced(shop, make, receiver):
    hook = subscribe(shop.rc, receiver.url, ["batch.resumed"])
    _flag_until_paused(shop, make)
    coordinator = make.client(make.coordinator())
    resumed = coordinator.post(f"{API}/batches/{shop.batch['id']}/resume", json={"reason": "The work is fine."})
    assert resumed.status_code == 200, resumed.json
    run_jobs()
    [body] = receiver.verified(hook["secret"])
    assert body["type"] == "batch.resumed" and body["data"] == {"batch_id": shop.batch["id"], "reason": "flags"}


def test_a_raise_that_reopens_an_underpaid_batch_is_announced_and_one_on_an_open_batch_is_not(shop, receiver):
    from coop.extensions import db
    from coop.marketplace.models import Batch

    hook = subscribe(shop.rc, receiver.url, ["batch.resumed"])
    raised = shop.rc.post(
        f"{API}/batches/{shop.batch['id']}/raise", json={"reward_cents": shop.batch["reward_cents"] + 1}
    )
    assert raised.status_code == 200, raised.json
    batch = db.session.get(Batch, shop.batch["id"])
    batch.status, batch.required_reward_cents = "paused_underpaid", batch.reward_cents + 1
    db.session.commit()
    raised = shop.rc.post(f"{API}/batches/{shop.batch['id']}/raise", json={"reward_cents": batch.reward_cents + 1})
    assert raised.status_code == 200 and raised.json["status"] == "open", raised.json
    run_jobs()
    [body] = receiver.verified(hook["secret"])
    assert body["type"] == "batch.resumed" and body["data"] == {"batch_id": shop.batch["id"], "reason": "underpaid"}
