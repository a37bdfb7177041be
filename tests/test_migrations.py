"""The migration chain builds the whole schema the models describe."""

import os
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from coop import create_app
from coop.dbtools import is_ours, throwaway_postgres_database
from coop.extensions import db
from coop.types import JSONType


def test_migrations_match_the_models(app_context):
    # The test database was built by `upgrade heads`; nothing in the models may be missing from it.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": is_ours})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_single_head(app):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    directory = app.extensions["migrate"].directory
    config = Config(os.path.join(directory, "alembic.ini"))
    config.set_main_option("script_location", directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.fixture
def empty_database_url(tmp_path):
    """A database of its own, on the backend the suite runs on."""
    base = os.environ.get("COOP_TEST_DATABASE_URL")
    if base:
        with throwaway_postgres_database(base, "coop_migration") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path}/old.sqlite3"


def test_membership_payments_migration_keeps_what_members_paid_and_turns_applicants_into_pending(
    app, empty_database_url
):
    # An existing coop upgrades from 0004: members keep what they paid, applicants had paid nothing.
    old = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with old.app_context():
        directory = old.extensions["migrate"].directory
        upgrade(directory=directory, revision="0004")
        params = {"share_price_cents": 2500, "admission": "open"}
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO terms_versions (version, params, effective_at) VALUES (1, :p, :at)").bindparams(
                    sa.bindparam("p", type_=JSONType)
                ),
                {"p": params, "at": datetime(2026, 1, 1)},
            )
            for user_id, status in ((1, "member"), (2, "applicant")):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, email, display_name, kind, password_hash, is_member, "
                        "is_coordinator, created_at) VALUES (:id, :e, :n, 'worker', 'x', :m, :c, :at)"
                    ),
                    {
                        "id": user_id,
                        "e": f"u{user_id}@example.org",
                        "n": f"u{user_id}",
                        "m": status == "member",
                        "c": False,
                        "at": datetime(2026, 1, 1),
                    },
                )
                conn.execute(
                    sa.text("INSERT INTO memberships (user_id, status, applied_at) VALUES (:id, :s, :at)"),
                    {"id": user_id, "s": status, "at": datetime(2026, 1, 1)},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO share_lines (user_id, kind, amount_cents, at, memo) "
                    "VALUES (1, 'membership_share', 2000, :at, 'share')"
                ),
                {"at": datetime(2026, 1, 1)},
            )
        upgrade(directory=directory, revision="0005")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT user_id, status, share_paid_cents FROM memberships ORDER BY user_id"))
            assert [tuple(row) for row in rows] == [(1, "member", 2000), (2, "pending_payment", 0)]
            terms = conn.execute(
                sa.text("SELECT params FROM terms_versions WHERE version = 1").columns(params=JSONType)
            ).scalar()
            assert terms == {**params, "rejoin_cooling_days": 30}
        db.engine.dispose()


def test_vote_methods_migration_gives_every_terms_version_the_founding_objection_pct_and_takes_it_back(
    app, empty_database_url
):
    from flask_migrate import downgrade

    old = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with old.app_context():
        directory = old.extensions["migrate"].directory
        upgrade(directory=directory, revision="0011")
        params = {"quorum_pct": 20, "petition_pct": 10}
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO terms_versions (version, params, effective_at) VALUES (1, :p, :at)").bindparams(
                    sa.bindparam("p", type_=JSONType)
                ),
                {"p": params, "at": datetime(2026, 1, 1)},
            )
        read = sa.text("SELECT params FROM terms_versions WHERE version = 1").columns(params=JSONType)
        upgrade(directory=directory, revision="0012")
        with db.engine.connect() as conn:
            assert conn.execute(read).scalar() == {**params, "objection_pct": 10}
        downgrade(directory=directory, revision="0011")
        with db.engine.connect() as conn:
            assert conn.execute(read).scalar() == params
        db.engine.dispose()
