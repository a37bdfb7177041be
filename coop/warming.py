"""A new worker's first requests as quick as its later ones: what a process builds once, built before it serves.

Left to the first requests, that work (the mappers' configuration, the first connection, compiling
the sign-in, claim and submit statements) made a fresh worker's first claim+submit about 160 ms
instead of 10, and more when every worker starts at once: after each deploy and each periodic
worker restart, the members waiting on those workers felt it.
"""

import logging

import sqlalchemy as sa
from flask import Flask

from coop.extensions import db
from coop.unit_of_work import DATABASE_ERRORS

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> bool:
    """Configure the mappers, open the pool's first connection and prepare the hot statements.

    A database that cannot be reached leaves the statements to the first requests (they are
    compiled for the server the connection finds); the worker still starts. True when all was done.
    """
    from coop.accounts.auth import sign_in_statements
    from coop.marketplace.services.work import hot_statements

    sa.orm.configure_mappers()
    with app.app_context():
        engine = db.engine
        try:
            with engine.connect():
                pass
        except DATABASE_ERRORS as exc:
            log.warning("Starting without a database connection (%s); the first requests will open one", exc)
            return False
        statements = sign_in_statements(app)
        if engine.dialect.name == "postgresql":
            statements.extend(hot_statements())
        for statement in statements:
            statement.prepare(engine.dialect)
    return True
