"""Loading the objects a URL names, at the edge, with one answer for an id that names nothing."""

import functools
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _

from coop import driver
from coop.errors import NotFound

M = TypeVar("M")


def get_or_404(model: type[M], object_id: Any, label: str | None = None, *, lock: bool = False) -> M:
    """The `model` row with this primary key, or NotFound naming what was looked for.

    `lock` takes the row lock (FOR UPDATE on PostgreSQL) for a change that must not race.
    """
    found = driver.get(model, object_id, lock)
    if found is None:
        raise NotFound(
            _("There is no %(thing)s %(object_id)s.", thing=label or model.__name__.lower(), object_id=object_id)
        )
    return found


def read_with_caller(model: type, view_arg: str):
    """Mark a view whose URL object (`model` by the `view_arg` id) is read in the statement that recognises the caller.

    For the hottest routes (a claim): the object then costs no round trip of its own, and
    `get_or_404` finds it in the session. An id that names nothing still answers 404 there.
    """

    def mark(view):
        view.read_with_caller = (model, view_arg)
        return view

    return mark


@functools.cache
def url_object_source(model: Any, view_arg: str) -> tuple:
    """(model, one-row selectable of its table by the bound value `url_<view_arg>`) for the sign-in statement."""
    table = model.__table__
    (key,) = table.primary_key.columns
    where = key == sa.bindparam(f"url_{view_arg}", type_=key.type)
    return model, sa.select(*table.c).where(where).subquery(f"url_{view_arg}")


def url_object_sources(view: Any, view_args: dict | None) -> tuple[tuple, dict]:
    """The sources and bound values for the URL object a view asked to read with its caller (none otherwise)."""
    wanted = getattr(view, "read_with_caller", None)
    if wanted is None or not view_args or wanted[1] not in view_args:
        return (), {}
    model, view_arg = wanted
    return (url_object_source(model, view_arg),), {f"url_{view_arg}": view_args[view_arg]}
