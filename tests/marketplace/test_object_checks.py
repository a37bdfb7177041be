"""Per-object checks live in the services, so every edge (API, pages, CLI) refuses the same people."""

import pytest

from coop.errors import Forbidden
from coop.marketplace import services
from coop.marketplace.schemas import BatchCreateSchema
from tests.marketplace.conftest import batch_body, fund, snapshot

PAGE = {"limit": 50, "cursor": None}


@pytest.fixture
def work(make, session):
    """A requester's batch with one rejected assignment under appeal, and people with no part in it."""
    owner, other_requester = make.requester(), make.requester()
    fund(owner, 1_000)
    worker, other_worker, coordinator = make.member(), make.member(), make.coordinator()
    batch = services.create_batch(owner, BatchCreateSchema().load(batch_body(items=2)))
    rejected = services.claim(worker, batch)
    services.submit(worker, rejected, {"label": "stop"})
    services.review(owner, rejected, "reject", "Boxes miss the signs.")
    appeal = services.file_appeal(worker, rejected, "They do not.")
    claimed = services.claim(worker, batch)
    return {
        "owner": owner,
        "other_requester": other_requester,
        "worker": worker,
        "other_worker": other_worker,
        "coordinator": coordinator,
        "batch": batch,
        "claimed": claimed,
        "rejected": rejected,
        "appeal": appeal,
    }


def test_another_requester_cannot_manage_the_batch_or_review_its_work(work):
    w, intruder = work, work["other_requester"]
    before = snapshot(w["owner"], intruder, w["worker"])
    services.submit(w["worker"], w["claimed"], {"label": "yield"})
    refused = [
        lambda: services.cancel_batch(intruder, w["batch"]),
        lambda: services.raise_reward(intruder, w["batch"], 50),
        lambda: services.batch_items(intruder, w["batch"], PAGE),
        lambda: services.batch_assignments(intruder, w["batch"], PAGE),
        lambda: services.batch_detail(intruder, w["batch"]),
        lambda: services.review(intruder, w["claimed"], "approve", None),
        lambda: services.read_assignment(intruder, w["claimed"]),
    ]
    for call in refused:
        with pytest.raises(Forbidden):
            call()
    assert (w["batch"].status, w["batch"].reward_cents, w["claimed"].status) == ("open", 20, "submitted")
    assert snapshot(w["owner"], intruder, w["worker"]) == before


def test_another_worker_cannot_submit_appeal_or_read_the_work(work):
    w, intruder = work, work["other_worker"]
    refused = [
        lambda: services.submit(intruder, w["claimed"], {"label": "yield"}),
        lambda: services.file_appeal(intruder, w["rejected"], "Mine now."),
        lambda: services.read_assignment(intruder, w["claimed"]),
        lambda: services.read_appeal(intruder, w["appeal"]),
    ]
    for call in refused:
        with pytest.raises(Forbidden):
            call()
    assert w["claimed"].status == "claimed" and w["claimed"].answer is None


def test_the_people_with_a_part_in_the_work_pass_the_same_checks(work):
    w = work
    assert services.read_assignment(w["worker"], w["claimed"]) is w["claimed"]
    assert services.read_assignment(w["owner"], w["claimed"]) is w["claimed"]
    assert services.read_appeal(w["worker"], w["appeal"]) is w["appeal"]
    assert services.read_appeal(w["coordinator"], w["appeal"]) is w["appeal"]
    assert services.batch_detail(w["other_worker"], w["batch"]).progress["slots"] == 2  # members browse batches
