"""Synthetic ateliers of any size, for benchmarks: valid data shaped like the example."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

from pipeline import schemas
from pipeline.workshop import write_datapackage

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "moulins-2016"
WORDS = (
    "territoire acteurs recherche action transition valeur projet réseau habitants "
    "collectivité ressources locales dynamique gouvernance partenariat innovation "
    "expérimentation financement ingénierie coopération économie sociale circuits courts"
).split()
SUBGROUP_SECTIONS = ("practice", "reflection", "driver", "brake")
MINIMAL_YAML = """\
title: Atelier synthétique
date: 2016-06-30
place: Banc d'essai
language: fr
status: closed
moderation: post
questions:
  - id: q1
    title: Première question ?
    subgroups: {count: 3}
  - id: q2
    title: Seconde question ?
    subgroups: {count: 2}
"""


def make_synthetic_atelier(folder: Path, contributions: int, *, participants: int = 0, seed: int = 2016) -> Path:
    """Write a valid atelier with `contributions` published points (q1: 3 groups, q2: 2)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    if (EXAMPLE / "atelier.yaml").exists():  # the example's rich preamble and questions
        shutil.copy(EXAMPLE / "atelier.yaml", folder / "atelier.yaml")
    else:
        (folder / "atelier.yaml").write_text(MINIMAL_YAML, encoding="utf-8")
    with (folder / "participants.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(schemas.field_names("participants"))
        for i in range(participants):
            w.writerow([f"p{i}", f"Personne {i}", "Structure", "autre", "true" if i % 2 else "false",
                        "2016-06-30T08:00:00Z", "present"])
    groups = {"q1": 3, "q2": 2}
    with (folder / "contributions.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(schemas.field_names("contributions"))
        last_top: dict[tuple, tuple[str, int]] = {}
        positions: dict[tuple, int] = {}
        for i in range(contributions):
            question = "q1" if i % 2 == 0 else "q2"
            if rng.random() < 0.3:
                phase, group, section = "brainstorming", "", "idea"
            else:
                phase, group, section = "sous-groupe", str(rng.randint(1, groups[question])), rng.choice(SUBGROUP_SECTIONS)
            column = (question, phase, group, section)
            parent = ""
            if column in last_top and rng.random() < 0.5:
                parent_id, depth = last_top[column]
                if depth < 2:
                    parent = parent_id
            key = column + (parent,)
            positions[key] = positions.get(key, 0) + 1
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30))).capitalize()
            cid = f"c{i:07d}"
            w.writerow([cid, question, phase, group, section, parent, positions[key], "", text, "", "",
                        "2016-06-30T12:00:00Z", "", "published"])
            if not parent:
                last_top[column] = (cid, 0)
            elif rng.random() < 0.3:
                last_top[column] = (cid, last_top[column][1] + 1)
    write_datapackage(folder)
    return folder
