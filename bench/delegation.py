"""Benchmark: closing a vote of 100,000 members of whom 30% delegate (chains and cycles), against the same vote without delegation.

Run from the repository root: `python -m bench.delegation` (PostgreSQL at COOP_BENCH_DATABASE_URL,
default the local test server; a throwaway database is created and dropped). Two proposals get
the same ballots: one opened under terms that allow delegation, one under terms that do not;
each is closed in its own process and timed. Afterwards the weights the close stored are checked
against the chains resolved one by one in Python, and the result against a recount of the
published receipts with their weights. Prints figures, writes bench/results/delegation.json.
Scale with COOP_BENCH_DELEGATION_MEMBERS.
"""

import os
import resource
import time
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from bench.common import in_own_process, make_app, seed_members, table, throwaway_database, write_results

GOAL_SECONDS = 2.0
MEMBERS = 100_000

# Members g with g % 10 in (0, 1, 2) delegate: 30%. Inside every block of 1,000, members 100, 110
# and 120 delegate round in a cycle with no voter, and 101 and 111 delegate into it. The others
# name a member spread over the whole coop, so a delegate often delegates too: chains form.
DELEGATE_SQL = """
INSERT INTO delegations (member_id, delegate_id, set_at)
SELECT g, CASE
    WHEN g % 1000 IN (100, 110) AND g + 20 <= :n THEN g + 10
    WHEN g % 1000 = 120 THEN g - 20
    WHEN g % 1000 IN (101, 111) THEN g - 1
    WHEN 1 + h % :n = g THEN 1 + g % :n
    ELSE 1 + h % :n END, now()
FROM generate_series(1, :n) g, LATERAL (SELECT ('x' || substr(md5(g::text), 1, 8))::bit(32)::bigint AS h) spread
WHERE g % 10 IN (0, 1, 2)
"""

# Half the coop votes (g % 10 >= 5), and 1% of members vote although they delegate: their own
# ballot overrides. Around 55% yes, 35% no, 10% abstain.
VOTERS_WHERE = "(g % 10 >= 5 OR (g % 100 = 2))"
CHOICE_SQL = (
    "jsonb_build_object('choice', CASE WHEN g % 20 < 11 THEN 'yes' WHEN g % 20 < 18 THEN 'no' ELSE 'abstain' END)"
)


def _seed(conn, n: int) -> None:
    seed_members(conn, n)
    conn.execute(sa.text(DELEGATE_SQL), {"n": n})
    conn.execute(sa.text("ANALYZE users"))
    conn.execute(sa.text("ANALYZE delegations"))


def _open(app, allowed: bool) -> int:
    """A yes/no proposal opened under terms whose delegation_allowed is `allowed`."""
    from coop import clock
    from coop.accounts.models import User
    from coop.extensions import db
    from coop.governance import services
    from coop.governance.models import TermsVersion

    with app.app_context():
        current = services.current_terms()
        if current.params["delegation_allowed"] != allowed:
            params = {**current.params, "delegation_allowed": allowed}
            db.session.add(TermsVersion(version=current.version + 1, params=params, effective_at=clock.now()))
            db.session.flush()
        author = db.session.get(User, 1)
        data = {
            "title": f"Bench delegation {allowed}",
            "body": "Benchmark vote.",
            "kind": "general",
            "method": "yes_no",
        }
        proposal = services.create_proposal(author, data)
        services.review_proposal(author, proposal, "accept", None)
        db.session.commit()
        return proposal.id


def _cast(app, proposal_id: int, n: int) -> int:
    from coop.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        cast = conn.execute(
            sa.text(
                f"INSERT INTO ballots (proposal_id, member_id, receipt, choice) "
                f"SELECT :p, g, md5(:p || '-' || g), {CHOICE_SQL} FROM generate_series(1, :n) g WHERE {VOTERS_WHERE}"
            ),
            {"p": proposal_id, "n": n},
        ).rowcount
        conn.execute(sa.text("UPDATE proposals SET ballot_count = :c WHERE id = :p"), {"p": proposal_id, "c": cast})
        conn.execute(sa.text("ANALYZE ballots"))
        conn.execute(sa.text("ANALYZE proposal_eligibility"))
        return cast


