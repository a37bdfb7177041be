"""Members' web pages: the shared frame every domain's `pages.py` builds on.

Pages are one more edge over the services: a view loads, checks, calls one service and
renders. A form that fails (its own validation or a service's refusal) is shown again with
status 422, so the unit of work rolls back; success redirects (303) and commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect

from coop.errors import CoopError

HTMX = "vendor/htmx-2.0.11.min.js"
# No inline script or style anywhere: htmx and our own file are the only scripts.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# Each domain's pages module (its blueprint `bp`, and optionally `nav(user)` for the menu).
PAGE_MODULES = (
    "coop.accounts.pages",
    "coop.marketplace.pages",
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

csrf = CSRFProtect()


def pages_blueprint(domain: str, import_name: str) -> Blueprint:
    """The blueprint for one domain's pages, named `<domain>_pages`; every change it takes carries a CSRF token."""
    bp = Blueprint(f"{domain}_pages", import_name)

    @bp.before_request
    def _check_csrf():
        # Signed in or not (signing in is a change too): a form field or the X-CSRF-Token header htmx sends.
        if request.method not in SAFE_METHODS:
            csrf.protect()

    return bp


def is_page_request() -> bool:
    """Whether this request is for a page (HTML answers) rather than the JSON API."""
    return not request.path.startswith("/api")


def init_app(app: Flask) -> None:
    """Register every domain's pages, the page CSRF check and the helpers templates use."""
    import importlib

    csrf.init_app(app)  # checks nothing by default (WTF_CSRF_CHECK_DEFAULT is off); page blueprints ask
    menus = []
    for module_name in PAGE_MODULES:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp)
        if hasattr(module, "nav"):
            menus.append(module.nav)
    app.extensions["coop_nav"] = menus
    app.jinja_env.globals.update(htmx_path=HTMX, nav_items=nav_items)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def signed_in(view: Callable) -> Callable:
    """A page only for signed-in users: others go to the sign-in page and come back after."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts_pages.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def render(template: str, status: int = 200, **context: Any):
    """Render a page; a failed form is answered 422 so nothing of the request is committed."""
    return render_template(template, **context), status


def done(endpoint: str, message: str | None = None, **values: Any):
    """After a change: say what happened and go to the next page (303, so a reload does not repeat it)."""
    if message:
        flash(message, "success")
    return redirect(url_for(endpoint, **values), code=303)


def go(path: str):
    """After a change, to a path already checked to be on this site (303)."""
    return redirect(path, code=303)


def validated(form: FlaskForm, schema) -> dict | None:
    """The form's data loaded by the API's own schema (one set of rules), or None with the errors on the form."""
    import marshmallow as ma

    form_ok = form.validate()  # the form's own checks (and the "required" attributes browsers show)
    data = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    try:
        loaded = schema.load({k: v for k, v in data.items() if v not in (None, "")})
        return loaded if form_ok else None
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        for name, texts in messages.items():
            field = getattr(form, name, None)
            texts = texts if isinstance(texts, list) else [str(texts)]
            if field is not None and hasattr(field, "errors"):
                # One message a field is enough: the form's own check already spoke if it failed.
                field.errors = list(field.errors or []) or [str(t) for t in texts]
            else:
                g.form_error_details = [*g.get("form_error_details", []), *[str(t) for t in texts]]
        g.form_error = g.get("form_error") or _("Some fields are not valid; see each one.")
        return None


def attempt(form: FlaskForm | None, action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a service call for a form: (True, result), or (False, None) with its refusal shown on the form.

    A service's per-field errors go beside the fields of the same name; the rest is the form's message.
    """
    try:
        return True, action()
    except CoopError as exc:
        if exc.status in (401, 403) and form is None:
            abort(exc.status)
        unplaced: list[str] = []
        for name, messages in (exc.errors or {}).items():
            field = getattr(form, name, None) if form is not None else None
            texts = messages if isinstance(messages, list) else [str(messages)]
            if field is not None and hasattr(field, "errors"):
                field.errors = [*list(field.errors or []), *[str(t) for t in texts]]
            else:
                unplaced.extend(str(t) for t in texts)
        g.form_error = exc.message
        g.form_error_details = unplaced
        return False, None


def nav_items() -> list[tuple[str, str]]:
    """The main menu for whoever is reading: (endpoint, label), only links they may follow."""
    from flask import current_app

    items: list[tuple[str, str]] = []
    for menu in current_app.extensions["coop_nav"]:
        items.extend(menu(current_user))
    return items


def error_page(status: int, message: str, errors: dict | None = None):
    """An error as a page: what went wrong in the reader's language, and a way back."""
    from flask import make_response

    try:
        body = render_template("errors/error.html", status=status, message=message, errors=errors or {})
    except Exception:  # the page frame itself failed (e.g. the database is down): plain text still answers
        body = message
    response = make_response(body, status)
    return response
