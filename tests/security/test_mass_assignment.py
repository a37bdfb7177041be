"""Mass assignment: fields a caller may not set are refused (422) or ignored, and never stored.

Every request schema keeps marshmallow's default `unknown = RAISE`, and response-only fields
are `dump_only` (which load treats as unknown), so a body naming an id, a status, an owner,
a balance or a role flag is refused with 422 naming the field. Actions that take no body
(cancel, confirm, cosign, join, retract) do not read it at all, so whatever is sent is ignored.
Each row sends a valid body plus one forbidden field; a refused row then sends the same body
without it, to prove the body was otherwise valid; either way the stored object must not
carry the value sent.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from coop import ledger
from coop.accounts.models import ApiToken, User
from coop.extensions import db
from coop.forum.models import Board, Flag, ForumAppeal, Moderation, Post, Thread
from coop.governance.models import Ballot, Membership, Proposal, ShareLine
from coop.marketplace.models import (
    Appeal,
    Assignment,
    Batch,
    Deposit,
    Item,
    MemberPreferences,
    RequesterReview,
    Withdrawal,
)
from tests.security.conftest import ANON, COORD, MEMBER, REQ, WORKER, batch_body, unique

V1 = "/api/v1"
REFUSED, IGNORED = "refused with 422", "ignored"
LONG_AGO = "2000-01-01T00:00:00+00:00"
FAR_AHEAD = "2099-01-01T00:00:00+00:00"


def _iso(value):
    return value.isoformat() if value is not None else None


def _columns(obj, *names) -> dict:
    return {name: getattr(obj, name) for name in names}


@dataclass
class Route:
    role: str
    method: str
    path: str
    setup: Callable  # world -> ids for the path (and anything `stored` needs)
    body: Callable  # (world, ids) -> a valid body
    stored: Callable  # (world, ids, response json) -> {field: value as stored}


# --- the routes that take input, and where their result is stored -------------------------


def _new_user(w, ids, data):
    user = db.session.scalar(sa.select(User).where(User.email == ids["email"]))
    return {
        "id": user.id,
        "is_member": user.is_member,
        "is_coordinator": user.is_coordinator,
        "role": user.role,
        "created_at": _iso(user.created_at),
        "password_hash": user.password_hash,
    }


def _register_ids(w):
    name = unique("newcomer")
    return {"email": f"{name}@example.org", "name": name}


def _token(w, ids, data):
    token = db.session.get(ApiToken, data["id"])
    return {"user_id": token.user_id, "token_hash": token.token_hash, "revoked_at": _iso(token.revoked_at)}


def _credentials(w):
    user = w.make.worker()
    return {"email": user.email, "user": user}


def _preferences(w, ids, data):
    prefs = db.session.get(MemberPreferences, w.member.id)
    others = db.session.get(MemberPreferences, w.coordinator.id)
    return {"opt_in_mask": prefs.opt_in_mask, "user_id": others.user_id if others else None}


def _membership(w, ids, data):
    user = w.user(WORKER)
    membership = db.session.get(Membership, user.id)
    paid = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ShareLine.amount_cents), 0)).where(ShareLine.user_id == user.id)
    )
    return {
        "share_price_cents": paid,
        "share_paid_cents": membership.share_paid_cents,
        "status": membership.status,
        "is_coordinator": user.is_coordinator,
    }


def _batch(w, ids, data):
    batch = db.session.get(Batch, data["id"])
    items = [
        {"data": i.data, "id": i.id, "batch_id": i.batch_id}
        for i in db.session.scalars(sa.select(Item).where(Item.batch_id == batch.id).order_by(Item.id))
    ]
    return {
        **_columns(
            batch,
            "id",
            "status",
            "requester_id",
            "escrow_cents",
            "fee_cents",
            "fee_pct",
            "terms_version",
            "rewards_total_cents",
            "item_count",
            "slot_count",
            "protections",
            "warnings_mask",
            "required_reward_cents",
            "reward_cents",
            "settled_at",
        ),
        "created_at": _iso(batch.created_at),
        "items": items,
        "escrow_balance": ledger.balance(ledger.requester_escrow(w.requester.id)),
    }


def _batch_by_id(w, ids, data):
    return _batch(w, ids, {"id": ids["batch_id"]})


def _assignment(w, ids, data):
    assignment = db.session.get(Assignment, ids.get("assignment_id") or data["id"])
    return {
        **_columns(
            assignment, "status", "worker_id", "paid_cents", "real_seconds", "review_decision", "slot_id", "batch_id"
        ),
        "lease_expires_at": _iso(assignment.lease_expires_at),
        "auto_approve_at": _iso(assignment.auto_approve_at),
        "earnings": ledger.balance(ledger.worker_earnings(w.member.id)),
    }


def _appeal(w, ids, data):
    appeal = db.session.get(Appeal, ids.get("appeal_id") or data["id"])
    return _columns(appeal, "status", "paid_cents", "paid_from", "decided_by_id", "assignment_id")


def _deposit(w, ids, data):
    deposit = db.session.get(Deposit, ids.get("deposit_id") or data["id"])
    return {
        **_columns(deposit, "status", "requester_id", "confirmed_by_id", "amount_cents"),
        "confirmed_at": _iso(deposit.confirmed_at),
    }


def _withdrawal(w, ids, data):
    withdrawal = db.session.get(Withdrawal, data["id"])
    return _columns(withdrawal, "status", "user_id", "source", "confirmed_by_id")


def _proposal(w, ids, data):
    proposal = db.session.get(Proposal, ids.get("proposal_id") or data["id"])
    return {
        **_columns(
            proposal,
            "id",
            "status",
            "proposer_id",
            "reviewer_id",
            "cosigner_count",
            "ballot_count",
            "eligible_count",
            "result",
            "enacted",
            "terms_version",
            "opened_by",
        ),
        "closes_at": _iso(proposal.closes_at),
        "created_at": _iso(proposal.created_at),
        "change.proposer_id": (proposal.change or {}).get("proposer_id"),
    }


def _ballot(w, ids, data):
    ballot = db.session.scalar(sa.select(Ballot).where(Ballot.proposal_id == ids["proposal_id"]))
    return {"receipt": ballot.receipt, "member_id": ballot.member_id, "choice": ballot.choice}


def _requester_review(w, ids, data):
    review = db.session.get(RequesterReview, data["id"])
    return {**_columns(review, "member_id", "requester_id"), "created_at": _iso(review.created_at)}


def _board(w, ids, data):
    return {"id": db.session.scalar(sa.select(Board.id).where(Board.slug == ids["slug"]))}


def _thread(w, ids, data):
    thread = db.session.get(Thread, data["thread"]["id"])
    return {**_columns(thread, "author_id", "post_count", "board_id"), "created_at": _iso(thread.created_at)}


def _post(w, ids, data):
    post = db.session.get(Post, ids.get("post_id") or data["id"])
    return {
        **_columns(post, "author_id", "thread_id", "edit_count", "hidden_by_id", "body", "hidden_rule_version"),
        "hidden": post.hidden,
        "retracted_at": _iso(post.retracted_at),
        "created_at": _iso(post.created_at),
    }


def _moderation(w, ids, data):
    entry = db.session.scalar(
        sa.select(Moderation).where(Moderation.post_id == ids["post_id"]).order_by(Moderation.id.desc()).limit(1)
    )
    return {"coordinator_id": entry.coordinator_id, "rule_version": entry.rule_version, "at": _iso(entry.at)}


def _flag(w, ids, data):
    flag = db.session.get(Flag, data["id"])
    return {**_columns(flag, "flagger_id", "resolution"), "resolved_at": _iso(flag.resolved_at)}


def _forum_appeal(w, ids, data):
    appeal = db.session.get(ForumAppeal, ids.get("appeal_id") or data["id"])
    return _columns(appeal, "status", "author_id", "moderation_id", "proposal_id", "decided_by_id")


def _funded_member(w):
    w.fund(w.member)
    return {}


def _open_vote(w):
    # The voters exist before the vote opens, so they are among the eligible.
    w.user(MEMBER)
    w.user(COORD)
    return {"proposal_id": w.proposal("open").id}


def _worked_for_requester(w):
    w.assignment("submitted")
    return {"requester_id": w.requester.id}


def _ids(**builders):
    """Setup that makes objects with the world and names their ids for the path."""
    return lambda w: {name: build(w) for name, build in builders.items()}


GENERAL = {"title": "Hold a members' assembly", "body": "Let us meet.", "kind": "general", "method": "yes_no"}

ROUTES = {
    "register": Route(
        ANON,
        "POST",
        "/auth/register",
        _register_ids,
        lambda w, ids: {
            "email": ids["email"],
            "password": "correct-horse-battery",
            "display_name": ids["name"],
            "kind": "worker",
        },
        _new_user,
    ),
    "token": Route(
        ANON,
        "POST",
        "/auth/token",
        _credentials,
        lambda w, ids: {"email": ids["email"], "password": "correct-horse-battery"},
        _token,
    ),
    "preferences": Route(
        MEMBER, "PATCH", "/me/preferences", lambda w: {}, lambda w, ids: {"content_opt_in": ["violence"]}, _preferences
    ),
    "membership": Route(WORKER, "POST", "/membership", lambda w: {}, lambda w, ids: {}, _membership),
    "batch": Route(REQ, "POST", "/batches", lambda w: {}, lambda w, ids: batch_body(), _batch),
    "raise": Route(
        REQ,
        "POST",
        "/batches/{batch_id}/raise",
        _ids(batch_id=lambda w: w.batch().id),
        lambda w, ids: {"reward_cents": 30},
        _batch_by_id,
    ),
    "cancel": Route(
        REQ,
        "POST",
        "/batches/{batch_id}/cancel",
        _ids(batch_id=lambda w: w.batch().id),
        lambda w, ids: {},
        _batch_by_id,
    ),
    "claim": Route(
        MEMBER,
        "POST",
        "/batches/{batch_id}/claim",
        _ids(batch_id=lambda w: w.batch().id),
        lambda w, ids: {},
        _assignment,
    ),
    "submit": Route(
        MEMBER,
        "POST",
        "/assignments/{assignment_id}/submit",
        _ids(assignment_id=lambda w: w.assignment("claimed").id),
        lambda w, ids: {"answer": {"label": "stop sign"}},
        _assignment,
    ),
    "review": Route(
        REQ,
        "POST",
        "/assignments/{assignment_id}/review",
        _ids(assignment_id=lambda w: w.assignment("submitted").id),
        lambda w, ids: {"decision": "approve"},
        _assignment,
    ),
    "appeal": Route(
        MEMBER,
        "POST",
        "/assignments/{assignment_id}/appeal",
        _ids(assignment_id=lambda w: w.assignment("rejected").id),
        lambda w, ids: {"reason": "The boxes cover the signs."},
        _appeal,
    ),
    "decide": Route(
        COORD,
        "POST",
        "/appeals/{appeal_id}/decide",
        _ids(appeal_id=lambda w: w.appeal().id),
        lambda w, ids: {"decision": "uphold", "reason": "The boxes miss the signs."},
        _appeal,
    ),
    "deposit": Route(REQ, "POST", "/deposits", lambda w: {}, lambda w, ids: {"amount_cents": 5_000}, _deposit),
    "confirm": Route(
        COORD,
        "POST",
        "/deposits/{deposit_id}/confirm",
        _ids(deposit_id=lambda w: w.deposit().id),
        lambda w, ids: {},
        _deposit,
    ),
    "withdrawal": Route(
        MEMBER, "POST", "/me/withdrawals", _funded_member, lambda w, ids: {"amount_cents": 1_000}, _withdrawal
    ),
    "proposal": Route(MEMBER, "POST", "/proposals", lambda w: {}, lambda w, ids: dict(GENERAL), _proposal),
    "coordinator proposal": Route(
        MEMBER,
        "POST",
        "/proposals",
        lambda w: {"candidate": w.user("second_member").id},
        lambda w, ids: {
            "title": "Make them coordinator",
            "body": "They are fair.",
            "kind": "coordinator",
            "method": "yes_no",
            "change": {"member_id": ids["candidate"], "action": "grant"},
        },
        _proposal,
    ),
    "review proposal": Route(
        COORD,
        "POST",
        "/proposals/{proposal_id}/review",
        _ids(proposal_id=lambda w: w.proposal().id),
        lambda w, ids: {"action": "accept"},
        _proposal,
    ),
    "cosign": Route(
        MEMBER,
        "POST",
        "/proposals/{proposal_id}/cosign",
        _ids(proposal_id=lambda w: w.proposal().id),
        lambda w, ids: {},
        _proposal,
    ),
    "ballot": Route(
        MEMBER, "POST", "/proposals/{proposal_id}/ballot", _open_vote, lambda w, ids: {"choice": "yes"}, _ballot
    ),
    "requester review": Route(
        MEMBER,
        "POST",
        "/requesters/{requester_id}/reviews",
        _worked_for_requester,
        lambda w, ids: {"rating": 4, "text": "Clear."},
        _requester_review,
    ),
    "board": Route(
        COORD,
        "POST",
        "/forum/boards",
        lambda w: {"slug": unique("board")},
        lambda w, ids: {"slug": ids["slug"], "title": "Night shift", "visibility": "members"},
        _board,
    ),
    "thread": Route(
        MEMBER,
        "POST",
        "/forum/boards/{board_id}/threads",
        _ids(board_id=lambda w: w.board("members").id),
        lambda w, ids: {"title": "Strike fund", "body": "Who is in?"},
        _thread,
    ),
    "post": Route(
        MEMBER,
        "POST",
        "/forum/threads/{thread_id}/posts",
        _ids(thread_id=lambda w: w.thread(author=w.user("second_member")).id),
        lambda w, ids: {"body": "Count me in."},
        _post,
    ),
    "edit": Route(
        MEMBER,
        "PATCH",
        "/forum/posts/{post_id}",
        _ids(post_id=lambda w: w.post().id),
        lambda w, ids: {"body": "Who is in? Edited."},
        _post,
    ),
    "retract": Route(
        MEMBER, "POST", "/forum/posts/{post_id}/retract", _ids(post_id=lambda w: w.post().id), lambda w, ids: {}, _post
    ),
    "moderation": Route(
        COORD,
        "POST",
        "/forum/posts/{post_id}/moderation",
        _ids(post_id=lambda w: w.post().id),
        lambda w, ids: {"action": "hide", "rule": "forum-rules", "reason": "Rule 2"},
        _moderation,
    ),
    "flag": Route(
        MEMBER,
        "POST",
        "/forum/posts/{post_id}/flags",
        _ids(post_id=lambda w: w.post(author=w.user("second_member")).id),
        lambda w, ids: {"rule": "forum-rules"},
        _flag,
    ),
    "forum appeal": Route(
        MEMBER,
        "POST",
        "/forum/posts/{post_id}/appeal",
        _ids(post_id=lambda w: w.hidden_post().id),
        lambda w, ids: {"reason": "A joke among friends."},
        _forum_appeal,
    ),
    "forum decide": Route(
        COORD,
        "POST",
        "/forum/appeals/{appeal_id}/decide",
        _ids(appeal_id=lambda w: w.forum_appeal().id),
        lambda w, ids: {"decision": "uphold", "reason": "Harassment."},
        _forum_appeal,
    ),
}


def _someone(role):
    """A value naming another person's id, resolved when the row runs."""
    return lambda w: w.user(role).id


