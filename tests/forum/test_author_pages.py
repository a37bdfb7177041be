"""The author's own pages: retracting a post, following an appeal and putting it to the members' vote."""

import pytest
import sqlalchemy as sa

from coop.forum.models import ForumAppeal, Post, PostVersion
from coop.governance.models import Proposal


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def post_id(forum, as_author, public_board):
    view = forum.thread(as_author, public_board, title="Pay on batch 12", body="The pay was late.")
    return view["posts"]["items"][0]["id"]


# --- retracting -------------------------------------------------------------------------


def test_the_author_retracts_a_post_after_confirming(pages, author, session, forum, as_author, post_id):
    as_author.patch(f"/api/v1/forum/posts/{post_id}", json={"body": "The pay was very late."})
    browser = pages(author)
    assert f"/forum/posts/{post_id}/retract" in html(browser.get(f"/forum/posts/{post_id}"))
    confirm = browser.get(f"/forum/posts/{post_id}/retract")
    assert confirm.status_code == 200 and "The pay was very late." in html(confirm)
    assert session.get(Post, post_id).retracted_at is None  # opening the page changes nothing

    done = browser.post(f"/forum/posts/{post_id}/retract")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/forum/posts/{post_id}")
    session.expire_all()
    post = session.get(Post, post_id)
    assert post.retracted_at is not None and post.body is None
    # Nothing is deleted: the post and its version stay, without their words.
    assert session.scalar(sa.select(sa.func.count()).where(PostVersion.post_id == post_id)) == 1
    assert session.scalar(sa.select(PostVersion.body).where(PostVersion.post_id == post_id)) is None
    shown = html(browser.get(f"/forum/posts/{post_id}"))
    assert "Its author retracted this post." in shown and "very late" not in shown


def test_a_retracted_post_cannot_be_retracted_again(pages, author, session, as_author, post_id):
    assert as_author.post(f"/api/v1/forum/posts/{post_id}/retract").status_code == 200
    again = pages(author).post(f"/forum/posts/{post_id}/retract")
    assert again.status_code == 422 and "already retracted" in html(again)


def test_nobody_retracts_another_members_post(pages, make, session, post_id):
    for other in (make.member(), make.coordinator()):
        browser = pages(other)
        assert f"/forum/posts/{post_id}/retract" not in html(browser.get(f"/forum/posts/{post_id}"))
        assert browser.get(f"/forum/posts/{post_id}/retract").status_code == 403
        assert browser.post(f"/forum/posts/{post_id}/retract").status_code == 403
    session.expire_all()
    assert session.get(Post, post_id).body == "The pay was late."


def test_retracting_needs_the_csrf_token_and_a_signed_in_author(pages, author, session, post_id):
    assert pages(author).post(f"/forum/posts/{post_id}/retract", csrf=False).status_code == 403
    visitor = pages().post(f"/forum/posts/{post_id}/retract")
    assert visitor.status_code == 302 and "/sign-in" in visitor.headers["Location"]
    session.expire_all()
    assert session.get(Post, post_id).retracted_at is None


def test_the_retract_page_is_in_french(pages, author, post_id):
    page = html(pages(author, lang="fr").get(f"/forum/posts/{post_id}/retract"))
    assert "Retirer ce message" in page


# --- following and escalating an appeal --------------------------------------------------


@pytest.fixture
def appeal_id(pages, forum, as_coord, author, session, post_id):
    forum.hide(as_coord, post_id)
    sent = pages(author).post(f"/forum/posts/{post_id}/appeal", {"reason": "Criticising pay is allowed."})
    assert sent.status_code == 303
    appeal = session.scalar(sa.select(ForumAppeal).where(ForumAppeal.post_id == post_id))
    # Sending the appeal leads to it, where the author follows it.
    assert sent.headers["Location"].endswith(f"/forum/appeals/{appeal.id}")
    return appeal.id


def test_the_author_follows_the_appeal_and_puts_it_to_the_members(pages, author, session, post_id, appeal_id):
    browser = pages(author)
    assert f"/forum/appeals/{appeal_id}" in html(browser.get(f"/forum/posts/{post_id}"))
    page = browser.get(f"/forum/appeals/{appeal_id}")
    assert page.status_code == 200 and "vote on this appeal" in html(page)

    escalated = browser.post(f"/forum/appeals/{appeal_id}/escalate")
    assert escalated.status_code == 303
    session.expire_all()
    appeal = session.get(ForumAppeal, appeal_id)
    assert appeal.status == "escalated" and appeal.proposal_id is not None
    assert escalated.headers["Location"].endswith(f"/proposals/{appeal.proposal_id}")
    proposal = session.get(Proposal, appeal.proposal_id)
    assert proposal.kind == "general" and f"post {post_id}" in proposal.title
    followed = html(browser.get(f"/forum/appeals/{appeal_id}"))
    assert f"/proposals/{appeal.proposal_id}" in followed and "Open a members" not in followed


def test_an_escalated_appeal_cannot_go_to_a_vote_twice(pages, author, session, post_id, appeal_id):
    browser = pages(author)
    assert browser.post(f"/forum/appeals/{appeal_id}/escalate").status_code == 303
    again = browser.post(f"/forum/appeals/{appeal_id}/escalate")
    assert again.status_code == 422 and "already escalated" in html(again)
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_nobody_but_the_appeals_author_escalates_it(pages, make, session, coordinator, post_id, appeal_id):
    # A member who is no party cannot even read the appeal; a coordinator reads it but cannot escalate.
    outsider = pages(make.member())
    assert outsider.get(f"/forum/appeals/{appeal_id}").status_code == 403
    assert outsider.post(f"/forum/appeals/{appeal_id}/escalate").status_code == 403
    for coord in (coordinator, make.coordinator()):
        browser = pages(coord)
        page = browser.get(f"/forum/appeals/{appeal_id}")
        assert page.status_code == 200 and "Open a members" not in html(page)
        assert browser.post(f"/forum/appeals/{appeal_id}/escalate").status_code == 403
    session.expire_all()
    assert session.get(ForumAppeal, appeal_id).status == "open"
    assert session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_an_unknown_appeal_is_a_404_page(pages, author):
    assert pages(author).get("/forum/appeals/999999").status_code == 404
    assert pages(author).post("/forum/appeals/999999/escalate").status_code == 404
