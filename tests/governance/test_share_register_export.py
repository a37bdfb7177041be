"""The share register as CSV: coordinators only, every membership of a status, no emails, formulas defused."""

import csv
import io

import pytest
import sqlalchemy as sa

from coop.governance.models import Membership

URL = "/api/v1/members"
HEADER = [
    "user_id",
    "display_name",
    "status",
    "applied_at",
    "joined_at",
    "ended_at",
    "share_paid_cents",
    "held_cents",
]


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == HEADER
    return [dict(zip(HEADER, line, strict=True)) for line in lines[1:]]


def test_coordinators_download_every_member_with_share_and_holdings_and_never_an_email(make, session):
    coordinator = make.coordinator()
    members = [make.member() for _ in range(3)]
    client = make.client(coordinator)

    response = client.get(URL, query_string={"format": "csv", "limit": 1})

    assert "attachment" in response.headers["Content-Disposition"]
    register = {int(row["user_id"]): row for row in rows(response)}
    # Every member, whatever the page size: the export ignores limit and cursor.
    assert {m.id for m in members} | {coordinator.id} <= set(register)
    members_now = sa.select(sa.func.count()).select_from(Membership).where(Membership.status == "member")
    assert len(register) == session.scalar(members_now)
    first = members[0]
    membership = session.get(Membership, first.id)
    line = register[first.id]
    assert line["display_name"] == first.display_name and line["status"] == "member"
    assert line["share_paid_cents"] == str(membership.share_paid_cents) == line["held_cents"]
    assert line["joined_at"] == membership.joined_at.isoformat() and line["ended_at"] == ""
    assert "@" not in response.get_data(as_text=True)


def test_the_status_chooses_whose_shares_are_listed(make, session):
    coordinator = make.client(make.coordinator())
    leaving = make.member()
    make.client(leaving).post("/api/v1/membership/withdraw")

    withdrawn = rows(coordinator.get(URL, query_string={"format": "csv", "status": "withdrawn"}))

    line = next(row for row in withdrawn if int(row["user_id"]) == leaving.id)
    assert line["status"] == "withdrawn" and line["ended_at"] != ""
    # What the coop holds for a former member after redemption.
    assert line["held_cents"] == "0"
    assert all(row["status"] == "withdrawn" for row in withdrawn)


def test_a_pseudonym_that_looks_like_a_formula_is_defused(make):
    coordinator = make.client(make.coordinator())
    sly = make.member("=HYPERLINK(1)")
    line = next(
        row for row in rows(coordinator.get(URL, query_string={"format": "csv"})) if row["user_id"] == str(sly.id)
    )
    assert line["display_name"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("role", ["member", "worker", "requester"])
def test_only_coordinators_download_the_register(make, role):
    user = getattr(make, role)()
    response = make.client(user).get(URL, query_string={"format": "csv"})
    assert response.status_code == 403
    assert response.mimetype == "application/json"


def test_an_unknown_format_is_422(as_coordinator):
    response = as_coordinator.get(URL, query_string={"format": "xlsx"})
    assert response.status_code == 422 and "format" in str(response.json)


def test_the_register_without_a_format_is_still_the_json_page(as_member):
    response = as_member.get(URL)
    assert response.status_code == 200 and "items" in response.json
