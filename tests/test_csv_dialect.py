"""One CSV dialect: every table atelier writes or reads byte by byte goes through pipeline.tables (issue 10)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from pipeline import schemas, store, tables
from pipeline.scaffold import new_atelier

ROOT = Path(__file__).resolve().parent.parent


def test_encode_rows_quotes_only_where_needed_and_ends_rows_with_lf():
    rows = [["id", "text"], ["c-1", 'Un « tiers-lieu », dit-on'], ["c-2", 'deux\nlignes et un "guillemet"']]
    data = tables.encode_rows(rows)
    assert data == 'id,text\nc-1,"Un « tiers-lieu », dit-on"\nc-2,"deux\nlignes et un ""guillemet"""\n'.encode()
    assert list(csv.reader(tables.ByteLines(data), tables.Dialect)) == rows


def test_byte_lines_stop_before_a_torn_end_unless_asked():
    data = b'a,b\n1,"deux\nlignes"\n3,torn'
    lines = tables.ByteLines(data)
    records = []
    for record in csv.reader(lines, tables.Dialect):
        if lines.exhausted:
            break
        records.append((record, lines.pos))
    assert records == [(["a", "b"], 4), (["1", "deux\nlignes"], 20)]
    assert lines.exhausted
    whole = tables.ByteLines(data, 20, unterminated=True)
    assert next(csv.reader(whole, tables.Dialect)) == ["3", "torn"]
    assert whole.pos == len(data)


def test_the_store_the_scaffold_and_normalize_write_the_same_bytes(tmp_path):
    """`atelier new`, the store's first append and `atelier normalize` agree on the header, byte for byte."""
    import datetime as dt

    folder = new_atelier(tmp_path, "essai", dt.date(2016, 6, 30), "moulins")
    header = tables.encode_rows([schemas.field_names("participants")])
    assert (folder / "participants.csv").read_bytes() == header
    assert tables.normalize(folder) == []  # nothing to rewrite: already as atelier writes it
    store.append_rows(folder, "participants", [{
        "id": "p-1", "name": "Anne, dite « Nanou »", "role": "elu", "listed": True,
        "created_at": "2016-06-30T09:00:00Z", "status": "present",
    }])
    data = (folder / "participants.csv").read_bytes()
    assert data.startswith(header) and b'"Anne, dite \xc2\xab Nanou \xc2\xbb"' in data
    assert tables.normalize(folder) == []


def test_no_module_writes_or_parses_csv_in_its_own_dialect():
    """csv.reader / csv.writer outside pipeline.tables name its Dialect; the export for spreadsheets
    (« ; », every cell quoted, CR LF) is the one other dialect, on purpose."""
    own = []
    for folder in ("pipeline", "webform"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "tables.py":
                continue
            for call in re.findall(r"csv\.(?:reader|writer|DictWriter|DictReader)\([^\n]*", path.read_text(encoding="utf-8")):
                if "Dialect" not in call and "SPREADSHEET_SEPARATOR" not in call:
                    own.append(f"{path.relative_to(ROOT)}: {call}")
    assert own == []
