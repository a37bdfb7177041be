"""Outgoing email over SMTP: plain text plus HTML, sent by a job after the change that caused it commits."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from coop import jobs


def enabled() -> bool:
    """Whether the coop sends email at all (COOP_SMTP_URL is set)."""
    return bool(current_app.config.get("COOP_SMTP_URL"))


def send(to: str, subject: str, text: str, html: str | None = None, headers: dict[str, str] | None = None) -> None:
    """Send one email when this unit of work commits (nothing is sent if it rolls back, or if email is off)."""
    if not enabled():
        return
    # The Message-ID is fixed now, so a retried delivery is the same message (mail systems drop the repeat).
    jobs.defer(
        "mail.send",
        to=to,
        subject=subject,
        text=text,
        html=html,
        headers=headers or {},
        message_id=make_msgid(domain="coop"),
    )


def compose(
    to: str, subject: str, text: str, html: str | None, headers: dict[str, str], message_id: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["COOP_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="coop")
    for name, value in headers.items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


@jobs.task("mail.send", retry=jobs.OUTBOUND_RETRY)
def deliver(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict | None = None,
    message_id: str | None = None,
) -> None:
    """Hand one email to the SMTP server named by COOP_SMTP_URL (a server that is down: retried with backoff)."""
    url = current_app.config.get("COOP_SMTP_URL")
    if not url:
        return
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    host, port = parts.hostname or "127.0.0.1", parts.port
    message = compose(to, subject, text, html, headers or {}, message_id)
    if parts.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=30, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port or 25, timeout=30)
    with smtp:
        if options.get("starttls") == ["1"]:
            smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
