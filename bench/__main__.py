"""Run every benchmark in one go: `python -m bench` (or `make bench`).

Claims (API vs raw SQL vs bare Flask), claim scaling at 1/8/32/64 workers, tallies at 10k/100k/1M ballots,
and first-vs-last page latency for a 200,000-post thread and 100,000 proposals. All on PostgreSQL
(COOP_BENCH_DATABASE_URL, default the local test server), each in a throwaway database. Figures and ratios
are printed and written to bench/results/*.json, the scaling table also as bench/results/scaling.png.
"""

import os
import time
from pathlib import Path

from bench import claims, proposal_paging, tally
from bench.common import DEFAULT_PG, table, throwaway_database, write_results

SCALING_WORKERS = (1, 8, 32, 64)
SCALING_SECONDS = float(os.environ.get("COOP_BENCH_SCALING_SECONDS", "15"))


def claim_scaling() -> list[dict]:
    """Claims per second through the API and as raw SQL at each concurrency, time-boxed on fresh batches."""
    rows = []
    with throwaway_database() as url:
        for workers in SCALING_WORKERS:
            found = claims.level(url, workers, SCALING_SECONDS)
            api, raw, _ = found["runs"]
            rows.append(
                {
                    "workers": workers,
                    "api_claims_per_s": api["claims_per_s"],
                    "api_p50_ms": api["p50_ms"],
                    "api_p99_ms": api["p99_ms"],
                    "raw_claims_per_s": raw["claims_per_s"],
                    "api_over_raw": found["api_over_raw"],
                }
            )
            print(f"scaling {workers:>2} workers: api {api['claims_per_s']}/s, raw {raw['claims_per_s']}/s")
    print(table(rows, list(rows[0])))
    return rows


def plot(scaling: list[dict], tallies: list[dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'); no plot drawn")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    workers = [r["workers"] for r in scaling]
    left.plot(workers, [r["api_claims_per_s"] for r in scaling], marker="o", label="API (gunicorn)")
    left.plot(workers, [r["raw_claims_per_s"] for r in scaling], marker="s", label="raw SQL (limit)")
    left.set(xlabel="concurrent workers", ylabel="claims+submits per second", title="Claim throughput", xscale="log")
    left.set_xticks(workers, [str(w) for w in workers])
    left.legend()
    for method in ("yes_no", "median", "ranked"):
        points = sorted((r["ballots"], r["seconds"]) for r in tallies if r["method"] == method)
        if points:
            right.plot(*zip(*points, strict=False), marker="o", label=method)
    right.axhline(tally.GOAL_SECONDS, color="grey", linestyle="--", label="goal (2 s)")
    right.set(xlabel="ballots", ylabel="seconds to close", title="Tally time", xscale="log")
    right.legend()
    fig.tight_layout()
    path = os.path.join(os.path.dirname(__file__), "results", "scaling.png")
    fig.savefig(path, dpi=110)
    print("-> bench/results/scaling.png")


def main() -> None:
    os.environ.setdefault("COOP_BENCH_DATABASE_URL", DEFAULT_PG)
    started = time.perf_counter()
    results = {"cpus": os.cpu_count()}
    results["claims"] = claims.main()
    write_results("claims", results["claims"])
    from bench import pair_cost

    results["pair_cost"] = pair_cost.main()
    results["scaling"] = claim_scaling()
    results["tally"] = tally.main(tally.SCALING_CASES + tally.GOAL_CASES)
    write_results("tally", {"cases": results["tally"]})
    from bench import forum_paging

    results["forum_paging"] = forum_paging.main()
    results["proposal_paging"] = proposal_paging.main()
    write_results("proposal_paging", results["proposal_paging"])
    from bench import delegation

    results["delegation"] = delegation.main()
    write_results("delegation", results["delegation"])
    plot(results["scaling"], results["tally"])
    scaling_table = table(results["scaling"], list(results["scaling"][0]))
    tally_table = table(results["tally"], ["method", "ballots", "seconds", "peak_rss_mb", "status"])
    (Path(__file__).parent / "results" / "scaling.md").write_text(
        f"# Claim scaling\n\n```\n{scaling_table}\n```\n\n# Tally time\n\n```\n{tally_table}\n```\n"
    )
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_results("summary", results)


if __name__ == "__main__":
    main()
