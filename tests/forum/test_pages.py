"""The forum pages: reading boards by role, posting with a preview, edits and their history, flags,
moderation citing a rule in the public log, appeals, the coordinators' pages, and their query budgets."""

import re

import pytest
import sqlalchemy as sa

from coop.forum.models import Flag, ForumAppeal, Moderation, Post, PostVersion, Thread

BUDGET = 15


def html(response) -> str:
    return response.get_data(as_text=True)


def first_post(view) -> int:
    return view["posts"]["items"][0]["id"]


@pytest.fixture
def public_thread(forum, as_author, public_board):
    return forum.thread(as_author, public_board, title="Pay on batch 12", body="The **pay** was late.")


@pytest.fixture
def members_thread(forum, as_author, members_board):
    return forum.thread(as_author, members_board, title="Strike fund plans", body="Only for members.")


# --- reading ----------------------------------------------------------------------------


def test_everyone_reads_the_public_board_and_its_threads(pages, make, public_board, public_thread):
    for reader in (None, make.worker(), make.requester(), make.member()):
        browser = pages(reader)
        board = browser.get(f"/forum/boards/{public_board.slug}")
        assert board.status_code == 200
        assert "Pay on batch 12" in html(board)
        thread = browser.get(f"/forum/threads/{public_thread['thread']['id']}")
        assert thread.status_code == 200
        # The stored, sanitised rendering, not the Markdown source.
        assert "<strong>pay</strong>" in html(thread)


def test_the_members_board_is_refused_to_outsiders_and_unlisted_for_them(pages, make, members_board, members_thread):
    thread_url = f"/forum/threads/{members_thread['thread']['id']}"
    for outsider in (make.worker(), make.requester()):
        browser = pages(outsider)
        assert f'href="/forum/boards/{members_board.slug}"' not in html(browser.get("/forum"))
        for url in (f"/forum/boards/{members_board.slug}", thread_url, f"/forum/posts/{first_post(members_thread)}"):
            refused = browser.get(url)
            assert refused.status_code == 403
            assert "Strike fund" not in html(refused) and "members only" in html(refused)
    visitor = pages().get(thread_url)
    assert visitor.status_code == 302 and "/sign-in" in visitor.headers["Location"]
    member = pages(make.member())
    assert f'href="/forum/boards/{members_board.slug}"' in html(member.get("/forum"))
    assert "Only for members." in html(member.get(thread_url))


def test_an_unknown_board_or_thread_is_a_404_page(pages, make):
    browser = pages(make.member())
    assert browser.get("/forum/boards/no-such-board").status_code == 404
    assert browser.get("/forum/threads/999999").status_code == 404


def test_the_board_pages_its_threads(pages, make, forum, as_author, public_board):
    for n in range(32):
        forum.thread(as_author, public_board, title=f"Topic number {n:02d}")
    browser = pages(make.member())
    first = html(browser.get(f"/forum/boards/{public_board.slug}"))
    assert "Topic number 31" in first and "Topic number 01" not in first
    older = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = html(browser.get(older))
    assert "Topic number 01" in second and "Topic number 31" not in second


def test_a_page_has_a_title_a_heading_landmarks_and_labelled_inputs(pages, author, public_thread):
    page = html(pages(author).get(f"/forum/threads/{public_thread['thread']['id']}"))
    assert "<title>Pay on batch 12 · Coop</title>" in page
    assert "<h1>Pay on batch 12</h1>" in page
    for landmark in ("<main", "<header", "<nav", "<footer"):
        assert landmark in page
    assert '<label for="body">' in page and 'id="body"' in page


# --- writing ----------------------------------------------------------------------------


def test_a_member_replies_through_the_form(pages, make, session, public_thread):
    thread_id = public_thread["thread"]["id"]
    replier = make.member()
    browser = pages(replier)
    response = browser.post(f"/forum/threads/{thread_id}/reply", {"body": "I was paid _late_ too."})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/forum/threads/{thread_id}#post-")
    page = html(browser.get(f"/forum/threads/{thread_id}"))
    assert "I was paid <em>late</em> too." in page
    assert session.get(Thread, thread_id).post_count == 2


