"""Subscribing: the secret shown once, events each role may hear, and nobody else's webhooks."""

import base64

from tests.webhooks.helpers import API, subscribe

URL = "http://127.0.0.1:9/hooks"


def test_creating_a_webhook_shows_its_secret_once(make):
    client = make.client(make.requester())
    created = subscribe(client, URL, ["assignment.submitted", "batch.completed"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert created["events"] == ["assignment.submitted", "batch.completed"]
    listed = client.get(f"{API}/webhooks").json
    assert [hook["id"] for hook in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0] and secret not in str(listed)
    assert listed["next_cursor"] is None


def test_each_role_subscribes_only_to_what_concerns_it(make):
    requester, member, worker = (make.client(u) for u in (make.requester(), make.member(), make.worker()))
    refused = requester.post(f"{API}/webhooks", json={"url": URL, "events": ["assignment.submitted", "terms.changed"]})
    assert refused.status_code == 422
    assert "terms.changed" in refused.json["message"] and refused.json["errors"]["events"]
    member_refused = member.post(f"{API}/webhooks", json={"url": URL, "events": ["batch.paused"]})
    assert member_refused.status_code == 422 and "batch.paused" in member_refused.json["message"]
    assert subscribe(member, URL, ["proposal.opened", "proposal.closed", "terms.changed"])["id"]
    worker_refused = worker.post(f"{API}/webhooks", json={"url": URL, "events": ["proposal.opened"]})
    assert worker_refused.status_code == 422 and "only members" in worker_refused.json["message"]
    unknown = requester.post(f"{API}/webhooks", json={"url": URL, "events": ["batch.exploded"]})
    assert unknown.status_code == 422 and "batch.exploded: not an event" in unknown.json["message"]
    assert requester.post(f"{API}/webhooks", json={"url": URL, "events": []}).status_code == 422


def test_a_url_must_be_http_or_https(make):
    client = make.client(make.requester())
    for url in ("ftp://example.org/x", "not a url", "http://user:pw@127.0.0.1/x", "http://"):
        response = client.post(f"{API}/webhooks", json={"url": url, "events": ["batch.completed"]})
        assert response.status_code == 422, url
        assert "url" in response.json["errors"]


def test_nobody_sees_deletes_or_redelivers_anothers_webhook(make):
    owner, other = make.client(make.requester()), make.client(make.requester())
    hook = subscribe(owner, URL, ["batch.completed"])
    assert other.get(f"{API}/webhooks").json["items"] == []
    for response in (
        other.get(f"{API}/webhooks/{hook['id']}/deliveries"),
        other.delete(f"{API}/webhooks/{hook['id']}"),
        other.post(f"{API}/webhooks/{hook['id']}/deliveries/1/redeliver"),
    ):
        # The same answer as for an id that names nothing: ids reveal nothing about others' webhooks.
        assert response.status_code == 404
        assert response.json["message"] == "You have no webhook with this id."
    assert owner.get(f"{API}/webhooks/{hook['id']}/deliveries").status_code == 200
    assert owner.delete(f"{API}/webhooks/{hook['id']}").status_code == 204
    assert owner.get(f"{API}/webhooks/{hook['id']}/deliveries").status_code == 404


def test_webhooks_need_signing_in(anon):
    assert anon.get(f"{API}/webhooks").status_code == 401
    assert anon.post(f"{API}/webhooks", json={"url": URL, "events": ["batch.completed"]}).status_code == 401


def test_an_account_holds_a_limited_number_of_webhooks(make, monkeypatch):
    from coop.webhooks import services as webhooks

    monkeypatch.setattr(webhooks, "MAX_WEBHOOKS_PER_ACCOUNT", 2)
    client = make.client(make.requester())
    for _ in range(2):
        subscribe(client, URL, ["batch.completed"])
    refused = client.post(f"{API}/webhooks", json={"url": URL, "events": ["batch.completed"]})
    assert refused.status_code == 409 and "delete one" in refused.json["message"]
