"""Helpers for account email tests: the link in an email, as a path the test clients follow."""

import re
from urllib.parse import parse_qs, urlsplit

from coop import jobs
from coop.extensions import db


def deliver() -> None:
    """Send what the last committed change queued (the email job runs after commit)."""
    db.session.commit()
    jobs.run_until_idle()


def link_in(message) -> str:
    """The one coop link in an email's text, as a path with its query."""
    text = message.get_body(("plain",)).get_content()
    [url] = re.findall(r"https?://\S+", text)
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(path: str) -> str:
    parts = urlsplit(path)
    if parts.query:
        return parse_qs(parts.query)["token"][0]
    return parts.path.rsplit("/", 1)[1]