def test_a_reply_names_the_post_it_answers(pages, make, session, public_thread):
    thread_id, answered = public_thread["thread"]["id"], first_post(public_thread)
    browser = pages(make.member())
    form = html(browser.get(f"/forum/threads/{thread_id}/reply?reply_to={answered}"))
    assert f'value="{answered}"' in form and "The <strong>pay</strong> was late." in form
    browser.post(f"/forum/threads/{thread_id}/reply", {"body": "Agreed", "reply_to": str(answered)})
    reply = session.scalar(sa.select(Post).where(Post.thread_id == thread_id, Post.body == "Agreed"))
    assert reply.reply_to_id == answered


def test_the_preview_shows_the_rendered_markdown_and_saves_nothing(pages, make, session, public_thread):
    thread_id = public_thread["thread"]["id"]
    browser = pages(make.member())
    before = session.scalar(sa.select(sa.func.count()).select_from(Post))
    body = "A **bold** claim <script>alert(1)</script>"
    full = browser.post(f"/forum/threads/{thread_id}/reply", {"body": body, "preview": "1"})
    assert full.status_code == 200
    assert "<strong>bold</strong>" in html(full)
    assert "<script>alert(1)" not in html(full)
    assert "A **bold** claim" in html(full)  # the draft stays in the form, to post or change
    inline = browser.post("/forum/preview", {"body": body}, headers={"HX-Request": "true"})
    assert inline.status_code == 200 and "<strong>bold</strong>" in html(inline)
    assert "<html" not in html(inline) and "<script>alert" not in html(inline)
    assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == before


def test_a_member_opens_a_thread_through_the_form(pages, make, session, members_board):
    browser = pages(make.member())
    assert browser.get(f"/forum/boards/{members_board.slug}/new").status_code == 200
    response = browser.post(
        f"/forum/boards/{members_board.slug}/new", {"title": "Our next vote", "body": "Let us talk."}
    )
    assert response.status_code == 303
    thread = session.scalar(sa.select(Thread).where(Thread.title == "Our next vote"))
    assert thread.board_id == members_board.id
    assert "Let us talk." in html(browser.get(response.headers["Location"]))


def test_an_empty_reply_is_refused_beside_its_field_and_saves_nothing(pages, make, session, public_thread):
    thread_id = public_thread["thread"]["id"]
    response = pages(make.member()).post(f"/forum/threads/{thread_id}/reply", {"body": "   "})
    assert response.status_code == 422
    assert 'id="body-errors"' in html(response)
    assert session.get(Thread, thread_id).post_count == 1


def test_a_worker_who_is_not_a_member_reads_but_cannot_post(pages, make, session, public_board, public_thread):
    browser = pages(make.worker())
    thread_id = public_thread["thread"]["id"]
    assert "Reply</h2>" not in html(browser.get(f"/forum/threads/{thread_id}"))
    assert browser.post(f"/forum/threads/{thread_id}/reply", {"body": "Hello"}).status_code == 403
    assert browser.get(f"/forum/boards/{public_board.slug}/new").status_code == 403
    assert session.get(Thread, thread_id).post_count == 1


def test_an_edit_keeps_the_old_text_in_the_history_page(pages, author, session, public_thread):
    post_id = first_post(public_thread)
    browser = pages(author)
    form = browser.get(f"/forum/posts/{post_id}/edit")
    assert form.status_code == 200 and "The **pay** was late." in html(form)
    assert browser.post(f"/forum/posts/{post_id}/edit", {"body": "The pay was *very* late."}).status_code == 303
    assert session.scalar(sa.select(PostVersion.body).where(PostVersion.post_id == post_id)) == "The **pay** was late."
    thread = html(browser.get(f"/forum/threads/{public_thread['thread']['id']}"))
    assert f"/forum/posts/{post_id}/history" in thread and "edited once" in thread
    history = html(browser.get(f"/forum/posts/{post_id}/history"))
    assert "The <strong>pay</strong> was late." in history
    assert "The pay was <em>very</em> late." in history
    assert "Version 2 (current)" in history


def test_nobody_edits_another_members_post(pages, make, session, public_thread):
    post_id = first_post(public_thread)
    browser = pages(make.member())
    assert browser.get(f"/forum/posts/{post_id}/edit").status_code == 403
    assert browser.post(f"/forum/posts/{post_id}/edit", {"body": "Rewritten"}).status_code == 403
    assert session.get(Post, post_id).body == "The **pay** was late."


# --- flags ------------------------------------------------------------------------------


