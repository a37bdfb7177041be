"""The authorization matrix: every route of the OpenAPI spec × every role, against one table; then per-object denials.

Conventions the table holds the domain to:
- anonymous gets 401 everywhere but the doors in (register, login, token, csrf) and what
  anyone may read: the terms, the rules and the public boards (a members board stays 401);
- a role that may not call a route gets 403, whatever object the id names;
- an object the caller is related to differently (another requester's batch, another
  member's assignment, a members-board thread for a non-member) is refused with 403: the
  domain loads the object and then checks the relation, so ids are not secret, their
  content is. The exceptions are personal credentials, API tokens and webhooks: another
  user's is reported as missing (404), so their ids reveal nothing about other accounts;
- a caller with the right role whose request collides with the state gets the state's
  answer (e.g. 409 for a member buying a second share), never a 2xx.
"""

from datetime import timedelta

import pytest

from coop import clock, ledger
from coop.accounts import services as accounts_services
from coop.forum import services as forum_services
from coop.governance import services as governance_services
from tests.security.conftest import (
    ANON,
    COORD,
    MEMBER,
    OTHER,
    REQ,
    ROLES,
    WORKER,
    batch_body,
    unique,
)

V1 = "/api/v1"
EVERYONE = {ANON: 401, WORKER: 200, MEMBER: 200, COORD: 200, REQ: 200, OTHER: 200}


def only(role_status: dict, default: int = 403) -> dict:
    """Anonymous 401, the roles named get their status, every other role `default`."""
    return {ANON: 401} | {role: role_status.get(role, default) for role in ROLES if role != ANON}


def public(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int) -> dict:
    return {ANON: 401} | {role: status for role in ROLES if role != ANON}


WORKERS = (WORKER, MEMBER, COORD)
MEMBERS = (MEMBER, COORD)
REQUESTERS = (REQ, OTHER)

