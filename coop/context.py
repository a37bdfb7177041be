"""The app and the request being served, themselves rather than Flask's proxies to them, for code every request runs.

Each attribute read through a proxy costs several times the read: on Python 3.11 the proxy first
fails the lookup on itself, building and dropping an AttributeError, before it forwards it.
"""

import functools
from collections.abc import Callable
from typing import Any, cast

from flask import Flask, Request, current_app, g, request


def this_request() -> Request:
    """The request being served."""
    return cast(Any, request)._get_current_object()


def this_app() -> Flask:
    """The app serving the current request or command."""
    return cast(Any, current_app)._get_current_object()


def only_when(hook: Callable, key: str, *, present: bool = True) -> Callable:
    """An after-request or teardown `hook`, run only on requests whose `g` holds `key` (lacks it, with present=False).

    On the other requests its argument (the response, or the error) passes through untouched.
    """

    @functools.wraps(hook)
    def run(arg):
        # `in` asks the proxy directly; an attribute or method lookup through it costs several times more.
        return hook(arg) if (key in g) == present else arg

    return run
