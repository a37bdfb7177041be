"""Webhook test helpers: a real HTTP receiver that checks every signature, and a requester whose batch makes events."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

from coop import jobs, ledger
from coop.extensions import db
from tests.marketplace.conftest import batch_body

API = "/api/v1"


class Receiver:
    """An HTTP server on a free local port: records each request, answers the next queued status (200 after)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers.items()), "body": body.decode()})
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/coop"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verified(self, secret: str) -> list[dict]:
        """Every request's body, each checked with the Standard Webhooks library (raises if one fails)."""
        return [Webhook(secret).verify(r["body"], r["headers"]) for r in self.requests]


def run_jobs() -> None:
    """Commit what the test did, then run every job it queued (deliveries run here, synchronously)."""
    db.session.commit()
    jobs.run_until_idle()


def subscribe(client, url: str, events: list[str]) -> dict:
    response = client.post(f"{API}/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.json
    return response.json


class Shop:
    """A funded requester with a batch, and a member to work on it."""

    def __init__(self, make, items: int = 2):
        self.requester = make.requester()
        ledger.move(ledger.EXTERNAL, ledger.requester_available(self.requester.id), 10_000, "test deposit")
        self.rc = make.client(self.requester)
        self.member = make.member()
        self.mc = make.client(self.member)
        response = self.rc.post(f"{API}/batches", json=batch_body(items))
        assert response.status_code == 201, response.json
        self.batch = response.json

    def claim(self) -> dict:
        response = self.mc.post(f"{API}/batches/{self.batch['id']}/claim")
        assert response.status_code == 201, response.json
        return response.json

    def submit(self, assignment_id: int) -> None:
        response = self.mc.post(f"{API}/assignments/{assignment_id}/submit", json={"answer": {"ok": True}})
        assert response.status_code == 200, response.json


def bodies(receiver: Receiver, secret: str) -> list[dict]:
    return receiver.verified(secret)


def event_types(receiver: Receiver, secret: str) -> list[str]:
    return [body["type"] for body in receiver.verified(secret)]
