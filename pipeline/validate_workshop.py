"""The checks of atelier.yaml: its JSON Schema (messages in French, placed on their line) and what a schema cannot say."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema  # type: ignore[import-untyped]
import yaml

from pipeline import schemas
from pipeline.french import plural
from pipeline.problems import Problem
from pipeline.workshop import (
    KINDS,
    LEGACY_FORMAT,
    WORKSHOP_FILE,
    AtelierError,
    read_workshop_yaml,
    ready_format,
    reserved_slug_problem,
)


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
        problems.append(Problem(name, line, yaml_key(path_parts), json_schema_message(error)))
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
    check = _FormatCheck(name, lines, problems)
    check.declarations(data)
    phases = data.get("phases")
    if phases is not None:
        check.unique(phases, ("phases",), "du temps")
        for i, phase in enumerate(phases):
            check.phase(i, phase)
    check.vote_points(phases or [])
    for i, q in enumerate(data["questions"]):
        check.question(i, q)


class _FormatCheck:
    """check_format's steps, sharing where problems go and the ids declared so far."""

    def __init__(self, name: str, lines: "dict[tuple[Any, ...], int] | _LazyLines", problems: list[Problem]) -> None:
        self.name, self.lines, self.problems = name, lines, problems
        self.questions: list[str] = []
        self.sessions: list[str] = []
        self.groups: list[str] = []  # declared by name, then `count: N`'s 1…N
        self.rubrics: set[str] = set()

    def problem(self, at: tuple[Any, ...], message: str) -> None:
        self.problems.append(Problem(self.name, self.lines.get(at), yaml_key(list(at)), message))

    def unique(self, items: list[dict[str, Any]], at: tuple[Any, ...], what: str) -> list[str]:
        seen: dict[str, int] = {}
        noun = what.split()[-1]
        for i, item in enumerate(items):
            if item["id"] in seen:
                self.problem(
                    at + (i, "id"),
                    f"l'identifiant « {item['id']} » est déjà celui {what} {seen[item['id']] + 1} ; "
                    f"chaque {noun} a son propre identifiant.",
                )
            seen.setdefault(item["id"], i)
        return list(seen)

    def session(self, value: Any, at: tuple[Any, ...]) -> None:
        if value is not None and value not in self.sessions:
            self.problem(at, f"la séance « {value} » n'est pas déclarée dans « sessions » (séances : {', '.join(self.sessions) or 'aucune'}).")

    def group(self, gid: Any, at: tuple[Any, ...]) -> None:
        if str(gid) not in self.groups:
            self.problem(at, f"le groupe « {gid} » n'est pas déclaré dans « groups » (groupes : {', '.join(self.groups) or 'aucun'}).")

    def declarations(self, data: dict[str, Any]) -> None:
        """The ids of questions, sessions and groups: unique; a group's session declared."""
        self.questions = self.unique(data["questions"], ("questions",), "de la question")
        self.sessions = self.unique(data.get("sessions", []), ("sessions",), "de la séance")
        declared = data.get("groups")
        named = self.unique(declared, ("groups",), "du groupe") if isinstance(declared, list) else []
        numbered = [str(n) for n in range(1, declared["count"] + 1)] if isinstance(declared, dict) else []
        self.groups = named + numbered
        for i, g in enumerate(declared if isinstance(declared, list) else []):
            self.session(g.get("session"), ("groups", i, "session"))
        # Without « phases », the moulins format's rubrics are the atelier's (a target names one of them).
        if "phases" not in data:
            self.rubrics = {r["id"] for p in ready_format(LEGACY_FORMAT)["phases"] for r in p["rubrics"]}

    def phase(self, i: int, phase: dict[str, Any]) -> None:
        """A phase's kind, session, rubrics (unique, targets), questions and groups."""
        kind = KINDS[phase["kind"]]
        if not kind.supported:
            self.problem(
                ("phases", i, "kind"),
                f"le genre « {kind.id} » n'est pas encore pris en charge ; genres possibles : "
                f"{', '.join(k.id for k in KINDS.values() if k.supported)}.",
            )
        self.session(phase.get("session"), ("phases", i, "session"))
        if kind.id in VOTE_OR_ACTIONS and phase.get("rubrics"):
            self.problem(("phases", i, "rubrics"), f"un temps de genre « {kind.id} » n'a pas de rubriques ; supprimez « rubrics » de ce temps.")
        if phase.get("vote") is not None and kind.id != "vote":
            self.problem(("phases", i, "vote"), f"« vote » ne vaut que pour un temps de genre vote, pas « {kind.id} » ; supprimez-le.")
        seen: dict[str, int] = {}
        for j, rubric in enumerate(phase.get("rubrics", ())):
            if rubric["id"] in seen:
                self.problem(("phases", i, "rubrics", j, "id"), f"la rubrique « {rubric['id']} » figure deux fois dans ce temps.")
            seen.setdefault(rubric["id"], j)
            _check_range(rubric.get("target") or {}, ("phases", i, "rubrics", j, "target"), self.problem)
        self.rubrics |= set(seen)
        for j, qid in enumerate(phase.get("questions", ())):
            if qid not in self.questions:
                self.problem(("phases", i, "questions", j), f"la question « {qid} » n'existe pas (questions : {', '.join(self.questions)}).")
        for j, gid in enumerate(phase.get("groups", ())):
            self.group(gid, ("phases", i, "groups", j))

    def vote_points(self, phases: list[dict[str, Any]]) -> None:
        """A vote's `points` name phases whose points can be voted, and their rubrics."""
        by_id = {p["id"]: p for p in phases}
        for i, phase in enumerate(phases):
            for j, ref in enumerate((phase.get("vote") or {}).get("points", ())):
                target_id, _slash, rubric_id = ref.partition("/")
                target = by_id.get(target_id)
                if target is None or target["kind"] in VOTE_OR_ACTIONS:
                    choices = ", ".join(p["id"] for p in phases if p["kind"] not in VOTE_OR_ACTIONS)
                    self.problem(("phases", i, "vote", "points", j), f"« {target_id} » n'est pas un temps dont les points peuvent être votés (temps : {choices}).")
                elif rubric_id and rubric_id not in {r["id"] for r in target.get("rubrics", ())}:
                    names = ", ".join(r["id"] for r in target.get("rubrics", ()))
                    self.problem(("phases", i, "vote", "points", j), f"« {rubric_id} » n'est pas une rubrique du temps « {target_id} » (rubriques : {names}).")

    def question(self, i: int, q: dict[str, Any]) -> None:
        """A question's groups are declared; its times' targets name a rubric, with min ≤ max."""
        spec = q.get("groups")
        if isinstance(spec, list):
            for j, gid in enumerate(spec):
                self.group(gid, ("questions", i, "groups", j))
        key = "times" if "times" in q else "subgroups"
        times = q.get("times", (q.get("subgroups") or {}).get("times", ()))
        for j, step in enumerate(times):
            for k, target in enumerate(step.get("targets", ())):
                at = ("questions", i) + ((key, j) if key == "times" else (key, "times", j)) + ("targets", k)
                _check_range(target, at, self.problem)
                rubric = target.get("rubric") or target.get("section")
                if rubric is None:
                    self.problem(at, "indiquez la rubrique de cet objectif : « rubric: … ».")
                elif rubric not in self.rubrics:
                    self.problem(at, f"la rubrique « {rubric} » n'est déclarée dans aucun temps (rubriques : {', '.join(sorted(self.rubrics))}).")


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
    """`yaml_lines(path)`, computed at the first lookup."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: dict[tuple[Any, ...], int] | None = None

    def get(self, key: tuple[Any, ...], default: int | None = None) -> int | None:
        if self._lines is None:
            self._lines = yaml_lines(self.path)
        return self._lines.get(key, default)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def yaml_key(path: list[Any]) -> str | None:
    if not path:
        return None
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def yaml_lines(path: Path) -> dict[tuple[Any, ...], int]:
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


def json_schema_message(error: jsonschema.ValidationError) -> str:
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
        return f"il faut au moins {plural(expected, 'élément')}."
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
