"""The account emails (address verification, password reset), written in the person's language."""

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from coop import mail
from coop.accounts.models import User
from coop.i18n import DEFAULT_LANGUAGE, LANGUAGES


def language_of(user: User) -> str:
    """The person's chosen language; else the one this request is read in (they just chose it); else English."""
    if user.locale in LANGUAGES:
        return user.locale
    if has_request_context():
        current = str(get_locale() or DEFAULT_LANGUAGE)
        return current if current in LANGUAGES else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def link(path: str) -> str:
    """An absolute link to a page, at the address members reach the coop by."""
    return current_app.config["COOP_BASE_URL"].rstrip("/") + path


def send_verification(user: User, token: str, hours: int) -> None:
    with force_locale(language_of(user)):
        text = render_template(
            "accounts/email/verify_email.txt", user=user, url=link(f"/verify-email?token={token}"), hours=hours
        )
        mail.send(user.email, _("Confirm your email address for the coop"), text)


def send_password_reset(user: User, token: str, minutes: int) -> None:
    with force_locale(language_of(user)):
        text = render_template(
            "accounts/email/password_reset.txt", user=user, url=link(f"/password-reset/{token}"), minutes=minutes
        )
        mail.send(user.email, _("Choose a new password for the coop"), text)
