"""Validate an atelier folder: frictionless for the tables, our cross-rules for the rest."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema  # type: ignore[import-untyped]
import yaml

from pipeline import schemas, tables, textrules
from pipeline.fonts import SUBSTITUTE, describe, undrawable
from pipeline.tables import Table, TableError, located
from pipeline.workshop import (
    CSV_FILES,
    PACKAGE_FILE,
    TABLE_FILES,
    WORKSHOP_FILE,
    AtelierError,
    KINDS,
    LEGACY_FORMAT,
    Workshop,
    SLUG,
    atelier_name,
    slug_problem,
    datapackage,
    phase_tables,
    read_workshop_yaml,
    ready_format,
    reserved_slug_problem,
    workshop_from_data,
)

# A point may be written up to a year before the day (preparation) and not in the future.
EARLIEST_BEFORE_DAY = dt.timedelta(days=366)
CLOCK_SKEW = dt.timedelta(days=1)

TYPE_NAMES = {
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "un booléen (true ou false)",
    "datetime": "une date et heure ISO 8601 (par exemple 2016-06-30T09:00:00Z)",
    "date": "une date AAAA-MM-JJ",
    "string": "un texte",
}
@dataclass(frozen=True, order=True)
class Problem:
    """One problem, located in a file (and a line and field when known)."""

    file: str
    line: int | None
    field: str | None
    message: str
    warning: bool = False  # printed, but the atelier stays valid (exit code 0, the PDF is built)

    def __str__(self) -> str:
        return located(self.file, self.line, self.field, self.message)

    def github(self) -> str:
        """The problem as a GitHub Actions `::error` workflow command."""
        props = f"file={_escape_property(self.file)}"
        if self.line:
            props += f",line={self.line}"
        if self.field:
            props += f",title={_escape_property('champ « ' + self.field + ' »')}"
        where = f"ligne {self.line} : " if self.line else ""
        command = "warning" if self.warning else "error"
        return f"::{command} {props}::{_escape_data(where + self.message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def validate_atelier(folder: str | Path, *, now: dt.datetime | None = None) -> list[Problem]:
    """Every problem of an atelier folder, in file then line order; [] when valid."""
    folder = Path(folder)
    if not folder.is_dir():
        return [Problem(str(folder), None, None, "ce dossier n'existe pas.")]
    name = folder.resolve().name
    if not SLUG.fullmatch(name):  # it would name the data package, the URLs and the release tags
        return [Problem(str(folder), None, None, slug_problem(name))]
    now = now or dt.datetime.now(dt.timezone.utc)
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
    _check_participants(read["participants"], day, now, problems)
    _check_contributions(read["contributions"], workshop, day, now, problems)
    if workshop is not None:
        _check_votes(read.get("votes"), read["contributions"], workshop, day, now, problems)
        _check_actions(read.get("actions"), read["contributions"], workshop, day, now, problems)
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
        lines = _yaml_lines(path)

        def walk(value: Any, at: tuple[Any, ...]) -> None:
            if isinstance(value, str):
                check(path, lines.get(at), _yaml_key(list(at)), value)
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
        for line, row in _rows(table):
            for field_name in fields:
                check(folder / CSV_FILES[name], line, field_name, row.get(field_name, ""))
    return found


# ---------------------------------------------------------------- atelier.yaml

def check_workshop(folder: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """atelier.yaml's data when it follows its schema, else None; its problems are added to `problems`."""
    path = folder / WORKSHOP_FILE
    name = str(path)
    reserved = reserved_slug_problem(Path(folder).resolve().name)
    if reserved:  # the form could never serve it: as broken for the catalog as a bad file
        problems.append(Problem(str(folder), None, None, reserved))
        return None
    try:
        data = read_workshop_yaml(path)
    except AtelierError as e:
        said = str(e).split(" : ", 1)[-1]
        at = re.match(r"ligne (\d+), (.*)", said, re.S)  # the line, as a line: GitHub annotates it
        problems.append(Problem(name, int(at[1]), None, at[2]) if at else Problem(name, None, None, said))
        return None
    lines = _LazyLines(path)  # parsed again for line numbers only when there is a problem to place
    validator = _workshop_validator()
    valid = True
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        valid = False
        path_parts = list(error.absolute_path)
        line = lines.get(tuple(path_parts))
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
            line = lines.get(tuple(path_parts) + (extra[0],), line) if extra else line
        problems.append(Problem(name, line, _yaml_key(path_parts), _json_schema_message(error)))
    if "timezone" in data and isinstance(data["timezone"], str) and not _known_zone(data["timezone"]):
        valid = False
        problems.append(
            Problem(
                name, lines.get(("timezone",)), "timezone",
                f"« {data['timezone']} » n'est pas un fuseau horaire connu ; écrivez un nom IANA, "
                "par exemple Europe/Paris, America/Guadeloupe, Indian/Reunion ou Pacific/Noumea.",
            )
        )
    if not valid:
        return None
    before = len(problems)
    check_format(name, data, lines, problems)
    return data if len(problems) == before else None


