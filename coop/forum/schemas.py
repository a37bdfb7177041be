"""Request and response schemas for the forum."""

import marshmallow as ma
from marshmallow import validate as v

from coop.forum.models import APPEAL_STATUSES, BOARD_VISIBILITIES, MODERATION_ACTIONS
from coop.pagination import PageArgs, id_range, page_schema

# What a coordinator may do; 'flag_hide' is recorded only when members' flags hide a post.
COORDINATOR_ACTIONS = tuple(a for a in MODERATION_ACTIONS if a != "flag_hide")
BODY_MAX = 20_000


class BoardSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    slug = ma.fields.String(
        required=True,
        validate=[
            v.Length(min=2, max=64),
            v.Regexp(r"^[a-z0-9][a-z0-9\-]*$", error="Use lower-case letters, digits and -."),
        ],
    )
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    visibility = ma.fields.String(
        required=True,
        validate=v.OneOf(BOARD_VISIBILITIES),
        metadata={"description": "'public': every signed-in user reads; 'members': members only."},
    )


class NewThreadSchema(ma.Schema):
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    body = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=BODY_MAX),
        metadata={"description": "Markdown; rendered and sanitised into body_html."},
    )


class NewPostSchema(ma.Schema):
    body = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=BODY_MAX),
        metadata={"description": "Markdown; rendered and sanitised into body_html."},
    )
    reply_to = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=id_range,
        metadata={"description": "The id of a post of the same thread this one answers."},
    )


class EditPostSchema(ma.Schema):
    body = ma.fields.String(required=True, validate=v.Length(min=1, max=BODY_MAX))


class FlagArgsSchema(ma.Schema):
    rule = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=64),
        metadata={"description": "The slug of the rule the post breaks, e.g. 'forum-rules'."},
    )
    note = ma.fields.String(load_default="", validate=v.Length(max=2000))


class ForumReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))


class ModerationArgsSchema(ma.Schema):
    action = ma.fields.String(
        required=True,
        validate=v.OneOf(COORDINATOR_ACTIONS),
        metadata={
            "description": (
                "'hide': members still read the text behind the notice; 'redact': the post exposes someone's "
                "personal data, so only its author and the coordinators read its text and its earlier versions; "
                "'restore': the text is readable again by everyone who reads the board."
            )
        },
    )
    rule = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=64),
        metadata={"description": "The slug of a rule document in force, e.g. 'forum-rules'."},
    )
    reason = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=5000),
        metadata={
            "description": "Published in the moderation log; a redaction's reason may not repeat the personal data."
        },
    )


class ForumAppealDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=v.OneOf(("uphold", "overturn")))
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))


class ModerationLogArgs(PageArgs):
    post_id = ma.fields.Integer(validate=id_range, metadata={"description": "Only the actions on this post."})


class ForumAppealListArgs(PageArgs):
    status = ma.fields.String(validate=v.OneOf(APPEAL_STATUSES))


# --- responses --------------------------------------------------------------------------


class ModerationNoticeSchema(ma.Schema):
    action = ma.fields.String(
        metadata={"description": "'hide', 'redact', or 'flag_hide' (hidden by members' flags, pending review)."}
    )
    rule = ma.fields.String()
    rule_version = ma.fields.Integer()
    reason = ma.fields.String()
    by = ma.fields.String(
        allow_none=True,
        metadata={"description": "The pseudonym of the coordinator who hid or redacted the post; null pending review."},
    )
    at = ma.fields.DateTime()


class PostSchema(ma.Schema):
    id = ma.fields.Integer()
    thread_id = ma.fields.Integer()
    reply_to = ma.fields.Integer(allow_none=True)
    author = ma.fields.String(metadata={"description": "The author's pseudonym."})
    mine = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    body = ma.fields.String(
        allow_none=True,
        metadata={
            "description": (
                "Markdown source; null once retracted; absent when the post is hidden and the reader is "
                "not a member, or redacted and the reader is neither its author nor a coordinator."
            )
        },
    )
    body_html = ma.fields.String(allow_none=True)
    edited = ma.fields.Boolean()
    edit_count = ma.fields.Integer()
    edited_at = ma.fields.DateTime(allow_none=True)
    retracted = ma.fields.Boolean()
    retracted_at = ma.fields.DateTime(allow_none=True)
    hidden = ma.fields.Boolean(metadata={"description": "True when the post is hidden or redacted."})
    redacted = ma.fields.Boolean()
    moderation = ma.fields.Nested(ModerationNoticeSchema, allow_none=True)
    open_flags = ma.fields.Integer(metadata={"description": "Open flags on the post; shown to coordinators only."})


class ThreadSchema(ma.Schema):
    id = ma.fields.Integer()
    board_id = ma.fields.Integer()
    title = ma.fields.String()
    author = ma.fields.String()
    mine = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    last_activity_at = ma.fields.DateTime()
    post_count = ma.fields.Integer()


PostPageSchema = page_schema(PostSchema, "PostPage")
ThreadPageSchema = page_schema(ThreadSchema, "ThreadPage")


class ThreadViewSchema(ma.Schema):
    thread = ma.fields.Nested(ThreadSchema)
    posts = ma.fields.Nested(PostPageSchema)


class PostVersionSchema(ma.Schema):
    number = ma.fields.Integer()
    body = ma.fields.String(allow_none=True)
    body_html = ma.fields.String(allow_none=True)
    written_at = ma.fields.DateTime()
    replaced_at = ma.fields.DateTime(allow_none=True)
    current = ma.fields.Boolean()
    erased = ma.fields.Boolean(metadata={"description": "True when the author retracted the post."})
    withheld = ma.fields.Boolean(
        metadata={"description": "True when this reader may not read the text under the moderation in force."}
    )


class FlagSchema(ma.Schema):
    id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    rule = ma.fields.String()
    note = ma.fields.String()
    created_at = ma.fields.DateTime()


class FlagSummarySchema(ma.Schema):
    post_id = ma.fields.Integer()
    thread_id = ma.fields.Integer()
    board_id = ma.fields.Integer()
    hidden = ma.fields.Boolean()
    redacted = ma.fields.Boolean()
    open_flags = ma.fields.Integer()
    by_rule = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    notes = ma.fields.List(ma.fields.String())
    first_flagged_at = ma.fields.DateTime(allow_none=True)
    last_flagged_at = ma.fields.DateTime(allow_none=True)


class ModerationEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    action = ma.fields.String()
    rule = ma.fields.String()
    rule_version = ma.fields.Integer()
    reason = ma.fields.String()
    by = ma.fields.Function(
        lambda m: m.coordinator.display_name if m.coordinator else None,
        metadata={"description": "The coordinator's pseudonym; null for a hide by members' flags (flag_hide)."},
    )
    at = ma.fields.DateTime()
    appeal_id = ma.fields.Integer(allow_none=True)


class ForumAppealSchema(ma.Schema):
    id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    moderation_id = ma.fields.Integer()
    author = ma.fields.Function(lambda a: a.author.display_name)
    reason = ma.fields.String()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    action = ma.fields.Function(
        lambda a: a.moderation.action, metadata={"description": "The appealed moderation: 'hide' or 'redact'."}
    )
    hidden_by = ma.fields.Function(lambda a: a.moderation.coordinator.display_name)
    decided_by = ma.fields.Function(lambda a: a.decided_by.display_name if a.decided_by else None, allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)
    proposal_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The general proposal the author turned this appeal into, if any."}
    )
    escalated_at = ma.fields.DateTime(allow_none=True)
