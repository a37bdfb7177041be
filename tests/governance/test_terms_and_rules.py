"""Reading the terms and rules in force, with their history."""

from coop.governance.terms import FOUNDING_TERMS


def test_current_terms_are_the_founding_terms_until_a_vote_changes_them(as_requester):
    response = as_requester.get("/api/v1/terms/current")
    assert response.status_code == 200
    assert response.json["version"] == 1
    assert response.json["params"] == FOUNDING_TERMS
    assert response.json["adopted_by"] is None and response.json["effective_at"]


def test_terms_history_lists_versions_newest_first_in_pages(as_worker, adopt_terms):
    adopt_terms(min_hourly_rate_cents=1300)
    adopt_terms(min_hourly_rate_cents=1400)
    first = as_worker.get("/api/v1/terms?limit=2").json
    assert [t["version"] for t in first["items"]] == [3, 2]
    second = as_worker.get(f"/api/v1/terms?limit=2&cursor={first['next_cursor']}").json
    assert [t["version"] for t in second["items"]] == [1] and second["next_cursor"] is None
    assert as_worker.get("/api/v1/terms/current").json["params"]["min_hourly_rate_cents"] == 1400


def test_one_terms_version_by_number(as_member):
    assert as_member.get("/api/v1/terms/1").json["params"]["share_price_cents"] == 2500
    assert as_member.get("/api/v1/terms/99").status_code == 404


def test_terms_are_read_by_anyone_without_signing_in(anon):
    for url in ("/api/v1/terms/current", "/api/v1/terms", "/api/v1/terms/1"):
        assert anon.get(url).status_code == 200


def test_rules_lists_each_document_in_force(as_requester):
    rules = as_requester.get("/api/v1/rules").json
    assert [(r["slug"], r["version"]) for r in rules] == [("bylaws", 1), ("forum-rules", 1), ("marketplace-code", 1)]
    assert all(r["text"].startswith("# ") for r in rules)


def test_a_rule_shows_its_text_in_force_and_its_history(as_member, session):
    from coop.governance.models import RuleVersion

    session.add(
        RuleVersion(
            slug="forum-rules", version=2, title="Forum rules", text="# Forum rules\n\nBe kind.", adopted_by=None
        )
    )
    session.flush()
    rule = as_member.get("/api/v1/rules/forum-rules").json
    assert rule["version"] == 2 and rule["text"].endswith("Be kind.")
    assert [v["version"] for v in rule["history"]] == [2, 1]
    assert "No doxxing" in rule["history"][1]["text"]


def test_unknown_rule_is_404_and_rules_are_read_without_signing_in(as_member, anon):
    assert as_member.get("/api/v1/rules/no-such-rule").status_code == 404
    assert anon.get("/api/v1/rules/no-such-rule").status_code == 404
    assert anon.get("/api/v1/rules").status_code == 200
    assert anon.get("/api/v1/rules/bylaws").status_code == 200
