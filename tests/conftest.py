"""Shared fixtures: small atelier folders written under tmp_path."""

from __future__ import annotations

import contextlib
import copy
import csv
import logging
from pathlib import Path
from typing import Any, Callable, Iterator

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


# ---- small_atelier: a little of everything the compte-rendu must handle -------------------

SMALL_WORKSHOP: dict[str, Any] = {
    "platform": "Plateforme « Dynamiques territoriales du Massif Central »",
    "organisation": "Plateforme Dynamiques territoriales du Massif Central",
    "title": "Animation des réunions de production d'idées et de projets",
    "date": "2016-06-30",
    "place": "Moulins-sur-Allier",
    "status": "closed",
    "keywords": ["développement territorial", "recherche-action"],
    "preamble": {
        "title": "Réflexions issues des débats de la rencontre du 14 avril",
        "paragraphs": [
            "Les appels à projet permettent d'« obtenir des financements exceptionnels pour dynamiser le territoire »."
        ],
        "points": ["Comment le territoire peut-il être un acteur de l'anticipation ? et à quelles conditions ?"],
    },
    "format": {
        "intro": "L'atelier s'est déroulé en 3 temps :",
        "steps": [
            "Un temps d'agitation d'idées autour des deux questions présentées ci-dessous.",
            "Un temps de travail collectif en sous-groupes de 5 à 8 personnes.",
            "Une synthèse collective autour d'un verre.",
        ],
    },
    "questions": [
        {
            "id": "q1",
            "title": "Le territoire peut-il et/ou doit-il devenir un « nouveau système productif local» ?",
            "prompts": ["Quelles organisations nouvelles faut-il mettre en place ?", "Quels partenariats imaginer autrement ?"],
            "subgroups": {
                "count": 2,
                "objective": "Recueillir les pratiques en cours puis identifier les conditions au changement.",
                "times": [
                    {
                        "label": "Temps 1",
                        "title": "Etat des lieux de vos pratiques",
                        "text": "Sur quels projets, actions, démarches… ?",
                        "instructions": ["Rassembler toutes les idées en essayant d'être le plus précis possible"],
                    },
                    {
                        "label": "Temps 2",
                        "title": "Comment faire autrement ?",
                        "targets": [{"section": "driver", "min": 3, "max": 5}, {"section": "brake", "min": 3, "max": 5}],
                    },
                ],
            },
        },
        {
            "id": "q2",
            "title": "En quoi la recherche-action peut devenir un appui aux transitions ?",
            "prompts": ["Comment soutenir des modèles innovants…?"],
            "subgroups": {"count": 1, "objective": "Identifier les sujets de recherche-action."},
        },
    ],
}

SMALL_PARTICIPANTS = [
    participant("p1", name="Camille Martin", organisation="Conseil départemental de l'Allier", created_at="2016-06-30T08:45:00Z"),
    participant("p2", name="Alix Bernard", organisation="Université Clermont Auvergne", role="chercheur", created_at="2016-06-30T08:46:00Z"),
    participant("p3", name="Dominique Discret", organisation="Commune discrète", role="elu", listed="false", created_at="2016-06-30T08:47:00Z"),
    participant("p4", name="Claude Retrait", organisation="Association partie", role="associatif", status="withdrawn", created_at="2016-06-30T08:48:00Z"),
    participant("p5", name="Sacha Anonyme", organisation="", role="habitant", listed="false", created_at="2016-06-30T08:49:00Z"),
]
UNNAMED_TEXTS = ("Dominique Discret", "Commune discrète", "Claude Retrait", "Association partie", "Sacha Anonyme")


def _small(row_id: str, question: str, phase: str, group: int | None, section: str, parent: str | None,
           position: int, text: str, **extra: Any) -> dict[str, Any]:
    minute = len(row_id) * 7 + position  # distinct, fixed timestamps
    return contribution(
        row_id, question=question, phase=phase, group=group or "", section=section, parent=parent or "",
        position=position, text=text, created_at=f"2016-06-30T10:{minute % 60:02d}:00Z", **extra,
    )


