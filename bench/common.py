"""Shared pieces of the benchmarks: throwaway databases, a gunicorn server, a load runner, results."""

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from coop.dbtools import throwaway_postgres_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def base_url() -> str:
    return os.environ.get("COOP_BENCH_DATABASE_URL", DEFAULT_PG)


@contextlib.contextmanager
def throwaway_database(base: str | None = None):
    """A fresh PostgreSQL database migrated to head, founded; dropped afterwards."""
    with throwaway_postgres_database(base or base_url(), "coop_bench") as target:
        app = make_app(target)
        with app.app_context():
            from flask_migrate import upgrade

            from coop.extensions import db
            from coop.forum.services import ensure_default_boards
            from coop.governance.services import found

            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            found()
            ensure_default_boards()
            db.session.commit()
            db.engine.dispose()
        yield target


def grammar_batch(
    title: str, items: list[dict], reward_cents: int, est_seconds: int, assignments_per_item: int
) -> dict:
    """The body of a plain yes/no grammar batch, as the benchmarks post it."""
    return {
        "title": title,
        "description": "Benchmark batch",
        "instructions": "Answer yes or no.",
        "end_client": "Bench University",
        "purpose": "verification",
        "content_warnings": [],
        "personal_data": False,
        "reward_cents": reward_cents,
        "est_seconds": est_seconds,
        "assignments_per_item": assignments_per_item,
        "items": items,
    }


def make_app(database_url: str, **overrides):
    from coop import create_app

    os.environ.setdefault("COOP_INSTANCE_PATH", str(RESULTS / "instance"))
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def seed_members(conn, n: int) -> None:
    """`n` members inserted in one statement (member 1 a coordinator), for benchmarks of whole-coop votes."""
    import sqlalchemy as sa

    conn.execute(
        sa.text(
            "INSERT INTO users (email, display_name, kind, password_hash, is_member, is_coordinator, created_at) "
            "SELECT 'm' || g || '@bench.coop', 'member ' || g, 'worker', 'x', true, g = 1, now() "
            "FROM generate_series(1, :n) g"
        ),
        {"n": n},
    )


def in_own_process(target, *args, timeout: float = 600):
    """Run `target(*args, queue)` in a fresh process and return what it puts on the queue.

    A close timed this way has its own peak memory and no connection or cache left by the setup.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    result = queue.get(timeout=timeout)
    child.join()
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # gunicorn's master


@contextlib.contextmanager
def gunicorn(app_spec: str, env: dict, workers: int = 4, threads: int = 1, worker_class: str = "sync"):
    """Serve `app_spec` (module:app) on a free loopback port; yields the Server (port and master's pid)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-k",
        worker_class,
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
        "--preload",
        app_spec,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        _warm_up(port, requests=8 * workers)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _warm_up(port: int, requests: int) -> None:
    # The port opens before the workers have booted; time no run until every worker answers.
    import http.client

    for _ in range(requests):
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/api/v1/me")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


# --- where the CPU went ----------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) of a process and of its children that have ended; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime: an ended child's time is added to its parent's when reaped.
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children, the live ones and those it has reaped."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            children = [int(child) for child in found.read().split()]
    except OSError:
        children = []
    return _cpu_seconds(pid) + sum(_cpu_seconds(child) for child in children)


def postgres_server_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (the parent of our backend)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        backend = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        try:
            with open(f"/proc/{backend}/stat") as stat:
                return int(stat.read().rpartition(")")[2].split()[1])
        except OSError:
            return None  # a server elsewhere


class CpuMeter:
    """CPU seconds used since it was made by process trees: a gunicorn master's, PostgreSQL's (Linux /proc).

    A tree counts its live processes and those that ended during the run, so PostgreSQL's
    backends of clients that connected and left are counted too, as are its WAL writer and
    checkpointer; anything else the same server does at that moment is counted with them.
    """

    def __init__(self, **roots: int | None):
        self.roots = {name: pid for name, pid in roots.items() if pid is not None}
        self.start = {name: _tree_cpu_seconds(pid) for name, pid in self.roots.items()}

    def used(self) -> dict[str, float]:
        return {name: _tree_cpu_seconds(pid) - self.start[name] for name, pid in self.roots.items()}


def run_clients(client_fn, args_list: list, processes: int = 4) -> tuple[list, float]:
    """Run one client function per argument set, spread over processes (each runs its share in threads).

    Returns the clients' results and the CPU seconds the load generator itself used, so a run can
    show when the generator, not the server, was the limit.
    """
    chunks = [args_list[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        results = list(pool.map(_run_threads, [(client_fn, c) for c in chunks if c]))
    cpu_seconds = sum(cpu for _, cpu in results)
    return [r for chunk, _ in results for r in chunk], cpu_seconds


def _run_threads(packed):
    from concurrent.futures import ThreadPoolExecutor

    client_fn, args_list = packed
    started = time.process_time()
    with ThreadPoolExecutor(max_workers=len(args_list)) as pool:
        results = list(pool.map(lambda a: client_fn(*a), args_list))
    return results, time.process_time() - started


def percentile(values, pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def p50_ms(work, repeats: int = 20, between=None) -> float:
    """Median wall time of `work` in milliseconds, after one untimed warm-up run."""
    work()
    samples = []
    for _ in range(repeats):
        if between:
            between()
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 3)


def summary_ms(latencies_s: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(latencies_s, 50) * 1000, 2) if latencies_s else None,
        "p99_ms": round(percentile(latencies_s, 99) * 1000, 2) if latencies_s else None,
        "mean_ms": round(statistics.fmean(latencies_s) * 1000, 2) if latencies_s else None,
    }


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    print(f"-> {path.relative_to(ROOT)}")
    return path


def table(rows: list[dict], columns: list[str]) -> str:
    def cell(row: dict, column: str) -> str:
        value = row.get(column)
        return "-" if value is None else str(value)

    widths = {c: max(len(c), *(len(cell(r, c)) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns), "-+-".join("-" * widths[c] for c in columns)]
    lines += [" | ".join(cell(r, c).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)
