"""Where the project's schemas live, and the vocabulary they define."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
WORKSHOP_SCHEMA = SCHEMAS_DIR / "workshop.schema.json"
RELEASES_SCHEMA = SCHEMAS_DIR / "releases.schema.json"
TABLE_SCHEMAS = {
    "participants": SCHEMAS_DIR / "participants.schema.json",
    "contributions": SCHEMAS_DIR / "contributions.schema.json",
    "votes": SCHEMAS_DIR / "votes.schema.json",
    "actions": SCHEMAS_DIR / "actions.schema.json",
}

STATUSES = ("pending", "published", "hidden", "withdrawn")
MAX_DEPTH = 4  # idea › précision › sous-précision… the seed goes three deep


@cache
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def table_schema(name: str) -> dict[str, Any]:
    """Return the Frictionless Table Schema of resource `name` (a fresh copy)."""
    return json.loads(json.dumps(_load(TABLE_SCHEMAS[name])))


def workshop_schema() -> dict[str, Any]:
    """Return the JSON Schema of atelier.yaml (a fresh copy)."""
    return json.loads(json.dumps(_load(WORKSHOP_SCHEMA)))


def releases_schema() -> dict[str, Any]:
    """Return the JSON Schema of a report's releases.json (a fresh copy)."""
    return json.loads(json.dumps(_load(RELEASES_SCHEMA)))


def field(resource: str, name: str) -> dict[str, Any]:
    """Return the descriptor of one field of a table schema."""
    for f in _load(TABLE_SCHEMAS[resource])["fields"]:
        if f["name"] == name:
            return json.loads(json.dumps(f))
    raise KeyError(f"{resource}.{name}")


def field_names(resource: str) -> tuple[str, ...]:
    """Return the column order of a resource's CSV file."""
    return tuple(f["name"] for f in _load(TABLE_SCHEMAS[resource])["fields"])


@cache
def enum_labels(resource: str, name: str) -> dict[str, str]:
    """Each value of an enum field with the words a person reads, from the field's description.

    The schemas explain each value as « value (explanation) »: « published
    (publié) », « withdrawn (retiré par son auteur) »; a value without one is
    shown as it is.
    """
    found_field = field(resource, name)
    description = found_field.get("description", "")
    labels = {}
    for value in found_field["constraints"]["enum"]:
        found = re.search(rf"\b{re.escape(value)} \(([^)]*)\)", description)
        labels[value] = found.group(1) if found else value
    return labels


@cache
def role_labels() -> dict[str, str]:
    """Each « Qualité » value with the words a person reads (élu·e, agent ou chargé·e de mission…)."""
    return enum_labels("participants", "role")