# (route, field — dotted for a nested one —, value sent, what the API does with it)
FORBIDDEN = [
    ("register", "id", 999_999, REFUSED),
    ("register", "is_member", True, REFUSED),
    ("register", "is_coordinator", True, REFUSED),
    ("register", "role", "coordinator", REFUSED),
    ("register", "created_at", LONG_AGO, REFUSED),
    ("register", "password_hash", "$argon2id$forged", REFUSED),
    ("token", "user_id", _someone(COORD), REFUSED),
    ("token", "token_hash", "0" * 64, REFUSED),
    ("preferences", "opt_in_mask", 0xFFFF, REFUSED),
    ("preferences", "user_id", _someone(COORD), REFUSED),
    ("membership", "share_price_cents", 1, REFUSED),
    ("membership", "share_paid_cents", 1, REFUSED),
    ("membership", "status", "member", REFUSED),
    ("membership", "is_coordinator", True, REFUSED),
    ("batch", "id", 999_999, REFUSED),
    ("batch", "status", "completed", REFUSED),
    ("batch", "requester_id", _someone("other_requester"), REFUSED),
    ("batch", "escrow_cents", 0, REFUSED),
    ("batch", "fee_pct", 0, REFUSED),
    ("batch", "fee_cents", 0, REFUSED),
    ("batch", "rewards_total_cents", 1, REFUSED),
    ("batch", "terms_version", 99, REFUSED),
    ("batch", "protections", {"min_hourly_rate_cents": 0}, REFUSED),
    ("batch", "item_count", 1_000, REFUSED),
    ("batch", "slot_count", 1_000, REFUSED),
    ("batch", "warnings_mask", 0xFFFF, REFUSED),
    ("batch", "required_reward_cents", 1, REFUSED),
    ("batch", "created_at", LONG_AGO, REFUSED),
    ("batch", "items", [{"data": {"n": 0}, "id": 999_999, "batch_id": 999_999}], REFUSED),
    ("raise", "escrow_cents", 0, REFUSED),
    ("raise", "status", "completed", REFUSED),
    ("raise", "requester_id", _someone("other_requester"), REFUSED),
    ("raise", "fee_pct", 0, REFUSED),
    ("cancel", "status", "completed", IGNORED),
    ("cancel", "escrow_balance", 12_345, IGNORED),
    ("claim", "worker_id", _someone("second_member"), REFUSED),
    ("claim", "status", "approved", REFUSED),
    ("claim", "paid_cents", 500, REFUSED),
    ("claim", "lease_expires_at", FAR_AHEAD, REFUSED),
    ("submit", "status", "approved", REFUSED),
    ("submit", "real_seconds", 3_600, REFUSED),
    ("submit", "paid_cents", 500, REFUSED),
    ("submit", "auto_approve_at", LONG_AGO, REFUSED),
    ("review", "paid_cents", 10_000, REFUSED),
    ("review", "earnings", 10_000, REFUSED),
    ("review", "review_decision", "auto", REFUSED),
    ("review", "worker_id", _someone("second_member"), REFUSED),
    ("appeal", "status", "overturned", REFUSED),
    ("appeal", "paid_cents", 500, REFUSED),
    ("decide", "paid_cents", 500, REFUSED),
    ("decide", "paid_from", "escrow", REFUSED),
    ("decide", "status", "overturned", REFUSED),
    ("deposit", "status", "confirmed", REFUSED),
    ("deposit", "requester_id", _someone("other_requester"), REFUSED),
    ("deposit", "confirmed_by_id", _someone(COORD), REFUSED),
    ("deposit", "confirmed_at", LONG_AGO, REFUSED),
    ("confirm", "amount_cents", 10**9, IGNORED),
    ("confirm", "requester_id", _someone("other_requester"), IGNORED),
    ("withdrawal", "status", "confirmed", REFUSED),
    ("withdrawal", "user_id", _someone(COORD), REFUSED),
    ("withdrawal", "source", "requester", REFUSED),
    ("proposal", "id", 999_999, REFUSED),
    ("proposal", "status", "enacted", REFUSED),
    ("proposal", "proposer_id", _someone(COORD), REFUSED),
    ("proposal", "cosigner_count", 100, REFUSED),
    ("proposal", "ballot_count", 100, REFUSED),
    ("proposal", "eligible_count", 1, REFUSED),
    ("proposal", "result", {"yes": 100}, REFUSED),
    ("proposal", "enacted", {"terms_version": 9}, REFUSED),
    ("proposal", "terms_version", 9, REFUSED),
    ("proposal", "closes_at", FAR_AHEAD, REFUSED),
    ("proposal", "created_at", LONG_AGO, REFUSED),
    ("coordinator proposal", "change.proposer_id", _someone(COORD), REFUSED),
    ("review proposal", "status", "enacted", REFUSED),
    ("review proposal", "eligible_count", 1_000, REFUSED),
    ("review proposal", "closes_at", FAR_AHEAD, REFUSED),
    ("review proposal", "reviewer_id", _someone("moderator"), REFUSED),
    ("cosign", "cosigner_count", 100, IGNORED),
    ("cosign", "proposer_id", _someone(MEMBER), IGNORED),
    ("ballot", "receipt", "chosen-by-me", REFUSED),
    ("ballot", "member_id", _someone(COORD), REFUSED),
    ("requester review", "member_id", _someone("second_member"), REFUSED),
    ("requester review", "requester_id", _someone("other_requester"), REFUSED),
    ("requester review", "created_at", LONG_AGO, REFUSED),
    ("board", "id", 999_999, REFUSED),
    ("thread", "author_id", _someone(COORD), REFUSED),
    ("thread", "post_count", 100, REFUSED),
    ("thread", "board_id", lambda w: w.board("public").id, REFUSED),
    ("thread", "created_at", LONG_AGO, REFUSED),
    ("post", "author_id", _someone(COORD), REFUSED),
    ("post", "hidden", True, REFUSED),
    ("post", "edit_count", 5, REFUSED),
    ("post", "thread_id", lambda w: w.thread(board="public").id, REFUSED),
    ("edit", "author_id", _someone(COORD), REFUSED),
    ("edit", "hidden", True, REFUSED),
    ("edit", "hidden_by_id", _someone(COORD), REFUSED),
    ("edit", "edit_count", 99, REFUSED),
    ("edit", "thread_id", lambda w: w.thread(board="public").id, REFUSED),
    ("edit", "retracted_at", LONG_AGO, REFUSED),
    ("edit", "created_at", LONG_AGO, REFUSED),
    ("retract", "body", "Kept after all.", IGNORED),
    ("retract", "hidden", True, IGNORED),
    ("moderation", "coordinator_id", _someone("moderator"), REFUSED),
    ("moderation", "rule_version", 99, REFUSED),
    ("moderation", "at", LONG_AGO, REFUSED),
    ("flag", "flagger_id", _someone("second_member"), REFUSED),
    ("flag", "resolution", "hide", REFUSED),
    ("flag", "resolved_at", LONG_AGO, REFUSED),
    ("forum appeal", "status", "overturned", REFUSED),
    ("forum appeal", "author_id", _someone(COORD), REFUSED),
    ("forum appeal", "moderation_id", 999_999, REFUSED),
    ("forum appeal", "proposal_id", 999_999, REFUSED),
    ("forum decide", "decided_by_id", _someone("moderator"), REFUSED),
    ("forum decide", "status", "overturned", REFUSED),
]


