"""Batches as spreadsheets: items read from CSV text, and the header and lines of a batch's results file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _

from coop.csvfiles import safe_cell

# Columns of an item: enough for any form a person fills in a spreadsheet; past this the
# results file shows each item as one JSON cell instead of a column per field.
MAX_ITEM_FIELDS = 100
MAX_COLUMN_NAME = 200
# A request lists this many problems at most; the rest are found once these are fixed.
MAX_REPORTED = 100
RESULT_COLUMNS = ("worker", "submitted_at", "approved_at")


@dataclass
class ItemsTable:
    """What a CSV text gave: the item fields (its header), the items, and every problem by line."""

    fields: list[str] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def _json_size(data) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def read_items_csv(text: str, *, max_rows: int, max_item_bytes: int) -> ItemsTable:
    """Items from CSV text: the first line names the fields, each later line is one item.

    RFC 4180 as Python's csv module reads it: comma-separated, cells quoted with " when they
    hold a comma, a quote (doubled) or a line break. Lines are counted as a text editor
    counts them, so a quoted cell spanning lines moves the lines after it. Blank lines are
    skipped, a byte-order mark is ignored and NUL characters are removed from cells. Every
    problem is listed as {line, message}; if there is any, no item is kept.
    """
    table = ItemsTable()

    def problem(line: int, message: str) -> bool:
        """Record a problem; True once enough are listed that reading should stop."""
        table.errors.append({"line": line, "message": message})
        return len(table.errors) >= MAX_REPORTED

    text = text.removeprefix("\ufeff").replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if not table.fields and not table.errors:
                _read_header(table, record, line, problem)
                if table.errors:
                    break
                continue
            if len(table.items) + 1 > max_rows:
                problem(
                    line,
                    _(
                        "More than %(max_rows)s items; post at most %(max_rows)s in one batch.",
                        max_rows=format(max_rows, ","),
                    ),
                )
                break
            if len(record) != len(table.fields):
                if problem(
                    line,
                    _(
                        "%(count)s cells, but the header names %(columns)s columns.",
                        count=len(record),
                        columns=len(table.fields),
                    ),
                ):
                    break
                continue
            data = dict(zip(table.fields, record, strict=True))
            size = _json_size(data)
            if size > max_item_bytes:
                if problem(
                    line,
                    _(
                        "This item is %(size)s bytes as JSON; the limit is %(limit)s.",
                        size=size,
                        limit=max_item_bytes,
                    ),
                ):
                    break
                continue
            table.items.append({"data": data})
    except csv.Error as exc:
        problem(
            reader.line_num or 1,
            _("The CSV cannot be read here (%(problem)s); check the quotes on this line.", problem=exc),
        )
    if not table.fields and not table.errors:
        problem(1, _("The text is empty; its first line must be a header naming the item fields."))
    elif not table.items and not table.errors:
        problem(1, _("There is a header but no items under it."))
    if table.errors:
        table.items = []
    return table


def _read_header(table: ItemsTable, record: list[str], line: int, problem) -> None:
    names = [name.strip() for name in record]
    if len(names) > MAX_ITEM_FIELDS:
        problem(
            line,
            _(
                "The header names %(count)s columns; at most %(most)s.",
                count=len(names),
                most=MAX_ITEM_FIELDS,
            ),
        )
        return
    seen: set[str] = set()
    for number, name in enumerate(names, start=1):
        if not name:
            problem(line, _("Column %(number)s of the header has no name; every column needs one.", number=number))
        elif len(name) > MAX_COLUMN_NAME:
            problem(
                line,
                _(
                    "The name of column %(number)s is %(count)s characters; at most %(most)s.",
                    number=number,
                    count=len(name),
                    most=MAX_COLUMN_NAME,
                ),
            )
        elif name in seen:
            problem(line, _("The header names '%(name)s' twice; each column needs its own name.", name=name))
        seen.add(name)
    if not table.errors:
        table.fields = names


def item_fields_of(items: Sequence[Mapping]) -> list[str] | None:
    """The top-level keys of JSON items in the order they first appear; None past MAX_ITEM_FIELDS."""
    found: dict[str, None] = {}
    for item in items:
        found.update(dict.fromkeys(item["data"]))
        if len(found) > MAX_ITEM_FIELDS:
            return None
    return list(found)


def results_header(item_fields: Sequence[str] | None, answer_fields: Sequence[Mapping] | None) -> list[str]:
    """Item columns (`item.<field>`), answer columns (`answer.<name>`), then worker and the two times.

    The prefixes keep an item field and an answer field of the same name apart. A batch
    without declared fields has one `item` or `answer` column holding the JSON instead.
    """
    items = [f"item.{name}" for name in item_fields] if item_fields is not None else ["item"]
    answers = [f"answer.{f['name']}" for f in answer_fields] if answer_fields else ["answer"]
    return [*items, *answers, *RESULT_COLUMNS]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # Numbers, booleans, lists and objects as JSON, so true stays true and 2.50 stays a number.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def results_line(
    item_fields: Sequence[str] | None,
    answer_fields: Sequence[Mapping] | None,
    item: Mapping,
    answer: Mapping | None,
    worker: str,
    submitted_at: datetime | None,
    approved_at: datetime | None,
) -> list[str]:
    """One approved assignment as the cells of the results file, each safe to open in a spreadsheet."""
    answer = answer or {}
    cells = [_text(item.get(name)) for name in item_fields] if item_fields is not None else [_text(dict(item))]
    cells += [_text(answer.get(f["name"])) for f in answer_fields] if answer_fields else [_text(dict(answer))]
    cells += [worker, _utc(submitted_at), _utc(approved_at)]
    return [safe_cell(cell) for cell in cells]