def test_a_member_flags_a_post_through_the_page(pages, make, session, public_thread):
    post_id = first_post(public_thread)
    flagger = make.member()
    browser = pages(flagger)
    form = html(browser.get(f"/forum/posts/{post_id}/flag"))
    assert '<label for="rule">' in form and 'value="forum-rules"' in form
    response = browser.post(f"/forum/posts/{post_id}/flag", {"rule": "forum-rules", "note": "Names a worker"})
    assert response.status_code == 303
    flag = session.scalar(sa.select(Flag).where(Flag.post_id == post_id))
    assert (flag.flagger_id, flag.rule, flag.note) == (flagger.id, "forum-rules", "Names a worker")
    again = browser.post(f"/forum/posts/{post_id}/flag", {"rule": "forum-rules"})
    assert again.status_code == 422 and "already flagged" in html(again)


def test_flagging_inline_with_htmx_answers_in_place(pages, make, session, public_thread):
    post_id = first_post(public_thread)
    browser = pages(make.member())
    hx = {"HX-Request": "true"}
    form = browser.get(f"/forum/posts/{post_id}/flag", headers=hx)
    assert "<html" not in html(form) and f'hx-post="/forum/posts/{post_id}/flag"' in html(form)
    assert f'id="post{post_id}-rule"' in html(form)
    sent = browser.post(f"/forum/posts/{post_id}/flag", {f"post{post_id}-rule": "forum-rules"}, headers=hx)
    assert sent.status_code == 200 and "coordinators will see your flag" in html(sent)
    refused = browser.post(f"/forum/posts/{post_id}/flag", {f"post{post_id}-rule": "forum-rules"}, headers=hx)
    assert "<form" in html(refused) and "already flagged" in html(refused)
    assert session.scalar(sa.select(sa.func.count()).where(Flag.post_id == post_id)) == 1


# --- moderation -------------------------------------------------------------------------


def test_a_coordinator_hides_a_post_citing_a_rule_and_it_shows_in_the_log(
    pages, make, session, coordinator, public_thread
):
    post_id = first_post(public_thread)
    browser = pages(coordinator)
    form = html(browser.get(f"/forum/posts/{post_id}/moderate"))
    assert '<select id="rule" name="rule"' in form and '<label for="reason">' in form
    assert '<option selected value="forum-rules">' in form or 'value="forum-rules" selected' in form
    no_reason = browser.post(
        f"/forum/posts/{post_id}/moderate", {"action": "hide", "rule": "forum-rules", "reason": ""}
    )
    assert no_reason.status_code == 422 and session.get(Post, post_id).hidden_at is None
    response = browser.post(
        f"/forum/posts/{post_id}/moderate", {"action": "hide", "rule": "forum-rules", "reason": "Rule 2: insults"}
    )
    assert response.status_code == 303
    assert session.get(Post, post_id).hidden_rule == "forum-rules"
    log = html(pages(make.worker()).get("/forum/moderation"))
    assert "Rule 2: insults" in log and coordinator.display_name in log and "forum-rules" in log
    assert f"/forum/posts/{post_id}" in log and "The **pay**" not in log and "was late" not in log
    # The API reads the log to anyone signed in, so the page does too; a visitor is asked to sign in.
    assert "/sign-in" in pages().get("/forum/moderation").headers["Location"]


def test_a_hidden_post_shows_its_notice_and_its_text_only_to_those_the_api_shows_it(
    pages, make, forum, as_coord, author, public_thread
):
    post_id = first_post(public_thread)
    forum.hide(as_coord, post_id, reason="Rule 2: insults")
    url = f"/forum/threads/{public_thread['thread']['id']}"
    for reader, reads_text in ((make.member(), True), (author, True), (make.requester(), False), (None, False)):
        page = html(pages(reader).get(url))
        assert "Rule 2: insults" in page and f"/forum/moderation?post={post_id}" in page
        assert ("The <strong>pay</strong> was late." in page) is reads_text
    forum.redact(as_coord, post_id, reason="Rule 1: a home address")
    assert "was late" not in html(pages(make.member()).get(url))
    assert "was late" in html(pages(author).get(url))
    assert "was late" not in html(pages(make.member()).get(f"/forum/posts/{post_id}/history"))


