"""Imports every domain's models so the metadata (and Alembic) sees the whole schema."""

import coop.accounts.models
import coop.audit
import coop.forum.models
import coop.governance.models
import coop.idempotency
import coop.ledger
import coop.marketplace.models
import coop.notifications.models
import coop.webhooks.models  # noqa: F401