# The expected status of every route for every role. The objects named by ids belong to the
# route's owner as World (conftest) builds them: batches, deposits and withdrawals to REQ;
# assignments, marketplace appeals, forum posts and forum appeals to MEMBER; boards,
# threads and posts are on the members board.
MATRIX = {
    # accounts
    "POST /api/v1/auth/register": public(201),
    "POST /api/v1/auth/login": public(200),
    "POST /api/v1/auth/logout": signed_in(204),
    "POST /api/v1/auth/password": signed_in(200),
    "GET /api/v1/auth/csrf": public(200),
    "POST /api/v1/auth/token": public(201),
    "GET /api/v1/auth/tokens": signed_in(200),
    # Another user's token is "not found", never "forbidden".
    "DELETE /api/v1/auth/tokens/{token_id}": only({MEMBER: 200}, default=404),
    "GET /api/v1/me": signed_in(200),
    # notifications: always one's own
    "GET /api/v1/me/notifications": signed_in(200),
    "POST /api/v1/me/notifications/read": signed_in(200),
    # governance
    # Members and coordinators already hold their one share.
    "POST /api/v1/membership": only({WORKER: 201, MEMBER: 409, COORD: 409}),
    "POST /api/v1/membership/{user_id}/admit": only({COORD: 200}),
    "POST /api/v1/membership/{user_id}/refuse": only({COORD: 200}),
    "POST /api/v1/membership/withdraw": only({MEMBER: 200, COORD: 200}),
    "GET /api/v1/me/shares": only(dict.fromkeys(WORKERS, 200)),
    "GET /api/v1/members": only(dict.fromkeys(MEMBERS, 200)),
    "GET /api/v1/terms/current": public(200),
    "GET /api/v1/terms": public(200),
    "GET /api/v1/terms/{version}": public(200),
    "GET /api/v1/rules": public(200),
    "GET /api/v1/rules/{slug}": public(200),
    "POST /api/v1/proposals": only(dict.fromkeys(MEMBERS, 201)),
    "GET /api/v1/proposals": signed_in(200),
    "GET /api/v1/proposals/{proposal_id}": signed_in(200),
    "GET /api/v1/proposals/{proposal_id}/receipts": signed_in(200),
    "POST /api/v1/proposals/{proposal_id}/review": only({COORD: 200}),
    "POST /api/v1/proposals/{proposal_id}/cosign": only(dict.fromkeys(MEMBERS, 200)),
    "POST /api/v1/proposals/{proposal_id}/ballot": only(dict.fromkeys(MEMBERS, 201)),
    "GET /api/v1/audit": signed_in(200),
    # marketplace: funds
    "POST /api/v1/deposits": only(dict.fromkeys(REQUESTERS, 201)),
    "GET /api/v1/deposits": only({REQ: 200, OTHER: 200, COORD: 200}),
    "POST /api/v1/deposits/{deposit_id}/confirm": only({COORD: 200}),
    "GET /api/v1/me/balance": signed_in(200),
    "GET /api/v1/me/earnings": only(dict.fromkeys(WORKERS, 200)),
    "POST /api/v1/me/withdrawals": signed_in(201),
    "GET /api/v1/me/withdrawals": signed_in(200),
    "GET /api/v1/withdrawals": only({COORD: 200}),
    "POST /api/v1/withdrawals/{withdrawal_id}/confirm": only({COORD: 200}),
    # Everyone chooses how they hear of things; only workers choose content warnings (the PATCH below sends them).
    "GET /api/v1/me/preferences": signed_in(200),
    "PATCH /api/v1/me/preferences": only(dict.fromkeys(WORKERS, 200)),
    # marketplace: batches (REQ's)
    "POST /api/v1/batches": only(dict.fromkeys(REQUESTERS, 201)),
    "GET /api/v1/batches": only({MEMBER: 200, COORD: 200, REQ: 200, OTHER: 200}),
    "GET /api/v1/batches/{batch_id}": only({MEMBER: 200, COORD: 200, REQ: 200}),
    "GET /api/v1/batches/{batch_id}/items": only({REQ: 200}),
    "POST /api/v1/batches/{batch_id}/cancel": only({REQ: 200}),
    "POST /api/v1/batches/{batch_id}/raise": only({REQ: 200}),
    "POST /api/v1/batches/{batch_id}/pause": only({REQ: 200}),
    "POST /api/v1/batches/{batch_id}/unpause": only({REQ: 200}),
    "GET /api/v1/batches/{batch_id}/assignments": only({REQ: 200}),
    "GET /api/v1/batches/{batch_id}/appeals": only({REQ: 200, COORD: 200}),
    "POST /api/v1/batches/{batch_id}/claim": only(dict.fromkeys(MEMBERS, 201)),
    # marketplace: work (MEMBER's assignments on REQ's batches)
    "GET /api/v1/me/assignments": only(dict.fromkeys(WORKERS, 200)),
    "GET /api/v1/assignments/{assignment_id}": only({MEMBER: 200, REQ: 200}),
    "POST /api/v1/assignments/{assignment_id}/submit": only({MEMBER: 200}),
    "POST /api/v1/assignments/{assignment_id}/return": only({MEMBER: 200}),
    "POST /api/v1/assignments/{assignment_id}/review": only({REQ: 200}),
    "POST /api/v1/assignments/{assignment_id}/appeal": only({MEMBER: 201}),
    "GET /api/v1/appeals": only({COORD: 200}),
    "GET /api/v1/appeals/{appeal_id}": only({MEMBER: 200, COORD: 200}),
    "POST /api/v1/appeals/{appeal_id}/decide": only({COORD: 200}),
    "GET /api/v1/requesters/{requester_id}/stats": signed_in(200),
    "GET /api/v1/requesters/{requester_id}/reviews": signed_in(200),
    # Only members who submitted work for the requester review them: MEMBER has, COORD has not.
    "POST /api/v1/requesters/{requester_id}/reviews": only({MEMBER: 201}),
    # forum (the members board; the public one is read by everyone, see below)
    "GET /api/v1/forum/boards": public(200),
    "POST /api/v1/forum/boards": only({COORD: 201}),
    "GET /api/v1/forum/boards/{board_id}": only(dict.fromkeys(MEMBERS, 200)),
    "GET /api/v1/forum/boards/{board_id}/threads": only(dict.fromkeys(MEMBERS, 200)),
    "POST /api/v1/forum/boards/{board_id}/threads": only(dict.fromkeys(MEMBERS, 201)),
    "GET /api/v1/forum/threads/{thread_id}": only(dict.fromkeys(MEMBERS, 200)),
    "POST /api/v1/forum/threads/{thread_id}/posts": only(dict.fromkeys(MEMBERS, 201)),
    "GET /api/v1/forum/posts/{post_id}": only(dict.fromkeys(MEMBERS, 200)),
    "PATCH /api/v1/forum/posts/{post_id}": only({MEMBER: 200}),
    "GET /api/v1/forum/posts/{post_id}/history": only(dict.fromkeys(MEMBERS, 200)),
    "POST /api/v1/forum/posts/{post_id}/retract": only({MEMBER: 200}),
    "POST /api/v1/forum/posts/{post_id}/flags": only(dict.fromkeys(MEMBERS, 201)),
    "POST /api/v1/forum/posts/{post_id}/flags/dismiss": only({COORD: 200}),
    "GET /api/v1/forum/flags": only({COORD: 200}),
    "POST /api/v1/forum/posts/{post_id}/moderation": only({COORD: 200}),
    "GET /api/v1/forum/moderation-log": signed_in(200),
    "POST /api/v1/forum/posts/{post_id}/appeal": only({MEMBER: 201}),
    "GET /api/v1/forum/appeals": only({COORD: 200}),
    "GET /api/v1/forum/appeals/{appeal_id}": only(dict.fromkeys(MEMBERS, 200)),
    "POST /api/v1/forum/appeals/{appeal_id}/decide": only({COORD: 200}),
    "POST /api/v1/forum/appeals/{appeal_id}/escalate": only({MEMBER: 200}),
    # marketplace: results (REQ's batch)
    "GET /api/v1/batches/{batch_id}/results.csv": only({REQ: 200}),
    # governance: amendments (the proposal is MEMBER's for deciding, "proposer"'s for amending), outcomes
    "POST /api/v1/proposals/{proposal_id}/amendments": only(dict.fromkeys(MEMBERS, 201)),
    "GET /api/v1/proposals/{proposal_id}/amendments": signed_in(200),
    "POST /api/v1/amendments/{amendment_id}/accept": only({MEMBER: 200}),
    "POST /api/v1/amendments/{amendment_id}/decline": only({MEMBER: 200}),
    "GET /api/v1/proposals/{proposal_id}/versions": signed_in(200),
    # The author (MEMBER) or a coordinator, after close.
    "POST /api/v1/proposals/{proposal_id}/outcome": only(dict.fromkeys(MEMBERS, 200)),
    # governance: delegation (the caller's own; DELETE finds one set by its builder)
    "GET /api/v1/me/delegation": only(dict.fromkeys(MEMBERS, 200)),
    "PUT /api/v1/me/delegation": only(dict.fromkeys(MEMBERS, 200)),
    "DELETE /api/v1/me/delegation": only(dict.fromkeys(MEMBERS, 200)),
    # collective power over batches (REQ's)
    "POST /api/v1/batches/{batch_id}/flags": only(dict.fromkeys(MEMBERS, 201)),
    "POST /api/v1/batches/{batch_id}/resume": only({COORD: 200}),
    "POST /api/v1/batches/{batch_id}/flags/uphold": only({COORD: 200}),
    # accounts: the profile
    "PATCH /api/v1/me": signed_in(200),
    # marketplace: fair work
    "POST /api/v1/assignments/{assignment_id}/bonus": only({REQ: 201}),
    "POST /api/v1/assignments/{assignment_id}/feedback": only({MEMBER: 201}),
    "GET /api/v1/batches/{batch_id}/feedback": only({REQ: 200}),
    "POST /api/v1/batches/{batch_id}/launch": only({REQ: 200}),
    # Messages: the assignment's worker and the batch's requester; coordinators read during an appeal.
    "POST /api/v1/assignments/{assignment_id}/messages": only({MEMBER: 201, REQ: 201}),
    "GET /api/v1/assignments/{assignment_id}/messages": only({MEMBER: 200, REQ: 200, COORD: 200}),
    # accounts by email: the emailed links are their own credential, followed signed in or not;
    # everyone here is verified already (or email is off), so asking for a new link is a state conflict.
    "POST /api/v1/auth/verify-email": public(200),
    "POST /api/v1/auth/verify-email/resend": signed_in(409),
    "POST /api/v1/auth/password-reset": public(202),
    "POST /api/v1/auth/password-reset/confirm": public(200),
    # webhooks: requesters subscribe to their batches' events (members to governance ones, not asked here);
    # REQ owns the webhook, and anyone else's id is "not found".
    "POST /api/v1/webhooks": only({REQ: 201, OTHER: 201}, default=422),
    "GET /api/v1/webhooks": signed_in(200),
    "DELETE /api/v1/webhooks/{webhook_id}": only({REQ: 204}, default=404),
    "PATCH /api/v1/webhooks/{webhook_id}": only({REQ: 200}, default=404),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": only({REQ: 200}, default=404),
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": only({REQ: 202}, default=404),
}


