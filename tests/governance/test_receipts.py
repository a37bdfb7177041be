"""Published receipts: the inline cap on a proposal, the paged list, the CSV export, who may read them."""

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coop import clock
from coop.accounts.models import User
from coop.governance.models import Ballot, Proposal
from coop.governance.services.ballots import RECEIPTS_INLINE_MAX


@pytest.fixture
def closed_vote(gov, session):
    """A closed yes/no vote with `n` ballots inserted in bulk; returns (a reader, proposal id, receipts)."""

    def build(n: int, receipts: list[str] | None = None):
        coordinator, (alice,) = gov.coop(members=1)
        proposal_id = gov.open_vote(alice, coordinator)["id"]
        tag = uuid.uuid4().hex[:8]
        users = [
            {
                "email": f"voter{i}-{tag}@example.org",
                "display_name": f"voter {i} {tag}",
                "kind": "worker",
                "password_hash": "x",
                "created_at": clock.now(),
            }
            for i in range(n)
        ]
        ids = list(session.scalars(sa.insert(User).returning(User.id), users))
        receipts = receipts or [f"{tag}{i:06d}" for i in range(n)]
        ballots = [
            {"proposal_id": proposal_id, "member_id": member_id, "receipt": receipt, "choice": {"choice": choice}}
            for member_id, receipt, choice in zip(ids, receipts, ["yes", "no", "abstain"] * n, strict=False)
        ]
        session.execute(sa.insert(Ballot), ballots)
        session.get(Proposal, proposal_id).ballot_count = n
        session.flush()
        clock.advance(timedelta(days=30))
        assert gov.get(alice, proposal_id)["status"] in ("passed", "rejected", "no_quorum")
        return alice, proposal_id, receipts

    return build


def receipts_url(proposal_id: int) -> str:
    return f"/api/v1/proposals/{proposal_id}/receipts"


