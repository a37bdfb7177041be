"""Request and response schemas for accounts."""

import marshmallow as ma
from marshmallow import validate as v

from coop.accounts.models import USER_KINDS
from coop.fields import CountryCode
from coop.i18n import LANGUAGES


def new_password_field(**kwargs) -> ma.fields.String:
    """The password rules, the same wherever a password is chosen."""
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=v.Length(min=10, max=1024, error="Use at least 10 characters (at most 1024)."),
        **kwargs,
    )


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=v.Length(max=254))
    password = new_password_field()
    display_name = ma.fields.String(
        required=True,
        validate=[
            v.Length(min=2, max=64),
            v.Regexp(r"^[\w .\-']+$", error="Use letters, digits, spaces and . - _ ' only."),
        ],
        metadata={"description": "The pseudonym everyone else sees; your email is never shown to others."},
    )
    kind = ma.fields.String(required=True, validate=v.OneOf(USER_KINDS))
    organization = ma.fields.String(
        validate=v.Length(max=200), allow_none=True, metadata={"description": "Required for requesters."}
    )


class CredentialsSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=v.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=v.Length(min=1, max=1024))


class TokenRequestSchema(CredentialsSchema):
    name = ma.fields.String(
        load_default="", validate=v.Length(max=100), metadata={"description": "A label to recognise the token by."}
    )
    expires_in_days = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=v.Range(min=1, max=3650, error="Give a whole number of days from 1 to 3650, or leave it out."),
        metadata={"description": "The token stops working this many days from now; without it, when revoked."},
    )


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True, validate=v.Length(min=1, max=1024))
    new_password = new_password_field()
    revoke_tokens = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Also revoke every API token but the one making this request. "
            "By default tokens keep working: review them at GET /api/v1/auth/tokens."
        },
    )


class PasswordChangedSchema(ma.Schema):
    sessions_ended = ma.fields.Integer(metadata={"description": "Other signed-in sessions that were ended."})
    tokens_revoked = ma.fields.Integer(metadata={"description": "API tokens revoked (only with revoke_tokens)."})


class UserSchema(ma.Schema):
    """The signed-in user's own view of their account."""

    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    organization = ma.fields.String(dump_only=True, allow_none=True)
    is_member = ma.fields.Boolean(dump_only=True)
    is_coordinator = ma.fields.Boolean(dump_only=True)
    locale = ma.fields.String(dump_only=True, allow_none=True)
    country = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    email_verified_at = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "When you followed the link sent to your email; null: not verified yet."},
    )


class ProfileUpdateSchema(ma.Schema):
    country = CountryCode(
        allow_none=True,
        metadata={"description": "Where you live and work, ISO 3166-1 alpha-2 (e.g. FR); null to withdraw it."},
    )
    locale = ma.fields.String(
        allow_none=True,
        validate=v.OneOf(LANGUAGES, error="Choose one of: " + ", ".join(LANGUAGES) + " (or null: follow the browser)."),
        metadata={"description": "The language of your pages and emails (en, fr); null to follow the browser."},
    )


class VerifyEmailSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=200),
        metadata={"description": "The token in the link emailed to you."},
    )


class EmailVerifiedSchema(ma.Schema):
    email = ma.fields.String(dump_only=True)
    email_verified_at = ma.fields.DateTime(dump_only=True)


class VerificationSentSchema(ma.Schema):
    sent_to = ma.fields.String(dump_only=True, metadata={"description": "Where the new link was sent."})


class PasswordResetRequestSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=v.Length(min=1, max=254))


class PasswordResetAcceptedSchema(ma.Schema):
    message = ma.fields.String(dump_only=True)


class PasswordResetSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        validate=v.Length(min=1, max=200),
        metadata={"description": "The token in the link emailed to you."},
    )
    password = new_password_field()


class LoginResultSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    csrf_token = ma.fields.String(metadata={"description": "Send as X-CSRF-Token on unsafe cookie requests."})


class CsrfSchema(ma.Schema):
    csrf_token = ma.fields.String()


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    expires_at = ma.fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "When the token stops working; null: never."}
    )
    last_used_at = ma.fields.DateTime(
        dump_only=True, allow_none=True, metadata={"description": "Last request with this token, to the minute."}
    )
    revoked_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(
        dump_only=True, metadata={"description": "Shown once; send as 'Authorization: Bearer <token>'."}
    )


class NewPasswordFormSchema(ma.Schema):
    """The reset page's form: the new password, typed twice (the form checks they match)."""

    password = new_password_field()
    confirm = ma.fields.String(load_only=True)
