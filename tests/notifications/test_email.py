"""Email: in each member's language, immediate or in a daily digest or off, with a one-click unsubscribe link."""

import re
from datetime import timedelta

import sqlalchemy as sa

from coop import clock, jobs
from coop.extensions import db
from coop.notifications import services
from coop.notifications.models import Notification
from coop.notifications.services import notify, send_digests

API = "/api/v1"


def _flush_mail():
    db.session.commit()
    jobs.run_until_idle()


def _speaking(make, locale):
    user = make.member()
    user.locale = locale
    db.session.flush()
    return user


def _unsubscribe_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return (
        re.search(r"Stop these emails with one click: (\S+)|Arrêter ces e-mails en un clic : (\S+)", text)
        .group(0)
        .split()[-1]
    )


def test_a_vote_opening_emails_each_member_in_their_language(coop, make, smtp_server):
    french, english = _speaking(make, "fr"), _speaking(make, "en")
    coop.open_vote(title="Raise the floor")
    _flush_mail()
    [fr] = smtp_server.to(french.email)
    [en] = smtp_server.to(english.email)
    assert en["Subject"].startswith('A vote is open on "Raise the floor"')
    assert fr["Subject"].startswith("Un vote est ouvert sur « Raise the floor »")
    assert "Bonjour" in fr.get_body(("plain",)).get_content()
    assert "Hello" in en.get_body(("plain",)).get_content()
    assert "Raise the floor" in fr.get_body(("html",)).get_content()
    for message in (fr, en):
        assert message["List-Unsubscribe"].startswith("<http")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_unsubscribe_link_turns_that_kind_off_and_the_next_one_sends_nothing(coop, make, client, smtp_server, told):
    member = _speaking(make, "en")
    coop.open_vote(title="First vote")
    _flush_mail()
    [message] = smtp_server.to(member.email)
    link = message["List-Unsubscribe"].strip("<>")
    assert _unsubscribe_link(message) == link
    path = link.split("127.0.0.1:5000", 1)[1] if "127.0.0.1:5000" in link else "/" + link.split("/", 3)[3]
    # Following the link only shows a confirm button: a mail scanner opening it changes nothing.
    page = client.get(path)
    assert page.status_code == 200
    assert "Stop these emails" in page.get_data(as_text=True)
    assert services.get_preferences(member)["vote_opened"] == "immediate"
    # RFC 8058 one-click: a POST with no cookie and no CSRF token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    db.session.expire_all()
    assert services.get_preferences(member)["vote_opened"] == "off"
    smtp_server.messages.clear()
    coop.open_vote(title="Second vote")
    _flush_mail()
    assert smtp_server.to(member.email) == []
    # Still told in the app, and other kinds still email.
    assert [n.params["title"] for n in told(member, "vote_opened")] == ["First vote", "Second vote"]
    assert smtp_server.to(coop.members[1].email)


def test_a_forged_unsubscribe_token_changes_nothing(make, client):
    member = make.member()
    token = services.unsubscribe_token(member, ["message"])
    assert client.post(f"/unsubscribe/{token[:-2]}xx").status_code == 404
    assert client.get("/unsubscribe/not-a-token").status_code == 404
    assert services.get_preferences(member)["message"] == "immediate"


