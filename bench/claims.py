"""Benchmark: claim+submit throughput through the HTTP API against the physical limit and the framework ceiling.

Run from the repository root: `python -m bench.claims` (PostgreSQL at COOP_BENCH_DATABASE_URL, default the
local test server; a throwaway database is created and dropped). Three runs with the same concurrency:
  api  - members claim and submit through the real API served by gunicorn;
  raw  - the same claim+submit done as raw SQL (`FOR UPDATE SKIP LOCKED`) over psycopg: the database's limit;
  bare - a bare Flask JSON endpoint pair under the same gunicorn: the framework's ceiling.
Prints claims/s, the ratios API/raw and API/bare, p50/p99 latency and the double claims found (must be 0);
writes bench/results/claims.json. COOP_BENCH_SLOTS (default 8000), COOP_BENCH_CLIENTS (default 64; a
comma-separated list such as 1,8,32,64 sweeps the concurrency, each level on fresh batches),
COOP_BENCH_SECONDS (the longest a run may take, default 600), COOP_BENCH_GUNICORN_WORKERS (default as in
production, gunicorn.conf.py: cores + 1),
COOP_BENCH_WORKER_CLASS (sync, gthread or gevent; default sync) and COOP_BENCH_THREADS (default 1) tune it.
"""

import json
import os
import runpy
import socket
import time

import sqlalchemy as sa

from bench.common import (
    ROOT,
    CpuMeter,
    grammar_batch,
    gunicorn,
    make_app,
    postgres_server_pid,
    run_clients,
    summary_ms,
    table,
    throwaway_database,
    write_results,
)

SLOTS = int(os.environ.get("COOP_BENCH_SLOTS", "8000"))
CLIENT_LEVELS = [int(n) for n in os.environ.get("COOP_BENCH_CLIENTS", "64").split(",")]
SECONDS = float(os.environ.get("COOP_BENCH_SECONDS", "600"))
# As gunicorn.conf.py serves production, unless asked otherwise.
GUNICORN_WORKERS = int(
    os.environ.get("COOP_BENCH_GUNICORN_WORKERS") or runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]
)
WORKER_CLASS = os.environ.get("COOP_BENCH_WORKER_CLASS", "sync")
THREADS = int(os.environ.get("COOP_BENCH_THREADS", "1"))
ASSIGNMENTS_PER_ITEM = 2
PROCESSES = 4
GOAL_RATIO = 0.5


