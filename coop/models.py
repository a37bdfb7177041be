"""Imports every domain's models so the metadata (and Alembic) sees the whole schema."""
import coop.accounts.models  # noqa: F401
import coop.audit  # noqa: F401
import coop.forum.models  # noqa: F401
import coop.governance.models  # noqa: F401
import coop.idempotency  # noqa: F401
import coop.ledger  # noqa: F401
import coop.marketplace.models  # noqa: F401
