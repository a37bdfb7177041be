"""Every kind of notification, produced by the real service call that is its event, through the API."""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from coop import clock, jobs
from coop.extensions import db
from coop.forum.models import Board
from coop.governance import services as governance
from coop.notifications.services import mentioned_names, remind_closing_votes
from coop.notifications.texts import text

API = "/api/v1"


def _ids(notifications):
    return [n.user_id for n in notifications]


def test_a_vote_opening_tells_every_eligible_member(coop, make, told):
    worker, requester = make.worker(), coop.requester
    proposal = coop.open_vote(title="Assembly")
    for member in [coop.coordinator, *coop.members]:
        [n] = told(member, "vote_opened")
        assert n.subject == f"proposal:{proposal['id']}"
        assert n.params["title"] == "Assembly"
    assert told(worker) == [] and told(requester) == []


def test_the_result_tells_every_member_who_could_vote(coop, make, told):
    proposal = coop.open_vote(title="Assembly")
    latecomer = make.member()  # joined after opening: not eligible, not told
    for client in [coop.cc, *coop.mc]:
        coop.ok(client.post(f"{API}/proposals/{proposal['id']}/ballot", json={"choice": "yes"}), 201)
    for member in [coop.coordinator, *coop.members]:
        [n] = told(member, "vote_result")
        assert n.params["status"] == "passed"
    assert told(latecomer, "vote_result") == []


def test_the_closing_reminder_goes_once_to_those_who_have_not_voted(coop, told, frozen_clock):
    proposal = coop.accept(coop.propose(coop.mc[0])["id"], voting_days=3)
    coop.ok(coop.mc[0].post(f"{API}/proposals/{proposal['id']}/ballot", json={"choice": "yes"}), 201)
    assert remind_closing_votes() == "0 closing vote(s) checked"  # more than a day left
    clock.advance(timedelta(days=2, hours=1))
    remind_closing_votes()
    jobs.defer("tick.vote_reminders")  # the periodic job, run again: nobody is reminded twice
    db.session.commit()
    jobs.run_until_idle()
    assert told(coop.members[0], "vote_closing") == []  # voted
    for member in [coop.coordinator, *coop.members[1:]]:
        [n] = told(member, "vote_closing")
        assert n.params["proposal_id"] == proposal["id"]


def test_the_author_is_told_when_their_proposal_is_accepted_or_returned(coop, told):
    accepted = coop.open_vote(title="Accepted one")
    returned = coop.propose(coop.mc[1], title="Returned one")
    coop.ok(coop.cc.post(f"{API}/proposals/{returned['id']}/review", json={"action": "return", "reason": "Too vague."}))
    [a] = told(coop.members[0], "proposal_reviewed")
    assert (a.params["action"], a.params["title"], a.params["by"]) == (
        "accept",
        "Accepted one",
        coop.coordinator.display_name,
    )
    assert a.subject == f"proposal:{accepted['id']}"
    [r] = told(coop.members[1], "proposal_reviewed")
    assert (r.params["action"], r.params["reason"]) == ("return", "Too vague.")
    assert "Too vague." in make_text(r)


def make_text(n):
    with force_locale("en"):
        return text(n.kind, n.params)


def test_the_author_is_told_when_cosigners_bring_the_proposal_to_ballot(coop, told):
    proposal = coop.propose(coop.mc[0])
    coop.ok(coop.cc.post(f"{API}/proposals/{proposal['id']}/review", json={"action": "return", "reason": "Not now."}))
    coop.ok(coop.mc[1].post(f"{API}/proposals/{proposal['id']}/cosign"))  # 4 members: one signature is enough
    [n] = told(coop.members[0], "proposal_to_ballot")
    assert n.params["cosigners"] == 1
    assert told(coop.members[1], "proposal_to_ballot") == []


def test_amendments_tell_the_author_and_then_the_cosigners(coop, make, told):
    for _ in range(8):
        make.member()  # twelve members: a petition needs two signatures, so one leaves it open
    proposal = coop.propose(coop.mc[0])
    coop.ok(coop.mc[1].post(f"{API}/proposals/{proposal['id']}/cosign"))
    amendment = coop.ok(
        coop.mc[2].post(
            f"{API}/proposals/{proposal['id']}/amendments", json={"body": "Meet twice.", "reason": "More time."}
        ),
        201,
    )
    [proposed] = told(coop.members[0], "proposal_amended")
    assert (proposed.params["event"], proposed.params["by"]) == ("proposed", coop.members[2].display_name)
    coop.ok(coop.mc[0].post(f"{API}/amendments/{amendment['id']}/accept"))
    [accepted] = told(coop.members[1], "proposal_amended")
    assert (accepted.params["event"], accepted.params["version"]) == ("accepted", 2)
    assert len(told(coop.members[0], "proposal_amended")) == 1  # the author accepted it: not told of their own act


