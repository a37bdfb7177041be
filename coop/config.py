"""Configuration classes, one per environment, read from COOP_* environment variables."""

import os
import secrets
from pathlib import Path


def _env(name: str, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "development"
    TESTING = False
    SQLALCHEMY_DATABASE_URI = None  # filled from COOP_DATABASE_URL or the instance folder
    # On PostgreSQL a pooled connection idle for COOP_DB_PING_IDLE_SECONDS is checked before use
    # (see unit_of_work), so one the database dropped while it sat in the pool is replaced.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": False}
    SECRET_KEY = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    JSON_SORT_KEYS = False

    # Rate limits guard only the doors a password guesser knocks on.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True
    COOP_AUTH_RATE_PER_ADDRESS = "30 per minute"
    COOP_AUTH_RATE_PER_ACCOUNT = "10 per minute"
    # Messages about an assignment, per signed-in account: a conversation, not a flood.
    COOP_MESSAGE_RATE = "10 per minute"

    # The CSRF token is sent as a header on cookie-authenticated unsafe requests.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRF-Token", "X-CSRFToken"]
    WTF_CSRF_CHECK_DEFAULT = False

    API_TITLE = "Coop"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    # Served by the app itself (coop/api.py) so the docs page works offline.
    OPENAPI_SWAGGER_UI_URL = "/api/docs/assets/"

    COOP_MAX_ITEM_BYTES = 16_384
    # Lines a results.csv download reads per query: memory stays one page whatever the batch's size.
    COOP_RESULTS_PAGE_ROWS = 1000
    # Larger request bodies are refused (413) before they are read.
    COOP_MAX_BODY_BYTES = 1_048_576

    # PostgreSQL limits per transaction. A request that waits on a row another transaction
    # holds gives up and answers 503 rather than tie up a worker while the rest queue behind it.
    COOP_DB_LOCK_TIMEOUT_MS = 2000
    COOP_DB_STATEMENT_TIMEOUT_MS = 10000
    # The CLI and the tick work through whole backlogs (a large vote's tally, a migration) and
    # nobody waits on them, so they may wait longer; 0 means no limit.
    COOP_DB_CLI_LOCK_TIMEOUT_MS = 30000
    COOP_DB_CLI_STATEMENT_TIMEOUT_MS = 0
    # What a 503 tells the caller to wait, in seconds, when the database is busy or unreachable.
    COOP_RETRY_AFTER_SECONDS = 2
    # Outgoing email: smtp://[user:password@]host:port (smtps:// for TLS, ?starttls=1 to upgrade); unset = no email.
    COOP_SMTP_URL = ""
    COOP_MAIL_FROM = "Coop <coop@localhost>"
    # Where links in emails point (the address members reach the pages at).
    COOP_BASE_URL = "http://127.0.0.1:5000"
    # Jobs (coop/jobs): how many one worker process runs at once; how often it tells the queue it is
    # alive, and after how long without that its running jobs are taken back and run again.
    COOP_JOBS_CONCURRENCY = 4
    COOP_JOBS_HEARTBEAT_SECONDS = 10
    COOP_JOBS_STALLED_SECONDS = 30
    # Development: the web process runs the jobs a request committed once its response has gone out,
    # and the periodic ones at most this often, so `make run` needs no worker. Off in tests and production.
    COOP_JOBS_RUN_AFTER_REQUEST = True
    COOP_JOBS_PERIODIC_SECONDS = 60
    # A connection back in use within this many seconds is not pinged: under load that saves every
    # request a round trip; a connection a restart dropped mid-use fails once, as a 503 to repeat.
    COOP_DB_PING_IDLE_SECONDS = 2
    # Webhooks go only to public addresses unless this allows private, loopback and link-local ones.
    COOP_WEBHOOKS_ALLOW_PRIVATE = False
    # A receiver that has not answered by then counts as a failed attempt, retried later.
    COOP_WEBHOOKS_TIMEOUT_SECONDS = 5

    @classmethod
    def load(cls, instance_path: str) -> dict:
        """Resolve the settings that depend on the environment and the instance folder."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        values["SQLALCHEMY_ENGINE_OPTIONS"] = dict(values["SQLALCHEMY_ENGINE_OPTIONS"])
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        values["SQLALCHEMY_DATABASE_URI"] = _env(
            "COOP_DATABASE_URL", f"sqlite:///{Path(instance_path) / 'coop.sqlite3'}"
        )
        values["SECRET_KEY"] = _env("COOP_SECRET_KEY") or cls.fallback_secret_key(instance_path)
        values["RATELIMIT_STORAGE_URI"] = _env("COOP_RATELIMIT_STORAGE_URL", cls.RATELIMIT_STORAGE_URI)
        for name in ("COOP_AUTH_RATE_PER_ADDRESS", "COOP_AUTH_RATE_PER_ACCOUNT", "COOP_MESSAGE_RATE"):
            values[name] = _env(name, values[name])
        for name in (
            "COOP_DB_LOCK_TIMEOUT_MS",
            "COOP_DB_STATEMENT_TIMEOUT_MS",
            "COOP_DB_CLI_LOCK_TIMEOUT_MS",
            "COOP_DB_CLI_STATEMENT_TIMEOUT_MS",
            "COOP_RETRY_AFTER_SECONDS",
            "COOP_DB_PING_IDLE_SECONDS",
            "COOP_JOBS_CONCURRENCY",
            "COOP_JOBS_HEARTBEAT_SECONDS",
            "COOP_JOBS_STALLED_SECONDS",
            "COOP_JOBS_PERIODIC_SECONDS",
        ):
            values[name] = int(_env(name, values[name]))
        for name in ("COOP_SMTP_URL", "COOP_MAIL_FROM", "COOP_BASE_URL"):
            values[name] = _env(name, values[name])
        after = _env("COOP_JOBS_RUN_AFTER_REQUEST")
        if after is not None:
            values["COOP_JOBS_RUN_AFTER_REQUEST"] = after.lower() in ("1", "true", "yes", "on")
        values["COOP_MAX_BODY_BYTES"] = int(_env("COOP_MAX_BODY_BYTES", cls.COOP_MAX_BODY_BYTES))
        allow_private = _env("COOP_WEBHOOKS_ALLOW_PRIVATE")
        if allow_private is not None:
            values["COOP_WEBHOOKS_ALLOW_PRIVATE"] = allow_private.lower() in ("1", "true", "yes", "on")
        values["COOP_WEBHOOKS_TIMEOUT_SECONDS"] = float(
            _env("COOP_WEBHOOKS_TIMEOUT_SECONDS", cls.COOP_WEBHOOKS_TIMEOUT_SECONDS)
        )
        return values

    @staticmethod
    def fallback_secret_key(instance_path: str) -> str:
        # Generated once and kept, so development sessions survive a restart.
        path = Path(instance_path) / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    # A receiver on this machine is how webhooks are tried out.
    COOP_WEBHOOKS_ALLOW_PRIVATE = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    # Jobs run only when a test calls jobs.run_until_idle(), so every run is deterministic.
    COOP_JOBS_RUN_AFTER_REQUEST = False
    COOP_AUTH_RATE_PER_ADDRESS = "100000 per minute"
    COOP_AUTH_RATE_PER_ACCOUNT = "100000 per minute"
    COOP_MESSAGE_RATE = "100000 per minute"
    COOP_WEBHOOKS_ALLOW_PRIVATE = True
    COOP_WEBHOOKS_TIMEOUT_SECONDS = 2

    @classmethod
    def load(cls, instance_path: str) -> dict:
        values = super().load(instance_path)
        values["SECRET_KEY"] = "testing-secret-key"
        return values


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    # `flask coop worker` runs the jobs (README, Production).
    COOP_JOBS_RUN_AFTER_REQUEST = False

    @staticmethod
    def fallback_secret_key(instance_path: str) -> str:
        raise RuntimeError("COOP_SECRET_KEY must be set in production.")

    @classmethod
    def load(cls, instance_path: str) -> dict:
        values = super().load(instance_path)
        if values["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            # Each process would count on its own, so a guesser gets N times the limit.
            raise RuntimeError("COOP_RATELIMIT_STORAGE_URL must name a shared store (redis://...) in production.")
        return values


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """The Config class for an environment name (development when unset)."""
    try:
        return CONFIGS[name or "development"]
    except KeyError:
        raise RuntimeError(f"Unknown COOP_ENV {name!r}; use one of {', '.join(CONFIGS)}.") from None