def test_a_member_cannot_open_or_use_the_coordinators_pages(pages, make, session, public_thread):
    post_id = first_post(public_thread)
    browser = pages(make.member())
    for url in ("/coordination/flags", "/coordination/appeals", f"/forum/posts/{post_id}/moderate"):
        refused = browser.get(url)
        assert refused.status_code == 403 and refused.mimetype == "text/html", url
    posted = browser.post(
        f"/forum/posts/{post_id}/moderate", {"action": "hide", "rule": "forum-rules", "reason": "Mine to judge"}
    )
    assert posted.status_code == 403
    assert browser.post(f"/forum/posts/{post_id}/flags/dismiss", {"dismiss-reason": "no"}).status_code == 403
    assert session.get(Post, post_id).hidden_at is None
    assert pages().get("/coordination/flags").status_code == 302


def test_the_flags_page_lists_flagged_posts_and_acts_on_them(pages, make, forum, session, as_author, public_board):
    quiet = first_post(forum.thread(as_author, public_board, body="Nothing wrong here"))
    loud = first_post(forum.thread(as_author, public_board, body="Something rude"))
    flagger = make.client(make.member())
    for post_id in (quiet, loud):
        assert (
            flagger.post(
                f"/api/v1/forum/posts/{post_id}/flags", json={"rule": "forum-rules", "note": "Rude"}
            ).status_code
            == 201
        )
    coordinator = pages(make.coordinator())
    page = html(coordinator.get("/coordination/flags"))
    assert "Something rude" in page and "Nothing wrong here" in page
    assert f'<label for="reason-{loud}">' in page
    hidden = coordinator.post(
        f"/forum/posts/{loud}/moderate", {"action": "hide", "rule": "forum-rules", "reason": "Insults", "back": "flags"}
    )
    assert hidden.status_code == 303 and hidden.headers["Location"] == "/coordination/flags"
    review = html(coordinator.get(f"/forum/posts/{quiet}/moderate?back=flags"))
    assert review.count('id="reason"') == 1 and '<label for="dismiss-reason">' in review
    no_reason = coordinator.post(f"/forum/posts/{quiet}/flags/dismiss", {"dismiss-reason": ""})
    assert no_reason.status_code == 422 and 'id="dismiss-reason-errors"' in html(no_reason)
    dismissed = coordinator.post(f"/forum/posts/{quiet}/flags/dismiss", {"dismiss-reason": "It is fair criticism"})
    assert dismissed.status_code == 303
    assert "Something rude" not in html(coordinator.get("/coordination/flags"))
    assert session.get(Post, loud).hidden_at is not None and session.get(Post, quiet).hidden_at is None


# --- appeals ----------------------------------------------------------------------------


def test_the_author_appeals_and_another_coordinator_overturns_through_the_pages(
    pages, make, session, author, coordinator, public_thread
):
    post_id = first_post(public_thread)
    hider = pages(coordinator)
    hider.post(f"/forum/posts/{post_id}/moderate", {"action": "hide", "rule": "forum-rules", "reason": "Rule 2"})
    writer = pages(author)
    assert "Appeal" in html(writer.get(f"/forum/posts/{post_id}"))
    assert pages(make.member()).get(f"/forum/posts/{post_id}/appeal").status_code == 403
    sent = writer.post(f"/forum/posts/{post_id}/appeal", {"reason": "Criticising pay is allowed."})
    assert sent.status_code == 303
    appeal = session.scalar(sa.select(ForumAppeal).where(ForumAppeal.post_id == post_id))

    # The coordinator who hid the post sees the appeal but may not decide it.
    listing = html(hider.get("/coordination/appeals"))
    assert "Criticising pay is allowed." in listing and "Another coordinator must decide" in listing
    refused = hider.post(f"/coordination/appeals/{appeal.id}", {"decision": "overturn", "reason": "I was wrong"})
    assert refused.status_code == 422 and session.get(ForumAppeal, appeal.id).status == "open"

    other = pages(make.coordinator())
    assert f"/coordination/appeals/{appeal.id}" in html(other.get("/coordination/appeals"))
    decided = other.post(f"/coordination/appeals/{appeal.id}", {"decision": "overturn", "reason": "Fair criticism"})
    assert decided.status_code == 303
    assert session.get(ForumAppeal, appeal.id).status == "overturned"
    assert session.get(Post, post_id).hidden_at is None
    log = html(other.get(f"/forum/moderation?post={post_id}"))
    assert "Fair criticism" in log and "restored" in log


# --- menu and language ------------------------------------------------------------------


