"""Benchmark: 10,000 emails queued in one transaction, then sent by 1 and by 2 worker processes.

Run from the repository root: `python -m bench.jobs` (PostgreSQL at COOP_BENCH_DATABASE_URL, default the
local test server; a throwaway database is created and dropped). Stands for "the notifications of a vote
opening to 10,000 members are all queued and sent": each job is `mail.send` (what a notification's email
is) through `jobs.defer`, delivered over SMTP to a local aiosmtpd server in this process. For each worker
count, a fresh set of N emails is queued in one transaction (the time to queue is the `mail.send` calls
plus the commit that enqueues them all), then `flask coop worker` processes are started and timed until
the SMTP server holds all N (worker start-up included; the first email's arrival is printed too).
Scale with COOP_BENCH_JOBS (default 10000) and COOP_JOBS_CONCURRENCY (jobs at once per worker, default 4).
Prints the figures and writes bench/results/jobs.json.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import ROOT, make_app, table, throwaway_database, write_results

N = int(os.environ.get("COOP_BENCH_JOBS", "10000"))
CONCURRENCY = os.environ.get("COOP_JOBS_CONCURRENCY", "4")
PATIENCE_SECONDS = 1800


class Mailbox:
    """Counts what the SMTP server receives, and when the first and last message came."""

    def __init__(self):
        self.count = 0
        self.first_at: float | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            if self.first_at is None:
                self.first_at = time.perf_counter()
        return "250 OK"


def queue_emails(app, n: int, label: str) -> dict:
    """`n` emails through mail.send in one unit of work; seconds for the calls and for the commit."""
    from coop import mail
    from coop.extensions import db

    with app.app_context():
        db.session.execute(db.select(db.literal(1)))  # connected before timing
        start = time.perf_counter()
        for i in range(n):
            mail.send(
                f"member{i}@bench.coop",
                f"Vote open: {label}",
                f"A vote is open: {label}. Cast your ballot before it closes.",
                f"<p>A vote is open: <strong>{label}</strong>.</p>",
                {"X-Coop-Kind": "vote.opened"},
            )
        deferred = time.perf_counter()
        db.session.commit()
        committed = time.perf_counter()
        db.session.remove()
    return {"defer_seconds": round(deferred - start, 3), "commit_seconds": round(committed - deferred, 3)}


def run_workers(url: str, smtp_url: str, workers: int, mailbox: Mailbox, n: int) -> dict:
    env = {
        **os.environ,
        "COOP_ENV": "testing",
        "COOP_DATABASE_URL": url,
        "COOP_SMTP_URL": smtp_url,
        "COOP_JOBS_CONCURRENCY": CONCURRENCY,
        "COOP_INSTANCE_PATH": str(ROOT / "bench" / "results" / "instance"),
    }
    mailbox.count, mailbox.first_at = 0, None
    start = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "coop:create_app()", "coop", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        while mailbox.count < n:
            if time.perf_counter() - start > PATIENCE_SECONDS or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"{workers} worker(s) sent only {mailbox.count} of {n} emails")
            time.sleep(0.05)
        done = time.perf_counter()
        cpu = sum(_cpu_seconds(p.pid) for p in processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    first = (mailbox.first_at or done) - start
    return {
        "first_email_seconds": round(first, 3),
        "all_sent_seconds": round(done - start, 3),
        "emails_per_s_after_first": round((n - 1) / (done - (mailbox.first_at or done)), 1) if n > 1 else None,
        "worker_cpu_ms_per_email": round(cpu * 1000 / n, 2),
    }


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used so far (Linux), start-up included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(n: int = N) -> list[dict]:
    from aiosmtpd.controller import Controller

    from bench.common import free_port

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp_url = f"smtp://127.0.0.1:{port}"
    rows = []
    try:
        with throwaway_database() as url:
            app = make_app(url, COOP_SMTP_URL=smtp_url)
            for workers in (1, 2):
                queued = queue_emails(app, n, f"bench with {workers} worker(s)")
                sent = run_workers(url, smtp_url, workers, mailbox, n)
                row = {"workers": workers, "emails": n, "concurrency_per_worker": int(CONCURRENCY), **queued, **sent}
                print(
                    f"{workers} worker(s): queued {n:,} in {queued['defer_seconds'] + queued['commit_seconds']:.2f} s "
                    f"(commit {queued['commit_seconds']:.2f} s), all sent {sent['all_sent_seconds']:.1f} s after start"
                )
                rows.append(row)
            with app.app_context():
                from coop.extensions import db

                db.engine.dispose()
    finally:
        controller.stop()
    print(
        table(
            rows,
            [
                "workers",
                "emails",
                "defer_seconds",
                "commit_seconds",
                "first_email_seconds",
                "all_sent_seconds",
                "emails_per_s_after_first",
                "worker_cpu_ms_per_email",
            ],
        )
    )
    return rows


if __name__ == "__main__":
    write_results("jobs", {"cases": main()})
