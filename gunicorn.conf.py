"""Gunicorn settings for Coop in production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Each setting may be overridden from the environment (COOP_BIND, COOP_WORKERS, ...) or on the
command line. Signals (see the README): HUP reloads gracefully (new workers, then the old
ones finish their requests), TERM stops gracefully, QUIT/INT stop at once.
"""

import ctypes
import gc
import os
import signal
import sys

bind = os.environ.get("COOP_BIND", "127.0.0.1:8000")
# Sync workers, one per core plus one: measured against 2, 4 and 5 workers, gthread and gevent
# (README, Production). The request path is CPU-bound, so a worker more than that only adds
# switching between processes, which costs every request CPU.
workers = int(os.environ.get("COOP_WORKERS") or (os.cpu_count() or 1) + 1)
worker_class = "sync"
# Above the database statement limit (COOP_DB_STATEMENT_TIMEOUT_MS, 10 s), so a slow request
# is ended by the database, cleanly, with a 503, before the master kills its worker.
timeout = int(os.environ.get("COOP_WORKER_TIMEOUT", "30"))
# What a stop or reload gives a request in flight to finish and commit.
graceful_timeout = int(os.environ.get("COOP_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Workers are replaced now and then, at different moments, so a slow leak never builds up
# and the workers never all restart together.
max_requests = int(os.environ.get("COOP_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("COOP_MAX_REQUESTS_JITTER", "1000"))
# The heartbeat file lives in memory: on a disk-backed /tmp a slow disk stalls every worker's
# heartbeat and the master kills healthy workers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Not preloaded: each worker opens its own database pool after the fork, never sharing a socket.
preload_app = False
# Signals and systemd manage the server; the control socket would be one more door to guard.
control_socket_disable = True
# The reverse proxy logs each request; COOP_ACCESS_LOG=- logs them here too.
accesslog = os.environ.get("COOP_ACCESS_LOG") or None
errorlog = "-"
# Only the local reverse proxy may say which client and scheme a request came from.
forwarded_allow_ips = os.environ.get("COOP_FORWARDED_ALLOW_IPS", "127.0.0.1")

_PR_SET_PDEATHSIG = 1


def post_fork(server, worker):
    """A worker dies with its master: if the master is killed outright, no orphan keeps the port.

    Gunicorn's workers notice a changed parent only between requests; Linux can instead
    signal the worker the moment its parent dies. TERM lets a request in flight finish.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        server.log.warning("Could not ask to die with the master (errno %s)", ctypes.get_errno())
        return
    # The master may have died between the fork and the prctl call.
    if os.getppid() != server.pid:
        os.kill(os.getpid(), signal.SIGTERM)


def post_worker_init(worker):
    """The worker warms up, then what it loaded to serve is left out of garbage collection.

    Warming up (the coop's app only) builds before the first request what that request would
    otherwise build: see coop/warming.py.

    What was loaded (the app, its models, schemas, routes and statements) lives as long as the
    worker. Without the freeze, each full collection walks all of it: a pause of tens of
    milliseconds (88 ms measured) in the middle of some request, and about 1 % of the CPU of a
    claim+submit pair.
    """
    warm_up = getattr(worker.wsgi, "warm_up", None)
    if warm_up is not None:
        warm_up()
    gc.freeze()
