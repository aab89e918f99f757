"""A row checked against its table's schema before the store writes it: the Table Schemas compiled into checks.

Each resource's Table Schema (`schemas/*.json`) is compiled once per process
into a `Table`: for each field, how a Python value becomes cell text and the
checks its text must pass (types, constraints, the text rules of
pipeline.textrules), in French.  A schema key or a constraint this module
does not know raises NotImplementedError at compile time: a rule the store
did not enforce would be worse than a loud failure.  Used by `pipeline.store`
(and the journal's repair of a torn last row).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Callable, Mapping

from pipeline import schemas, tables, textrules
from pipeline.workshop import TABLE_FILES, AtelierError, format_datetime, parse_datetime

RESOURCES = tuple(TABLE_FILES)

# C0 controls but tab and line feed, DEL and C1 controls: invisible, never typed, and
# they break terminals, spreadsheets and the PDF.  Surrogates cannot be encoded in UTF-8.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?[0-9]+")


# Arrival order: a table whose rows are ordered among their siblings names the columns that make
# two rows siblings and the column that ranks them.  The index keeps each sibling group's last rank,
# so `append_rows(..., after_siblings=True)` puts what arrives after what is there without reading
# the table (README: « l'ordre d'arrivée »).
SIBLINGS = {"contributions": (("question", "phase", "group", "section", "parent"), "position")}


class StoreError(AtelierError):
    """A row was refused or could not be written; the message is a French sentence.

    `field`, `value` and `row` (1-based position in the batch, or the row's
    id for an update) say where, so a form can put the message beside its input.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        row: int | str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.row = row


class DuplicateKey(StoreError):
    """A row's id is already in the file: the batch (all or nothing) was written before."""


class _Refusal(Exception):
    """One cell is refused; the argument is the French reason."""


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    to_cell: Callable[[Any], str]  # Python value → cell text, or _Refusal
    checks: tuple[Callable[[str], str | None], ...]  # on a non-empty cell: the problem, or None
    multiline: bool | None  # a text column: may it span lines (pipeline.textrules); None for other types


@dataclass(frozen=True)
class Reference:
    field: str
    resource: str
    target: str  # the referenced field, always the primary key of `resource`


@dataclass(frozen=True)
class Table:
    resource: str
    file: str
    names: tuple[str, ...]
    fields: dict[str, Field]
    key: str
    references: tuple[Reference, ...]
    header: bytes
    order: tuple[tuple[int, ...], int] | None = None  # SIBLINGS as column indexes

    def cells(self, row: Mapping[str, Any], where: str, position: int | str) -> dict[str, str]:
        """Check one row given as Python values; return its cells in column order."""
        if not isinstance(row, Mapping):
            raise TypeError(f"a row is a mapping of field names to values, not {type(row).__name__}")
        for name in row:
            if name not in self.fields:
                raise StoreError(
                    f"{where}, champ {textrules.quote(name)} : champ inconnu ; les champs sont {', '.join(self.names)}.",
                    field=str(name),
                    value=row[name],
                    row=position,
                )
        return {name: self.cell(name, row.get(name), where, position) for name in self.names}

    def cell(self, name: str, value: Any, where: str, position: int | str) -> str:
        spec = self.fields[name]
        try:
            # "" is the schema's missing value whatever the type (an empty form input).
            text = "" if value is None or value == "" else spec.to_cell(value)
            if text:
                _check_characters(spec, text)
            if text == "":
                if spec.required:
                    raise _Refusal("valeur obligatoire manquante.")
            else:
                for check in spec.checks:
                    problem = check(text)
                    if problem:
                        raise _Refusal(problem)
        except _Refusal as refusal:
            raise StoreError(
                f"{where}, champ {textrules.quote(name)} : {refusal}", field=name, value=value, row=position
            ) from None
        return text

    def encode(self, rows: list[dict[str, str]]) -> bytes:
        return tables.encode_rows([row[name] for name in self.names] for row in rows)


