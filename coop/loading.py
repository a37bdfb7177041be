"""Loading the objects a URL names, at the edge, with one answer for an id that names nothing."""

from typing import Any, TypeVar

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
