"""The rules about the characters of a text, declared once: the web form, the store and `atelier validate` call them.

A Table Schema can say how long a text is, not which characters it may hold
nor when it only looks empty; these named checks sit beside the schemas and
say it, each kind of violation with one French sentence.  The form shows the
sentence beside its field (translated through its catalogue: babel.cfg
extracts the templates of this module), the store puts it after
« fichier: ligne N de l'envoi, champ « x » : », `atelier validate` after
« fichier: ligne N, champ « x » : ».  tests/test_textrules.py feeds the same
values to the three and compares their words.

The kinds:

* ``control``: a C0 or C1 control character (Unicode category Cc) — a tab
  and a line break are allowed in a multi-line text only (the text of a
  point);
* ``bidi``: an invisible direction embedding, override or isolate (U+202A to
  U+202E, U+2066 to U+2069), which can make a published line read otherwise
  than what it stores;
* ``private``: a private-use character (Unicode category Co: U+E000 to
  U+F8FF, planes 15 and 16), whose meaning is agreed only inside one
  program or font: another device shows something else or nothing, and no
  font of the report draws it;
* ``blank``: a text that has characters but none visible: only spaces (any
  Zs, Zl, Zp), format characters (Cf: U+200B, U+2060, U+FEFF, U+00AD…) and
  fillers that draw nothing (U+3164…).  `is_blank` is also what a form's
  « one point per line » textarea takes for a blank line.

And the rules of the Table Schemas said in the same words by the three
layers (`check_cell`): a missing value of a required column (« empty » is
the schema's missing value "", nothing else: a text of spaces is ``blank``
above), too long or too short a text, a value outside an enum, a number
outside its range, and a date-time that is not written as our files write
it, in UTC with « Z » (« 2016-06-30T09:00:00Z »: an offset such as
« +02:00 » is refused by the store, by `atelier validate` and never typed in
the form, which stamps the time itself).  The limits come from `schemas/`;
only the sentences live here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable

from pipeline import french, schemas


def N_(template: str) -> str:
    """Mark a French template for the form's catalogue (babel.cfg); the text is unchanged."""
    return template


MESSAGES = {
    "control": N_("Ce texte contient un caractère invisible interdit (U+%(code)s)\u202f: retirez-le."),
    "bidi": N_(
        "Ce texte contient un caractère invisible qui inverse le sens de lecture (U+%(code)s)\u202f: retirez-le."
    ),
    "private": N_(
        "Ce texte contient un caractère à usage privé (U+%(code)s), que les autres appareils et le compte-rendu "
        "n'affichent pas\u202f: retirez-le."
    ),
    "carriage_return": N_(
        "Ce texte contient un retour chariot (U+000D) au lieu d'un saut de ligne\u202f: retirez-le, ou lancez "
        "«\u00a0atelier normalize\u00a0» sur un fichier enregistré par un tableur."
    ),
    "blank": N_(
        "Ce texte ne contient que des espaces ou des caractères invisibles\u202f: écrivez-le en lettres visibles."
    ),
    # The schema's constraints and types: the store (pipeline.rowcheck), the form and `atelier validate` say these.
    "required": N_("valeur obligatoire manquante."),
    "too_long": N_("%(value)s est trop long (%(count)s caractères, au plus %(limit)s)."),
    "too_short": N_("%(value)s est trop court (%(count)s caractères, au moins %(limit)s)."),
    # Each value with what it means when the schema's description says it (« elu (élu·e) »).
    "enum": N_("%(value)s n'est pas une valeur permise\u202f; valeurs possibles\u202f: %(allowed)s."),
    "minimum": N_("%(value)s est inférieur au minimum %(limit)s."),
    "maximum": N_("%(value)s est supérieur au maximum %(limit)s."),
    "exclusive_minimum": N_("%(value)s doit être strictement supérieur à %(limit)s."),
    "exclusive_maximum": N_("%(value)s doit être strictement inférieur à %(limit)s."),
    "pattern": N_("%(value)s ne respecte pas le format attendu (%(pattern)s)."),
    "identifier": N_(
        "%(value)s n'a pas le format attendu\u202f: lettres, chiffres, «\u00a0-\u00a0» et «\u00a0_\u00a0», sans espace "
        "(motif %(pattern)s)."
    ),
    "link": N_("%(value)s n'est pas une adresse web http:// ou https://."),
    "integer": N_("%(value)s n'est pas un nombre entier."),
    "boolean": N_(
        "%(value)s n'est pas un booléen\u202f: écrivez %(allowed)s\u202f; «\u00a0atelier normalize\u00a0» convertit "
        "VRAI, FAUX, oui, non, 1 et 0."
    ),
    # A key that names a row of another table (the schema's foreignKeys).
    "missing_parent": N_(
        "le point parent %(value)s n'existe pas dans %(file)s\u202f; indiquez l'identifiant d'un point existant ou "
        "laissez vide."
    ),
    "missing_participant": N_(
        "le participant %(value)s n'existe pas dans %(file)s\u202f; indiquez l'identifiant d'un participant ou laissez "
        "vide."
    ),
    "missing_reference": N_("%(value)s ne correspond à aucun «\u00a0%(target)s\u00a0» de %(file)s."),
    "not_text": N_("%(value)s n'est pas un texte."),
    "datetime": N_("%(value)s n'est pas une date et heure UTC au format %(example)s."),
    "date": N_("%(value)s n'est pas une date au format AAAA-MM-JJ (2016-06-30)."),
}
DATETIME_EXAMPLE = "2016-06-30T09:00:00Z"

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE_CONTROLS = frozenset("\t\n")
# Letters of no shape that Unicode does not class as format characters.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u2800")
_UNSEEN = frozenset({"Cf", "Zs", "Zl", "Zp", "Cc"})

