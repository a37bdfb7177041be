"""Benchmark: closing a vote with 1,000,000 ballots (yes/no and median) and 100,000 ranked ballots.

Run from the repository root: `python -m bench.tally` (PostgreSQL at COOP_BENCH_DATABASE_URL,
default the local test server; a throwaway database is created and dropped). Each close runs in
its own process so its peak memory is its own. Prints seconds and peak RSS, writes
bench/results/tally.json. Scale with COOP_BENCH_TALLY_SIZES (comma-separated ballot counts).
After a yes/no close it also times reading the receipts back through the API: GET /proposals/{id}
(1,000 inlined), the first and second 200-receipt pages, and the whole ?format=csv stream.
"""

import os
import resource
import time
from datetime import timedelta

import sqlalchemy as sa

from bench.common import in_own_process, make_app, p50_ms, seed_members, table, throwaway_database, write_results

GOAL_SECONDS = 2.0
RANKED_OPTIONS = [f"option-{c}" for c in "ABCDEFGH"]


BALLOT_SQL = {
    # Around 55% yes, 35% no, 10% abstain.
    "yes_no": "jsonb_build_object('choice', CASE WHEN g % 20 < 11 THEN 'yes' WHEN g % 20 < 18 THEN 'no' ELSE 'abstain' END)",
    # Proposed minimum hourly rates between 1000 and 2000 cents.
    "median": "jsonb_build_object('value', 1000 + (g::bigint * 7919) % 1001)",
    # Rankings: a rotation of the 8 options starting at a pseudo-random place, of length 1..8.
    "ranked": "(SELECT jsonb_build_object('ranking', jsonb_agg(o ORDER BY k)) FROM ("
    "SELECT k, (ARRAY[{opts}])[1 + ((g * 31 + (g % 7) * 3 + k) % 8)] AS o "
    "FROM generate_series(0, (g % 8)) k) r)",
}


def _open_proposal(app, method: str) -> int:
    from coop.accounts.models import User
    from coop.extensions import db
    from coop.governance import services

    with app.app_context():
        author = db.session.get(User, 1)
        data = {"title": f"Bench {method}", "body": "Benchmark vote.", "kind": "general", "method": method}
        if method == "median":
            data.update(kind="terms", change={"param": "min_hourly_rate_cents"})
        if method == "ranked":
            data["options"] = RANKED_OPTIONS
        proposal = services.create_proposal(author, data)
        services.review_proposal(author, proposal, "accept", None)
        db.session.commit()
        return proposal.id


def _cast_ballots(app, proposal_id: int, method: str, n: int) -> None:
    from coop.extensions import db

    expression = BALLOT_SQL[method].replace("{opts}", ", ".join(f"'{o}'" for o in RANKED_OPTIONS))
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO ballots (proposal_id, member_id, receipt, choice) "
                f"SELECT :p, g, md5(:p || '-' || g), {expression} FROM generate_series(1, :n) g"
            ),
            {"p": proposal_id, "n": n},
        )
        conn.execute(sa.text("UPDATE proposals SET ballot_count = :n WHERE id = :p"), {"p": proposal_id, "n": n})
        conn.execute(sa.text("ANALYZE ballots"))


def _read_receipts(app, proposal_id: int) -> dict:
    """Median times of reading a closed vote's receipts over HTTP, and one full CSV export."""
    from coop.accounts import services as accounts
    from coop.accounts.models import User
    from coop.extensions import db

    with app.app_context():
        _, token = accounts.issue_token(db.session.get(User, 1), "bench")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/proposals/{proposal_id}"

    def get(path: str, **query):
        response = client.get(path, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response

    shown = get(url).json
    cursor = get(f"{url}/receipts", limit=200).json["next_cursor"]
    start = time.perf_counter()
    lines = sum(chunk.count(b"\n") for chunk in get(f"{url}/receipts", format="csv").iter_encoded())
    csv_seconds = time.perf_counter() - start
    return {
        "inlined": len(shown["receipts"]),
        "receipts_total": shown["receipts_total"],
        "get_proposal_ms": p50_ms(lambda: get(url), repeats=10),
        "first_page_ms": p50_ms(lambda: get(f"{url}/receipts", limit=200), repeats=10),
        "second_page_ms": p50_ms(lambda: get(f"{url}/receipts", limit=200, cursor=cursor), repeats=10),
        "csv_seconds": round(csv_seconds, 3),
        "csv_lines": lines,
    }


def _close_in_child(url: str, proposal_id: int, queue) -> None:
    from coop import clock
    from coop.extensions import db
    from coop.governance import services
    from coop.governance.models import Proposal

    app = make_app(url)
    with app.app_context():
        clock.advance(timedelta(days=30))
        db.session.execute(sa.select(sa.literal(1)))  # connect before timing
        start = time.perf_counter()
        closed = services.close_due(clock.now())
        db.session.commit()
        seconds = time.perf_counter() - start
        proposal = db.session.get(Proposal, proposal_id)
        peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        reads = _read_receipts(app, proposal_id) if proposal.method == "yes_no" else {}
        queue.put(
            {
                "seconds": round(seconds, 3),
                "closed": closed,
                "status": proposal.status,
                "winner_or_value": (proposal.result or {}).get("winner", (proposal.result or {}).get("value")),
                "peak_rss_mb": peak_rss_mb,
                **reads,
            }
        )


def measure(url: str, method: str, n: int) -> dict:
    app = make_app(url)
    proposal_id = _open_proposal(app, method)
    _cast_ballots(app, proposal_id, method, n)
    result = in_own_process(_close_in_child, url, proposal_id)
    with app.app_context():
        from coop.extensions import db

        db.engine.dispose()
    return {
        "method": method,
        "ballots": n,
        **result,
        "goal_seconds": GOAL_SECONDS,
        "meets_goal": result["seconds"] < GOAL_SECONDS,
    }


GOAL_CASES = [("yes_no", 1_000_000), ("median", 1_000_000), ("ranked", 100_000)]
SCALING_CASES = [(m, n) for n in (10_000, 100_000) for m in ("yes_no", "median", "ranked")]


def main(cases=None) -> list[dict]:
    rows = []
    for method, n in cases or GOAL_CASES:
        # A fresh database per case, so each close sees only its own ballots and members.
        with throwaway_database() as url:
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                seed_members(conn, n)
            engine.dispose()
            row = measure(url, method, n)
        print(f"{method:7} {n:>9,} ballots: {row['seconds']:.3f} s, peak RSS {row['peak_rss_mb']} MB, {row['status']}")
        rows.append(row)
    print(table(rows, ["method", "ballots", "seconds", "peak_rss_mb", "status", "meets_goal"]))
    reads = [row for row in rows if "get_proposal_ms" in row]
    if reads:
        columns = ["ballots", "get_proposal_ms", "first_page_ms", "second_page_ms", "csv_seconds", "csv_lines"]
        print(table(reads, columns))
    return rows


if __name__ == "__main__":
    sizes = os.environ.get("COOP_BENCH_TALLY_SIZES")
    chosen = [(m, int(n)) for n in sizes.split(",") for m in ("yes_no", "median", "ranked")] if sizes else None
    write_results("tally", {"cases": main(chosen)})
