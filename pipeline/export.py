"""Exports of an atelier for its organisers: the data package as a zip, spreadsheet-safe CSV and xlsx."""

# Spreadsheets evaluate a cell that starts like a formula (CSV injection,
# CWE-1236): a participant's « =HYPERLINK(…) » must reach an organiser's Excel
# as text.  The stored CSV stays exactly as typed (it is the data of record,
# checked by frictionless and reviewed in pull requests); only the copies made
# for spreadsheets are neutralised, and the zip carries the stored bytes.

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

from pipeline import schemas, store, tables
from pipeline.french import PARIS
from pipeline.workshop import (
    CSV_FILES,
    PACKAGE_FILE,
    TABLE_FILES,
    WORKSHOP_FILE,
    AtelierError,
    Workshop,
    atelier_name,
    datapackage_text,
    parse_datetime,
    read_workshop_yaml,
    workshop_from_data,
)

# What makes a spreadsheet read a cell as a formula (OWASP « CSV Injection »:
# = + - @ tab CR LF), plus NUL (OWASP ASVS 5, 1.2.10).  « - » and « + » also
# catch ordinary text (« - un point », « +33 … »): the cost of one visible « ' »
# in a spreadsheet copy is small, a formula run on an organiser's machine is not.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
OLDEST_ZIP_TIME = dt.datetime(1980, 1, 1)  # the zip format cannot say earlier


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet take this cell for a formula?  (Also used to warn reviewers.)"""
    return text[:1] in FORMULA_TRIGGERS and text != ""


def spreadsheet_text(text: str) -> str:
    """The text of a cell for a CSV meant for a spreadsheet: « ' » before anything formula-like."""
    return "'" + text if is_formula_like(text) else text


def stored(folder: Path, resource: str) -> bytes:
    """The committed bytes of a table, read as every step reads it (call under the store's shared lock).

    A missing file is a table not written yet (its header).  When the store
    cannot read the file, or leaves out bytes at its end that no writer is
    adding (an unclosed quote, an empty file: an organiser's edit), the reader
    says why, with the file, the line and the fix, as validate and build do.
    """
    path = folder / TABLE_FILES[resource]
    try:
        data = store.read_bytes(folder, resource)
    except store.StoreError:
        tables.read_table(folder, resource)  # raises TableError, as validate and build say it
        raise
    if path.exists():
        on_disk = path.read_bytes()
        if on_disk != data:
            tables.parse_table(on_disk, resource, str(path), str(folder))
        elif not data:
            tables.read_table(folder, resource)  # an empty file: refused like everywhere
    return data or header_only(resource)


def resources(folder: Path) -> dict[str, str]:
    """The tables of an atelier folder by resource: the two of every atelier, then votes and actions if it has them."""
    return {**CSV_FILES, **{r: name for r, name in TABLE_FILES.items() if (Path(folder) / name).exists()}}


def _tables(folder: Path) -> dict[str, list[dict[str, str]]]:
    """The committed rows of its tables, read by `pipeline.tables` (TableError, in French, if it cannot)."""
    return {
        resource: tables.parse_table(
            stored(folder, resource), resource, str(folder / name), str(folder)
        ).records()
        for resource, name in resources(folder).items()
    }


def _data_time(folder: Path, tables: dict[str, list[dict[str, str]]]) -> dt.datetime:
    """When the data last changed, in UTC without tzinfo: the date the exports carry.

    Taken from the rows (created_at, updated_at), so the same data gives the
    same bytes; an atelier without rows takes its day, at midnight.
    """
    times = [
        parse_datetime(row[name])
        for rows in tables.values()
        for row in rows
        for name in ("created_at", "updated_at")
        if row.get(name)
    ]
    if times:
        latest = max(times).astimezone(dt.timezone.utc).replace(tzinfo=None)
    else:
        day = read_workshop_yaml(folder / WORKSHOP_FILE).get("date", "")
        try:
            latest = dt.datetime.fromisoformat(str(day))
        except ValueError:
            latest = OLDEST_ZIP_TIME
    return max(latest, OLDEST_ZIP_TIME)


def header_only(resource: str) -> bytes:
    """The bytes of a table not written yet: its header line."""
    return tables.encode_rows([schemas.field_names(resource)])


