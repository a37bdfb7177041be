"""Jobs: procrastinate's queue (tables, types, functions) on PostgreSQL; nothing on SQLite.

The schema is procrastinate 3.10.0's own `schema.sql`, copied beside the migrations
(migrations/sql/procrastinate-3.10.0-schema.sql) so this migration builds the same schema
whatever procrastinate is installed later. A later procrastinate release that changes the schema
ships its own migration SQL (procrastinate/sql/migrations/), applied by a new migration of ours.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 08:00:00

"""
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0-schema.sql"


def _run_script(sql: str) -> None:
    # Straight to the driver with no parameters: the script holds several statements, and
    # PL/pgSQL bodies whose `%` and `:` no placeholder parser may touch.
    op.get_bind().connection.driver_connection.execute(sql)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # on SQLite the jobs wait in the web process (coop/jobs)
    _run_script(SCHEMA.read_text())


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _run_script(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$
        DECLARE f record;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';
            END LOOP;
        END;
        $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
        """
    )