def all_pages(client, proposal_id: int, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(receipts_url(proposal_id), query_string=query)
        assert response.status_code == 200, response.json
        pages.append(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return pages


def test_the_paged_list_holds_every_receipt_once_in_receipt_order(gov, closed_vote):
    reader, proposal_id, receipts = closed_vote(7)

    pages = all_pages(reader, proposal_id, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    items = [item for page in pages for item in page]
    assert [item["receipt"] for item in items] == sorted(receipts)
    assert {frozenset(item) for item in items} == {frozenset({"receipt", "choice", "reason", "weight"})}
    # Under the cap, the proposal inlines the same receipts in the same order.
    proposal = gov.get(reader, proposal_id)
    assert proposal["receipts"] == items and proposal["receipts_total"] == 7
    assert proposal["receipts_url"] == receipts_url(proposal_id)


def test_a_proposal_inlines_only_the_first_receipts_up_to_the_cap_and_counts_them_all(
    gov, closed_vote, app, monkeypatch
):
    monkeypatch.setitem(app.config, "COOP_RECEIPTS_INLINE_MAX", 5)
    reader, proposal_id, receipts = closed_vote(12)

    proposal = gov.get(reader, proposal_id)

    assert len(proposal["receipts"]) == 5 and proposal["receipts_total"] == 12
    first_page = reader.get(proposal["receipts_url"], query_string={"limit": 5}).json["items"]
    assert proposal["receipts"] == first_page
    assert [r["receipt"] for r in proposal["receipts"]] == sorted(receipts)[:5]


def test_the_default_inline_cap_is_1000(gov, closed_vote, app):
    assert "COOP_RECEIPTS_INLINE_MAX" not in app.config
    reader, proposal_id, receipts = closed_vote(RECEIPTS_INLINE_MAX + 1)

    proposal = gov.get(reader, proposal_id)

    assert RECEIPTS_INLINE_MAX == 1000
    assert len(proposal["receipts"]) == 1000 and proposal["receipts_total"] == 1001
    assert [r["receipt"] for r in proposal["receipts"]] == sorted(receipts)[:1000]


def unguard(cell: str) -> str:
    return cell[1:] if cell[:2] in ("'=", "'+", "'-", "'@") else cell


def test_the_csv_export_holds_every_receipt_the_pages_hold_with_formulas_defused(closed_vote):
    tag = uuid.uuid4().hex[:8]
    risky = [f"-{tag}a", f"={tag}b", f"+{tag}c", f"@{tag}d", f"{tag}e", f"_{tag}f", f"{tag}g"]
    reader, proposal_id, _ = closed_vote(len(risky), risky)

    response = reader.get(receipts_url(proposal_id), query_string={"format": "csv", "limit": 2})

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["receipt", "choice", "reason", "weight"]
    body = rows[1:]
    # Every cell a spreadsheet would run as a formula starts with a quote.
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert sum(row[0].startswith("'") for row in body) == 4
    exported = [
        {"receipt": unguard(receipt), "choice": json.loads(choice), "reason": reason or None, "weight": int(weight)}
        for receipt, choice, reason, weight in body
    ]
    paged = [item for page in all_pages(reader, proposal_id, limit=2) for item in page]
    assert exported == paged and len(exported) == len(risky)


def test_receipts_before_close_are_a_conflict_as_the_proposal_shows_none(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal = gov.open_vote(alice, coordinator)
    gov.vote(alice, proposal["id"], choice="yes")

    shown = gov.get(bob, proposal["id"])
    paged = bob.get(receipts_url(proposal["id"]))
    exported = bob.get(receipts_url(proposal["id"]), query_string={"format": "csv"})

    assert shown["receipts"] is None and shown["receipts_total"] is None and shown["receipts_url"] is None
    assert paged.status_code == 409 and "closes" in paged.json["message"]
    assert exported.status_code == 409


def test_receipts_are_read_by_whoever_may_read_the_proposal_and_no_one_else(closed_vote, anon, as_requester):
    _, proposal_id, receipts = closed_vote(2)

    assert anon.get(receipts_url(proposal_id)).status_code == 401
    assert anon.get(receipts_url(proposal_id), query_string={"format": "csv"}).status_code == 401
    assert as_requester.get(receipts_url(999_999_999)).status_code == 404
    # Any signed-in account may read a proposal, a requester too: there is no 403 to give.
    assert as_requester.get(f"/api/v1/proposals/{proposal_id}").status_code == 200
    seen = as_requester.get(receipts_url(proposal_id)).json["items"]
    assert sorted(r["receipt"] for r in seen) == sorted(receipts)


@pytest.mark.parametrize(
    "query", [{"format": "xlsx"}, {"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}, {"cursor": "W10"}]
)
def test_bad_query_arguments_are_422(closed_vote, query):
    reader, proposal_id, _ = closed_vote(1)

    response = reader.get(receipts_url(proposal_id), query_string=query)

    assert response.status_code == 422, response.json


def test_a_ballots_reason_is_published_with_its_receipt_after_close(gov):
    coordinator, (alice, bob) = gov.coop(members=2)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    first = gov.vote(alice, proposal_id, choice="no", reason="Too early: the pilot has not reported.")
    assert first.status_code == 201
    # Casting again replaces the reason with the ballot; saying nothing leaves none.
    replaced = gov.vote(alice, proposal_id, choice="yes", reason="  The pilot reported well.  ")
    silent = gov.vote(bob, proposal_id, choice="yes")
    assert replaced.status_code == 200 and silent.status_code == 201
    assert gov.get(alice, proposal_id)["receipts"] is None

    clock.advance(timedelta(days=30))
    shown = {r["receipt"]: r for r in gov.get(bob, proposal_id)["receipts"]}
    assert shown[replaced.json["receipt"]]["reason"] == "The pilot reported well."
    assert shown[silent.json["receipt"]]["reason"] is None
    assert first.json["receipt"] not in shown
    rows = list(csv.reader(io.StringIO(bob.get(receipts_url(proposal_id), query_string={"format": "csv"}).text)))
    assert {row[0]: row[2] for row in rows[1:]} == {
        replaced.json["receipt"]: "The pilot reported well.",
        silent.json["receipt"]: "",
    }


@pytest.mark.parametrize(
    "ballot",
    [{"choice": "yes", "reason": "x" * 501}, {"reason": "Only a reason, no choice."}, {"choice": "yes", "reason": 5}],
)
def test_a_bad_reason_is_refused_and_casts_nothing(gov, ballot):
    coordinator, (alice, _) = gov.coop(members=2)
    proposal_id = gov.open_vote(alice, coordinator)["id"]
    response = gov.vote(alice, proposal_id, **ballot)
    assert response.status_code == 422
    assert gov.get(alice, proposal_id)["ballots_cast"] == 0