def test_the_menu_offers_the_forum_to_all_and_the_coordinators_pages_to_coordinators(pages, make):
    visitor = html(pages().get("/forum"))
    assert 'href="/forum"' in visitor and "/forum/moderation" not in visitor
    member = html(pages(make.member()).get("/forum"))
    assert 'href="/forum/moderation"' in member and "/coordination/flags" not in member
    coordinator = html(pages(make.coordinator()).get("/forum"))
    assert 'href="/coordination/flags"' in coordinator and 'href="/coordination/appeals"' in coordinator
    assert "Forum appeals" in coordinator


def test_the_thread_page_is_in_french_for_a_french_reader(pages, make, forum, as_coord, public_thread):
    forum.hide(as_coord, first_post(public_thread), reason="Règle 2")
    page = html(pages(make.member(), lang="fr").get(f"/forum/threads/{public_thread['thread']['id']}"))
    assert '<html lang="fr">' in page
    assert "Masqué par un coordinateur." in page and "Règle citée" in page and "Aperçu" in page


# --- query budgets ----------------------------------------------------------------------


@pytest.fixture
def busy_thread(make, forum, session, public_board):
    """A thread of 40 posts by several members, some edited, some hidden, one redacted, some flagged."""
    writers = [make.client(make.member()) for _ in range(4)]
    coordinator = make.client(make.coordinator())
    view = forum.thread(writers[0], public_board, title="Busy")
    thread_id = view["thread"]["id"]
    ids = [first_post(view)] + [forum.post(writers[n % 4], thread_id, f"Reply {n}")["id"] for n in range(39)]
    for n, post_id in enumerate(ids[:8]):
        writers[n % 4].patch(f"/api/v1/forum/posts/{post_id}", json={"body": f"Edited {n}"})
    for post_id in ids[10:15]:
        forum.hide(coordinator, post_id)
    forum.redact(coordinator, ids[15])
    for post_id in ids[20:24]:
        coordinator.post(f"/api/v1/forum/posts/{post_id}/flags", json={"rule": "forum-rules"})
    return thread_id, ids


def test_the_heaviest_forum_pages_stay_within_the_query_budget(
    pages, make, forum, session, public_board, busy_thread, count_queries
):
    thread_id, ids = busy_thread
    author = make.client(make.member())
    for n in range(30):
        forum.thread(author, public_board, title=f"Thread {n}")
    hider = make.client(make.coordinator())
    for post_id in ids[25:40]:
        forum.hide(hider, post_id)
        forum.moderate(hider, post_id, "restore", "forum-rules", "On second thought")
    flaggers = [make.client(make.member()) for _ in range(2)]
    for post_id in ids[:20]:
        for flagger in flaggers:
            flagger.post(f"/api/v1/forum/posts/{post_id}/flags", json={"rule": "forum-rules", "note": "Look"})
    assert session.scalar(sa.select(sa.func.count()).select_from(Moderation)) >= 30
    coordinator = pages(make.coordinator())
    member = pages(make.member())
    urls = [
        (coordinator, f"/forum/threads/{thread_id}"),
        (member, f"/forum/threads/{thread_id}"),
        (pages(), f"/forum/threads/{thread_id}"),
        (member, f"/forum/boards/{public_board.slug}"),
        (member, "/forum"),
        (member, "/forum/moderation"),
        (coordinator, "/coordination/flags"),
        (coordinator, "/coordination/appeals"),
        (member, f"/forum/posts/{ids[0]}/history"),
        (coordinator, f"/forum/posts/{ids[20]}/moderate"),
    ]
    for browser, url in urls:
        with count_queries() as counted:
            response = browser.get(url)
        assert response.status_code == 200, url
        assert counted.count <= BUDGET, (url, counted.count, counted.statements)
    assert html(coordinator.get("/coordination/flags")).count('<section class="card"') == 20


def test_the_appeals_page_stays_within_the_query_budget(pages, make, forum, session, public_board, count_queries):
    hider = make.client(make.coordinator())
    for n in range(20):
        writer = make.client(make.member())
        post_id = first_post(forum.thread(writer, public_board, title=f"Appealed {n}"))
        forum.hide(hider, post_id)
        assert writer.post(f"/api/v1/forum/posts/{post_id}/appeal", json={"reason": "Unfair"}).status_code == 201
    browser = pages(make.coordinator())
    with count_queries() as counted:
        response = browser.get("/coordination/appeals")
    assert response.status_code == 200 and html(response).count("Decide appeal") == 20
    assert counted.count <= BUDGET, counted.statements