# --- what each route needs: the objects its path names and a valid body -------------------

SETUP = {}


def setup(route: str):
    def register(builder):
        SETUP[route] = builder
        return builder

    return register


@setup("POST /api/v1/auth/register")
def _register(w):
    name = unique("newcomer")
    return {}, {
        "email": f"{name}@example.org",
        "password": "correct-horse-battery",
        "display_name": name,
        "kind": "worker",
    }


def _credentials(w):
    user = w.make.worker()
    return {}, {"email": user.email, "password": "correct-horse-battery"}


setup("POST /api/v1/auth/login")(_credentials)
setup("POST /api/v1/auth/password")(
    lambda w: ({}, {"current_password": "correct-horse-battery", "new_password": "another-long-passphrase"})
)
setup("POST /api/v1/auth/token")(_credentials)


def _emailed_link(purpose: str):
    def build(w):
        return {}, {"token": accounts_services._issue_link(w.make.worker(), purpose, timedelta(hours=1))}

    return build


setup("POST /api/v1/auth/verify-email")(_emailed_link("verify"))
setup("POST /api/v1/auth/password-reset")(lambda w: ({}, {"email": w.make.worker().email}))


@setup("POST /api/v1/auth/password-reset/confirm")
def _reset_link(w):
    return {}, {**_emailed_link("reset")(w)[1], "password": "another-long-passphrase"}


@setup("POST /api/v1/webhooks")
def _new_webhook(w):
    return {}, {"url": "http://127.0.0.1:9/hooks", "events": ["batch.completed"]}


@setup("DELETE /api/v1/webhooks/{webhook_id}")
@setup("GET /api/v1/webhooks/{webhook_id}/deliveries")
def _webhook(w):
    return {"webhook_id": w.webhook().id}, None


@setup("PATCH /api/v1/webhooks/{webhook_id}")
def _disabled_webhook(w):
    webhook = w.webhook()
    webhook.disabled_at = webhook.failing_since = clock.now()
    return {"webhook_id": webhook.id}, {"enabled": True}


