"""The migration chain builds the whole schema the models describe."""
import os

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from coop.extensions import db


def test_migrations_match_the_models(app_context):
    # The test database was built by `upgrade heads`; nothing in the models may be missing from it.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_single_head(app):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    directory = app.extensions["migrate"].directory
    config = Config(os.path.join(directory, "alembic.ini"))
    config.set_main_option("script_location", directory)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