VOTE_OR_ACTIONS = ("vote", "actions")  # kinds whose phase has no rubrics: its own table instead


def check_format(
    name: str, data: dict[str, Any], lines: "dict[tuple[Any, ...], int] | _LazyLines", problems: list[Problem]
) -> None:
    """What a JSON Schema cannot say about atelier.yaml: unique ids, references, kinds, targets.

    `data` has passed the schema; `lines` maps key paths to line numbers (may
    be empty).  Appends a Problem per fault.  Used by `atelier validate` and by
    the web form's catalog, which refuses to serve an atelier that fails it.
    """

    def problem(at: tuple[Any, ...], message: str) -> None:
        problems.append(Problem(name, lines.get(at), _yaml_key(list(at)), message))

    def unique(items: list[dict[str, Any]], at: tuple[Any, ...], what: str) -> list[str]:
        seen: dict[str, int] = {}
        noun = what.split()[-1]
        for i, item in enumerate(items):
            if item["id"] in seen:
                problem(
                    at + (i, "id"),
                    f"l'identifiant « {item['id']} » est déjà celui {what} {seen[item['id']] + 1} ; "
                    f"chaque {noun} a son propre identifiant.",
                )
            seen.setdefault(item["id"], i)
        return list(seen)

    questions = unique(data["questions"], ("questions",), "de la question")
    sessions = unique(data.get("sessions", []), ("sessions",), "de la séance")
    declared = data.get("groups")
    groups = unique(declared, ("groups",), "du groupe") if isinstance(declared, list) else []
    numbered = [str(n) for n in range(1, declared["count"] + 1)] if isinstance(declared, dict) else []

    def check_session(value: Any, at: tuple[Any, ...]) -> None:
        if value is not None and value not in sessions:
            problem(at, f"la séance « {value} » n'est pas déclarée dans « sessions » (séances : {', '.join(sessions) or 'aucune'}).")

    for i, g in enumerate(declared if isinstance(declared, list) else []):
        check_session(g.get("session"), ("groups", i, "session"))
    # Without « phases », the moulins format's rubrics are the atelier's (a target names one of them).
    rubrics: set[str] = set() if "phases" in data else {r["id"] for p in ready_format(LEGACY_FORMAT)["phases"] for r in p["rubrics"]}
    phases = data.get("phases")
    if phases is not None:
        unique(phases, ("phases",), "du temps")
        for i, phase in enumerate(phases):
            kind = KINDS[phase["kind"]]
            if not kind.supported:
                problem(
                    ("phases", i, "kind"),
                    f"le genre « {kind.id} » n'est pas encore pris en charge ; genres possibles : "
                    f"{', '.join(k.id for k in KINDS.values() if k.supported)}.",
                )
            check_session(phase.get("session"), ("phases", i, "session"))
            if kind.id in VOTE_OR_ACTIONS and phase.get("rubrics"):
                problem(("phases", i, "rubrics"), f"un temps de genre « {kind.id} » n'a pas de rubriques ; supprimez « rubrics » de ce temps.")
            if phase.get("vote") is not None and kind.id != "vote":
                problem(("phases", i, "vote"), f"« vote » ne vaut que pour un temps de genre vote, pas « {kind.id} » ; supprimez-le.")
            seen: dict[str, int] = {}
            for j, rubric in enumerate(phase.get("rubrics", ())):
                if rubric["id"] in seen:
                    problem(("phases", i, "rubrics", j, "id"), f"la rubrique « {rubric['id']} » figure deux fois dans ce temps.")
                seen.setdefault(rubric["id"], j)
                _check_range(rubric.get("target") or {}, ("phases", i, "rubrics", j, "target"), problem)
            rubrics |= set(seen)
            for j, qid in enumerate(phase.get("questions", ())):
                if qid not in questions:
                    problem(("phases", i, "questions", j), f"la question « {qid} » n'existe pas (questions : {', '.join(questions)}).")
            for j, gid in enumerate(phase.get("groups", ())):
                if str(gid) not in groups + numbered:
                    problem(("phases", i, "groups", j), f"le groupe « {gid} » n'est pas déclaré dans « groups » (groupes : {', '.join(groups + numbered) or 'aucun'}).")
    by_id = {p["id"]: p for p in phases or ()}
    for i, phase in enumerate(phases or ()):
        for j, ref in enumerate((phase.get("vote") or {}).get("points", ())):
            target_id, _slash, rubric_id = ref.partition("/")
            target = by_id.get(target_id)
            if target is None or target["kind"] in VOTE_OR_ACTIONS:
                choices = ", ".join(p["id"] for p in phases or () if p["kind"] not in VOTE_OR_ACTIONS)
                problem(("phases", i, "vote", "points", j), f"« {target_id} » n'est pas un temps dont les points peuvent être votés (temps : {choices}).")
            elif rubric_id and rubric_id not in {r["id"] for r in target.get("rubrics", ())}:
                names = ", ".join(r["id"] for r in target.get("rubrics", ()))
                problem(("phases", i, "vote", "points", j), f"« {rubric_id} » n'est pas une rubrique du temps « {target_id} » (rubriques : {names}).")
    for i, q in enumerate(data["questions"]):
        spec = q.get("groups")
        if isinstance(spec, list):
            for j, gid in enumerate(spec):
                if str(gid) not in groups + numbered:
                    problem(("questions", i, "groups", j), f"le groupe « {gid} » n'est pas déclaré dans « groups » (groupes : {', '.join(groups + numbered) or 'aucun'}).")
        key = "times" if "times" in q else "subgroups"
        times = q.get("times", (q.get("subgroups") or {}).get("times", ()))
        for j, step in enumerate(times):
            for k, target in enumerate(step.get("targets", ())):
                at = ("questions", i) + ((key, j) if key == "times" else (key, "times", j)) + ("targets", k)
                _check_range(target, at, problem)
                rubric = target.get("rubric") or target.get("section")
                if rubric is None:
                    problem(at, "indiquez la rubrique de cet objectif : « rubric: … ».")
                elif rubric not in rubrics:
                    problem(at, f"la rubrique « {rubric} » n'est déclarée dans aucun temps (rubriques : {', '.join(sorted(rubrics))}).")


