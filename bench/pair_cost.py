"""Benchmark: the app's CPU cost of one claim+submit pair, counted in instructions, so a change shows on a noisy machine.

Run from the repository root: `python -m bench.pair_cost` (PostgreSQL at COOP_BENCH_DATABASE_URL, default the
local test server; a throwaway database is created and dropped; needs valgrind). One member claims and
submits through the app's WSGI callable, called as gunicorn calls it, under callgrind; only the measured
pairs are counted (`callgrind_control` switches the count on after a warm-up and off at the end).

Timings on a shared 2-core machine swing by ±15 % from one run to the next, more than most single
changes save; the instructions the app's process executes for the same pairs vary by under 1 %.
They leave out PostgreSQL's work and the kernel's (the socket I/O), which `bench.claims` measures.
Prints and writes bench/results/pair_cost.json: instructions per pair and per request.
COOP_BENCH_PAIRS (default 100) sets how many pairs are counted.
"""

import io
import json
import os
import shutil
import subprocess
import sys

from bench.common import ROOT, throwaway_database, write_results

PAIRS = int(os.environ.get("COOP_BENCH_PAIRS", "100"))
WARM_UP = 30


def _pairs(app, token: str, batch_id: int):
    """A function running one claim+submit through `app` with a gunicorn-like environ."""

    def call(path: str, body: str) -> tuple[str, bytes]:
        raw = body.encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(raw)),
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_HOST": "127.0.0.1:8000",
        }
        status: list[str] = []
        body_out = b"".join(app(environ, lambda s, _headers, _exc=None: status.append(s)))
        return status[0], body_out

    def pair() -> None:
        status, body = call(f"/api/v1/batches/{batch_id}/claim", "{}")
        if not status.startswith("201"):
            raise RuntimeError(f"claim answered {status}: {body[:200]!r}")
        status, body = call(f"/api/v1/assignments/{json.loads(body)['id']}/submit", '{"answer": {"grammatical": true}}')
        if not status.startswith("200"):
            raise RuntimeError(f"submit answered {status}: {body[:200]!r}")

    return pair


def _counted(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True, capture_output=True
    )


def child(url: str, token: str, batch_id: int) -> None:
    """Runs under callgrind: warm up, then count PAIRS pairs."""
    from bench.claims import _server_env
    from coop.extensions import db

    os.environ.update(_server_env(url))
    import wsgi

    pair = _pairs(wsgi.app, token, batch_id)
    for _ in range(WARM_UP):
        pair()
    _counted(True)
    for _ in range(PAIRS):
        pair()
    _counted(False)
    with wsgi.app.app_context():
        db.engine.dispose()


def main() -> dict:
    from bench.claims import _setup

    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench.pair_cost needs valgrind (apt-get install valgrind); skipped.")
        return {"skipped": "valgrind is not installed"}
    with throwaway_database() as url:
        # Each item takes a member once: enough items for the warm-up and the counted pairs.
        setup = _setup(url, 1, (WARM_UP + PAIRS + 50) * 2)
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-m",
                "bench.pair_cost",
                "--child",
                url,
                setup["tokens"][0],
                str(setup["batch_ids"][0]),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    collected = [line for line in run.stderr.splitlines() if "Collected :" in line]
    if run.returncode != 0 or not collected:
        raise RuntimeError(f"the counted run failed:\n{run.stderr[-3000:]}")
    instructions = int(collected[-1].rsplit(":", 1)[1].replace(",", "").strip())
    result = {
        "pairs": PAIRS,
        "instructions": instructions,
        "instructions_per_pair": instructions // PAIRS,
        "instructions_per_request": instructions // (2 * PAIRS),
        "python": sys.version.split()[0],
    }
    print(
        f"claim+submit in the app's process: {result['instructions_per_pair']:,} instructions per pair "
        f"({result['instructions_per_request']:,} per request), {PAIRS} pairs counted"
    )
    write_results("pair_cost", result)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
