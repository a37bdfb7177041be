"""The shipped gunicorn.conf.py: workers die with their master, so a killed master leaves no worker holding the port."""

import contextlib
import gc
import http.client
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")

# Bounds on waiting for processes, not measurements: a slow machine only makes the test slower.
PATIENCE = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The parent pid is the 4th field after the parenthesised command name.
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/nothing-here")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def test_killing_the_master_takes_its_workers_and_frees_the_port(tmp_path):
    port = free_port()
    # A long worker timeout: gunicorn's own check for a vanished master runs only that often,
    # so only the parent-death signal can end the workers within the patience below.
    env = {
        **os.environ,
        "COOP_INSTANCE_PATH": str(tmp_path),
        "COOP_BIND": f"127.0.0.1:{port}",
        "COOP_WORKERS": "2",
        "COOP_WORKER_TIMEOUT": "900",
    }
    env.pop("COOP_ENV", None)
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        wait_for(lambda: answers(port), "gunicorn to answer")
        wait_for(lambda: len(children(master.pid)) == 2, "both workers to start")
        workers = children(master.pid)

        master.send_signal(signal.SIGKILL)  # what the fault run did; no chance to stop its workers
        master.wait()

        wait_for(lambda: not any(alive(pid) for pid in workers), "the orphaned workers to exit")
        with socket.socket() as sock:
            # As gunicorn binds: connections closed a moment ago do not count, a listener would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()
    finally:
        for pid in [master.pid, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        master.wait()


def test_a_worker_warms_up_then_leaves_what_it_loaded_out_of_garbage_collection():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    built = []

    def warm_up():
        built.append([[] for _ in range(1000)])  # lists, which the collector tracks

    gc.unfreeze()
    try:
        tracked = len(gc.get_objects())
        settings["post_worker_init"](SimpleNamespace(wsgi=SimpleNamespace(warm_up=warm_up)))
        assert len(built) == 1
        # Everything alive when the worker finished loading and warming up sits in the permanent
        # generation, where no collection looks.
        assert gc.get_freeze_count() >= tracked > 0
        assert len(gc.get_objects()) < tracked // 100
        assert gc.is_tracked(built[0]) and not any(found is built[0] for found in gc.get_objects())
    finally:
        gc.unfreeze()


def test_a_worker_serving_an_app_with_nothing_to_warm_starts_as_well():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    try:
        settings["post_worker_init"](SimpleNamespace(wsgi=lambda environ, start_response: []))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
