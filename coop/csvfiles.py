"""CSV downloads every domain shares: cells a spreadsheet shows and never runs, streamed a chunk at a time."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from flask import Response, stream_with_context

# A spreadsheet runs a cell starting with one of these as a formula (tab and carriage return
# too, as OWASP's CSV-injection guidance lists them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Lines sent per chunk: few enough to stay small, enough to spare per-line overhead.
CHUNK_LINES = 1000


def safe_cell(text: str) -> str:
    """The text with a leading `'` if a spreadsheet would run it as a formula; a reader strips it back."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The CSV text of a header and rows, in chunks of CHUNK_LINES lines, read from `rows` only as sent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % CHUNK_LINES == 0:
            yield flush()
    yield flush()


def csv_download(header: Sequence[str], rows: Iterable[Sequence[str]], filename: str) -> Response:
    """A streamed text/csv attachment; the caller makes each cell safe (safe_cell) before it gets here."""
    return Response(
        stream_with_context(csv_lines(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
