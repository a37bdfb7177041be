"""Domain exceptions and the one JSON shape every API error takes."""

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class CoopError(Exception):
    """A refusal the caller can act on; services raise these, the edge maps them to HTTP."""

    status = 400
    default_message = _l("The request could not be carried out.")

    def __init__(self, message: str | None = None, errors: dict | None = None, headers: dict | None = None):
        # Lazy texts (module constants, default messages) are put into the caller's language now,
        # while the request that raised is still known.
        text = str(message or self.default_message)
        super().__init__(text)
        self.message = text
        self.errors: dict = _plain(errors or {})
        self.headers = headers or {}


def _plain(value):
    """Field errors with every lazy text made a plain string, so they serialise and compare as text."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, LazyString):
        return str(value)
    return value


class Unreadable(CoopError):
    """A body that is not JSON the API can read (malformed, or nested beyond reason)."""

    status = 400
    default_message = _l("The request could not be read: send the body as valid JSON.")


class Unauthorized(CoopError):
    status = 401
    default_message = _l("Sign in first: send a session cookie or an 'Authorization: Bearer <token>' header.")


class Forbidden(CoopError):
    status = 403
    default_message = _l("You are not allowed to do this.")


class NotFound(CoopError):
    status = 404
    default_message = _l("Nothing exists at this address.")


class Conflict(CoopError):
    status = 409
    default_message = _l("This conflicts with the current state.")


class Invalid(CoopError):
    status = 422
    default_message = _l("Some fields are not valid; see 'errors'.")


class ServiceUnavailable(CoopError):
    """The database is busy, locked or out of reach for a moment; the caller tries again after Retry-After."""

    status = 503
    default_message = _l(
        "The coop cannot serve this just now; nothing was changed. Try again after Retry-After seconds."
    )

    def __init__(self, message: str | None = None, retry_after: int = 2):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


class PayloadTooLarge(CoopError):
    status = 413
    default_message = _l("The body is larger than this server accepts.")


class TermsViolation(Invalid):
    """A request that breaks the terms the members adopted."""

    default_message = _l("This breaks the coop's terms in force.")


def error_body(status: int, message: str, errors: dict | None = None) -> dict:
    body = {"code": status, "status": HTTPStatus(status).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _flatten_webargs(messages: dict) -> dict:
    # webargs nests field errors under their location ("json", "query"); callers only care
    # about the field, so the location is dropped unless two locations name the same field.
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for field, errs in fields.items():
                flat.setdefault(field, errs)
        else:
            flat.setdefault(location, fields)
    return flat


def _http_message(exc: HTTPException) -> str:
    messages = {
        400: _l("The request could not be read: send the body as valid JSON."),
        404: _l("Nothing exists at this address. Check the URL and the id in it."),
        405: _l("This method is not allowed here; see /api/docs for what the endpoint accepts."),
        413: _l("The body is larger than this server accepts; send a smaller one."),
        415: _l("Send the body as JSON with 'Content-Type: application/json'."),
    }
    return str(messages.get(exc.code, exc.description or HTTPStatus(exc.code).phrase))


def register_error_handlers(app: Flask) -> None:
    """Map every error, expected or not, to the JSON error shape."""

    @app.errorhandler(CoopError)
    def handle_coop_error(exc: CoopError):
        response = error_response(exc.status, exc.message, exc.errors)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def handle_database_unavailable(exc: Exception):
        # Raised outside the view's unit of work (e.g. signing in by token while the database
        # restarts); the unit of work knows which database errors are passing.
        from coop.unit_of_work import unavailable

        error = unavailable(exc)
        if error is None:
            return handle_unexpected(exc)
        return handle_coop_error(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        errors = _flatten_webargs(data.get("messages", {})) if "messages" in data else None
        if exc.code == 422:
            message = _("Some fields are not valid; see 'errors' for each one.")
        elif exc.code == 429:
            message = _("Too many attempts (%(limit)s). Wait and try again; see Retry-After.", limit=exc.description)
        else:
            message = data.get("message") or _http_message(exc)
        response = error_response(exc.code, message, errors)
        original = exc.get_response()
        for header in ("Allow", "Retry-After"):
            if header in original.headers:
                response.headers[header] = original.headers[header]
        if exc.code == 429:
            response.headers.setdefault("Retry-After", str(_retry_after(exc)))
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return handle_http_exception(exc)
        log.exception("Unhandled error")
        return error_response(500, _("Something went wrong on our side. It has been logged; try again later."))


def error_response(status: int, message: str, errors: dict | None = None):
    """The error as JSON for the API, as a page for a person reading pages."""
    from coop import pages

    if pages.is_page_request():
        return pages.error_page(status, message, errors)
    response = jsonify(error_body(status, message, errors))
    response.status_code = status
    return response


def _retry_after(exc: HTTPException) -> int:
    limit = getattr(exc, "limit", None)
    try:
        return max(1, int(limit.limit.get_expiry()))
    except Exception:  # the limit object shape is the rate-limit library's, not ours
        return 60
