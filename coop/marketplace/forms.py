"""Answer forms: the fields a batch asks its workers to fill in, and the check of an answer against them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from flask_babel import gettext as _

FIELD_TYPES = ("choice", "text", "number", "boolean")
MAX_FIELDS = 50
MAX_OPTIONS = 100
MAX_LABEL = 200
MAX_OPTION = 200
MAX_TEXT = 10_000
# Names become keys of every answer and columns of the results file, so they are identifiers:
# no spaces, dots or quotes that a spreadsheet, pandas or SQL would need escaping for.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
NAME_RULE = "a letter or _, then letters, digits or _, at most 64 in all"


def form_errors(fields: Sequence[Mapping]) -> dict[str, dict[str, list[str]]]:
    """Rules across a form's fields, keyed by field index: names unique, options given exactly for choices."""
    errors: dict[str, dict[str, list[str]]] = {}

    def report(index: int, key: str, message: str) -> None:
        errors.setdefault(str(index), {}).setdefault(key, []).append(message)

    seen: set[str] = set()
    for index, field in enumerate(fields):
        name = field["name"]
        if name in seen:
            report(index, "name", _("'%(name)s' names an earlier field too; each field needs its own name.", name=name))
        seen.add(name)
        options = field.get("options")
        if field["type"] == "choice":
            if not options:
                report(index, "options", _("A choice field needs between 1 and %(most)s options.", most=MAX_OPTIONS))
            elif len(set(options)) != len(options):
                report(index, "options", _("Each option may appear once."))
        elif options is not None:
            report(index, "options", _("Only a choice field has options; leave them out."))
    return errors


def _type_error(field: Mapping, value) -> str | None:
    kind = field["type"]
    if kind == "choice":
        options = field["options"]
        if not isinstance(value, str) or value not in options:
            shown = ", ".join(options[:10]) + (", ..." if len(options) > 10 else "")
            return _("Choose one of the options: %(shown)s.", shown=shown)
    elif kind == "text":
        if not isinstance(value, str):
            return _("Give text (a JSON string).")
        if len(value) > MAX_TEXT:
            return _("%(count)s characters; at most %(most)s.", count=len(value), most=MAX_TEXT)
        if field.get("required", True) and not value.strip():
            return _("This field is required; it cannot be blank.")
    elif kind == "number":
        # bool is an int in Python and in JSON's loosest readers; true is not the number 1 here.
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _("Give a number.")
        if isinstance(value, float) and not math.isfinite(value):
            return _("Give a finite number.")
    elif kind == "boolean" and not isinstance(value, bool):
        return _("Give true or false.")
    return None


def answer_errors(fields: Sequence[Mapping], answer: Mapping) -> dict[str, list[str]]:
    """What is wrong with an answer to a form, per field name; empty when it fits.

    A required field (the default) must be present and not null; an optional one may be left
    out or null. Keys the form does not name are refused, so a typo never loses an answer.
    """
    errors: dict[str, list[str]] = {}
    names = {field["name"] for field in fields}
    for field in fields:
        name = field["name"]
        value = answer.get(name)
        if value is None:
            if field.get("required", True):
                errors[name] = [_("This field is required.")]
            continue
        problem = _type_error(field, value)
        if problem:
            errors[name] = [problem]
    for key in answer:
        if key not in names:
            listed = ", ".join(sorted(names))
            errors[str(key)] = [
                _("This batch's answer form has no field '%(key)s'; its fields are %(listed)s.", key=key, listed=listed)
            ]
    return errors
