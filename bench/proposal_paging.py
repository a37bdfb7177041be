"""Benchmark: the first and the last page of 100,000 proposals cost about the same (keyset pages).

Run from the repository root: `python -m bench.proposal_paging` (PostgreSQL at COOP_BENCH_DATABASE_URL,
default the local test server; a throwaway database is created and dropped). Prints p50 of each page
through the HTTP API and writes bench/results/proposal_paging.json.
"""

import os

import sqlalchemy as sa

from bench.common import make_app, p50_ms, throwaway_database, write_results

PROPOSALS = int(os.environ.get("COOP_BENCH_PROPOSALS", "100000"))
LIMIT = 50
REPEATS = 20
GOAL_RATIO = 1.5


def main() -> dict:
    from coop.accounts import services as accounts
    from coop.extensions import db
    from coop.governance import services as governance
    from coop.pagination import _encode

    with throwaway_database() as url:
        app = make_app(url)
        with app.app_context():
            member = accounts.register("reader@bench.coop", "bench-password-1", "Bench Reader", "worker")
            governance.admit_founder(member, "bench")
            _, token = accounts.issue_token(member, "bench")
            db.session.execute(
                sa.text(
                    "INSERT INTO proposals (title, body, kind, method, status, proposer_id, created_at, "
                    "eligible_count, ballot_count, cosigner_count) "
                    "SELECT 'Proposal ' || g, 'Body of proposal ' || g, 'general', 'yes_no', 'submitted', :u, "
                    "now() at time zone 'utc', 0, 0, 0 FROM generate_series(1, :n) g"
                ),
                {"u": member.id, "n": PROPOSALS},
            )
            db.session.execute(sa.text("ANALYZE proposals"))
            db.session.commit()
            low, high = db.session.execute(sa.text("SELECT min(id), max(id) FROM proposals")).one()
        # Newest first: the last page holds the LIMIT lowest ids, after the cursor low + LIMIT.
        last_cursor = _encode([low + LIMIT])
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def page(cursor):
            url_ = f"/api/v1/proposals?limit={LIMIT}" + (f"&cursor={cursor}" if cursor else "")
            response = client.get(url_, headers=headers)
            assert response.status_code == 200 and len(response.json["items"]) == LIMIT, response.status_code
            return response.json

        assert page(last_cursor)["items"][-1]["id"] == low and page(None)["items"][0]["id"] == high
        first, last = p50_ms(lambda: page(None), REPEATS), p50_ms(lambda: page(last_cursor), REPEATS)
        with app.app_context():
            db.engine.dispose()
    result = {
        "proposals": PROPOSALS,
        "page_size": LIMIT,
        "repeats": REPEATS,
        "http_first_page_p50_ms": first,
        "http_last_page_p50_ms": last,
        "last_over_first": round(last / first, 3),
        "goal_ratio": GOAL_RATIO,
    }
    print(
        f"proposal paging: {PROPOSALS} proposals, first {first} ms, last {last} ms, "
        f"last/first {result['last_over_first']} (goal <= {GOAL_RATIO})"
    )
    return result


if __name__ == "__main__":
    write_results("proposal_paging", main())