def _check_characters(spec: Field, text: str) -> None:
    """The text rules of pipeline.textrules (the form's and `atelier validate`'s too), then UTF-8.

    Numbers, booleans and dates are written by `to_cell` from checked values:
    only text columns can hold what the rules forbid."""
    if spec.multiline is not None:
        violation = textrules.check_text(text, multiline=spec.multiline)
        if violation is not None:
            raise _Refusal(violation.message)
    found = _SURROGATE.search(text)
    if found:
        raise _Refusal(
            f"caractère invalide U+{ord(found.group()):04X} interdit (position {found.start() + 1}) dans {textrules.quote(text)}."
        )


def _string_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_cell(value: Any) -> str:
        if not isinstance(value, str):
            raise _Refusal(textrules.say("not_text", value=textrules.quote(value)))
        return value.replace("\r\n", "\n")  # see « CR LF » at the top of the module

    return to_cell, str


def _integer_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_cell(value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return str(int(value))
        raise _Refusal(textrules.say("integer", value=textrules.quote(value)))

    return to_cell, int


def _boolean_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    true_values = desc.get("trueValues", textrules.DEFAULT_TRUE)
    false_values = desc.get("falseValues", textrules.DEFAULT_FALSE)

    def to_cell(value: Any) -> str:
        if isinstance(value, bool):
            return true_values[0] if value else false_values[0]
        if isinstance(value, str) and value in true_values + false_values:
            return value
        raise _Refusal(textrules.say("boolean", value=textrules.quote(value), allowed=textrules.either(true_values + false_values)))

    return to_cell, lambda cell: cell in true_values


def _datetime_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    if desc.get("format", "default") != "default":
        raise NotImplementedError(f"datetime format {desc['format']!r} in field {desc['name']!r}")

    def to_cell(value: Any) -> str:
        if isinstance(value, dt.datetime):
            # Naive values are UTC, as in pipeline.workshop.parse_datetime.
            return format_datetime(value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc))
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                if format_datetime(parse_datetime(value)) == value:
                    return value
        raise _Refusal(textrules.say("datetime", value=textrules.quote(value), example=textrules.DATETIME_EXAMPLE))

    return to_cell, parse_datetime


def _date_type(desc: dict[str, Any]) -> tuple[Callable[[Any], str], Callable[[str], Any]]:
    def to_cell(value: Any) -> str:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                if dt.date.fromisoformat(value).isoformat() == value:
                    return value
        raise _Refusal(textrules.say("date", value=textrules.quote(value)))

    return to_cell, dt.date.fromisoformat


_TYPES = {
    "date": _date_type,
    "string": _string_type,
    "integer": _integer_type,
    "boolean": _boolean_type,
    "datetime": _datetime_type,
}
_FIELD_KEYS = {"name", "type", "title", "description", "constraints", "trueValues", "falseValues", "format"}
_SCHEMA_KEYS = {"title", "description", "fields", "missingValues", "primaryKey", "foreignKeys"}


def _constraint_checks(
    resource: str, desc: dict[str, Any], parse: Callable[[str], Any]
) -> tuple[bool, list[Callable[[str], str | None]]]:
    """Turn a field's constraints into checks on its cell text; refuse what we do not know."""
    constraints = dict(desc.get("constraints", {}))
    required = bool(constraints.pop("required", False))
    constraints.pop("unique", None)  # only on primary keys, which the store checks itself
    order = textrules.CONSTRAINT_ORDER  # the first problem named is the one the form and validate name
    ranked = sorted(constraints.items(), key=lambda c: order.index(c[0]) if c[0] in order else len(order))
    return required, [_constraint(resource, desc["name"], name, value, parse) for name, value in ranked]