# Which columns may span several lines: the text of a point and an action's moyens (textareas); every other is one line.
MULTILINE_FIELDS = frozenset({("contributions", "text"), ("actions", "moyens")})


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, the French sentence, and where in the text (1-based, 0 for the whole)."""

    kind: str
    code: str = ""  # the character's code point, « 202E », or "" for the other kinds
    position: int = 0
    values: tuple[tuple[str, str], ...] = ()  # the other kinds' parameters (value, limit…)

    @property
    def params(self) -> dict[str, str]:
        found = dict(self.values)
        if self.code:
            found["code"] = self.code
        return found

    @property
    def template(self) -> str:
        return MESSAGES[self.kind]

    @property
    def message(self) -> str:
        """The French sentence, its counts printed as French prints numbers (« 2 000 »)."""
        return self.template % self.worded(french.number)

    def worded(self, number: Callable[[int], str]) -> dict[str, str]:
        """`params`, with the counts (NUMBER_PARAMS) written by `number` (French here, the page's locale on the web)."""
        return {k: number(int(v)) if k in NUMBER_PARAMS and v.isdigit() else v for k, v in self.params.items()}


NUMBER_PARAMS = frozenset({"count", "limit"})  # the parameters that are counts, not words


# The same sets as regular expressions, for speed (the store checks every cell of every row):
# Unicode's Cc is exactly U+0000-001F and U+007F-009F.
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"  # Unicode's Co
_FORBIDDEN = {
    False: re.compile(f"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069{_PRIVATE}]"),
    True: re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069{_PRIVATE}]"),
}
_SURELY_VISIBLE = re.compile("[0-9A-Za-z\u00c0-\u024f]")


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: empty, or only spaces, format characters and fillers."""
    if _SURELY_VISIBLE.search(text):
        return False
    return all(unicodedata.category(c) in _UNSEEN or c in _FILLERS or c.isspace() for c in text)


def check_text(text: str, *, multiline: bool) -> Violation | None:
    """The first rule `text` breaks, or None; an empty text breaks none (« required » is the schema's)."""
    found = _FORBIDDEN[multiline].search(text)
    if found:
        char = found.group()
        kind = (
            "bidi" if char in BIDI_CONTROLS
            else "private" if unicodedata.category(char) == "Co"
            else "carriage_return" if char == "\r"
            else "control"
        )
        return Violation(kind, f"{ord(char):04X}", found.start() + 1)
    if text and is_blank(text):
        return Violation("blank", "", 0)
    return None


def check_field(resource: str, field: str, text: str) -> Violation | None:
    """`check_text` for a column of a table: one line unless MULTILINE_FIELDS says otherwise."""
    return check_text(text, multiline=(resource, field) in MULTILINE_FIELDS)


_CONTROL_SHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def quote(value: object, limit: int = 50) -> str:
    """« value » for a message: at most `limit` characters, its invisible characters shown as U+FFFD."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"« {_CONTROL_SHOWN.sub(chr(0xFFFD), text)} »"


def either(values: list[Any]) -> str:
    """« a, b ou c »."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " ou " + words[-1]


def described_values(resource: str, name: str) -> str:
    """« elu (élu·e), technicien (agent ou chargé·e de mission), …, autre »: an enum's values with their meaning."""
    values = _field(resource, name)["constraints"]["enum"]
    labels = schemas.enum_labels(resource, name)
    return ", ".join(value if labels.get(value, value) == value else f"{value} ({labels[value]})" for value in values)


def _violation(kind: str, **values: object) -> Violation:
    return Violation(kind, values=tuple((k, str(v)) for k, v in values.items()))


# What a schema's `pattern` means, in words (a pattern not listed here is shown as is).
PATTERN_KINDS = {
    "https?://[^\\s<>\"']+": "link",
    "[A-Za-z0-9][A-Za-z0-9_-]*": "identifier",
    "[a-z0-9][a-z0-9_-]*": "identifier",
}
# The order in which a cell's constraints are checked, so every layer names the same first problem.
CONSTRAINT_ORDER = ("maxLength", "minLength", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# Which kind of sentence a foreign key's missing value gets, by column.
REFERENCE_KINDS = {"parent": "missing_parent", "author": "missing_participant"}


def pattern_violation(text: str, pattern: str) -> Violation:
    """The violation of a cell `text` that does not match the schema's `pattern`, worded by what it means."""
    return _violation(PATTERN_KINDS.get(pattern, "pattern"), value=quote(text), pattern=pattern)


def reference_violation(field: str, value: str, file: str, target: str) -> Violation:
    """A key `value` of column `field` that names no row of `file` (whose key column is `target`)."""
    return _violation(REFERENCE_KINDS.get(field, "missing_reference"), value=quote(value), file=file, target=target)


def boolean_values(resource: str, name: str) -> tuple[list[str], list[str]]:
    """A boolean column's (true values, false values): the schema's, else frictionless's defaults."""
    spec = _field(resource, name)
    return spec.get("trueValues", DEFAULT_TRUE), spec.get("falseValues", DEFAULT_FALSE)


# Frictionless's boolean values when a schema does not list its own.
DEFAULT_TRUE, DEFAULT_FALSE = ["true", "True", "TRUE", "1"], ["false", "False", "FALSE", "0"]


def say(kind: str, **values: object) -> str:
    """The French sentence of a broken rule of kind `kind` (a key of MESSAGES), with its values.

    For the store (`pipeline.rowcheck`), which compiles its checks once and
    only needs the words; raises KeyError for an unknown kind.
    """
    return _violation(kind, **values).message


def is_utc_datetime(text: str) -> bool:
    """True for a date-time as our files write it: « 2016-06-30T09:00:00Z » (pipeline.workshop.format_datetime)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return value.tzinfo is not None and value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") == text


def _field(resource: str, name: str) -> dict[str, Any]:
    return _field_of(schemas.TABLE_SCHEMAS[resource], resource, name)  # keyed by the file: a test may swap it


def _is_date(text: str) -> bool:
    """« 2016-06-30 » and nothing else (Python also reads « 20160630 »)."""
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


@cache
def _field_of(path: object, resource: str, name: str) -> dict[str, Any]:
    return schemas.field(resource, name)


def check_cell(resource: str, name: str, text: str, *, characters: bool = True) -> Violation | None:
    """The first rule the cell `text` of column `name` breaks, or None: its schema's constraints, then `check_field`.

    `text` is the cell as a CSV holds it (the form's value once its spaces
    around are trimmed).  Keys (unique, foreign) are the table's, not the
    cell's: `reference_violation` words them.  `characters=False`
    leaves the characters to a caller that checks them itself (the form's
    textareas, line by line), so a length is said in the same round.
    """
    spec = _field(resource, name)
    constraints = spec.get("constraints", {})
    if text == "":
        return _violation("required") if constraints.get("required") else None
    kind = spec.get("type", "string")
    if kind == "string":
        found = check_field(resource, name, text) if characters else None
        if found is not None:
            return found
        if "maxLength" in constraints and len(text) > constraints["maxLength"]:
            return _violation("too_long", value=quote(text), count=len(text), limit=constraints["maxLength"])
        if "minLength" in constraints and len(text) < constraints["minLength"]:
            return _violation("too_short", value=quote(text), count=len(text), limit=constraints["minLength"])
        if "enum" in constraints and text not in constraints["enum"]:
            return _violation("enum", value=quote(text), allowed=described_values(resource, name))
        if "pattern" in constraints and not re.fullmatch(constraints["pattern"], text):
            return pattern_violation(text, constraints["pattern"])
    elif kind == "boolean":
        true_values, false_values = boolean_values(resource, name)
        if text not in true_values + false_values:
            return _violation("boolean", value=quote(text), allowed=either(true_values + false_values))
    elif kind == "datetime" and not is_utc_datetime(text):
        return _violation("datetime", value=quote(text), example=DATETIME_EXAMPLE)
    elif kind == "date" and not _is_date(text):
        return _violation("date", value=quote(text))
    elif kind == "integer" and not re.fullmatch(r"[+-]?[0-9]+", text):
        return _violation("integer", value=quote(text))
    elif kind == "integer":
        number = int(text)
        if "minimum" in constraints and number < constraints["minimum"]:
            return _violation("minimum", value=quote(text), limit=constraints["minimum"])
        if "maximum" in constraints and number > constraints["maximum"]:
            return _violation("maximum", value=quote(text), limit=constraints["maximum"])
    return None