def _setup(url: str, clients: int, slots: int, batches: int = 2, tag: str = "") -> dict:
    """A requester with funds, `batches` identical open batches, `clients` members with API tokens, and history."""
    from coop.accounts import services as accounts
    from coop.extensions import db
    from coop.governance import services as governance
    from coop.marketplace import services as market

    app = make_app(url)
    with app.app_context():
        requester = accounts.register(
            f"lab{tag}@bench.coop", "bench-password-1", f"Bench Lab{tag}", "requester", "Bench Lab"
        )
        deposit = market.request_deposit(requester, 10_000_000_00)
        coordinator = accounts.register(
            f"coord{tag}@bench.coop", "bench-password-1", f"Bench Coordinator{tag}", "worker"
        )
        governance.found_coordinator(coordinator.email)
        market.confirm_deposit(coordinator, deposit)
        items = [{"data": {"text": f"Is this sentence {i} grammatical?"}} for i in range(slots // ASSIGNMENTS_PER_ITEM)]
        batch_ids = []
        # The last one is history: work done before the runs (see below).
        for n in range(batches + 1):
            batch = market.create_batch(
                requester, grammar_batch(f"Grammar check {n}", items, 11, 30, ASSIGNMENTS_PER_ITEM)
            )
            # Large batches start with a paid pilot; the benchmark races for the launched batch's slots.
            if batch.status == "pilot":
                market.launch(requester, batch, {})
            batch_ids.append(batch.id)
        *batch_ids, history_batch = batch_ids
        tokens, worker_ids = [], []
        for i in range(clients):
            member = accounts.register(f"w{i}{tag}@bench.coop", "bench-password-1", f"Bench Worker {i}{tag}", "worker")
            governance.admit_founder(member, "bench")
            tokens.append(accounts.issue_token(member, "bench")[1])
            worker_ids.append(member.id)
        db.session.commit()
        # A running coop has work behind it, and statistics that say so. Without history, the
        # planner sees an empty assignments table, chooses to scan it whole for "has this member
        # done this item", and keeps that plan in every pooled connection for the whole run while
        # the table fills (a coop's autovacuum would analyse and replan within a minute). So one
        # member first works through a batch of its own (as raw SQL, which is quick), then the
        # tables are analysed; the API and the raw runs both start from there.
        raw_client(_dsn(url), worker_ids[0], history_batch, time.monotonic() + SECONDS)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        db.engine.dispose()
    return {"batch_ids": batch_ids, "tokens": tokens, "worker_ids": worker_ids}


# --- clients (module-level so worker processes can import them) ------------------------------


def api_client(port: int, token: str, batch_id: int, deadline: float) -> dict:
    member = _Client(port, {"Authorization": f"Bearer {token}"})
    claim = member.request("POST", f"/api/v1/batches/{batch_id}/claim", "{}")
    claims, latencies, errors = 0, [], 0
    while time.monotonic() < deadline:
        start = time.perf_counter()
        status, body = member.send(claim)
        if status == 409:
            break
        if status != 201:
            errors += 1
            continue
        assignment = json.loads(body)["id"]
        status, _ = member.send(
            member.request("POST", f"/api/v1/assignments/{assignment}/submit", '{"answer": {"grammatical": true}}')
        )
        latencies.append(time.perf_counter() - start)
        claims += 1
        errors += status != 200
    return {"claims": claims, "latencies": latencies, "errors": errors}


def bare_client(port: int, iterations: int, deadline: float) -> dict:
    client = _Client(port, {})
    claim = client.request("POST", "/claim", "{}")
    submit = client.request("POST", "/submit", '{"answer": {"grammatical": true}}')
    claims, latencies, errors = 0, [], 0
    for _ in range(iterations):
        if time.monotonic() >= deadline:
            break
        start = time.perf_counter()
        status, _ = client.send(claim)
        status2, _ = client.send(submit)
        latencies.append(time.perf_counter() - start)
        claims += 1
        errors += (status != 201) + (status2 != 200)
    return {"claims": claims, "latencies": latencies, "errors": errors}


class _Client:
    """An HTTP/1.1 client as lean as a socket: the generator shares the machine with the server it measures.

    http.client parses every response's headers through the email package; that cost the
    generator about twice the CPU per request. The server answers each request and closes the
    connection (gunicorn's sync workers), so a response is everything read until it closes.
    """

    def __init__(self, port: int, headers: dict):
        self.address = ("127.0.0.1", port)
        self.headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    def request(self, method: str, path: str, body: str) -> bytes:
        payload = body.encode()
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {self.address[0]}:{self.address[1]}\r\n{self.headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        ).encode() + payload

    def send(self, request: bytes) -> tuple[int, bytes]:
        """(status, body) of one request on a connection of its own."""
        with socket.create_connection(self.address, timeout=60) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1."):
            raise ConnectionError(f"not an HTTP response: {head[:80]!r}")
        return int(head[9:12]), body


RAW_CLAIM = """
WITH slot AS (
    SELECT s.id, s.item_id FROM slots s
    WHERE s.batch_id = %(batch)s AND s.state = 'open'
      AND NOT EXISTS (SELECT 1 FROM assignments a
                      WHERE a.item_id = s.item_id AND a.worker_id = %(worker)s AND a.status <> 'expired')
    ORDER BY s.batch_id, s.id LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED
), held AS (
    UPDATE slots SET state = 'held' FROM slot WHERE slots.id = slot.id RETURNING slots.id, slots.item_id
)
INSERT INTO assignments (batch_id, item_id, slot_id, worker_id, status, holds_slot, claimed_at, lease_expires_at,
                         paid_cents)
SELECT %(batch)s, held.item_id, held.id, %(worker)s, 'claimed', true, now() at time zone 'utc',
       (now() + interval '30 minutes') at time zone 'utc', 0 FROM held
RETURNING id, item_id
"""
RAW_ITEM = "SELECT data FROM items WHERE id = %(item)s"
RAW_SUBMIT = """
UPDATE assignments SET status = 'submitted', answer = %(answer)s, submitted_at = now() at time zone 'utc',
       real_seconds = 1, auto_approve_at = (now() + interval '72 hours') at time zone 'utc'
WHERE id = %(id)s AND worker_id = %(worker)s AND status = 'claimed'
"""


def raw_client(dsn: str, worker: int, batch_id: int, deadline: float) -> dict:
    import psycopg

    claims, latencies, errors = 0, [], 0
    with psycopg.connect(dsn) as conn:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            with conn.transaction():
                row = conn.execute(RAW_CLAIM, {"batch": batch_id, "worker": worker}).fetchone()
                if row is not None:
                    conn.execute(RAW_ITEM, {"item": row[1]}).fetchone()
            if row is None:
                break
            with conn.transaction():
                updated = conn.execute(
                    RAW_SUBMIT, {"id": row[0], "worker": worker, "answer": '{"grammatical": true}'}
                ).rowcount
            latencies.append(time.perf_counter() - start)
            claims += 1
            errors += updated != 1
    return {"claims": claims, "latencies": latencies, "errors": errors}


# --- runs -------------------------------------------------------------------------------------


def _summarise(
    name: str, results: list[dict], seconds: float, generator_cpu_s: float, used: dict, wal_bytes: int | None = None
) -> dict:
    latencies = [x for r in results for x in r["latencies"]]
    claims = sum(r["claims"] for r in results)

    def per_pair_ms(cpu_s: float | None) -> float | None:
        return round(1000 * cpu_s / claims, 2) if cpu_s is not None and claims else None

    return {
        "run": name,
        "clients": len(results),
        "claims": claims,
        "seconds": round(seconds, 2),
        "claims_per_s": round(claims / seconds, 1) if seconds else None,
        "errors": sum(r["errors"] for r in results),
        **summary_ms(latencies),
        # Share of the whole machine's CPU the load generator used: near 1/cpus per busy core it
        # competes with the server, and the run measures the machine rather than the server.
        "generator_cpu_pct": round(100 * generator_cpu_s / (seconds * (os.cpu_count() or 1)), 1) if seconds else None,
        # Where a claim+submit pair's CPU went: the web server's processes, PostgreSQL's, the generator's.
        "server_ms_per_pair": per_pair_ms(used.get("server")),
        "postgres_ms_per_pair": per_pair_ms(used.get("postgres")),
        "generator_ms_per_pair": per_pair_ms(generator_cpu_s),
        # The write-ahead log a pair wrote: each commit waits for it to reach the disk, shared with
        # everything else on the machine.
        "wal_kb_per_pair": round(wal_bytes / 1024 / claims, 1) if wal_bytes is not None and claims else None,
    }


def _timed(fn, args_list, meter: CpuMeter, url: str | None = None):
    wal_from = _wal_position(url) if url else None
    start = time.perf_counter()
    results, generator_cpu_s = run_clients(fn, args_list, processes=min(PROCESSES, len(args_list)))
    seconds = time.perf_counter() - start
    wal_bytes = _wal_position(url) - wal_from if wal_from is not None else None
    return results, seconds, generator_cpu_s, meter.used(), wal_bytes


def _wal_position(url: str) -> int:
    """How far the server's write-ahead log has come, in bytes."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")))
    finally:
        engine.dispose()


def _server_env(url: str) -> dict:
    return {
        "COOP_DATABASE_URL": url,
        "COOP_ENV": "development",
        # As in production: jobs are run by `flask coop worker`, never inside the web process.
        "COOP_JOBS_RUN_AFTER_REQUEST": "0",
        "COOP_SECRET_KEY": "bench-secret-key",
        "COOP_INSTANCE_PATH": os.path.join(os.path.dirname(__file__), "results", "instance"),
    }


def _serve(app_spec: str, env: dict):
    return gunicorn(app_spec, env, workers=GUNICORN_WORKERS, threads=THREADS, worker_class=WORKER_CLASS)


def _wait_for_warm_workers(url: str, workers: int, patience_s: float = 60) -> None:
    """Return once every worker has warmed up: each then holds its first database connection.

    The port answers as soon as one worker has booted; the others may still be warming up, and
    the members' first claims would queue behind them and count against the API's latency.
    """
    engine = sa.create_engine(url)
    deadline = time.monotonic() + patience_s
    try:
        with engine.connect() as conn:
            while True:
                others = conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                )
                conn.rollback()
                if others >= workers:
                    # Connected; the statements are compiled a moment after.
                    time.sleep(0.2)
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {others} of {workers} workers connected to the database")
                time.sleep(0.05)
    finally:
        engine.dispose()


def run_api(url: str, setup: dict, batch_id: int, clients: int, budget_s: float = 600) -> dict:
    with _serve("wsgi:app", _server_env(url)) as server:
        _wait_for_warm_workers(url, GUNICORN_WORKERS)
        deadline = time.monotonic() + budget_s
        args = [(server.port, setup["tokens"][i], batch_id, deadline) for i in range(clients)]
        meter = CpuMeter(server=server.pid, postgres=postgres_server_pid(url))
        return _summarise("api", *_timed(api_client, args, meter, url))


def _dsn(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run_raw(url: str, setup: dict, batch_id: int, clients: int, budget_s: float = 600) -> dict:
    dsn, deadline = _dsn(url), time.monotonic() + budget_s
    args = [(dsn, setup["worker_ids"][i], batch_id, deadline) for i in range(clients)]
    return _summarise("raw", *_timed(raw_client, args, CpuMeter(postgres=postgres_server_pid(url)), url))


def run_bare(clients: int, total: int, budget_s: float = 600) -> dict:
    with _serve("bench.bare_app:app", {}) as server:
        deadline = time.monotonic() + budget_s
        args = [(server.port, total // clients, deadline) for _ in range(clients)]
        return _summarise("bare", *_timed(bare_client, args, CpuMeter(server=server.pid)))


def integrity(url: str, batch_id: int) -> dict:
    """Double claims and lost slots, counted straight from the tables."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        q = lambda sql: conn.execute(sa.text(sql), {"b": batch_id}).scalar()  # noqa: E731
        found = {
            "double_claims": q(
                "SELECT count(*) FROM (SELECT slot_id FROM assignments WHERE batch_id = :b AND holds_slot "
                "GROUP BY slot_id HAVING count(*) > 1) d"
            ),
            "item_twice_per_worker": q(
                "SELECT count(*) FROM (SELECT item_id, worker_id FROM assignments "
                "WHERE batch_id = :b GROUP BY item_id, worker_id HAVING count(*) > 1) d"
            ),
            "slots_left_open": q("SELECT count(*) FROM slots WHERE batch_id = :b AND state = 'open'"),
            "assignments": q("SELECT count(*) FROM assignments WHERE batch_id = :b"),
        }
    engine.dispose()
    return found


def level(url: str, clients: int, seconds: float = SECONDS) -> dict:
    """API, raw and bare at one concurrency, on batches of their own, each run at most `seconds`."""
    setup = _setup(url, clients, SLOTS, tag=f"-{clients}")
    api_batch, raw_batch = setup["batch_ids"]
    api = run_api(url, setup, api_batch, clients, seconds)
    api_integrity = integrity(url, api_batch)
    raw = run_raw(url, setup, raw_batch, clients, seconds)
    raw_integrity = integrity(url, raw_batch)
    bare = run_bare(clients, SLOTS, seconds)
    return {
        "clients": clients,
        "runs": [api, raw, bare],
        "api_over_raw": round(api["claims_per_s"] / raw["claims_per_s"], 3),
        "api_over_bare": round(api["claims_per_s"] / bare["claims_per_s"], 3),
        "api_integrity": api_integrity,
        "raw_integrity": raw_integrity,
    }


def main() -> dict:
    levels = []
    with throwaway_database() as url:
        for clients in CLIENT_LEVELS:
            levels.append(level(url, clients))
            # Each level's members and batches stay; the tables only grow, as in real use.
    columns = [
        "run",
        "clients",
        "claims",
        "seconds",
        "claims_per_s",
        "p50_ms",
        "p99_ms",
        "errors",
        "generator_cpu_pct",
        "server_ms_per_pair",
        "postgres_ms_per_pair",
        "generator_ms_per_pair",
        "wal_kb_per_pair",
    ]
    print(f"gunicorn: {GUNICORN_WORKERS} workers, {WORKER_CLASS}, {THREADS} thread(s); {os.cpu_count()} CPUs")
    print(table([run for found in levels for run in found["runs"]], columns))
    for found in levels:
        print(
            f"{found['clients']:>3} clients: API/raw = {found['api_over_raw']}  (goal >= {GOAL_RATIO});  "
            f"API/bare = {found['api_over_bare']};  API integrity {found['api_integrity']}"
        )
    return {
        "slots": SLOTS,
        "gunicorn": {"workers": GUNICORN_WORKERS, "worker_class": WORKER_CLASS, "threads": THREADS},
        "cpus": os.cpu_count(),
        "levels": levels,
        "goal_api_over_raw": GOAL_RATIO,
    }


if __name__ == "__main__":
    write_results("claims", main())
