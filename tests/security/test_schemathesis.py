"""Schemathesis fuzzing of every operation in /api/openapi.json: no 5xx, and every response as documented.

The app under test is its own, on its own database, seeded with a few objects so that
generated path ids sometimes name something real; requests go through the app's own
commit-at-the-edge, so fuzzing data never reaches the rest of the suite. The example
budget is fixed and generation derandomized, so a CI run is reproducible.
"""

import os
from collections import Counter

import hypothesis
import pytest
import schemathesis
from argon2 import PasswordHasher
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from coop.accounts import services as accounts
from coop.extensions import db, limiter
from coop.governance import services as governance
from tests.conftest import founded_app, fresh_database

PASSWORD = "correct-horse-battery"
# Examples per operation, role and mode (valid / invalid input): a fixed budget for CI;
# COOP_FUZZ_EXAMPLES raises it for a deeper search by hand.
MAX_EXAMPLES = int(os.environ.get("COOP_FUZZ_EXAMPLES", "6"))
ROLES = ("requester", "coordinator", "member")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Operations that would end the fuzzing identity itself; each is covered by its domain's tests.
EXCLUDED = [
    ("POST", "/api/v1/auth/logout"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"),
    ("POST", "/api/v1/membership/withdraw"),
]


class Seeder:
    """Puts a few objects of every kind in the fuzzing database, through the API as users would."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}

    def call(self, role, method, url, json=None, expect=(200, 201)):
        response = self.client.open(
            url,
            method=method,
            json={} if json is None and method != "GET" else json,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
        )
        assert response.status_code in expect, (method, url, response.status_code, response.get_json())
        return response.get_json()

    def users(self):
        with self.app.app_context():
            member = accounts.register("fuzz-member@example.org", PASSWORD, "fuzz-member", "worker")
            governance.admit_founder(member, "test transfer")
            other = accounts.register("fuzz-other@example.org", PASSWORD, "fuzz-other", "worker")
            governance.admit_founder(other, "test transfer")
            coordinator = accounts.register("fuzz-coord@example.org", PASSWORD, "fuzz-coord", "worker")
            governance.admit_founder(coordinator, "test transfer")
            accounts.set_roles(coordinator, coordinator=True)
            requester = accounts.register("fuzz-req@example.org", PASSWORD, "fuzz-req", "requester", "Fuzz Ltd")
            accounts.register("fuzz-worker@example.org", PASSWORD, "fuzz-worker", "worker")
            for role, user in (
                ("member", member),
                ("other", other),
                ("coordinator", coordinator),
                ("requester", requester),
            ):
                _, self.tokens[role] = accounts.issue_token(user, "fuzzing")
            db.session.commit()

    def objects(self):
        """Deposits, a batch with work at each stage, a proposal, forum threads, a hidden post and its appeal."""
        deposit = self.call("requester", "POST", "/api/v1/deposits", {"amount_cents": 100_000})
        self.call("coordinator", "POST", f"/api/v1/deposits/{deposit['id']}/confirm")
        self.call("requester", "POST", "/api/v1/deposits", {"amount_cents": 5_000})
        batch = self.call(
            "requester",
            "POST",
            "/api/v1/batches",
            {
                "title": "Label street photos",
                "description": "Mark every traffic sign.",
                "instructions": "Draw one box per sign.",
                "end_client": "Northwind Mobility",
                "purpose": "preparation",
                "content_warnings": [],
                "personal_data": False,
                "reward_cents": 20,
                "est_seconds": 55,
                "assignments_per_item": 1,
                "items": [{"data": {"n": i}} for i in range(6)],
            },
        )
        url = f"/api/v1/batches/{batch['id']}"
        submitted = self.call("member", "POST", f"{url}/claim")
        self.call("member", "POST", f"/api/v1/assignments/{submitted['id']}/submit", {"answer": {"ok": True}})
        rejected = self.call("other", "POST", f"{url}/claim")
        self.call("other", "POST", f"/api/v1/assignments/{rejected['id']}/submit", {"answer": {"ok": False}})
        self.call(
            "requester",
            "POST",
            f"/api/v1/assignments/{rejected['id']}/review",
            {"decision": "reject", "reason": "Boxes missing."},
        )
        self.call("other", "POST", f"/api/v1/assignments/{rejected['id']}/appeal", {"reason": "They are there."})
        self.call("member", "POST", f"{url}/claim")
        self.call(
            "member",
            "POST",
            "/api/v1/proposals",
            {"title": "Hold an assembly", "body": "Let us meet.", "kind": "general", "method": "yes_no"},
        )
        opened = self.call(
            "member",
            "POST",
            "/api/v1/proposals",
            {
                "title": "Pick a logo",
                "body": "Which?",
                "kind": "general",
                "method": "ranked",
                "options": ["red", "green", "blue"],
            },
        )
        self.call("coordinator", "POST", f"/api/v1/proposals/{opened['id']}/review", {"action": "accept"})
        boards = {b["slug"]: b for b in self.call("member", "GET", "/api/v1/forum/boards")}
        for slug in ("public", "members"):
            thread = self.call(
                "member",
                "POST",
                f"/api/v1/forum/boards/{boards[slug]['id']}/threads",
                {"title": f"Hello {slug}", "body": "First post"},
            )
            thread_id = thread["thread"]["id"]
            reply = self.call("other", "POST", f"/api/v1/forum/threads/{thread_id}/posts", {"body": "A reply"})
            self.call(
                "member", "POST", f"/api/v1/forum/posts/{reply['id']}/flags", {"rule": "forum-rules", "note": "Rude."}
            )
        self.call(
            "coordinator",
            "POST",
            f"/api/v1/forum/posts/{reply['id']}/moderation",
            {"action": "hide", "rule": "forum-rules", "reason": "Rule 2: harassment"},
        )
        self.call("other", "POST", f"/api/v1/forum/posts/{reply['id']}/appeal", {"reason": "It was a joke."})


@pytest.fixture(scope="module")
def fuzz_app():
    """A dedicated app on a dedicated, seeded database; rate limits off."""
    limiter_was_enabled = limiter.enabled
    with fresh_database("coop_fuzz") as url, pytest.MonkeyPatch.context() as mp:
        # argon2id at production cost would make seeding slow; hashes stay argon2id.
        mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        app = founded_app(url, RATELIMIT_ENABLED=False)
        seeder = Seeder(app)
        seeder.users()
        seeder.objects()
        app.config["FUZZ_TOKENS"] = seeder.tokens
        yield app
        with app.app_context():
            db.engine.dispose()
    # The limiter is one object shared by every app in the process; give the others theirs back.
    limiter.enabled = limiter_was_enabled


def _fuzz_schema(app):
    # Every request is authenticated by the test, as the role under test.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    for method, path in EXCLUDED:
        schema = schema.exclude(method=method, path=path)
    return schema


def _fuzz(operation, mode, headers: dict[str, dict], statuses: dict[str, Counter], failures: dict[str, str]) -> None:
    """Send the budget of `mode` cases for one operation as each role (`headers` by role).

    Every role gets the same generated cases, so generating them (most of the cost) is done once.
    A role's first failure, described, goes in `failures`, and that role is sent no more cases.
    Derandomized, so every run sends the same requests; no shrinking, which would spend the
    budget on minimising an example rather than finding the next failure.
    """

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        for role, role_headers in headers.items():
            if role in failures:
                continue
            try:
                response = case.call_and_validate(headers=role_headers, checks=CHECKS)
            except (AssertionError, FailureGroup) as exc:  # one failed check, or a group of them
                failures[role] = f"{operation.label} ({mode.value}) as {role}:\n{exc}"
                continue
            statuses[role][response.status_code // 100 * 100 if response.status_code != 401 else 401] += 1

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to make invalid: the operation takes no parameters and no body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_every_operation_answers_as_documented(fuzz_app, mode):
    """No 5xx, and each response's status, content type, headers and body as the spec documents them."""
    schema = _fuzz_schema(fuzz_app)
    headers = {role: {"Authorization": f"Bearer {fuzz_app.config['FUZZ_TOKENS'][role]}"} for role in ROLES}
    failures: list[str] = []
    answered: dict[str, set] = {role: set() for role in ROLES}
    for result in schema.get_all_operations():
        operation = result.ok()
        statuses: dict[str, Counter] = {role: Counter() for role in ROLES}
        failed: dict[str, str] = {}
        _fuzz(operation, mode, headers, statuses, failed)
        failures.extend(failed.values())
        for role in ROLES:
            # The token is valid throughout, so a 401 means the fuzzing lost its identity and
            # everything after it would conform trivially.
            public = operation.definition.raw.get("security") == []  # these check a password instead
            assert public or not statuses[role][401], f"{operation.label} answered 401 to a signed-in {role}"
            if statuses[role][200]:
                answered[role].add(operation.label)
    assert not failures, f"{len(failures)} operations answered other than documented:\n\n" + "\n\n".join(failures)
    if mode == GenerationMode.POSITIVE:
        for role in ROLES:
            # A role check or a missing object answers most requests of a role; some valid ones must get through.
            assert len(answered[role]) >= 10, f"only {sorted(answered[role])} ever answered 2xx to a {role}"
