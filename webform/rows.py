"""Read a few rows of an atelier's CSV by id, without parsing the whole table."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable

from pipeline import schemas
from pipeline.workshop import CSV_FILES


def rows_by_id(folder: Path, resource: str, ids: Iterable[str]) -> list[dict[str, str]]:
    """The rows whose id is in `ids`, in file order.

    A receipt page needs a handful of rows from a table that grows all day:
    instead of parsing every row, find each id at the
    start of a line and parse that one record.  A match inside a multi-line
    text is rejected because its record does not parse to an id and the
    table's number of columns.
    """
    try:
        text = (Path(folder) / CSV_FILES[resource]).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    names = schemas.field_names(resource)
    found: dict[int, dict[str, str]] = {}
    for wanted in dict.fromkeys(ids):
        needle = f"\n{wanted},"
        start = text.find(needle)
        while start != -1:
            record = next(csv.reader(io.StringIO(text[start + 1 :])), [])
            if len(record) == len(names) and record[0] == wanted:
                found[start] = dict(zip(names, record))
                break
            start = text.find(needle, start + 1)
    return [found[position] for position in sorted(found)]
