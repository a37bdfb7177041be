"""The app and the request being served, themselves rather than Flask's proxies to them, for code every request runs.

Each attribute read through a proxy costs several times the read: on Python 3.11 the proxy first
fails the lookup on itself, building and dropping an AttributeError, before it forwards it.
"""

from typing import Any, cast

from flask import Flask, Request, current_app, request


def this_request() -> Request:
    """The request being served."""
    return cast(Any, request)._get_current_object()


def this_app() -> Flask:
    """The app serving the current request or command."""
    return cast(Any, current_app)._get_current_object()
