"""Sending one signed delivery over HTTP, only to addresses the coop allows (no private network in production)."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

USER_AGENT = "Coop-Webhooks/1"
# What is kept of a receiver's answer: enough to log, never enough to fill memory.
MAX_ANSWER_BYTES = 4096


class TargetRefused(Exception):
    """A webhook URL the coop will not send to; the message says why, for a person."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse(url: str) -> Target:
    """The parts of a webhook URL, or TargetRefused for one that is not a plain http(s) address."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused("This is not a URL; give one like https://example.org/hooks/coop.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Give an http:// or https:// URL with a host name, like https://example.org/hooks/coop.")
    if parts.username or parts.password:
        raise TargetRefused("Leave user names and passwords out of the URL; check the signature instead.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not private, loopback, link-local, reserved...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(target: Target, allow_private: bool) -> str:
    """The address to connect to: every address the host resolves to is checked, then one of them is used.

    Connecting to the checked address (not resolving again) closes the gap a DNS answer that
    changes between the check and the connection would open.
    """
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"The host {target.host} cannot be resolved; check the URL.") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise TargetRefused(f"The host {target.host} cannot be resolved; check the URL.")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(
                    f"The host {target.host} resolves to {address}, a private, loopback or link-local address; "
                    "webhooks go only to public addresses."
                )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self):
        # TLS still checks the certificate against the host name in the URL.
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def headers_for(secret: str, msg_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt: id, timestamp and signature."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def post(url: str, secret: str, msg_id: str, body: str, *, allow_private: bool, timeout: float) -> Outcome:
    """Send one attempt; never raises for the receiver's faults, which are the Outcome."""
    try:
        target = parse(url)
        address = resolve(target, allow_private)
    except TargetRefused as exc:
        return Outcome(None, str(exc))
    # The receiver checks the timestamp against its own clock, so it is the real time of sending.
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers_for(secret, msg_id, body, datetime.now(UTC)),
    }
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(
            address, target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(address, target.host, target.port, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)
        return Outcome(answer.status, None if 200 <= answer.status < 300 else f"answered HTTP {answer.status}")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"{exc.__class__.__name__}: {exc}"[:500])
    finally:
        connection.close()
