"""Whole throwaway PostgreSQL databases, for test runs and benchmarks that must leave nothing behind."""

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa


@contextlib.contextmanager
def throwaway_postgres_database(base_url: str, prefix: str = "coop_tmp") -> Iterator[str]:
    """Create an empty database beside the one `base_url` names; yield its URL; drop it afterwards."""
    url = sa.make_url(base_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # Connections a test or benchmark left open would block the drop.
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def is_ours(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name: procrastinate's queue tables (migration 0018) are not our models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))