def export_zip(folder: Path) -> bytes:
    """The atelier's data package as a zip: `<slug>/atelier.yaml`, `datapackage.json` and the CSVs.

    The files are read under the store's lock, so the CSVs hold whole
    batches and agree with each other.  The bytes are those stored; a table
    not written yet is its header, and a missing datapackage.json is made
    from the schemas, so the zip is always a valid package.  Deterministic:
    sorted names and the date of the data in every entry, so the same data
    gives the same zip.
    """
    folder = Path(folder)
    with store.locked(folder, shared=True):
        try:
            files = {WORKSHOP_FILE: (folder / WORKSHOP_FILE).read_bytes()}
        except FileNotFoundError:
            raise AtelierError(f"{WORKSHOP_FILE} : fichier introuvable dans {folder}.") from None
        try:
            files[PACKAGE_FILE] = (folder / PACKAGE_FILE).read_bytes()
        except FileNotFoundError:
            files[PACKAGE_FILE] = datapackage_text(folder).encode()
        for resource, name in resources(folder).items():
            files[name] = stored(folder, resource)
        tables = _tables(folder)
    stamp = _data_time(folder, tables).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            archive.writestr(_entry(f"{atelier_name(folder)}/{name}", stamp), files[name])
    return buffer.getvalue()


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the machine
    info.external_attr = 0o644 << 16
    return info


SPREADSHEET_SEPARATOR = ";"  # what a French spreadsheet (Excel, LibreOffice in French) expects


def _workshop(folder: Path) -> Workshop | None:
    """The atelier's format when its atelier.yaml can be read (else the exports show the stored codes)."""
    try:
        return workshop_from_data(atelier_name(folder), read_workshop_yaml(folder / WORKSHOP_FILE))
    except (AtelierError, KeyError, TypeError, ValueError, AttributeError):
        return None


Cell = str | int | dt.datetime


def readable_row(row: dict[str, str], resource: str, workshop: Workshop | None) -> list[Cell]:
    """A stored row as people read it in a spreadsheet, in the schema's column order.

    Codes become their labels (statut « publié », qualité « élu·e », « oui » /
    « non », the question's number, the phase's, group's and rubric's labels
    from atelier.yaml); dates are naive datetimes in the atelier's time zone;
    integers are ints; an empty cell is "".  The data of record keeps the codes.
    """
    zone = workshop.zone if workshop else PARIS
    cells: list[Cell] = []
    for name in schemas.field_names(resource):
        text = row.get(name) or ""
        kind = schemas.field(resource, name).get("type")
        value: Cell = text
        if not text:
            pass
        elif kind == "datetime":
            try:
                value = parse_datetime(text).astimezone(zone).replace(tzinfo=None)
            except ValueError:
                pass
        elif kind == "integer" and text.lstrip("-").isdigit():
            value = int(text)
        elif kind == "boolean":
            value = "oui" if text in schemas.field(resource, name).get("trueValues", ("true",)) else "non"
        elif name in ("status", "role"):
            value = schemas.enum_labels(resource, name).get(text, text)
        elif workshop is not None and resource == "contributions":
            phase = workshop.phase(row.get("phase", ""))
            if name == "question":
                value = workshop.question_label(text)
            elif name == "phase" and phase:
                value = phase.text()
            elif name == "group":
                value = workshop.group_label(text)
            elif name == "section" and phase and phase.rubric(text):
                value = phase.rubric(text).label  # type: ignore[union-attr]
        cells.append(value)
    return cells


def _csv_cell(value: Cell) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime(SPREADSHEET_DATETIME)
    return spreadsheet_text(value) if isinstance(value, str) else str(value)


SPREADSHEET_DATETIME = "%d/%m/%Y %H:%M"  # what a French spreadsheet reads as a date and time
XLSX_DATETIME = "dd/mm/yyyy hh:mm"


