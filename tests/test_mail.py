"""Email: sent to a real SMTP server after the change commits, never when it rolls back or email is off."""

from coop import jobs, mail
from coop.extensions import db


def test_an_email_arrives_after_commit_with_text_and_html(session, smtp_server):
    mail.send("amina@example.org", "Vote open", "A vote is open.", "<p>A vote is open.</p>", {"X-Coop-Kind": "vote"})
    db.session.commit()
    jobs.run_until_idle()
    [message] = smtp_server.to("amina@example.org")
    assert message["Subject"] == "Vote open"
    assert message["X-Coop-Kind"] == "vote"
    assert message.get_body(("plain",)).get_content().strip() == "A vote is open."
    assert "<p>A vote is open.</p>" in message.get_body(("html",)).get_content()


def test_a_rolled_back_change_sends_nothing(session, smtp_server):
    mail.send("amina@example.org", "Vote open", "A vote is open.")
    db.session.rollback()
    jobs.run_until_idle()
    assert smtp_server.messages == []


def test_without_an_smtp_url_no_email_is_queued(session, app):
    assert not app.config["COOP_SMTP_URL"]
    mail.send("amina@example.org", "Vote open", "A vote is open.")
    db.session.commit()
    assert jobs.run_until_idle() == 0