def _check_range(target: dict[str, Any], at: tuple[Any, ...], problem: Any) -> None:
    low, high = target.get("min"), target.get("max")
    if low is not None and high is not None and low > high:
        problem(at, f"le minimum {low} dépasse le maximum {high}.")


@cache
def _workshop_validator() -> Any:
    """The compiled JSON Schema of atelier.yaml, dates checked (once per process: load_atelier calls it too)."""
    return jsonschema.Draft202012Validator(
        schemas.workshop_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


class _LazyLines:
    """`_yaml_lines(path)`, computed at the first lookup."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: dict[tuple[Any, ...], int] | None = None

    def get(self, key: tuple[Any, ...], default: int | None = None) -> int | None:
        if self._lines is None:
            self._lines = _yaml_lines(self.path)
        return self._lines.get(key, default)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _yaml_key(path: list[Any]) -> str | None:
    if not path:
        return None
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _yaml_lines(path: Path) -> dict[tuple[Any, ...], int]:
    """Line of every node of a YAML file, keyed by its path (keys and list indexes)."""
    try:
        root = yaml.compose(path.read_bytes().decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return {}
    lines: dict[tuple[Any, ...], int] = {}

    def walk(node: yaml.Node, at: tuple[Any, ...]) -> None:
        lines.setdefault(at, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[at + (key.value,)] = key.start_mark.line + 1
                walk(value, at + (key.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, at + (i,))

    if root is not None:
        walk(root, ())
    return lines


# The schema's patterns (schemas/workshop.schema.json), said as what to write.
_PATTERN_HINTS = {
    r"^\d{2}:\d{2}$": "écrivez l'heure sous la forme HH:MM, par exemple 09:30",
    "^[a-z0-9][a-z0-9_-]*$": "un identifiant s'écrit en minuscules sans accents, chiffres, « - » et « _ », sans espace",
    "^[A-Za-z0-9][A-Za-z0-9_-]*$": "un identifiant s'écrit en lettres sans accents, chiffres, « - » et « _ », sans espace",
}


def _json_schema_message(error: jsonschema.ValidationError) -> str:
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "required":
        missing = [k for k in expected if isinstance(value, dict) and k not in value]
        return f"clé obligatoire manquante : « {missing[0] if missing else expected} »."
    if kind == "additionalProperties":
        extra = sorted(k for k in value if k not in error.schema.get("properties", {}))
        return f"clé inconnue « {', '.join(extra)} » ; vérifiez l'orthographe (clés permises : {', '.join(error.schema.get('properties', {}))})."
    if kind == "enum":
        return f"« {_yaml_text(value)} » n'est pas une valeur permise ; valeurs possibles : {', '.join(map(str, expected))}."
    if kind == "type":
        names = {"string": "un texte", "integer": "un nombre entier", "array": "une liste", "object": "un objet (clé: valeur)", "boolean": "un booléen"}
        if value is None:
            return f"valeur vide ; il faut {names.get(expected, expected)}."
        if isinstance(value, (dict, list)):
            found = "une liste" if isinstance(value, list) else "un objet (clé: valeur)"
            return f"{found} ; il faut {names.get(expected, expected)}."
        if expected == "object" and "min" in error.schema.get("properties", {}):  # a target, `range` in the schema
            return f"« {_yaml_text(value)} » devrait être un objet (clé: valeur) ; écrivez par exemple {{min: 3, max: 5}}."
        return f"« {_yaml_text(value)} » devrait être {names.get(expected, expected)}."
    if kind == "maxLength":
        return f"le texte fait {len(value)} caractères, au-delà de la limite de {expected}."
    if kind == "minLength":
        return "ce texte ne peut pas être vide."
    if kind in ("minimum", "maximum"):
        word = "inférieur au minimum" if kind == "minimum" else "supérieur au maximum"
        return f"{value} est {word} permis ({expected})."
    if kind == "minItems":
        return f"il faut au moins {expected} élément(s)."
    if kind == "maxItems":
        return f"au plus {expected} éléments sont permis."
    if kind == "format" and expected == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        return f"« {value} » n'existe pas dans le calendrier ; vérifiez le jour et le mois (AAAA-MM-JJ)."
    if kind in ("pattern", "format"):
        if error.schema.get("format") == "date":
            hint = "écrivez la date sous la forme AAAA-MM-JJ, par exemple 2016-06-30"
        else:
            hint = _PATTERN_HINTS.get(error.schema.get("pattern", ""), "comparez-la aux valeurs voisines du fichier")
        return f"« {value} » n'a pas le format attendu ; {hint}."
    return error.message


def _yaml_text(value: Any) -> str:
    """A value as the organiser wrote it in YAML: true, false, (vide), not Python's True, None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "(vide)" if value is None else str(value)


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
        for r in datapackage(atelier_name(folder), _workshop_of(folder))["resources"]
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
            names = ", ".join(f"« {f} »" for f in fields)
            problems.append(
                Problem(path, _line_of(lines.get(name, []), row_number), None,
                        f"la ligne a {len(schema) - len(fields)} colonnes au lieu de {len(schema)} : "
                        f"il manque {names} (une virgule manquante ou une ligne coupée ?).")
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
        return next((line for line, row in _rows(table) if row.get(field) == value), None)

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
        if error.type == "type-error" and kind == "boolean":
            return field, (
                f"« {cell} » n'est pas un booléen : écrivez true (oui) ou false (non) ; "
                "« atelier normalize » convertit VRAI, FAUX, oui, non, 1 et 0."
            )
        violation = textrules.check_cell(resource, field, str(cell)) if field in schema else None
        if violation is not None:
            return field, violation.message
        if error.type == "type-error":
            return field, f"« {cell} » n'est pas {TYPE_NAMES.get(kind, kind)}."
        if "pattern" in descriptor.get("constraints", {}):
            if field == "link":
                return field, f"« {cell} » n'est pas une adresse web http:// ou https://."
            pattern = descriptor["constraints"]["pattern"]
            return field, f"« {cell} » n'a pas le format attendu : lettres, chiffres, « - » et « _ », sans espace (motif {pattern})."
        return field, f"« {cell} » ne respecte pas une contrainte du schéma ({error.note})."
    if error.type in ("unique-error", "primary-key"):
        key = field or "id"
        value = cell if cell is not None else (error.cells[list(schema).index(key)] if key in schema else "?")
        line = first_line(key, value)
        first = f" ligne {line}" if line else ""
        return key, f"l'identifiant « {value} » est déjà utilisé{first} ; chaque ligne a un identifiant unique."
    if error.type == "foreign-key":
        key, value, table = error.field_names[0], error.field_cells[0], error.reference_name or resource
        if key == "parent":
            return key, f"le point parent « {value} » n'existe pas dans contributions.csv ; indiquez l'identifiant d'un point existant ou laissez vide."
        return key, f"le participant « {value} » n'existe pas dans {table}.csv ; indiquez l'identifiant d'un participant ou laissez vide."
    if error.type == "extra-cell":
        return None, f"cellule en trop « {cell} » : la ligne a plus de colonnes que l'en-tête (une virgule dans un texte non entouré de guillemets ?)."
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


# ---------------------------------------------------------------- cross-rules

def _rows(table: Table | None) -> Iterator[tuple[int, dict[str, str]]]:
    """(starting line, row) of a table; one that could not be read yields nothing (its problem is said)."""
    return table.rows() if table is not None else iter(())


def _timestamp(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _check_dates(
    path: str, line: int, row: dict[str, str], day: dt.date | None, now: dt.datetime, problems: list[Problem]
) -> None:
    created = _timestamp(row.get("created_at", ""))
    if created is None:
        return  # a type error, already reported by frictionless
    if created > now + CLOCK_SKEW:
        problems.append(Problem(path, line, "created_at", f"{row['created_at']} est dans le futur ; vérifiez l'horloge ou la saisie."))
    elif day and created.date() < day - EARLIEST_BEFORE_DAY:
        problems.append(
            Problem(path, line, "created_at", f"{row['created_at']} précède de plus d'un an l'atelier du {day.isoformat()} ; vérifiez la date.")
        )
    updated = _timestamp(row.get("updated_at", ""))
    if updated is not None and updated < created:
        problems.append(
            Problem(path, line, "updated_at", f"{row['updated_at']} précède la création du point ({row['created_at']}).")
        )


def _check_texts(
    path: str, line: int, resource: str, row: dict[str, str], problems: list[Problem]
) -> None:
    """The rules frictionless cannot express (pipeline.textrules), in the form's and the store's words.

    The characters of every free text, and date-times written in UTC with
    « Z »: frictionless reads « +02:00 » as a valid datetime, the store
    refuses it.  An empty cell is left to frictionless's `required`.
    """
    for name in _cell_rule_fields(resource):
        text = row.get(name) or ""
        violation = textrules.check_cell(resource, name, text) if text else None
        if violation is not None:
            problems.append(Problem(path, line, name, violation.message))


@cache
def _cell_rule_fields(resource: str) -> tuple[str, ...]:
    """The free text columns (a pattern or an enum already keeps every invisible character out of the others) and the date-times."""
    return tuple(
        f["name"]
        for f in schemas.table_schema(resource)["fields"]
        if f.get("type", "string") == "datetime"
        or (f.get("type", "string") == "string" and not {"pattern", "enum"} & set(f.get("constraints", {})))
    )


def _check_participants(table: Table | None, day: dt.date | None, now: dt.datetime, problems: list[Problem]) -> None:
    for line, row in _rows(table):
        _check_dates(table.file if table else "", line, row, day, now, problems)
        _check_texts(table.file if table else "", line, "participants", row, problems)


def _check_contributions(
    table: Table | None, workshop: Workshop | None, day: dt.date | None, now: dt.datetime, problems: list[Problem]
) -> None:
    """Rules that span columns or rows: the atelier's vocabulary, nesting, dates."""
    name = table.file if table else ""
    nodes: dict[str, tuple[int, str, str, str, str, str]] = {}  # id → line, question, phase, group, section, parent
    for line, row in _rows(table):
        question, phase, group, section = (row.get(k, "") for k in ("question", "phase", "group", "section"))
        found = workshop.column_problem(question, phase, group, section) if workshop and question and phase and section else None
        if found:
            problems.append(Problem(name, line, found[0], found[1]))
        _check_dates(name, line, row, day, now, problems)
        _check_texts(name, line, "contributions", row, problems)
        if row.get("id"):
            nodes.setdefault(row["id"], (line, question, phase, group, section, row.get("parent", "")))
    _check_nesting(name, nodes, workshop, problems)


def _workshop_of(folder: Path) -> Workshop | None:
    try:
        return workshop_from_data(atelier_name(folder), read_workshop_yaml(folder / WORKSHOP_FILE))
    except (AtelierError, KeyError, TypeError, ValueError, AttributeError):
        return None


def _check_votes(
    table: Table | None, contributions: Table | None, workshop: Workshop, day: dt.date | None, now: dt.datetime,
    problems: list[Problem],
) -> None:
    """votes.csv: each line names a vote phase, its ballots stay within the rule, its points exist."""
    from pipeline.votes import parse_choices, repeated_points

    name = table.file if table else ""
    points = {row.get("id", ""): row for _line, row in _rows(contributions)}
    votes = {p.id: p for p in workshop.phases if p.kind == "vote"}
    for line, row in _rows(table):
        _check_dates(name, line, row, day, now, problems)
        _check_texts(name, line, "votes", row, problems)
        phase = votes.get(row.get("phase", ""))
        if phase is None or phase.vote is None:
            problems.append(Problem(name, line, "phase", f"« {row.get('phase', '')} » n'est pas un temps de vote d'atelier.yaml (votes : {', '.join(votes) or 'aucun'})."))
            continue
        event = row.get("event", "")
        needs_ballot = event in ("ballot", "void")
        if needs_ballot != bool(row.get("ballot")):
            problems.append(Problem(name, line, "ballot", "un bulletin est nommé pour « ballot » et « void », et seulement pour eux." if needs_ballot else f"pas de bulletin pour un événement « {event} » ; laissez ce champ vide."))
        if (event == "merge") != bool(row.get("point") and row.get("into")):
            problems.append(Problem(name, line, "into", "« point » et « into » sont remplis pour un événement « merge », et seulement pour lui."))
        for key in ("point", "into"):
            if row.get(key) and row[key] not in points:
                problems.append(Problem(name, line, key, f"le point « {row[key]} » n'existe pas dans contributions.csv."))
        choices = parse_choices(row.get("choices", ""))
        for point in repeated_points(row.get("choices", "")):
            problems.append(Problem(name, line, "choices", f"le point « {point} » est nommé plusieurs fois ; "
                                    f"nommez chaque point une seule fois, avec toutes ses gommettes (« {point}={choices.get(point, 0)} »)."))
        if choices and event not in ("ballot", "paper"):
            problems.append(Problem(name, line, "choices", f"pas de gommettes pour un événement « {event} » ; laissez ce champ vide."))
        for point in choices:
            found = points.get(point)
            if found is None:
                problems.append(Problem(name, line, "choices", f"le point « {point} » n'existe pas dans contributions.csv."))
            elif not phase.vote.covers(found.get("phase", ""), found.get("section", "")):
                problems.append(Problem(name, line, "choices", f"le point « {point} » (temps « {found.get('phase')} », rubrique « {found.get('section')} ») n'est pas soumis à ce vote."))
        if event == "ballot":
            total = sum(choices.values())
            if total > phase.vote.gommettes:
                problems.append(Problem(name, line, "choices", f"{total} gommettes sur ce bulletin, pour {phase.vote.gommettes} par personne."))
            if not phase.vote.several and any(v > 1 for v in choices.values()):
                problems.append(Problem(name, line, "choices", "plus d'une gommette sur un point, alors que ce vote n'en permet qu'une (« several: false »)."))


def _check_actions(
    table: Table | None, contributions: Table | None, workshop: Workshop, day: dt.date | None, now: dt.datetime,
    problems: list[Problem],
) -> None:
    """actions.csv: each action belongs to an action-plan phase and comes from points that exist."""
    name = table.file if table else ""
    points = {row.get("id", "") for _line, row in _rows(contributions)}
    plans = [p.id for p in workshop.phases if p.kind == "actions"]
    for line, row in _rows(table):
        _check_dates(name, line, row, day, now, problems)
        _check_texts(name, line, "actions", row, problems)
        if row.get("phase", "") not in plans:
            problems.append(Problem(name, line, "phase", f"« {row.get('phase', '')} » n'est pas un temps « plan d'actions » d'atelier.yaml (temps : {', '.join(plans) or 'aucun'})."))
        if row.get("group") and workshop.group(row["group"]) is None:
            problems.append(Problem(name, line, "group", f"le groupe « {row['group']} » n'est pas déclaré dans atelier.yaml (groupes : {', '.join(g.id for g in workshop.groups) or 'aucun'})."))
        for point in (row.get("points") or "").split():
            if point not in points:
                problems.append(Problem(name, line, "points", f"le point « {point} » n'existe pas dans contributions.csv."))


def _check_nesting(
    name: str, nodes: dict[str, tuple[int, str, str, str, str, str]], workshop: Workshop | None, problems: list[Problem]
) -> None:
    """A child shares its parent's column; no cycles; depth bounded by MAX_DEPTH."""
    depth: dict[str, int] = {}
    for node_id, (line, question, phase, group, section, parent) in nodes.items():
        if not parent or parent not in nodes:
            continue  # no parent, or a missing one (frictionless reports the foreign key)
        p_line, *p_column, _ = nodes[parent]
        if (question, phase, group, section) != tuple(p_column):
            problems.append(
                Problem(
                    name, line, "parent",
                    f"le point parent « {parent} » (ligne {p_line}) est dans une autre colonne "
                    f"({_column(workshop, *p_column)}) que ce point ({_column(workshop, question, phase, group, section)}) ; "
                    "un point s'emboîte dans un point de la même question, du même temps, du même groupe et de la même rubrique.",
                )
            )
    for start in nodes:
        if start in depth:
            continue
        chain: list[str] = []
        on_chain: set[str] = set()
        current: str | None = start
        while current and current in nodes and current not in depth and current not in on_chain:
            chain.append(current)
            on_chain.add(current)
            parent = nodes[current][5]
            current = parent if parent in nodes else None
        if current in on_chain:  # a cycle: report it once, on its first line
            cycle = chain[chain.index(current):]
            first = min(cycle, key=lambda i: nodes[i][0])
            loop = " → ".join(cycle + [cycle[0]])
            problems.append(Problem(name, nodes[first][0], "parent", f"les points forment une boucle ({loop}) ; un point ne peut pas descendre de lui-même."))
            for i in cycle:
                depth[i] = 0
            chain = chain[: chain.index(current)]
            base = 1  # what leads into the loop hangs under it
        else:
            base = depth[current] + 1 if current in depth else 0
        for i in reversed(chain):
            depth[i] = base
            if base >= schemas.MAX_DEPTH:
                problems.append(
                    Problem(
                        name, nodes[i][0], "parent",
                        f"ce point est au niveau {base + 1} d'emboîtement ; {schemas.MAX_DEPTH} niveaux au plus sont permis.",
                    )
                )
            base += 1


def _column(workshop: Workshop | None, question: str, phase: str, group: str, section: str) -> str:
    where = f"{question}, {phase}"
    if group:
        where += f", {workshop.group_label(group) if workshop else group}"
    found = workshop.phase(phase) if workshop else None
    rubric = found.rubric(section) if found else None
    return f"{where}, {rubric.label.lower() if rubric else section}"