def column_titles(folder: Path, resource: str) -> list[str]:
    """A table's French column titles: the schema's, with the atelier's own words for a question
    and a group (« Thème », « Table »…) when its atelier.yaml can be read."""
    titles = {n: schemas.field(resource, n).get("title", n) for n in schemas.field_names(resource)}
    if resource == "contributions":
        workshop = _workshop(folder)
        terms = workshop.terms if workshop else None
        if terms is not None:
            titles["question"] = terms.question.capitalize()
            titles["group"] = terms.group.capitalize()
    return list(titles.values())


def export_spreadsheet_csv(folder: Path, resource: str) -> bytes:
    """One table as a CSV for a French spreadsheet: « ; », UTF-8 with BOM, French column titles, formulas disarmed.

    Excel set to French opens a double-clicked CSV with the list separator of
    the system, « ; » (a comma-separated file lands in one column), and reads
    it as UTF-8 only when it starts with a BOM (else as Windows-1252: « Ã© »
    for « é »).  LibreOffice proposes « ; » in its import dialog in French and
    reads the BOM too.  Every cell is quoted (a « ; » or a line break inside a
    text stays in its cell), every formula-like cell starts with « ' », and
    CR LF ends the rows.  Values read as people read them (`readable_row`),
    dates as « 29/11/2026 14:42 » in the atelier's zone.  This file is for reading in a spreadsheet; the data
    of record, to edit and send back, is the zip's (see the README).
    """
    if resource not in resources(folder):
        raise AtelierError(f"ressource « {resource} » inconnue ; les ressources sont {', '.join(resources(folder))}.")
    folder = Path(folder)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SPREADSHEET_SEPARATOR, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([spreadsheet_text(title) for title in column_titles(folder, resource)])
    with store.locked(folder, shared=True):
        rows = _tables(folder)[resource]
    workshop = _workshop(folder)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in readable_row(row, resource, workshop)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class _DatedZip(zipfile.ZipFile):
    """A zip whose entries all carry one date (openpyxl would stamp them with the clock)."""

    def __init__(self, file: io.BytesIO, stamp: tuple[int, ...]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self.stamp = stamp

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = _entry(zinfo_or_arcname, self.stamp)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        # openpyxl writes each worksheet to a temporary file first; its date is the clock's.
        with open(filename, "rb") as f:
            self.writestr(arcname or Path(filename).name, f.read())


def export_xlsx(folder: Path) -> bytes:
    """The tables in one workbook, one sheet each, headed by the schemas' French titles.

    Cells read as in `readable_row`: dates are date cells in the atelier's
    time zone, « Rang » and « Numéro affiché » are numbers, and every text is a
    string cell, which no spreadsheet evaluates.  A
    formula-like text keeps its exact text and gets the « quotePrefix »
    style: that is how Excel itself records text typed after a « ' », so the
    cell stays text even when someone edits it, and nobody sees a « ' » that
    is not in the data (in xlsx a literal « ' » would be shown as part of it).
    Deterministic: the workbook's dates and the zip's are those of the data.
    """
    folder = Path(folder)
    with store.locked(folder, shared=True):
        tables = _tables(folder)
    stamp = _data_time(folder, tables)
    workshop = _workshop(folder)
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for resource, rows in tables.items():
        sheet = workbook.create_sheet(resource)
        for column, title in enumerate(column_titles(folder, resource), 1):
            cell = sheet.cell(row=1, column=column, value=title)
            cell.font = bold
        for line, row in enumerate(rows, 2):
            for column, value in enumerate(readable_row(row, resource, workshop), 1):
                if value == "":
                    continue  # an empty cell, as the schema's missing value
                cell = sheet.cell(row=line, column=column)
                if not isinstance(value, str):  # a number or a date, as the spreadsheet's own
                    cell.value = value
                    if isinstance(value, dt.datetime):
                        cell.number_format = XLSX_DATETIME
                    continue
                # XML cannot hold these; the store refuses them, a hand edit might not have.
                cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
                cell.data_type = "s"  # openpyxl made « =… » a formula: make it text again
                if is_formula_like(value):
                    cell.quotePrefix = True
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    workbook.properties.creator = "atelier"
    workbook.properties.title = f"Atelier {atelier_name(folder)}"
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    # Not workbook.save(): it stamps « modified » with the clock.
    ExcelWriter(workbook, _DatedZip(buffer, stamp.timetuple()[:6])).save()
    return buffer.getvalue()
