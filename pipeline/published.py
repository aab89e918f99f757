"""The published view of an atelier's data package: exactly what the compte-rendu shows, and embeds."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Iterable

from pipeline import schemas
from pipeline.tables import Dialect
from pipeline.workshop import (
    CSV_FILES,
    PACKAGE_FILE,
    PHASE_FILES,
    TABLE_FILES,
    WORKSHOP_FILE,
    Atelier,
    datapackage,
    parse_datetime,
    phase_tables,
    read_rows,
)

# Files whose bytes make the fingerprint, in the order `sha256sum` lists them.
FINGERPRINTED = (WORKSHOP_FILE, CSV_FILES["contributions"], CSV_FILES["participants"])
UNNAMED = "(non nommé·e)"


def last_change(atelier: Atelier) -> dt.datetime:
    """The latest created_at/updated_at of any row: the date the data last changed.

    Every row counts, hidden and pending ones too: hiding a point is a change
    of the compte-rendu.  An atelier without rows changed on its own day.
    """
    stamps = [p.created_at for p in atelier.participants]
    for c in atelier.contributions:
        stamps.append(c.created_at)
        if c.updated_at:
            stamps.append(c.updated_at)
    stamps += [parse_datetime(row["created_at"]) for row in atelier.votes]
    stamps += [a.updated_at or a.created_at for a in atelier.actions]
    if not stamps:
        return atelier_start(atelier)
    return max(stamps).astimezone(dt.timezone.utc)


def atelier_start(atelier: Atelier) -> dt.datetime:
    """Midnight UTC of the atelier's day: the document's creation date."""
    return dt.datetime.combine(atelier.workshop.date, dt.time(0, 0), tzinfo=dt.timezone.utc)


def _line_terminator(path: Path) -> str:
    with path.open("rb") as f:
        first = f.readline()
    return "\r\n" if first.endswith(b"\r\n") else "\n"


def _csv_bytes(path: Path, fieldnames: Iterable[str], rows: list[dict[str, str]]) -> bytes:
    """Serialise rows like the source file (same columns, same line ends)."""
    out = io.StringIO()
    terminator = _line_terminator(path) if path.exists() else "\n"
    writer = csv.DictWriter(out, fieldnames=list(fieldnames), dialect=Dialect, lineterminator=terminator)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _header(path: Path, resource: str) -> list[str]:
    """The columns of a published table: the schema's, which `pipeline.tables` made sure the file has."""
    return list(schemas.field_names(resource))


def published_files(atelier: Atelier, shown: frozenset[str]) -> dict[str, bytes]:
    """The files a reader of the compte-rendu may see, by name, in a fixed order.

    `shown` holds the ids of the contributions the report prints.  Only those
    rows are kept, so points that are pending, hidden or withdrawn never leave
    the repository inside a PDF.  Participants who withdrew are dropped;
    those who did not consent to be named keep a row (they are counted) whose
    name and organisation are blanked.  Kept rows are written back exactly as
    read, so when everything is published the CSV equals its source.
    """
    folder = atelier.path
    files: dict[str, bytes] = {WORKSHOP_FILE: (folder / WORKSHOP_FILE).read_bytes()}

    package = folder / PACKAGE_FILE
    files[PACKAGE_FILE] = (
        package.read_bytes()
        if package.exists()
        else (json.dumps(datapackage(atelier.slug, atelier.workshop), ensure_ascii=False, indent=2) + "\n").encode()
    )

    path = folder / CSV_FILES["participants"]
    people = []
    kept_people = set()
    for row in read_rows(path):
        if (row.get("status") or "present") != "present":
            continue
        kept_people.add(row["id"])
        if row.get("listed") != "true":
            row = {**row, "name": UNNAMED, "organisation": ""}
        people.append(row)
    files[CSV_FILES["participants"]] = _csv_bytes(path, _header(path, "participants"), people)

    path = folder / CSV_FILES["contributions"]
    points = []
    for row in read_rows(path):
        if row["id"] not in shown:
            continue
        if row.get("author") and row["author"] not in kept_people:
            row = {**row, "author": ""}  # its author withdrew: the point stays, anonymous
        points.append(row)
    files[CSV_FILES["contributions"]] = _csv_bytes(path, _header(path, "contributions"), points)

    for resource in phase_tables(atelier.workshop):  # the vote's journal and the action plan, whole
        path = folder / TABLE_FILES[resource]
        files[path.name] = _csv_bytes(path, _header(path, resource), read_rows(path))
    for path in (schemas.TABLE_SCHEMAS["participants"], schemas.TABLE_SCHEMAS["contributions"], schemas.WORKSHOP_SCHEMA):
        files[path.name] = path.read_bytes()
    for resource in phase_tables(atelier.workshop):
        files[schemas.TABLE_SCHEMAS[resource].name] = schemas.TABLE_SCHEMAS[resource].read_bytes()
    return files


def fingerprinted(files: dict[str, bytes]) -> tuple[str, ...]:
    """The files the fingerprint covers: atelier.yaml, the two tables, then votes.csv and actions.csv when published."""
    return FINGERPRINTED + tuple(sorted(name for _kind, name in PHASE_FILES.values() if name in files))


def fingerprint(files: dict[str, bytes]) -> str:
    """sha256 of the `sha256sum` listing of atelier.yaml and the two published CSV files.

    Anyone can check it from the PDF's attachments:
    `sha256sum atelier.yaml contributions.csv participants.csv | sha256sum`.
    """
    listing = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in fingerprinted(files)
    )
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()