def test_an_outcome_review_date_tells_who_recorded_it_and_the_author(coop, told, frozen_clock):
    proposal = coop.open_vote()
    for client in [coop.cc, *coop.mc]:
        client.post(f"{API}/proposals/{proposal['id']}/ballot", json={"choice": "yes"})
    review_on = (clock.now() + timedelta(days=10)).date().isoformat()
    coop.ok(
        coop.cc.post(f"{API}/proposals/{proposal['id']}/outcome", json={"statement": "We met.", "review_on": review_on})
    )
    clock.advance(timedelta(days=11))
    governance.mark_reviews_due(clock.now())
    governance.mark_reviews_due(clock.now())
    assert len(told(coop.coordinator, "outcome_review_due")) == 1
    assert len(told(coop.members[0], "outcome_review_due")) == 1


def test_the_worker_is_told_their_work_was_approved_or_rejected_with_the_reason(coop, told):
    first, second = coop.submitted(coop.mc[0]), coop.submitted(coop.mc[0])
    coop.ok(coop.rc.post(f"{API}/assignments/{first['id']}/review", json={"decision": "approve"}))
    coop.ok(
        coop.rc.post(
            f"{API}/assignments/{second['id']}/review", json={"decision": "reject", "reason": "Boxes miss the signs."}
        )
    )
    approved, rejected = told(coop.members[0], "work_reviewed")
    assert approved.params["decision"] == "approve"
    assert (rejected.params["decision"], rejected.params["reason"]) == ("reject", "Boxes miss the signs.")
    assert "Boxes miss the signs." in make_text(rejected)


def test_the_worker_is_told_when_their_appeal_is_decided(coop, told):
    assignment = coop.submitted(coop.mc[0])
    coop.ok(
        coop.rc.post(
            f"{API}/assignments/{assignment['id']}/review",
            json={"decision": "reject", "reason": "Boxes miss the signs."},
        )
    )
    appeal = coop.ok(
        coop.mc[0].post(f"{API}/assignments/{assignment['id']}/appeal", json={"reason": "They were right."}), 201
    )
    coop.ok(
        coop.cc.post(f"{API}/appeals/{appeal['id']}/decide", json={"decision": "overturn", "reason": "The boxes fit."})
    )
    [n] = told(coop.members[0], "appeal_decided")
    assert (n.params["about"], n.params["decision"], n.params["reason"]) == ("work", "overturn", "The boxes fit.")


def test_each_party_is_told_of_a_message_about_the_assignment(coop, told):
    assignment = coop.submitted(coop.mc[0])
    coop.ok(
        coop.rc.post(f"{API}/assignments/{assignment['id']}/messages", json={"body": "Could you redo item 2?"}), 201
    )
    coop.ok(coop.mc[0].post(f"{API}/assignments/{assignment['id']}/messages", json={"body": "Done."}), 201)
    [to_worker] = told(coop.members[0], "message")
    assert (to_worker.params["by"], to_worker.params["excerpt"]) == (
        coop.requester.display_name,
        "Could you redo item 2?",
    )
    [to_requester] = told(coop.requester, "message")
    assert to_requester.params["by"] == coop.members[0].display_name


def _board(slug):
    return db.session.scalar(sa.select(Board).where(Board.slug == slug))


