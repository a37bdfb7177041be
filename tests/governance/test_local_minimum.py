"""Local minimum wages: members state their country, and the coop floor never falls below theirs."""

import pytest

from coop.governance.models import TermsVersion

API = "/api/v1"


def lower_floor(cents: int) -> dict:
    return {
        "title": "Lower the floor",
        "body": "Batches are scarce.",
        "kind": "terms",
        "method": "yes_no",
        "change": {"min_hourly_rate_cents": cents},
    }


def test_a_person_states_their_country_as_an_iso_code(make, session):
    user = make.member()
    client = make.client(user)
    stated = client.patch(f"{API}/me", json={"country": "fr"})
    assert stated.status_code == 200 and stated.json["country"] == "FR"
    assert client.get(f"{API}/me").json["country"] == "FR" and user.country == "FR"
    assert client.patch(f"{API}/me", json={"country": None}).json["country"] is None


@pytest.mark.parametrize("country", ["XX", "EU", "FRA", "F", "", 33, ["FR"]])
def test_a_country_that_is_no_iso_code_is_refused(make, session, country):
    user = make.member()
    response = make.client(user).patch(f"{API}/me", json={"country": country})
    assert response.status_code == 422 and "country" in response.json["errors"]
    assert user.country is None


def test_the_profile_takes_only_the_country_and_only_from_the_signed_in(make, session):
    user = make.member()
    refused = make.client(user).patch(f"{API}/me", json={"country": "DE", "is_coordinator": True})
    assert refused.status_code == 422 and not user.is_coordinator and user.country is None
    assert make.client().patch(f"{API}/me", json={"country": "DE"}).status_code == 401


def test_the_terms_page_shows_the_margin_over_members_local_minimum(make, session):
    client = make.client(make.worker())
    assert client.get(f"{API}/terms/current").json["local_minimum"] is None
    # A worker who is not (yet) a member does not count.
    client.patch(f"{API}/me", json={"country": "FR"})
    assert client.get(f"{API}/terms/current").json["local_minimum"] is None
    make.client(make.member()).patch(f"{API}/me", json={"country": "FR"})
    page = client.get(f"{API}/terms/current").json
    assert page["params"]["local_min_hourly_cents"] == {"FR": 1202}
    assert page["local_minimum"] == {
        "country": "FR",
        "local_min_hourly_cents": 1202,
        "margin_cents": page["params"]["min_hourly_rate_cents"] - 1202,
    }
    assert page["local_minimum"]["margin_cents"] == 98  # the founding floor of 1300


def test_the_highest_local_minimum_among_members_countries_counts(make, adopt_terms, session):
    adopt_terms(local_min_hourly_cents={"FR": 1202, "DE": 1282, "NL": 1400})
    for country in ("FR", "DE"):
        make.client(make.member()).patch(f"{API}/me", json={"country": country})
    page = make.client().get(f"{API}/terms/current").json
    assert page["local_minimum"] == {"country": "DE", "local_min_hourly_cents": 1282, "margin_cents": 18}


def test_a_proposal_setting_the_floor_below_a_members_local_minimum_is_refused(gov, make, session):
    make.client(make.member()).patch(f"{API}/me", json={"country": "FR"})
    coordinator, members = gov.coop(members=1)
    refused = members[0].post(f"{API}/proposals", json=lower_floor(1201))
    assert refused.status_code == 422
    assert "1202" in refused.json["message"] and "FR" in refused.json["message"]
    assert "min_hourly_rate_cents" in refused.json["errors"]["change"]
    assert members[0].post(f"{API}/proposals", json=lower_floor(1202)).status_code == 201


def test_a_passed_proposal_below_a_local_minimum_ends_passed_with_an_error_and_changes_nothing(
    gov, make, session, audit_entries
):
    coordinator, members = gov.coop(members=2)
    proposal = gov.open_vote(members[0], coordinator, **lower_floor(1150))
    # Meanwhile a member says they live in France, where the minimum wage is 1202 cents an hour.
    french = make.member()
    make.client(french).patch(f"{API}/me", json={"country": "FR"})
    versions = session.query(TermsVersion).count()
    for voter in (coordinator, *members):
        assert gov.vote(voter, proposal["id"], choice="yes").status_code == 201
    gov.vote(make.client(french), proposal["id"], choice="no")
    closed = gov.get(members[0], proposal["id"])
    assert closed["status"] == "passed"
    assert "1202" in closed["result"]["error"] and "No new terms version was made" in closed["result"]["error"]
    assert session.query(TermsVersion).count() == versions
    terms = members[0].get(f"{API}/terms/current").json
    assert terms["params"]["min_hourly_rate_cents"] == 1300
    assert audit_entries(event="terms.version", subject=f"terms:{versions + 1}") == []


def test_raising_a_local_minimum_above_the_floor_is_refused_too(gov, make, session):
    make.client(make.member()).patch(f"{API}/me", json={"country": "FR"})
    coordinator, members = gov.coop(members=1)
    body = {**lower_floor(0), "change": {"local_min_hourly_cents": {"FR": 1350}}}
    refused = members[0].post(f"{API}/proposals", json=body)
    assert refused.status_code == 422 and "1350" in refused.json["message"]
    body["change"] = {"local_min_hourly_cents": {"FR": 1300, "DE": 1282}}
    assert members[0].post(f"{API}/proposals", json=body).status_code == 201


@pytest.mark.parametrize(
    "table", [{"fr": 1202}, {"FRA": 1202}, {"FR": 0}, {"FR": "1202"}, {"FR": 12.02}, ["FR"], {"EU": 1000}]
)
def test_the_local_minimum_table_is_validated(gov, session, table):
    coordinator, members = gov.coop(members=1)
    body = {**lower_floor(0), "change": {"local_min_hourly_cents": table}}
    assert members[0].post(f"{API}/proposals", json=body).status_code == 422


def test_other_terms_changes_pass_while_a_newly_stated_country_is_above_the_floor(gov, make, adopt_terms, session):
    adopt_terms(local_min_hourly_cents={"FR": 1202, "LU": 1500})
    coordinator, members = gov.coop(members=1)
    members[0].patch(f"{API}/me", json={"country": "LU"})
    assert members[0].get(f"{API}/terms/current").json["local_minimum"]["margin_cents"] == -200
    proposal = gov.open_vote(members[0], coordinator, **{**lower_floor(0), "change": {"claim_lease_minutes": 45}})
    for voter in (coordinator, *members):
        gov.vote(voter, proposal["id"], choice="yes")
    assert gov.get(members[0], proposal["id"])["status"] == "enacted"
