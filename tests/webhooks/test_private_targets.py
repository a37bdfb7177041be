"""Private targets: refused at registration and again at delivery, every resolved address checked, unless allowed."""

import socket

import pytest
import sqlalchemy as sa

from coop.extensions import db
from coop.webhooks import sending
from coop.webhooks import services as webhooks
from coop.webhooks.models import WebhookDelivery
from tests.webhooks.helpers import API, run_jobs, subscribe

PRIVATE_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.5/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:8080/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://localhost:8080/hook",
]


@pytest.fixture
def production_targets(app):
    before = app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"]
    app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"] = False
    yield
    app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"] = before


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_registering_a_private_target_is_refused(make, production_targets, url):
    response = make.client(make.requester()).post(f"{API}/webhooks", json={"url": url, "events": ["batch.completed"]})
    assert response.status_code == 422
    assert "webhooks go only to public addresses" in response.json["errors"]["url"][0]


def test_every_resolved_address_is_checked(monkeypatch):
    # A host answering one public and one private address is refused: the connection might use either.
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ],
    )
    target = sending.parse("https://hooks.example.org/coop")
    with pytest.raises(sending.TargetRefused, match="10.0.0.7"):
        sending.resolve(target, allow_private=False)
    assert sending.resolve(target, allow_private=True) == "93.184.216.34"


def test_the_connection_goes_to_the_checked_address(monkeypatch, receiver):
    # The host name resolves (once) to the receiver; no second lookup can send it elsewhere.
    port = int(receiver.url.split(":")[2].split("/")[0])
    lookups = []

    real = socket.getaddrinfo

    def resolver(host, p, *args, **kw):
        lookups.append(host)
        if host == "127.0.0.1":  # connecting to the checked address: no name to look up
            return real(host, p, *args, **kw)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    outcome = sending.post(
        f"http://hooks.example.org:{port}/in", "whsec_" + "A" * 32, "msg_1", "{}", allow_private=True, timeout=2
    )
    assert outcome.ok and lookups.count("hooks.example.org") == 1
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.org:{port}"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_public_addresses(address, public):
    assert sending.is_public(address) is public


def test_a_target_is_checked_again_at_delivery(shop, receiver, app):
    hook = subscribe(shop.rc, receiver.url, ["batch.completed"])  # allowed while registering
    app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"] = False
    try:
        webhooks.emit("batch.completed", {"batch_id": shop.batch["id"]}, requester_id=shop.requester.id)
        run_jobs()
    finally:
        app.config["COOP_WEBHOOKS_ALLOW_PRIVATE"] = True
    assert receiver.requests == []
    delivery = db.session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook["id"]))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "public addresses" in delivery.last_error


def test_production_refuses_private_targets_unless_the_setting_allows_them(monkeypatch):
    from coop.config import ProductionConfig, TestingConfig

    monkeypatch.setenv("COOP_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("COOP_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379")
    monkeypatch.delenv("COOP_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    assert ProductionConfig.load("/tmp/coop-instance-test")["COOP_WEBHOOKS_ALLOW_PRIVATE"] is False
    assert TestingConfig.load("/tmp/coop-instance-test")["COOP_WEBHOOKS_ALLOW_PRIVATE"] is True
    monkeypatch.setenv("COOP_WEBHOOKS_ALLOW_PRIVATE", "1")
    assert ProductionConfig.load("/tmp/coop-instance-test")["COOP_WEBHOOKS_ALLOW_PRIVATE"] is True
