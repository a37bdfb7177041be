"""Imports every domain's models so the metadata (and Alembic) sees the whole schema."""
from coop.accounts.models import ApiToken, User  # noqa: F401
from coop.audit import AuditEntry  # noqa: F401
from coop.forum.models import Board  # noqa: F401
from coop.governance.models import Membership, RuleVersion, ShareLine, TermsVersion  # noqa: F401
from coop.ledger import LedgerAccount, LedgerEntry, LedgerTransaction  # noqa: F401
