"""Batches as spreadsheets, pure: items read from CSV text with every problem by line, results lines made safe."""

from datetime import UTC, datetime, timedelta, timezone

from coop.marketplace import spreadsheets
from coop.marketplace.spreadsheets import read_items_csv, results_header, results_line

LIMITS = {"max_rows": 5, "max_item_bytes": 200}


def test_the_header_names_the_fields_and_each_line_is_an_item():
    table = read_items_csv("url,caption\nhttp://a/1.jpg,a dog\nhttp://a/2.jpg,\n", **LIMITS)
    assert table.errors == [] and table.fields == ["url", "caption"]
    assert table.items == [
        {"data": {"url": "http://a/1.jpg", "caption": "a dog"}},
        {"data": {"url": "http://a/2.jpg", "caption": ""}},
    ]


def test_quoted_cells_hold_commas_quotes_and_line_breaks_and_windows_line_ends_are_read():
    text = '\ufeff"place, town",quote\r\n"Kigali, RW","she said ""hi"""\r\n"two\r\nlines",x\r\n'
    table = read_items_csv(text, **LIMITS)
    assert table.errors == [] and table.fields == ["place, town", "quote"]
    assert [item["data"] for item in table.items] == [
        {"place, town": "Kigali, RW", "quote": 'she said "hi"'},
        {"place, town": "two\r\nlines", "quote": "x"},
    ]


def test_header_names_are_trimmed_blank_lines_skipped_and_nul_removed():
    table = read_items_csv(" a , b\n\n1,2\x00\n\n", **LIMITS)
    assert table.errors == [] and table.fields == ["a", "b"]
    assert table.items == [{"data": {"a": "1", "b": "2"}}]


def test_every_bad_line_is_reported_by_its_number_and_no_item_is_kept():
    # Line 3 holds a quoted line break, so the item after it starts on line 5.
    text = 'a,b\n1,2\n"x\ny",3\n4\n5,6,7\n8,9\n'
    table = read_items_csv(text, **LIMITS)
    assert table.items == []
    assert table.errors == [
        {"line": 5, "message": "1 cells, but the header names 2 columns."},
        {"line": 6, "message": "3 cells, but the header names 2 columns."},
    ]


def test_a_bad_header_is_reported_and_reading_stops():
    table = read_items_csv("a,,a\n1,2,3\n", **LIMITS)
    assert table.items == [] and table.fields == []
    assert table.errors == [
        {"line": 1, "message": "Column 2 of the header has no name; every column needs one."},
        {"line": 1, "message": "The header names 'a' twice; each column needs its own name."},
    ]
    wide = ",".join(f"c{i}" for i in range(spreadsheets.MAX_ITEM_FIELDS + 1))
    assert (
        read_items_csv(wide + "\n", **LIMITS).errors[0]["message"].endswith(f"at most {spreadsheets.MAX_ITEM_FIELDS}.")
    )


def test_empty_text_a_lone_header_and_too_many_rows_are_refused():
    assert read_items_csv("", **LIMITS).errors[0]["line"] == 1
    assert "header" in read_items_csv("\n\n", **LIMITS).errors[0]["message"]
    assert read_items_csv("a,b\n", **LIMITS).errors == [
        {"line": 1, "message": "There is a header but no items under it."}
    ]
    table = read_items_csv("a\n" + "".join(f"{i}\n" for i in range(6)), **LIMITS)
    assert table.items == [] and table.errors == [
        {"line": 7, "message": "More than 5 items; post at most 5 in one batch."}
    ]


def test_an_item_too_large_is_named_by_its_line():
    table = read_items_csv("a\nsmall\n" + "x" * 300 + "\n", **LIMITS)
    assert table.errors == [{"line": 3, "message": "This item is 308 bytes as JSON; the limit is 200."}]


def test_broken_quoting_is_reported_not_guessed():
    table = read_items_csv('a,b\n1,2\n"open,3\n', **LIMITS)
    assert table.items == [] and len(table.errors) == 1
    assert table.errors[0]["line"] == 3 and "quotes" in table.errors[0]["message"]


def test_the_list_of_problems_is_bounded():
    text = "a,b\n" + "1\n" * 500
    table = read_items_csv(text, max_rows=10_000, max_item_bytes=200)
    assert len(table.errors) == spreadsheets.MAX_REPORTED


def test_json_items_give_their_keys_in_first_seen_order_or_none_past_the_column_limit():
    assert spreadsheets.item_fields_of([{"data": {"b": 1, "a": 2}}, {"data": {"c": 3, "a": 4}}]) == ["b", "a", "c"]
    many = [{"data": {f"k{i}": i}} for i in range(spreadsheets.MAX_ITEM_FIELDS + 1)]
    assert spreadsheets.item_fields_of(many) is None


def test_results_lines_follow_the_header_and_defuse_formulas():
    form = [{"name": "label", "label": "L", "type": "text"}, {"name": "n", "label": "N", "type": "number"}]
    assert results_header(["url"], form) == [
        "item.url",
        "answer.label",
        "answer.n",
        "worker",
        "submitted_at",
        "approved_at",
    ]
    assert results_header(None, None) == ["item", "answer", "worker", "submitted_at", "approved_at"]
    at = datetime(2026, 12, 1, 6, 30, tzinfo=timezone(timedelta(hours=2)))
    line = results_line(["url"], form, {"url": "=HYPERLINK(1)"}, {"label": "@SUM", "n": -2}, "+bob", at, at)
    assert line == ["'=HYPERLINK(1)", "'@SUM", "'-2", "'+bob", "2026-12-01T04:30:00+00:00", "2026-12-01T04:30:00+00:00"]
    free = results_line(None, None, {"b": [1, True], "a": None}, {"ok": True}, "ann", at, None)
    assert free == ['{"a":null,"b":[1,true]}', '{"ok":true}', "ann", at.astimezone(UTC).isoformat(), ""]