def _thread(client, slug, body="First post"):
    response = client.post(f"{API}/forum/boards/{_board(slug).id}/threads", json={"title": "Pay talk", "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["thread"]


def _post(client, thread_id, body, reply_to=None):
    response = client.post(f"{API}/forum/threads/{thread_id}/posts", json={"body": body, "reply_to": reply_to})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_reply_tells_the_author_of_the_post_answered(coop, told):
    thread = _thread(coop.mc[0], "members")
    first = _post(coop.mc[1], thread["id"], "I agree.")  # answers the thread: its author is told
    _post(coop.mc[2], thread["id"], "Why?", reply_to=first["id"])
    _post(coop.mc[1], thread["id"], "Because.", reply_to=first["id"])  # answering oneself tells no one
    [to_author] = told(coop.members[0], "forum_reply")
    assert to_author.params["by"] == coop.members[1].display_name
    [to_first] = told(coop.members[1], "forum_reply")
    assert to_first.params["by"] == coop.members[2].display_name


def test_a_mention_tells_existing_readers_matched_case_insensitively(coop, make, told):
    spaced = make.member("Ana Maria")
    thread = _thread(coop.mc[0], "members")
    body = (
        f"Thanks @{coop.members[1].display_name.upper()} and @ana maria, "
        f"@{coop.requester.display_name} and @nobody-here."
    )
    _post(coop.mc[2], thread["id"], body)
    assert len(told(coop.members[1], "forum_mention")) == 1
    assert len(told(spaced, "forum_mention")) == 1
    # A requester cannot read a members board, so is not told of it.
    assert told(coop.requester, "forum_mention") == []
    assert told(coop.members[2], "forum_mention") == []
    public = _thread(coop.mc[0], "public")
    _post(coop.mc[2], public["id"], f"@{coop.requester.display_name} what do you pay?")
    assert len(told(coop.requester, "forum_mention")) == 1


def test_mention_names_are_read_up_to_four_words():
    assert {"ana", "ana maria", "ana maria and", "ana maria and bo"} <= mentioned_names("hi @Ana Maria and Bo, there")
    assert mentioned_names("mail me at ana@example.org") == set()


def test_the_author_is_told_when_their_post_is_moderated(coop, told):
    thread = _thread(coop.mc[0], "members")
    post = _post(coop.mc[1], thread["id"], "Something rude.")
    coop.ok(
        coop.cc.post(
            f"{API}/forum/posts/{post['id']}/moderation",
            json={"action": "hide", "rule": "forum-rules", "reason": "Rule 2: insults."},
        )
    )
    [n] = told(coop.members[1], "post_moderated")
    assert (n.params["action"], n.params["rule"], n.params["reason"]) == ("hide", "forum-rules", "Rule 2: insults.")
    appeal = coop.ok(coop.mc[1].post(f"{API}/forum/posts/{post['id']}/appeal", json={"reason": "It was a joke."}), 201)
    other = coop.make.coordinator()
    coop.ok(
        coop.make.client(other).post(
            f"{API}/forum/appeals/{appeal['id']}/decide", json={"decision": "uphold", "reason": "Not a joke."}
        )
    )
    [decided] = told(coop.members[1], "appeal_decided")
    assert (decided.params["about"], decided.params["decision"]) == ("post", "uphold")


def test_the_author_is_told_when_members_flags_hide_their_post(coop, make, told):
    thread = _thread(coop.mc[0], "members")
    post = _post(coop.mc[1], thread["id"], "Something rude.")
    for client in [coop.cc, coop.mc[0], coop.mc[2]]:
        coop.ok(client.post(f"{API}/forum/posts/{post['id']}/flags", json={"rule": "forum-rules"}), 201)
    [n] = told(coop.members[1], "post_moderated")
    assert n.params["action"] == "flag_hide"


def test_payments_confirmed_by_coordinators_are_told(coop, make, told):
    deposit = coop.ok(coop.rc.post(f"{API}/deposits", json={"amount_cents": 5000}), 201)
    coop.ok(coop.cc.post(f"{API}/deposits/{deposit['id']}/confirm"))
    [n] = told(coop.requester, "payment_confirmed")
    assert (n.params["what"], n.params["amount_cents"]) == ("deposit", 5000)

    assignment = coop.submitted(coop.mc[0])
    coop.ok(coop.rc.post(f"{API}/assignments/{assignment['id']}/review", json={"decision": "approve"}))
    withdrawal = coop.ok(coop.mc[0].post(f"{API}/me/withdrawals", json={"amount_cents": 20}), 201)
    coop.ok(coop.cc.post(f"{API}/withdrawals/{withdrawal['id']}/confirm"))
    [paid] = told(coop.members[0], "payment_confirmed")
    assert (paid.params["what"], paid.params["amount_cents"]) == ("withdrawal", 20)

    applicant = make.worker()
    coop.ok(make.client(applicant).post(f"{API}/membership", json={"payment_reference": "SEPA 42"}), 201)
    coop.ok(coop.cc.post(f"{API}/membership/{applicant.id}/admit"))
    [share] = told(applicant, "payment_confirmed")
    assert share.params["what"] == "share"


def test_work_approved_automatically_tells_the_worker_once_under_work_reviewed(coop, told, frozen_clock):
    from coop.marketplace import services as marketplace

    first, second = coop.submitted(coop.mc[0]), coop.submitted(coop.mc[1])
    clock.advance(timedelta(hours=72, seconds=1))
    # Lazily, when the worker reads it...
    assert coop.ok(coop.mc[0].get(f"{API}/assignments/{first['id']}"))["review_decision"] == "auto"
    [n] = told(coop.members[0], "work_reviewed")
    assert n.subject == f"assignment:{first['id']}"
    assert (n.params["decision"], n.params["auto"], n.params["batch_id"]) == ("approve", True, first["batch_id"])
    assert "approved automatically" in make_text(n)
    # ...and by the sweep for the rest; a later sweep tells nobody again.
    assert marketplace.tick(clock.now()).endswith("1 assignments auto-approved")
    assert marketplace.tick(clock.now()).endswith("0 assignments auto-approved")
    db.session.commit()
    [m] = told(coop.members[1], "work_reviewed")
    assert m.subject == f"assignment:{second['id']}" and m.params["auto"] is True
    assert len(told(coop.members[0], "work_reviewed")) == 1
    assert told(coop.requester, "work_reviewed") == []


def test_a_work_appeal_tells_the_batchs_requester(coop, make, told):
    assignment = coop.submitted(coop.mc[0])
    coop.ok(
        coop.rc.post(
            f"{API}/assignments/{assignment['id']}/review",
            json={"decision": "reject", "reason": "Boxes miss the signs."},
        )
    )
    assert told(coop.requester, "work_appealed") == []
    appeal = coop.ok(
        coop.mc[0].post(f"{API}/assignments/{assignment['id']}/appeal", json={"reason": "They were right."}), 201
    )
    [n] = told(coop.requester, "work_appealed")
    assert n.subject == f"appeal:{appeal['id']}"
    assert (n.params["assignment_id"], n.params["by"], n.params["reason"]) == (
        assignment["id"],
        coop.members[0].display_name,
        "They were right.",
    )
    assert coop.members[0].display_name in make_text(n) and "They were right." in make_text(n)
    with force_locale("fr"):
        assert "a contesté" in text(n.kind, n.params)
    # Only the requester whose batch it is hears of it; not the worker, nor the coordinators under this kind.
    for other in [coop.members[0], coop.coordinator, make.requester()]:
        assert told(other, "work_appealed") == []


def test_a_refused_work_appeal_tells_nobody(coop, told):
    assignment = coop.submitted(coop.mc[0])
    response = coop.mc[0].post(f"{API}/assignments/{assignment['id']}/appeal", json={"reason": "Not rejected."})
    assert response.status_code == 409
    assert told(coop.requester, "work_appealed") == []


def test_a_forum_appeal_tells_the_coordinators_who_may_decide_it(coop, make, told):
    second = make.coordinator()
    thread = _thread(coop.mc[0], "members")
    post = _post(coop.mc[1], thread["id"], "Something rude.")
    coop.ok(
        coop.cc.post(
            f"{API}/forum/posts/{post['id']}/moderation",
            json={"action": "hide", "rule": "forum-rules", "reason": "Rule 2: insults."},
        )
    )
    assert told(second, "appeal_to_decide") == []
    appeal = coop.ok(coop.mc[1].post(f"{API}/forum/posts/{post['id']}/appeal", json={"reason": "It was a joke."}), 201)
    [n] = told(second, "appeal_to_decide")
    assert n.subject == f"post:{post['id']}"
    assert (n.params["appeal_id"], n.params["by"]) == (appeal["id"], coop.members[1].display_name)
    assert "Pay talk" in make_text(n)
    with force_locale("fr"):
        assert "a contesté" in text(n.kind, n.params)
    # The coordinator who hid it cannot decide, so is not asked to; members and the author are not coordinators.
    for other in [coop.coordinator, *coop.members]:
        assert told(other, "appeal_to_decide") == []


def test_new_kinds_default_and_can_be_turned_off(coop, told):
    from coop.notifications.models import DEFAULT_MODES

    assert (DEFAULT_MODES["work_appealed"], DEFAULT_MODES["appeal_to_decide"]) == ("immediate", "digest")
    prefs = coop.ok(coop.rc.patch(f"{API}/me/preferences", json={"notify": {"work_appealed": "off"}}))
    assert prefs["notify"]["work_appealed"] == "off"
