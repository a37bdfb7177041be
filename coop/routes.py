"""Routes of the shared kernel: the public audit log."""

import marshmallow as ma
import sqlalchemy as sa

from coop.accounts.permissions import require
from coop.audit import AuditEntry
from coop.pagination import PageArgs, keyset_page, page_schema
from coop.parsing import Blueprint

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The hash-chained audit log")


class AuditEntrySchema(ma.Schema):
    seq = ma.fields.Integer()
    at = ma.fields.DateTime()
    event = ma.fields.String()
    subject = ma.fields.String()
    actor = ma.fields.String()
    payload = ma.fields.Dict()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()


class AuditArgs(PageArgs):
    event = ma.fields.String(metadata={"description": "Only entries of this event, e.g. 'terms.version'."})
    order = ma.fields.String(load_default="asc", validate=ma.validate.OneOf(["asc", "desc"]))


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditArgs, location="query")
@blp.response(200, page_schema(AuditEntrySchema, "AuditPage"))
@require()
def audit_log(args):
    """The audit log, oldest first by default; recompute each hash to verify the chain."""
    stmt = sa.select(AuditEntry)
    if args.get("event"):
        stmt = stmt.where(AuditEntry.event == args["event"])
    items, next_cursor = keyset_page(
        stmt, [AuditEntry.seq], limit=args["limit"], cursor=args["cursor"], descending=args["order"] == "desc"
    )
    return {"items": items, "next_cursor": next_cursor}