SMALL_CONTRIBUTIONS = [
    _small("b1", "q1", "brainstorming", None, "idea", None, 1, "Le territoire est un espace d'acteurs et non un territoire « administratif »"),
    _small("b2", "q1", "brainstorming", None, "idea", None, 2, "Comment prendre appui sur cet espace afin d'« organiser » un système productif ?", author="p1"),
    _small("b2a", "q1", "brainstorming", None, "idea", "b2", 1, "Le système productif est-il nécessairement un système de production économique ?"),
    _small("b2a1", "q1", "brainstorming", None, "idea", "b2a", 1, "Valeurs sociales, valeurs patrimoniales, identitaires", author="p4"),
    _small("b2b", "q1", "brainstorming", None, "idea", "b2", 2, "Peut-on produire de la valeur ajoutée sociale ?"),
    _small("b3", "q2", "brainstorming", None, "idea", None, 1, "Un regard extérieur, un regard autre"),
    _small("b4", "q2", "brainstorming", None, "idea", None, 2, "Des financements en plus", updated_at="2016-07-04T08:30:00Z"),
    _small("b4a", "q2", "brainstorming", None, "idea", "b4", 1, "La présence d'étudiants sur le territoire : appui à l'ingénierie « à coût faible »"),
    _small("s1", "q1", "sous-groupe", 1, "practice", None, 1, "Nièvre et Morvan, sur l'axe Paris-Lyon : productions locales intéressantes"),
    _small("s2", "q1", "sous-groupe", 1, "reflection", None, 1, "Evolution/adaptation"),
    _small("s2a", "q1", "sous-groupe", 1, "reflection", "s2", 1, "Production locale n'est pas synonyme de production de qualité"),
    _small("s3", "q1", "sous-groupe", 1, "driver", None, 1, "Partager le diagnostic et la nécessité du changement"),
    _small("s4", "q1", "sous-groupe", 1, "driver", None, 2, "Des acteurs relais"),
    _small("s5", "q1", "sous-groupe", 1, "brake", None, 1, "Inertie des organisations"),
    _small("s6", "q1", "sous-groupe", 2, "reflection", None, 1, "Valoriser au maximum ce qui est sur le territoire", number=1),
    _small("s6a", "q1", "sous-groupe", 2, "reflection", "s6", 1, "Co-produits"),
    _small("s6a1", "q1", "sous-groupe", 2, "reflection", "s6a", 1, "Création d'un nouveau produit alimentaire à base de raisins verts"),
    _small("s7", "q1", "sous-groupe", 2, "reflection", None, 2, "Création de monnaies locales", number=2),
    _small("s8", "q1", "sous-groupe", 2, "brake", None, 1, "Politiques publiques inadaptées"),
    _small("s9", "q1", "sous-groupe", 2, "aside", None, 1,
           "L'outil internet Agrilocal 63, mis en place par le Conseil Général du Puy de Dôme, "
           "permet aux producteurs locaux de répondre aux commandes des collèges.",
           link="http://www.agrilocal63.fr/"),
    _small("s10", "q2", "sous-groupe", 1, "practice", None, 1, "Des dynamiques de « transition » se mettent en place à l'échelle des citoyens"),
    # Points that must never reach the compte-rendu (each carries a word found nowhere else):
    _small("x1", "q1", "brainstorming", None, "idea", None, 3, "Idée en attente de modération zanzibar", status="pending"),
    _small("x2", "q1", "sous-groupe", 1, "practice", None, 2, "Point masqué par l'animation quetzalcoatl", status="hidden", updated_at="2016-07-05T09:00:00Z"),
    _small("x2a", "q1", "sous-groupe", 1, "practice", "x2", 1, "Précision publiée sous un point masqué ornithorynque"),
    _small("x3", "q2", "brainstorming", None, "idea", None, 3, "Idée retirée par son auteur wapiti", status="withdrawn"),
]
HIDDEN_WORDS = ("zanzibar", "quetzalcoatl", "ornithorynque", "wapiti")


@pytest.fixture
def small_atelier(make_atelier: Callable[..., Path]) -> Path:
    """A two-question atelier drawn from the 2016 seed: nested (three deep), numbered and aside
    points; pending, hidden and withdrawn points (and a published child of a hidden one);
    named, unnamed and withdrawn participants.  Its data last changed on 2016-07-05 09:00 UTC."""
    return make_atelier(
        "petit-atelier", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS, contributions=SMALL_CONTRIBUTIONS
    )


@contextlib.contextmanager
def weasyprint_warnings() -> Iterator[list[str]]:
    """Collect every warning WeasyPrint logs inside the block (PDF tests fail on any)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(f"{record.name}: {record.getMessage()}")

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