def _inject(body: dict, field: str, value) -> dict:
    """The body with `value` at `field` (dotted into nested objects)."""
    body = dict(body)
    head, _, rest = field.partition(".")
    body[head] = _inject(body[head], rest, value) if rest else value
    return body


@pytest.mark.parametrize("route_name, field, value, outcome", FORBIDDEN, ids=[f"{r}-{f}" for r, f, _, _ in FORBIDDEN])
def test_a_field_the_caller_may_not_set_is_never_stored(world, route_name, field, value, outcome):
    route = ROUTES[route_name]
    world.user(route.role)
    ids = route.setup(world) or {}
    sent = value(world) if callable(value) else value
    body = route.body(world, ids)
    client = world.client(route.role)
    url = V1 + route.path.format(**ids)

    response = client.open(route.method, url, json=_inject(body, field, sent))
    if outcome == REFUSED:
        assert response.status_code == 422, response.get_json()
        assert field.split(".")[0] in response.get_json()["errors"], response.get_json()
        # The same body without the field is accepted: it was refused for that field alone.
        response = client.open(route.method, url, json=body)
    assert 200 <= response.status_code < 300, response.get_json()

    db.session.expire_all()
    stored = route.stored(world, ids, response.get_json())
    assert field in stored, f"{route_name}: stored() does not report {field}"
    assert stored[field] != sent, f"{route_name} stored the caller's {field}={sent!r}"


def test_every_route_in_the_table_is_exercised():
    assert {route for route, *_ in FORBIDDEN} == set(ROUTES)
