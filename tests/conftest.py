"""Shared fixtures: small atelier folders written under tmp_path."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from pipeline import schemas
from pipeline.workshop import write_datapackage

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "moulins-2016"

BASE_WORKSHOP: dict[str, Any] = {
    "platform": "Plateforme « Essais »",
    "organisation": "Réseau d’essai",
    "title": "Atelier d’essai",
    "date": "2026-11-20",
    "place": "Salle des fêtes de Saint-Essai",
    "language": "fr",
    "status": "open",
    "moderation": "post",
    "questions": [
        {
            "id": "q1",
            "title": "Le territoire peut-il devenir un système productif local ?",
            "prompts": ["Quels partenariats imaginer autrement ?"],
            "subgroups": {
                "count": 3,
                "objective": "Recueillir les pratiques puis identifier freins et moteurs.",
                "times": [
                    {"label": "Temps 1", "title": "État des lieux", "instructions": ["Rassembler toutes les idées"]},
                    {
                        "label": "Temps 2",
                        "title": "Comment faire autrement ?",
                        "instructions": ["identifier 3 à 5 éléments moteurs (par groupe)"],
                        "targets": [{"section": "driver", "min": 3, "max": 5}, {"section": "brake", "min": 3, "max": 5}],
                    },
                ],
            },
        },
        {"id": "q2", "title": "En quoi la recherche-action peut-elle aider ?", "subgroups": {"count": 2}},
    ],
}


def contribution(row_id: str, /, **fields: Any) -> dict[str, Any]:
    """A published brainstorming idea on q1, with `fields` overriding the defaults."""
    row: dict[str, Any] = {
        "id": row_id,
        "question": "q1",
        "phase": "brainstorming",
        "group": "",
        "section": "idea",
        "parent": "",
        "position": 1,
        "number": "",
        "text": f"Texte du point {row_id}",
        "link": "",
        "author": "",
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "",
        "status": "published",
    }
    row.update(fields)
    return row


def participant(row_id: str, /, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": row_id,
        "name": f"Personne {row_id}",
        "organisation": "Communauté de communes",
        "role": "technicien",
        "listed": "true",
        "created_at": "2026-11-20T09:00:00Z",
        "status": "present",
    }
    row.update(fields)
    return row


def write_table(path: Path, resource: str, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        names = schemas.field_names(resource)
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row.get(n) is None else row.get(n, "") for n in names])


def write_atelier(
    folder: Path,
    *,
    workshop: dict[str, Any] | None = None,
    participants: list[dict[str, Any]] | None = None,
    contributions: list[dict[str, Any]] | None = None,
) -> Path:
    """Write a complete atelier folder; `workshop` keys override BASE_WORKSHOP's."""
    folder.mkdir(parents=True, exist_ok=True)
    data = copy.deepcopy(BASE_WORKSHOP)
    data.update(workshop or {})
    (folder / "atelier.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_table(folder / "participants.csv", "participants", participants or [])
    write_table(folder / "contributions.csv", "contributions", contributions or [])
    write_datapackage(folder)
    return folder


@pytest.fixture
def make_atelier(tmp_path: Path) -> Callable[..., Path]:
    """make_atelier(name="essai-2026", workshop=…, participants=[…], contributions=[…]) → folder."""

    def make(name: str = "essai-2026", **kwargs: Any) -> Path:
        return write_atelier(tmp_path / name, **kwargs)

    return make
