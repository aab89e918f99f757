"""Read a few rows of an atelier's CSV by id, without parsing the whole table."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from pipeline import schemas
from pipeline.tables import ByteLines, Dialect
from pipeline.workshop import CSV_FILES


def rows_by_id(folder: Path, resource: str, ids: Iterable[str]) -> list[dict[str, str]]:
    """The rows whose id is in `ids`, in file order.

    A receipt page needs a handful of rows from a table that grows all day:
    instead of parsing every row, find each id at the start of a line and
    parse that one record.  A match inside a multi-line text is rejected:
    an odd number of quote characters before it means it sits in a quoted
    field, whatever the text imitates, and wherever that row is in the file.  The file is searched as bytes and only the matched records are
    decoded: decoding a table of thousands of rows cost more than the rest of
    the receipt page.  The rows of one submission follow each other in the
    file, so each id is first looked for right after the previous row found;
    only when it is not there is the whole file searched, from its start.
    """
    try:
        data = (Path(folder) / CSV_FILES[resource]).read_bytes()
    except FileNotFoundError:
        return []
    names = schemas.field_names(resource)
    found: dict[int, dict[str, str]] = {}
    after = -1  # where the previous row found ends, just before its newline
    for wanted in dict.fromkeys(ids):
        needle = f"\n{wanted},".encode("utf-8")
        if after >= 0 and data.startswith(needle, after):
            start = after
        else:
            start = data.find(needle)
        after = -1
        while start != -1:
            # Inside a quoted text the count of « " » before the match is odd (CSV doubles a quote
            # within a text): such a match is a participant's look-alike, not a record.
            if data.count(b'"', 0, start) % 2:
                start = data.find(needle, start + 1)
                continue
            lines = ByteLines(data, start + 1, unterminated=True)
            record = next(csv.reader(lines, Dialect), [])
            if len(record) == len(names) and record[0] == wanted:
                found[start] = dict(zip(names, record))
                after = lines.pos - 1
                break
            start = data.find(needle, start + 1)
    return [found[position] for position in sorted(found)]