def test_the_digest_gathers_several_into_one_email_once_a_day(make, smtp_server, frozen_clock):
    member = _speaking(make, "fr")
    client = make.client(member)
    assert client.patch(f"{API}/me/preferences", json={"notify": {"vote_result": "digest"}}).status_code == 200
    for i in range(3):
        notify(
            [member.id], "vote_result", f"proposal:{i}", {"proposal_id": i, "title": f"Vote {i}", "status": "passed"}
        )
    _flush_mail()
    assert smtp_server.to(member.email) == []  # nothing at once
    assert send_digests() == "1 digest(s) sent"
    _flush_mail()
    [digest] = smtp_server.to(member.email)
    assert "3" in digest["Subject"] and "résumé" in digest["Subject"]
    text = digest.get_body(("plain",)).get_content()
    assert all(f"Vote {i}" in text for i in range(3))
    # Run again the same day, even with something new: nothing more until tomorrow.
    notify([member.id], "vote_result", "proposal:9", {"proposal_id": 9, "title": "Vote 9", "status": "passed"})
    _flush_mail()
    assert send_digests() == "0 digest(s) sent"
    _flush_mail()
    assert len(smtp_server.to(member.email)) == 1
    clock.advance(timedelta(days=1))
    send_digests()
    _flush_mail()
    assert len(smtp_server.to(member.email)) == 2
    assert "Vote 9" in smtp_server.to(member.email)[1].get_body(("plain",)).get_content()
    assert send_digests() == "no digest due"


def test_the_digest_job_is_registered_and_idempotent(make, smtp_server):
    member = make.member()
    services.set_preferences(member, {"message": "digest"})
    notify([member.id], "message", "assignment:1", {"assignment_id": 1, "batch": "B", "by": "Ana", "excerpt": "hi"})
    jobs.defer("tick.notification_digests")
    jobs.defer("tick.notification_digests")
    _flush_mail()
    assert len(smtp_server.to(member.email)) == 1


def test_off_sends_nothing_but_still_shows_in_the_app(coop, make, smtp_server):
    member = make.member()
    services.set_preferences(member, {"vote_opened": "off"})
    coop.open_vote(title="Quiet vote")
    _flush_mail()
    send_digests()
    _flush_mail()
    assert smtp_server.to(member.email) == []
    items = make.client(member).get(f"{API}/me/notifications").get_json()["items"]
    assert [n["params"]["title"] for n in items] == ["Quiet vote"]


def test_without_smtp_nothing_waits_to_be_mailed(coop, make):
    coop.open_vote()
    db.session.commit()
    jobs.run_until_idle()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(Notification.email != "off")) == 0
    )


def test_no_email_address_of_anyone_is_shown_to_another(coop, make, smtp_server):
    # A message, a reply and a vote: each names its author by pseudonym only.
    assignment = coop.submitted(coop.mc[0])
    coop.ok(coop.rc.post(f"{API}/assignments/{assignment['id']}/messages", json={"body": "Thanks, one question."}), 201)
    coop.ok(coop.mc[0].post(f"{API}/assignments/{assignment['id']}/messages", json={"body": "Sure, ask."}), 201)
    coop.open_vote(coop.mc[1], title="Open vote")
    _flush_mail()
    emails = {u.email for u in [coop.requester, coop.coordinator, *coop.members]}
    for message in smtp_server.messages:
        body = message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()
        others = {e for e in emails if e != message["To"]}
        assert not any(e in body or e in str(message["Subject"]) for e in others)
    for client in [coop.rc, *coop.mc]:
        listed = str(client.get(f"{API}/me/notifications").get_json())
        assert not any(e in listed for e in emails)
    assert smtp_server.to(coop.requester.email)  # the requester was told of the worker's message


def test_ten_thousand_style_bulk_is_one_insert_and_batched_sending(coop, make, smtp_server, count_queries, monkeypatch):
    for _ in range(6):
        make.member()
    monkeypatch.setattr(services, "SEND_BATCH", 4)
    proposal = coop.propose(coop.mc[0])
    with count_queries() as counted:
        coop.accept(proposal["id"])
    inserts = [s for s in counted.statements if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")]
    # One INSERT ... SELECT for every eligible member, one for the proposer's review: never one per member.
    assert len(inserts) == 2
    notified = db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "vote_opened")
    )
    assert notified >= 10
    db.session.commit()
    jobs.run_until_idle()
    # Every member got one email, sent by mailer runs of at most 4 each.
    assert len([m for m in smtp_server.messages if "A vote is open" in str(m["Subject"])]) == notified