def _close_in_child(url: str, proposal_id: int, queue) -> None:
    from coop import clock
    from coop.extensions import db
    from coop.governance import services
    from coop.governance.models import Proposal

    app = make_app(url)
    with app.app_context():
        clock.advance(timedelta(days=30))
        proposal = db.session.get(Proposal, proposal_id)  # connect and load before timing
        start = time.perf_counter()
        proposal = services.close_if_due(proposal)
        db.session.commit()
        seconds = time.perf_counter() - start
        queue.put(
            {
                "seconds": round(seconds, 3),
                "status": proposal.status,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )


def _close(url: str, proposal_id: int) -> dict:
    return in_own_process(_close_in_child, url, proposal_id)


def expected_weights(delegations: dict[int, int], voters: set[int]) -> Counter:
    """The weights the rules give, resolved member by member walking forward: the check on the SQL."""
    weights: Counter = Counter(dict.fromkeys(voters, 1))
    for member in delegations:
        if member in voters:
            continue
        seen, current = {member}, delegations[member]
        while current not in voters:
            if current in seen or current not in delegations:
                break  # a cycle, or a member who neither voted nor delegates: counts for no one
            seen.add(current)
            current = delegations[current]
        else:
            weights[current] += 1
    return weights


def _check(url: str, proposal_id: int) -> dict:
    """Stored weights against the Python resolution; the result against the published receipts' recount."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        delegations = dict(conn.execute(sa.text("SELECT member_id, delegate_id FROM delegations")).all())
        rows = conn.execute(
            sa.text("SELECT member_id, choice->>'choice', weight FROM ballots WHERE proposal_id = :p"),
            {"p": proposal_id},
        ).all()
        result = conn.execute(sa.text("SELECT result FROM proposals WHERE id = :p"), {"p": proposal_id}).scalar()
    engine.dispose()
    stored = {member: weight for member, _, weight in rows}
    recount: Counter = Counter()
    for _, choice, weight in rows:
        recount[choice] += weight
    expected = expected_weights(delegations, set(stored))
    return {
        "weights_match_python": stored == dict(expected),
        "recount_matches_result": all(recount[c] == result[c] for c in ("yes", "no", "abstain")),
        "delegated": result["delegated"],
        "counted": result["ballots"],
        "yes": result["yes"],
        "no": result["no"],
        "abstain": result["abstain"],
    }


def main(n: int = MEMBERS) -> dict:
    with throwaway_database() as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            _seed(conn, n)
            delegating = conn.execute(sa.text("SELECT count(*) FROM delegations")).scalar()
        engine.dispose()
        app = make_app(url)
        with_delegation = _open(app, allowed=True)
        without_delegation = _open(app, allowed=False)
        cast = _cast(app, with_delegation, n)
        _cast(app, without_delegation, n)
        with app.app_context():
            from coop.extensions import db

            db.engine.dispose()
        rows = []
        for label, proposal_id in (("with delegation", with_delegation), ("without", without_delegation)):
            timing = _close(url, proposal_id)
            rows.append({"close": label, "members": n, "delegating": delegating, "ballots": cast, **timing})
        check = _check(url, with_delegation)
    rows[0].update(goal_seconds=GOAL_SECONDS, meets_goal=rows[0]["seconds"] < GOAL_SECONDS)
    print(table(rows, ["close", "members", "delegating", "ballots", "seconds", "peak_rss_mb", "status"]))
    print(
        f"delegated {check['delegated']:,} of {delegating:,} delegating members counted; "
        f"weights match the Python resolution: {check['weights_match_python']}; "
        f"recount from receipts matches the result: {check['recount_matches_result']}"
    )
    return {"cases": rows, "check": check}


if __name__ == "__main__":
    write_results("delegation", main(int(os.environ.get("COOP_BENCH_DELEGATION_MEMBERS", MEMBERS))))
