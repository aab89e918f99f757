"""Validate an atelier folder: frictionless for the tables, our cross-rules for the rest.

The checks live beside: pipeline.validate_workshop (atelier.yaml),
pipeline.validate_rows (rules across columns and rows), pipeline.textrules
(the rules of one value), pipeline.problems (what is reported).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pipeline import clock, schemas, tables, textrules
from pipeline.fonts import SUBSTITUTE, describe, undrawable
from pipeline.problems import Problem
from pipeline.tables import Table, TableError
from pipeline.validate_rows import (
    check_actions,
    check_contributions,
    check_participants,
    check_votes,
    table_rows,
    workshop_of,
)
from pipeline.validate_workshop import (
    check_workshop,
    json_schema_message,
    yaml_key,
    yaml_lines,
)
from pipeline.workshop import (
    CSV_FILES,
    PACKAGE_FILE,
    TABLE_FILES,
    WORKSHOP_FILE,
    AtelierError,
    SLUG,
    Workshop,
    atelier_name,
    datapackage,
    phase_tables,
    read_workshop_yaml,
    slug_problem,
    workshop_from_data,
)

_json_schema_message = json_schema_message  # the name pipeline/opening.py imports

TYPE_NAMES = {
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "un booléen (true ou false)",
    "string": "un texte",
}


def validate_atelier(folder: str | Path, *, now: dt.datetime | None = None) -> list[Problem]:
    """Every problem of an atelier folder, in file then line order; [] when valid."""
    folder = Path(folder)
    if not folder.is_dir():
        return [Problem(str(folder), None, None, "ce dossier n'existe pas.")]
    name = folder.resolve().name
    if not SLUG.fullmatch(name):  # it would name the data package, the URLs and the release tags
        return [Problem(str(folder), None, None, slug_problem(name))]
    now = now or clock.now()
    problems: list[Problem] = []
    data = check_workshop(folder, problems)
    workshop = workshop_from_data(atelier_name(folder), data) if data is not None else None
    _check_package(folder, workshop, problems)
    read: dict[str, Table | None] = {}
    for resource in (*CSV_FILES, *phase_tables(workshop)):
        try:
            read[resource] = tables.read_table(folder, resource)
        except TableError as e:  # the same refusal as build's, release's and the form's
            problems.append(Problem(e.file, e.line, e.field, e.message))
            read[resource] = None
    _check_tables(folder, read, problems)
    day = _day(data)
    check_participants(read["participants"], day, now, problems)
    check_contributions(read["contributions"], workshop, day, now, problems)
    if workshop is not None:
        check_votes(read.get("votes"), read["contributions"], workshop, day, now, problems)
        check_actions(read.get("actions"), read["contributions"], workshop, day, now, problems)
    return sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field or "", p.message))


def people_warnings(folder: str | Path) -> list[Problem]:
    """Each participant who seems to have signed twice (same name, accents and capitals aside), as a warning.

    `participants.csv: ligne 7 : « camille martin » a déjà signé ligne 2 ; si c'est la même personne
    (deux séances), elle est comptée et nommée deux fois : passez une des deux lignes en « withdrawn ».`
    """
    try:
        table = tables.read_table(Path(folder), "participants")
    except TableError:
        return []  # validate_atelier says why
    first: dict[str, int] = {}
    found = []
    for line, row in table.rows():
        if row.get("status") != "present":
            continue
        key = " ".join(_plain_name(row.get("name", "")).split())
        if not key:
            continue
        if key in first:
            found.append(Problem(
                table.file, line, "name",
                f"« {row['name']} » a déjà signé ligne {first[key]} ; si c'est la même personne (venue à deux séances), "
                "elle est comptée et nommée deux fois : passez une des deux lignes en « withdrawn ».",
                warning=True,
            ))
        else:
            first[key] = line
    return found


def _plain_name(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def font_warnings(folder: str | Path) -> list[Problem]:
    """Each character of the printed texts that no project font draws, as a warning.

    The compte-rendu and the kit print it as « [U+XXXX] » (pipeline.fonts), never
    as an empty box; the warning says which point, which field, which character:
    `contributions.csv: ligne 9, champ « text » : « ⵣ » (U+2D63, TIFINAGH LETTER YAZ) n'est
    dessiné par aucune police du projet ; le compte-rendu imprimera « [U+2D63] » à sa place.`
    """
    folder = Path(folder)
    found: list[Problem] = []

    def check(file: Path, line: int | None, field: str | None, text: str) -> None:
        for char in undrawable(text):
            message = (
                f"{describe(char)} n'est dessiné par aucune police du projet ; "
                f"le compte-rendu imprimera « {SUBSTITUTE.format(ord(char))} » à sa place."
            )
            found.append(Problem(str(file), line, field, message, warning=True))

    path = folder / WORKSHOP_FILE
    try:
        data = read_workshop_yaml(path)
    except AtelierError:
        data = None  # validate_atelier reports it
    if data is not None:
        lines = yaml_lines(path)

        def walk(value: Any, at: tuple[Any, ...]) -> None:
            if isinstance(value, str):
                check(path, lines.get(at), yaml_key(list(at)), value)
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(item, at + (key,))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    walk(item, at + (i,))

        walk(data, ())
    for name, fields in (("participants", ("name", "organisation")), ("contributions", ("text", "link"))):
        try:
            table: Table | None = tables.read_table(folder, name)
        except TableError:
            table = None  # validate_atelier reports it
        for line, row in table_rows(table):
            for field_name in fields:
                check(folder / CSV_FILES[name], line, field_name, row.get(field_name, ""))
    return found


def _day(data: dict[str, Any] | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(data["date"])) if data else None
    except ValueError:
        return None


# ------------------------------------------------------------ datapackage.json

def _check_package(folder: Path, workshop: Workshop | None, problems: list[Problem]) -> None:
    path = folder / PACKAGE_FILE
    fix = f"régénérez-le avec « atelier datapackage {folder} »."
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(str(path), None, None, f"fichier introuvable ; {fix}"))
        return
    except (ValueError, UnicodeDecodeError) as e:
        problems.append(Problem(str(path), None, None, f"JSON illisible ({e}) ; {fix}"))
        return
    if workshop is None:
        return  # atelier.yaml is invalid: its vocabulary, hence the package's, is unknown
    expected = {r["name"]: r for r in datapackage(atelier_name(folder), workshop)["resources"]}
    found = {r.get("name"): r for r in package.get("resources", []) if isinstance(r, dict)}
    for name, resource in expected.items():
        if name not in found:
            problems.append(Problem(str(path), None, None, f"la ressource « {name} » manque ; {fix}"))
        elif found[name].get("schema") != resource["schema"] or found[name].get("path") != resource["path"]:
            problems.append(
                Problem(
                    str(path),
                    None,
                    None,
                    f"la description de « {name} » n'est plus celle de schemas/{name}.schema.json "
                    f"et des temps, rubriques et groupes d'atelier.yaml ; {fix}",
                )
            )


# --------------------------------------------------------------------- tables

def _check_tables(folder: Path, read: dict[str, Table | None], problems: list[Problem]) -> None:
    """Table-level rules (types, constraints, keys) by frictionless, messages in French.

    Only when `pipeline.tables` could read both files (it has said why not):
    frictionless would read what it cannot otherwise, and say « valide ».
    """
    if any(table is None for table in read.values()):
        return
    from frictionless import Package  # slow import: only when tables are checked

    # Always validate against the project's schemas, whatever datapackage.json says.
    descriptor = datapackage(atelier_name(folder))
    descriptor["resources"] += [
        {**r, "schema": schemas.table_schema(r["name"])}
        for r in datapackage(atelier_name(folder), workshop_of(folder))["resources"]
        if r["name"] in read and r["name"] not in CSV_FILES
    ]
    package = Package(descriptor, basepath=str(folder))
    report = package.validate()
    lines: dict[str, list[int]] = {
        name: list(table.starts) for name, table in read.items() if table is not None
    }
    for task in report.tasks:
        name = task.name or ""
        path = str(folder / TABLE_FILES.get(name, name))
        schema = {f["name"]: f for f in schemas.table_schema(name)["fields"]} if name in TABLE_FILES else {}
        by_row: dict[int, set[str]] = {}
        for error in task.errors:
            by_row.setdefault(getattr(error, "row_number", 0) or 0, set()).add(error.type)
        missing: dict[int, list[str]] = {}
        for error in task.errors:
            if error.type == "missing-cell":
                missing.setdefault(error.row_number, []).append(error.field_name)
        for row_number, fields in missing.items():
            present = [f for f in schema if f not in fields]
            problems.append(
                Problem(path, _line_of(lines.get(name, []), row_number), None,
                        tables.missing_cells_message(present + fields, present))
            )
        for error in task.errors:
            row = getattr(error, "row_number", None)
            if error.type == "missing-cell":
                continue  # summarised above, one line per row
            if error.type != "blank-row" and "blank-row" in by_row.get(row or 0, set()):
                continue  # a row of empty cells (« ,,,, » from a spreadsheet): one sentence, not a duplicate « id »
            if error.type == "primary-key" and "unique-error" in by_row.get(row or 0, set()):
                continue  # the unique-error on « id » already says it
            if error.type == "constraint-error" and "missing-cell" in by_row.get(row or 0, set()):
                continue  # a short row: the missing-cell line says it once per cell
            line = _line_of(lines.get(name, []), row)
            problems.append(Problem(path, line, *_table_message(error, name, schema, _first_line_of(read.get(name)))))


def _first_line_of(table: Table | None) -> Any:
    """For a repeated key: the line where `field` first holds `value` (None when not found)."""

    def first_line(field: str, value: str) -> int | None:
        return next((line for line, row in table_rows(table) if row.get(field) == value), None)

    return first_line


def _line_of(starts: list[int], row_number: int | None) -> int | None:
    """frictionless counts the header as row 1; a text with newlines spans several lines."""
    if not row_number:
        return None
    return starts[row_number - 1] if row_number - 1 < len(starts) else row_number


def _table_message(error: Any, resource: str, schema: dict[str, Any], first_line: Any) -> tuple[str | None, str]:
    """The French sentence of a frictionless error, from its structured fields (never from its English note).

    A constraint or a type is worded by `pipeline.textrules.check_cell`, as
    the form and the store word it: frictionless says that the cell broke a
    rule of the schema, the schema says which.
    """
    field = getattr(error, "field_name", None)
    cell = getattr(error, "cell", None)
    descriptor = schema.get(field or "", {})
    if error.type in ("type-error", "constraint-error"):
        kind = descriptor.get("type", "string")
        violation = textrules.check_cell(resource, field, str(cell)) if field in schema else None
        if violation is not None:
            return field, violation.message
        if error.type == "type-error":
            return field, f"« {cell} » n'est pas {TYPE_NAMES.get(kind, kind)}."
        return field, f"« {cell} » ne respecte pas une contrainte du schéma ({error.note})."
    if error.type in ("unique-error", "primary-key"):
        key = field or "id"
        value = cell if cell is not None else (error.cells[list(schema).index(key)] if key in schema else "?")
        line = first_line(key, value)
        first = f" ligne {line}" if line else ""
        return key, f"l'identifiant « {value} » est déjà utilisé{first} ; chaque ligne a un identifiant unique."
    if error.type == "foreign-key":
        key, value, table = error.field_names[0], error.field_cells[0], error.reference_name or resource
        target = error.reference_field_names[0] if getattr(error, "reference_field_names", None) else "id"
        return key, textrules.reference_violation(key, value, f"{table}.csv", target).message
    if error.type == "extra-cell":
        return None, tables.extra_cell_message(str(cell))
    if error.type == "blank-row":
        return None, "ligne vide ; supprimez-la."
    if error.type in ("incorrect-label", "missing-label", "extra-label", "duplicate-label", "blank-label"):
        expected = ", ".join(schema)
        return field, f"en-tête incorrect (« {getattr(error, 'label', cell)} ») ; l'en-tête attendu est : {expected}."
    if error.type == "encoding-error":
        return None, "le fichier n'est pas en UTF-8 ; enregistrez-le en UTF-8."
    if error.type in ("source-error", "scheme-error", "format-error", "resource-error"):
        # The note is shown, not parsed: the reader's own explanation (an OS or codec message).
        return None, f"fichier illisible ({getattr(error, 'note', '') or error.message})."
    return field, f"{error.message} ({error.type})"