def _constraint(
    resource: str, field: str, name: str, value: Any, parse: Callable[[str], Any]
) -> Callable[[str], str | None]:
    """One constraint of a Table Schema as a check: the cell's problem in French (textrules' words), or None."""

    def say(kind: str, cell: str, **values: object) -> str:
        return textrules.say(kind, value=textrules.quote(cell), **values)

    if name == "pattern":
        regex = re.compile(value)
        return lambda cell: None if regex.fullmatch(cell) else textrules.pattern_violation(cell, value).message
    if name == "minLength":
        return lambda cell: None if len(cell) >= value else say("too_short", cell, count=len(cell), limit=value)
    if name == "maxLength":
        return lambda cell: None if len(cell) <= value else say("too_long", cell, count=len(cell), limit=value)
    if name == "enum":
        allowed = [parse(v) if isinstance(v, str) else v for v in value]
        return lambda cell: (
            None if parse(cell) in allowed else say("enum", cell, allowed=textrules.described_values(resource, field))
        )
    limit = parse(value) if isinstance(value, str) else value
    if name == "minimum":
        return lambda cell: None if parse(cell) >= limit else say("minimum", cell, limit=value)
    if name == "maximum":
        return lambda cell: None if parse(cell) <= limit else say("maximum", cell, limit=value)
    if name == "exclusiveMinimum":
        return lambda cell: None if parse(cell) > limit else say("exclusive_minimum", cell, limit=value)
    if name == "exclusiveMaximum":
        return lambda cell: None if parse(cell) < limit else say("exclusive_maximum", cell, limit=value)
    # A rule the store does not know would silently not be enforced: fail loudly instead.
    raise NotImplementedError(f"constraint {name!r} of field {field!r}")


@cache
def table(resource: str) -> Table:
    """The compiled schema of a resource (once per process)."""
    schema = schemas.table_schema(resource)
    if set(schema) - _SCHEMA_KEYS:
        raise NotImplementedError(f"{resource} schema keys {sorted(set(schema) - _SCHEMA_KEYS)}")
    if schema.get("missingValues", [""]) != [""]:
        raise NotImplementedError(f"{resource} missingValues other than [\"\"]")
    key = schema["primaryKey"]
    key = key[0] if isinstance(key, list) and len(key) == 1 else key
    if not isinstance(key, str):
        raise NotImplementedError(f"{resource} composite primary key {key!r}")
    fields: dict[str, Field] = {}
    for desc in schema["fields"]:
        if set(desc) - _FIELD_KEYS or desc["type"] not in _TYPES:
            raise NotImplementedError(f"{resource}.{desc['name']}: {desc}")
        if desc.get("constraints", {}).get("unique") and desc["name"] != key:
            raise NotImplementedError(f"unique constraint on {resource}.{desc['name']}, not the primary key")
        to_cell, parse = _TYPES[desc["type"]](desc)
        required, checks = _constraint_checks(resource, desc, parse)
        text = desc["type"] == "string"
        multiline = (resource, desc["name"]) in textrules.MULTILINE_FIELDS if text else None
        fields[desc["name"]] = Field(desc["name"], required, to_cell, tuple(checks), multiline)
    references = []
    for fk in schema.get("foreignKeys", ()):
        source, target = fk["fields"], fk["reference"]["fields"]
        source = source[0] if isinstance(source, list) and len(source) == 1 else source
        target = target[0] if isinstance(target, list) and len(target) == 1 else target
        other = fk["reference"]["resource"] or resource
        if other not in TABLE_FILES or not isinstance(source, str) or target != _primary_key(other, resource, key):
            raise NotImplementedError(f"{resource} foreign key {fk}")
        references.append(Reference(source, other, target))
    names = tuple(fields)
    order = None
    if resource in SIBLINGS:
        columns, rank = SIBLINGS[resource]
        order = (tuple(names.index(c) for c in columns), names.index(rank))
    return Table(
        resource, TABLE_FILES[resource], names, fields, key, tuple(references), tables.encode_rows([names]), order
    )


def _primary_key(resource: str, current: str, current_key: str) -> str:
    if resource == current:
        return current_key
    key = schemas.table_schema(resource)["primaryKey"]
    return key[0] if isinstance(key, list) else key


def table_of(resource: str) -> Table:
    if resource not in TABLE_FILES:
        raise StoreError(f"ressource {textrules.quote(resource)} inconnue ; les ressources sont {', '.join(RESOURCES)}.")
    return table(resource)