@setup("POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
def _webhook_delivery(w):
    webhook = w.webhook()
    return {"webhook_id": webhook.id, "delivery_id": w.webhook_delivery(webhook).id}, None


@setup("DELETE /api/v1/auth/tokens/{token_id}")
def _token(w):
    return {"token_id": w.token(MEMBER).id}, None


@setup("POST /api/v1/membership/{user_id}/admit")
def _applicant(w):
    return {"user_id": w.applicant().id}, None


@setup("POST /api/v1/membership/{user_id}/refuse")
def _refused_applicant(w):
    return {"user_id": w.applicant().id}, {"reason": "No transfer arrived."}


setup("GET /api/v1/terms/{version}")(lambda w: ({"version": 1}, None))
setup("GET /api/v1/rules/{slug}")(lambda w: ({"slug": "forum-rules"}, None))


@setup("POST /api/v1/proposals")
def _new_proposal(w):
    return {}, {"title": "Hold a members' assembly", "body": "Let us meet.", "kind": "general", "method": "yes_no"}


@setup("GET /api/v1/proposals/{proposal_id}")
@setup("POST /api/v1/proposals/{proposal_id}/cosign")
def _submitted_proposal(w):
    return {"proposal_id": w.proposal().id}, None


@setup("GET /api/v1/proposals/{proposal_id}/receipts")
def _closing_proposal(w):
    # Due now: the request closes it, and its receipts are published.
    proposal = w.proposal("open")
    proposal.closes_at = clock.now()
    return {"proposal_id": proposal.id}, None


@setup("POST /api/v1/proposals/{proposal_id}/review")
def _review_proposal(w):
    return {"proposal_id": w.proposal().id}, {"action": "accept"}


@setup("POST /api/v1/proposals/{proposal_id}/ballot")
def _open_proposal(w):
    return {"proposal_id": w.proposal("open").id}, {"choice": "yes"}


@setup("POST /api/v1/deposits")
def _deposit_body(w):
    return {}, {"amount_cents": 5_000}


@setup("POST /api/v1/deposits/{deposit_id}/confirm")
def _pending_deposit(w):
    return {"deposit_id": w.deposit().id}, None


@setup("POST /api/v1/me/withdrawals")
def _withdrawal_body(w):
    if w.caller is not None and w.caller.kind == "worker":
        w.fund(w.caller)
    return {}, {"amount_cents": 1_000}


@setup("POST /api/v1/withdrawals/{withdrawal_id}/confirm")
def _pending_withdrawal(w):
    return {"withdrawal_id": w.withdrawal().id}, None


setup("PATCH /api/v1/me/preferences")(lambda w: ({}, {"content_opt_in": ["violence"]}))
setup("POST /api/v1/me/notifications/read")(lambda w: ({}, {"all": True}))
setup("POST /api/v1/batches")(lambda w: ({}, batch_body()))


@setup("GET /api/v1/batches/{batch_id}")
@setup("GET /api/v1/batches/{batch_id}/items")
@setup("POST /api/v1/batches/{batch_id}/cancel")
@setup("GET /api/v1/batches/{batch_id}/assignments")
@setup("POST /api/v1/batches/{batch_id}/claim")
def _batch_with_work(w):
    # The member already holds a claim on one item, so both members still find an item to claim.
    assignment = w.assignment("claimed")
    return {"batch_id": assignment.batch_id}, None


@setup("POST /api/v1/batches/{batch_id}/pause")
def _open_batch(w):
    return {"batch_id": w.batch().id}, None


@setup("POST /api/v1/batches/{batch_id}/unpause")
def _paused_batch(w):
    batch = w.batch()
    batch.paused_reason, batch.paused_at = "requester", clock.now()
    return {"batch_id": batch.id}, None


@setup("POST /api/v1/batches/{batch_id}/raise")
def _raise(w):
    return {"batch_id": w.batch().id}, {"reward_cents": 30}


@setup("GET /api/v1/assignments/{assignment_id}")
@setup("POST /api/v1/assignments/{assignment_id}/submit")
def _claimed(w):
    return {"assignment_id": w.assignment("claimed").id}, {"answer": {"label": "stop sign"}}


@setup("POST /api/v1/assignments/{assignment_id}/return")
def _claimed_to_return(w):
    return {"assignment_id": w.assignment("claimed").id}, None


@setup("POST /api/v1/assignments/{assignment_id}/review")
def _submitted(w):
    return {"assignment_id": w.assignment("submitted").id}, {"decision": "approve"}


@setup("POST /api/v1/assignments/{assignment_id}/appeal")
def _rejected(w):
    return {"assignment_id": w.assignment("rejected").id}, {"reason": "The boxes do cover the signs."}


@setup("GET /api/v1/batches/{batch_id}/appeals")
def _batch_with_appeal(w):
    return {"batch_id": w.appeal().assignment.batch_id}, None


@setup("GET /api/v1/appeals/{appeal_id}")
@setup("POST /api/v1/appeals/{appeal_id}/decide")
def _work_appeal(w):
    return {"appeal_id": w.appeal().id}, {"decision": "overturn", "reason": "The boxes are fine."}


@setup("GET /api/v1/requesters/{requester_id}/stats")
@setup("GET /api/v1/requesters/{requester_id}/reviews")
@setup("POST /api/v1/requesters/{requester_id}/reviews")
def _requester_worked_for(w):
    w.assignment("submitted")
    return {"requester_id": w.requester.id}, {"rating": 4, "text": "Clear instructions."}


setup("POST /api/v1/forum/boards")(
    lambda w: ({}, {"slug": unique("board"), "title": "Night shift", "visibility": "members"})
)


@setup("GET /api/v1/forum/boards/{board_id}")
@setup("GET /api/v1/forum/boards/{board_id}/threads")
@setup("POST /api/v1/forum/boards/{board_id}/threads")
def _members_board(w):
    return {"board_id": w.board("members").id}, {"title": "Strike fund", "body": "Who is in?"}


@setup("GET /api/v1/forum/threads/{thread_id}")
@setup("POST /api/v1/forum/threads/{thread_id}/posts")
def _members_thread(w):
    return {"thread_id": w.thread().id}, {"body": "Count me in."}


@setup("GET /api/v1/forum/posts/{post_id}")
@setup("PATCH /api/v1/forum/posts/{post_id}")
@setup("GET /api/v1/forum/posts/{post_id}/history")
@setup("POST /api/v1/forum/posts/{post_id}/retract")
@setup("POST /api/v1/forum/posts/{post_id}/moderation")
def _members_post(w):
    return {"post_id": w.post().id}, {
        "body": "Who is in? Edited.",
        "action": "hide",
        "rule": "forum-rules",
        "reason": "Rule 2: harassment",
    }


@setup("POST /api/v1/forum/posts/{post_id}/flags")
def _someone_elses_post(w):
    return {"post_id": w.post(author=w.user("second_member")).id}, {"rule": "forum-rules", "note": "spam"}


@setup("POST /api/v1/forum/posts/{post_id}/flags/dismiss")
def _flagged(w):
    return {"post_id": w.flagged_post().id}, {"reason": "Not spam."}


@setup("POST /api/v1/forum/posts/{post_id}/appeal")
def _hidden(w):
    return {"post_id": w.hidden_post().id}, {"reason": "It was a joke among friends."}


@setup("GET /api/v1/forum/appeals/{appeal_id}")
@setup("POST /api/v1/forum/appeals/{appeal_id}/decide")
@setup("POST /api/v1/forum/appeals/{appeal_id}/escalate")
def _forum_appeal(w):
    return {"appeal_id": w.forum_appeal().id}, {"decision": "overturn", "reason": "Friends joking."}


@setup("GET /api/v1/batches/{batch_id}/results.csv")
def _batch_with_submitted_work(w):
    return {"batch_id": w.assignment("submitted").batch_id}, None


@setup("POST /api/v1/proposals/{proposal_id}/amendments")
@setup("GET /api/v1/proposals/{proposal_id}/amendments")
@setup("GET /api/v1/proposals/{proposal_id}/versions")
def _proposal_to_amend(w):
    return {"proposal_id": w.proposal().id}, {"body": "Let us meet on Tuesday.", "reason": "A day helps."}


def _amendment_to_members_proposal(w):
    proposal = w.proposal(proposer=w.member)
    return governance_services.propose_amendment(
        w.user("second_member"), proposal, {"body": "Let us meet on Tuesday.", "reason": "A day helps."}
    )


setup("POST /api/v1/amendments/{amendment_id}/accept")(
    lambda w: ({"amendment_id": _amendment_to_members_proposal(w).id}, None)
)
setup("POST /api/v1/amendments/{amendment_id}/decline")(
    lambda w: ({"amendment_id": _amendment_to_members_proposal(w).id}, {"reason": "Tuesdays are taken."})
)


@setup("POST /api/v1/proposals/{proposal_id}/outcome")
def _members_closing_proposal(w):
    # Due now: the request closes it before the outcome is recorded.
    proposal = w.proposal("open", proposer=w.member)
    proposal.closes_at = clock.now()
    return {"proposal_id": proposal.id}, {"statement": "We met on Tuesday."}


@setup("PUT /api/v1/me/delegation")
def _delegate_body(w):
    return {}, {"delegate_id": w.user("second_member").id}


@setup("DELETE /api/v1/me/delegation")
def _delegating_caller(w):
    from coop.governance import services as governance_services

    if w.caller is not None and w.caller.is_member:
        governance_services.set_delegate(w.caller, w.user("second_member").id)
    return {}, None


setup("PATCH /api/v1/me")(lambda w: ({}, {"country": "FR"}))


@setup("POST /api/v1/assignments/{assignment_id}/bonus")
def _submitted_for_bonus(w):
    return {"assignment_id": w.assignment("submitted").id}, {"amount_cents": 10, "reason": "Thorough."}


@setup("POST /api/v1/assignments/{assignment_id}/feedback")
def _submitted_pilot_work(w):
    assignment = w.assignment("submitted", batch=w.batch(pilot_slots=2))
    return {"assignment_id": assignment.id}, {"clarity": 4, "minutes_taken": 2}


@setup("GET /api/v1/batches/{batch_id}/feedback")
@setup("POST /api/v1/batches/{batch_id}/launch")
def _pilot_batch(w):
    return {"batch_id": w.batch(pilot_slots=2).id}, None


@setup("POST /api/v1/assignments/{assignment_id}/messages")
def _claimed_to_talk_about(w):
    return {"assignment_id": w.assignment("claimed").id}, {"body": "Does a yield sign count?"}


@setup("GET /api/v1/assignments/{assignment_id}/messages")
def _appealed_to_read_about(w):
    return {"assignment_id": w.appeal().assignment_id}, None


def _only_fields(route: str, body):
    """Some builders serve several routes; send each route only the fields its schema takes."""
    fields = {
        "PATCH /api/v1/forum/posts/{post_id}": ("body",),
        "POST /api/v1/forum/posts/{post_id}/moderation": ("action", "rule", "reason"),
        "POST /api/v1/assignments/{assignment_id}/submit": ("answer",),
        "POST /api/v1/appeals/{appeal_id}/decide": ("decision", "reason"),
        "POST /api/v1/requesters/{requester_id}/reviews": ("rating", "text"),
        "POST /api/v1/forum/boards/{board_id}/threads": ("title", "body"),
        "POST /api/v1/forum/threads/{thread_id}/posts": ("body",),
        "POST /api/v1/forum/posts/{post_id}/flags": ("rule", "note"),
        "POST /api/v1/forum/posts/{post_id}/flags/dismiss": ("reason",),
        "POST /api/v1/forum/posts/{post_id}/appeal": ("reason",),
        "POST /api/v1/forum/appeals/{appeal_id}/decide": ("decision", "reason"),
    }.get(route)
    method = route.split(" ", 1)[0]
    if method in ("GET", "DELETE"):
        return None
    if fields is None:
        return body
    return {k: body[k] for k in fields}


CASES = [(route, role) for route in MATRIX for role in ROLES]


@pytest.mark.parametrize("route, role", CASES, ids=[f"{route}-{role}" for route, role in CASES])
def test_route_answers_each_role_as_the_table_says(world, route, role):
    world.caller = world.user(role)  # first, so an opening vote counts the caller as eligible
    client = world.client(role)
    params, body = SETUP.get(route, lambda w: ({}, None))(world)
    method, path = route.split(" ", 1)
    response = client.open(method, path.format(**params), json=_only_fields(route, body))
    expected = MATRIX[route][role]
    acceptable = expected if isinstance(expected, set) else {expected}
    assert response.status_code in acceptable, (response.status_code, response.get_json())


def test_the_table_names_every_route_of_the_spec_and_no_other(app, client):
    spec = client.get("/api/openapi.json").get_json()
    routes = {
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"Add these routes to MATRIX with the status each role gets: {missing}"
    assert not stale, f"These routes are gone from the spec; remove them from MATRIX: {stale}"


def test_every_route_with_a_path_parameter_or_a_body_has_a_setup():
    for route in MATRIX:
        method, path = route.split(" ", 1)
        if "{" in path or method in ("POST", "PATCH", "PUT"):
            if route in SETUP:
                continue
            # Actions without fields (logout, join, withdraw) take an empty body.
            assert method == "POST" and "{" not in path, f"{route} needs a SETUP builder"


# --- object-level checks, written out -------------------------------------------------------


def _snapshot_money(*users) -> dict:
    accounts = []
    for user in users:
        accounts += [
            ledger.requester_available(user.id),
            ledger.requester_escrow(user.id),
            ledger.worker_earnings(user.id),
        ]
    return {name: ledger.balance(name) for name in accounts + [ledger.COOP_FEES]}


def test_another_requesters_batch_is_refused_for_every_action_and_left_untouched(world, session):
    assignment = world.assignment("submitted")
    batch = assignment.batch
    other = world.client(OTHER)
    before = _snapshot_money(world.requester, world.user(OTHER), world.member)
    calls = [
        ("GET", f"{V1}/batches/{batch.id}", None),
        ("POST", f"{V1}/batches/{batch.id}/cancel", {}),
        ("POST", f"{V1}/batches/{batch.id}/raise", {"reward_cents": 40}),
        ("POST", f"{V1}/batches/{batch.id}/pause", None),
        ("GET", f"{V1}/batches/{batch.id}/items", None),
        ("GET", f"{V1}/batches/{batch.id}/assignments", None),
        ("GET", f"{V1}/assignments/{assignment.id}", None),
        ("POST", f"{V1}/assignments/{assignment.id}/review", {"decision": "reject", "reason": "Mine now."}),
    ]
    for method, url, body in calls:
        response = other.open(method, url, json=body)
        assert response.status_code == 403, (url, response.get_json())
        text = response.get_data(as_text=True)
        # Nothing of the batch leaks through the refusal: no title, no item data, no answer.
        assert "Label street photos" not in text and "stop sign" not in text and '"n"' not in text
    session.refresh(batch)
    session.refresh(assignment)
    assert (batch.status, batch.reward_cents, batch.paused_reason) == ("open", 20, None)
    assert assignment.status == "submitted"
    assert _snapshot_money(world.requester, world.user(OTHER), world.member) == before


def test_requesters_lists_show_only_their_own_batches_deposits_and_payouts(world, session):
    mine = world.batch()
    theirs = world.batch(owner=world.user(OTHER))
    world.deposit()
    world.withdrawal()
    other = world.client(OTHER)
    assert [b["id"] for b in other.get(f"{V1}/batches").get_json()["items"]] == [theirs.id]
    assert mine.id != theirs.id
    assert other.get(f"{V1}/deposits").get_json()["items"] == []
    assert other.get(f"{V1}/me/withdrawals").get_json()["items"] == []
    assert {d["requester_id"] for d in world.client(REQ).get(f"{V1}/deposits").get_json()["items"]} == {
        world.requester.id
    }


def test_another_members_assignment_is_refused_and_its_item_not_shown(world, session):
    claimed = world.assignment("claimed")
    rejected = world.assignment("rejected")
    second = world.client("second_member")
    for method, url, body in [
        ("GET", f"{V1}/assignments/{claimed.id}", None),
        ("POST", f"{V1}/assignments/{claimed.id}/submit", {"answer": {"label": "not mine"}}),
        ("GET", f"{V1}/assignments/{rejected.id}", None),
        ("POST", f"{V1}/assignments/{rejected.id}/appeal", {"reason": "I want the money."}),
    ]:
        response = second.open(method, url, json=body)
        assert response.status_code == 403, (url, response.get_json())
        assert '"data"' not in response.get_data(as_text=True)
    session.refresh(claimed)
    session.refresh(rejected)
    assert (claimed.status, claimed.answer) == ("claimed", None)
    assert rejected.status == "rejected" and rejected.appeal is None


def test_coordinators_see_no_assignment_or_appeal_they_are_not_party_to_except_to_decide(world, session):
    appeal = world.appeal()
    coordinator, other = world.client(COORD), world.client(OTHER)
    assert coordinator.get(f"{V1}/assignments/{appeal.assignment_id}").status_code == 403
    assert coordinator.get(f"{V1}/appeals/{appeal.id}").status_code == 200
    # The batch's own requester is not shown the appeal either: coordinators decide it.
    assert world.client(REQ).get(f"{V1}/appeals/{appeal.id}").status_code == 403
    assert other.get(f"{V1}/appeals/{appeal.id}").status_code == 403


@pytest.mark.parametrize("role", [WORKER, REQ])
def test_a_members_board_thread_and_post_by_id_are_refused_to_non_members(world, session, role):
    thread, post = forum_services.start_thread(
        world.member, world.board("members"), "Secret strike plan", "We stop on Monday."
    )
    client = world.client(role)
    for method, url, body in [
        ("GET", f"{V1}/forum/threads/{thread.id}", None),
        ("GET", f"{V1}/forum/boards/{thread.board_id}/threads", None),
        ("GET", f"{V1}/forum/posts/{post.id}", None),
        ("GET", f"{V1}/forum/posts/{post.id}/history", None),
        ("POST", f"{V1}/forum/threads/{thread.id}/posts", {"body": "Let me in."}),
        ("POST", f"{V1}/forum/posts/{post.id}/flags", {"rule": "forum-rules", "note": "x"}),
        ("PATCH", f"{V1}/forum/posts/{post.id}", {"body": "Defaced."}),
        ("POST", f"{V1}/forum/posts/{post.id}/retract", {}),
    ]:
        response = client.open(method, url, json=body)
        assert response.status_code == 403, (url, response.get_json())
        text = response.get_data(as_text=True)
        assert "Secret strike plan" not in text and "We stop on Monday" not in text
    session.refresh(thread)
    session.refresh(post)
    assert thread.post_count == 1 and post.body == "We stop on Monday." and post.edit_count == 0


def test_a_hidden_post_shows_its_text_to_members_and_its_author_only(world, session):
    post = forum_services.start_thread(world.member, world.board("public"), "Public", "Rude words")[1]
    forum_services.moderate(world.user("moderator"), post, "hide", "forum-rules", "Rule 2: harassment")
    for role, sees in [(MEMBER, True), (COORD, True), (WORKER, False), (REQ, False)]:
        response = world.client(role).get(f"{V1}/forum/posts/{post.id}")
        assert response.status_code == 200
        assert ("Rude words" in response.get_data(as_text=True)) is sees, role
        assert response.get_json()["moderation"]["reason"] == "Rule 2: harassment"


def test_a_public_board_is_read_by_everyone_signed_in_and_written_by_members_and_requesters(world, session):
    thread = world.thread(board="public")
    for role, status in [(WORKER, 403), (REQ, 201), (MEMBER, 201), (ANON, 401)]:
        response = world.client(role).post(f"{V1}/forum/threads/{thread.id}/posts", json={"body": "Hello."})
        assert response.status_code == status, (role, response.get_json())
        if role != ANON:
            assert world.client(role).get(f"{V1}/forum/threads/{thread.id}").status_code == 200


def test_another_users_token_cannot_be_revoked_and_stays_valid(world, session, app):
    token, plain = accounts_services.issue_token(world.member, "phone")
    for role in (WORKER, COORD, REQ, "second_member"):
        response = world.client(role).delete(f"{V1}/auth/tokens/{token.id}")
        assert response.status_code == 404, (role, response.get_json())
    # The owner's token list is theirs alone: nobody else's tokens appear in it.
    assert token.id not in {t["id"] for t in world.client(COORD).get(f"{V1}/auth/tokens").get_json()}
    session.refresh(token)
    assert token.revoked_at is None
    response = app.test_client().get(f"{V1}/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200 and response.get_json()["id"] == world.member.id


def test_another_authors_post_cannot_be_edited_or_retracted_even_by_a_coordinator(world, session):
    post = world.post(board="public")
    for role in (COORD, "second_member", REQ):
        client = world.client(role)
        edit = client.patch(f"{V1}/forum/posts/{post.id}", json={"body": "Words put in your mouth."})
        retract = client.post(f"{V1}/forum/posts/{post.id}/retract")
        assert (edit.status_code, retract.status_code) == (403, 403), role
    session.refresh(post)
    assert (post.body, post.edit_count, post.retracted_at) == ("Who is in?", 0, None)
    assert world.client(MEMBER).patch(f"{V1}/forum/posts/{post.id}", json={"body": "Mine."}).status_code == 200


def test_a_coordinator_cannot_decide_the_appeal_against_their_own_rejected_work(world, session):
    appeal = world.appeal(worker=world.coordinator)
    body = {"decision": "overturn", "reason": "I was right."}
    response = world.client(COORD).post(f"{V1}/appeals/{appeal.id}/decide", json=body)
    assert response.status_code == 403, response.get_json()
    session.refresh(appeal)
    assert appeal.status == "pending" and ledger.balance(ledger.worker_earnings(world.coordinator.id)) == 0
    assert world.client("moderator").post(f"{V1}/appeals/{appeal.id}/decide", json=body).status_code == 200


def test_a_coordinator_cannot_confirm_their_own_payout(world, session):
    world.fund(world.coordinator, 3_000)
    withdrawal = world.withdrawal(owner=world.coordinator)
    response = world.client(COORD).post(f"{V1}/withdrawals/{withdrawal.id}/confirm")
    assert response.status_code == 403, response.get_json()
    session.refresh(withdrawal)
    assert withdrawal.status == "pending"
    assert world.client("moderator").post(f"{V1}/withdrawals/{withdrawal.id}/confirm").status_code == 200


def test_a_coordinator_cannot_hide_their_own_post_nor_decide_appeals_they_are_party_to(world, session):
    own = world.post(author=world.coordinator)
    hide = {"action": "hide", "rule": "forum-rules", "reason": "Rule 2"}
    assert world.client(COORD).post(f"{V1}/forum/posts/{own.id}/moderation", json=hide).status_code == 403
    # The coordinator's own post, hidden by another and appealed by them: they may not decide it.
    forum_services.moderate(world.user("moderator"), own, "hide", "forum-rules", "Rule 2")
    own_appeal = forum_services.open_appeal(world.coordinator, own, "Unfair.")
    decide = {"decision": "overturn", "reason": "Fine."}
    assert world.client(COORD).post(f"{V1}/forum/appeals/{own_appeal.id}/decide", json=decide).status_code == 403
    # The coordinator who hid a post may not decide the appeal against that hiding either.
    appeal = world.forum_appeal()
    assert world.client("moderator").post(f"{V1}/forum/appeals/{appeal.id}/decide", json=decide).status_code == 403
    session.refresh(own_appeal)
    session.refresh(appeal)
    assert own_appeal.status == appeal.status == "open"


def test_a_member_cannot_cosign_their_own_proposal_nor_escalate_someone_elses_appeal(world, session):
    proposal = world.proposal(proposer=world.member)
    assert world.client(MEMBER).post(f"{V1}/proposals/{proposal.id}/cosign").status_code == 403
    appeal = world.forum_appeal(author=world.user("second_member"))
    assert world.client(MEMBER).post(f"{V1}/forum/appeals/{appeal.id}/escalate").status_code == 403
    assert world.client(MEMBER).get(f"{V1}/forum/appeals/{appeal.id}").status_code == 403
    session.refresh(proposal)
    session.refresh(appeal)
    assert proposal.cosigner_count == 0 and appeal.status == "open"


def test_only_members_who_worked_for_a_requester_may_review_them(world, session):
    world.assignment("claimed")  # claimed but never submitted: no review yet
    response = world.client(MEMBER).post(f"{V1}/requesters/{world.requester.id}/reviews", json={"rating": 1})
    assert response.status_code == 403
    # A requester id that is not a requester is "not found", whoever asks.
    assert world.client(MEMBER).get(f"{V1}/requesters/{world.member.id}/stats").status_code == 404


def test_a_requester_never_votes_proposes_or_joins(world, session):
    proposal = world.proposal("open")
    requester = world.client(REQ)
    assert requester.post(f"{V1}/proposals/{proposal.id}/ballot", json={"choice": "yes"}).status_code == 403
    assert requester.post(f"{V1}/membership").status_code == 403
    session.refresh(proposal)
    assert proposal.ballot_count == 0


def _first_allowed(route: str) -> str:
    return next(role for role in ROLES if 200 <= min(_statuses(MATRIX[route][role])) < 300)


def _statuses(expected) -> set:
    return expected if isinstance(expected, set) else {expected}


ROUTES_WITH_IDS = [
    route
    for route in MATRIX
    if "{" in route and any(200 <= min(_statuses(MATRIX[route][role])) < 300 for role in ROLES)
]


@pytest.mark.parametrize("route", ROUTES_WITH_IDS)
def test_an_unknown_id_is_not_found_for_a_caller_who_may_use_the_route(world, route):
    role = _first_allowed(route)
    world.caller = world.user(role)
    params, body = SETUP[route](world)
    missing = {name: "no-such-rule" if isinstance(value, str) else 10**9 for name, value in params.items()}
    method, path = route.split(" ", 1)
    response = world.client(role).open(method, path.format(**missing), json=_only_fields(route, body))
    assert response.status_code == 404, (role, response.get_json())
    assert response.get_json()["message"]


@pytest.mark.parametrize("role", [COORD, MEMBER, REQ])
def test_nothing_is_deleted_through_the_api(world, session, role):
    assignment = world.assignment("claimed")
    post = world.post(board="public")
    for url in (
        f"/forum/posts/{post.id}",
        f"/forum/threads/{post.thread_id}",
        f"/batches/{assignment.batch_id}",
        f"/proposals/{world.proposal().id}",
        f"/assignments/{assignment.id}",
    ):
        response = world.client(role).delete(V1 + url)
        assert response.status_code == 405, (url, response.get_json())


# --- what anyone may read, and the way in ------------------------------------------------


def test_the_terms_rules_and_public_board_are_read_without_signing_in(world, session):
    thread = world.thread(board="public")
    post = forum_services.add_post(world.user("second_member"), thread, "Welcome, everyone.")
    anonymous = world.client(ANON)
    assert anonymous.get(f"{V1}/terms/current").get_json()["version"] >= 1
    assert anonymous.get(f"{V1}/rules/forum-rules").status_code == 200
    assert [b["slug"] for b in anonymous.get(f"{V1}/forum/boards").get_json()] == ["public"]
    page = anonymous.get(f"{V1}/forum/boards/{thread.board_id}/threads").get_json()
    assert thread.id in [t["id"] for t in page["items"]]
    shown = anonymous.get(f"{V1}/forum/threads/{thread.id}").get_json()
    assert [p["body"] for p in shown["posts"]["items"]] == ["Who is in?", "Welcome, everyone."]
    assert not any(p["mine"] for p in shown["posts"]["items"])
    assert anonymous.get(f"{V1}/forum/posts/{post.id}").status_code == 200
    assert anonymous.get(f"{V1}/forum/posts/{post.id}/history").status_code == 200
    # Reading is all: writing still needs an account.
    assert anonymous.post(f"{V1}/forum/threads/{thread.id}/posts", json={"body": "Hi"}).status_code == 401
    assert (
        anonymous.post(f"{V1}/forum/boards/{thread.board_id}/threads", json={"title": "Hi", "body": "Hi"}).status_code
        == 401
    )


def test_a_hidden_public_post_keeps_its_text_from_visitors(world, session):
    post = forum_services.start_thread(world.member, world.board("public"), "Public", "Rude words")[1]
    forum_services.moderate(world.user("moderator"), post, "hide", "forum-rules", "Rule 2: harassment")
    response = world.client(ANON).get(f"{V1}/forum/threads/{post.thread_id}")
    assert response.status_code == 200
    assert "Rude words" not in response.get_data(as_text=True)


def test_a_members_board_asks_visitors_to_sign_in_and_tells_them_nothing(world, session):
    thread, post = forum_services.start_thread(world.member, world.board("members"), "Secret strike plan", "Monday.")
    for url in (
        f"/forum/boards/{thread.board_id}",
        f"/forum/boards/{thread.board_id}/threads",
        f"/forum/threads/{thread.id}",
        f"/forum/posts/{post.id}",
        f"/forum/posts/{post.id}/history",
    ):
        response = world.client(ANON).get(V1 + url)
        assert response.status_code == 401, (url, response.get_json())
        assert "Secret strike plan" not in response.get_data(as_text=True)


def test_a_worker_who_is_not_a_member_is_told_to_join_to_see_batches(world, session):
    response = world.client(WORKER).get(f"{V1}/batches")
    assert response.status_code == 403
    assert "/api/v1/membership" in response.get_json()["message"]
    assert "requester" not in response.get_json()["message"]


def test_the_spec_declares_how_to_authenticate_each_operation(client):
    spec = client.get("/api/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert {k: schemes["csrfToken"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
    }
    operations = {
        f"{m.upper()} {p}": op
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if m in ("get", "post", "put", "patch", "delete")
    }
    by_cookie_with_csrf = [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}]
    optional = [{}, {"bearerAuth": []}, {"cookieAuth": []}]
    for route, operation in operations.items():
        anonymous = MATRIX[route][ANON]
        if route.startswith("GET "):
            # The default (a token or the session cookie), or open with a signed-in caller seeing more.
            assert operation.get("security") in (None, optional), route
            if anonymous != 401:
                assert operation["security"] == optional, route
        elif anonymous != 401:
            assert operation["security"] == [], route  # the doors in carry their own credentials
        else:
            assert operation["security"] == by_cookie_with_csrf, route


# --- collective power ------------------------------------------------------------------------


@setup("POST /api/v1/batches/{batch_id}/flags")
def _batch_to_flag(w):
    return {"batch_id": w.batch().id}, {"reason": "Asks for fake product reviews."}


@setup("POST /api/v1/batches/{batch_id}/resume")
@setup("POST /api/v1/batches/{batch_id}/flags/uphold")
def _batch_paused_by_flags(w):
    batch = w.batch()
    batch.paused_reason, batch.paused_at = "flags", clock.now()
    return {"batch_id": batch.id}, {"reason": "Read the flags and the instructions."}


def test_a_requester_cannot_flag_its_own_batch_nor_answer_the_flags(world, session):
    batch = world.batch()
    batch.paused_reason = "flags"
    client = world.client(REQ)
    assert client.post(f"{V1}/batches/{batch.id}/flags", json={"reason": "Flagging my own work."}).status_code == 403
    for action in ("resume", "flags/uphold"):
        response = client.post(f"{V1}/batches/{batch.id}/{action}", json={"reason": "Resume my own batch."})
        assert response.status_code == 403
    assert batch.status == "open" and batch.paused_reason == "flags"
