"""The example atelier data/moulins-2016 holds the whole 2016 seed, each point in its place."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml
from frictionless import Package

from pipeline import schemas
from pipeline.validate import validate_atelier
from pipeline.workshop import Atelier, Contribution, datapackage, load_atelier

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "moulins-2016"
# The compte-rendu of 30 June 2016 as extracted from its PDF: the text we transcribe.
SEED = Path(__file__).resolve().parent / "fixtures" / "seed-moulins-2016.txt"
NBSP = "\u00a0"
AGRILOCAL = "http://www.agrilocal63.fr/"


@pytest.fixture(scope="module")
def atelier() -> Atelier:
    return load_atelier(EXAMPLE)


def plain(text: str) -> str:
    return text.replace(NBSP, " ")


def find(atelier: Atelier, start: str) -> Contribution:
    """The one contribution whose text starts with `start` (written with plain spaces)."""
    found = [c for c in atelier.contributions if plain(c.text).startswith(start)]
    assert len(found) == 1, f"{start!r}: {[c.id for c in found]}"
    return found[0]


def by_id(atelier: Atelier) -> dict[str, Contribution]:
    return {c.id: c for c in atelier.contributions}


def depth(atelier: Atelier, c: Contribution) -> int:
    ids = by_id(atelier)
    n = 0
    while c.parent:
        c, n = ids[c.parent], n + 1
    return n


# --- the files ------------------------------------------------------------------------


def test_the_example_is_valid() -> None:
    assert validate_atelier(EXAMPLE) == []
    assert Package(str(EXAMPLE / "datapackage.json")).validate().valid
    data = yaml.safe_load((EXAMPLE / "atelier.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(
        schemas.workshop_schema(), format_checker=jsonschema.FormatChecker()
    ).validate(data)


def test_datapackage_is_the_generated_one() -> None:
    on_disk = json.loads((EXAMPLE / "datapackage.json").read_text(encoding="utf-8"))
    assert on_disk == datapackage("moulins-2016", load_atelier(EXAMPLE).workshop)


def test_csv_files_are_written_by_the_csv_module() -> None:
    """UTF-8, LF endings, header in schema order, minimal quoting: re-serialising changes nothing."""
    for resource in ("participants", "contributions"):
        raw = (EXAMPLE / f"{resource}.csv").read_bytes()
        text = raw.decode("utf-8")
        assert "\r" not in text and not text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert tuple(rows[0]) == schemas.field_names(resource)
        again = io.StringIO()
        csv.writer(again, lineterminator="\n").writerows(rows)
        assert again.getvalue() == text


def test_nobody_is_invented(atelier: Atelier) -> None:
    # The seed lists no attendee ("En annexe mettre la liste des présents" was never done).
    assert atelier.participants == ()
    header = ",".join(schemas.field_names("participants")) + "\n"
    assert (EXAMPLE / "participants.csv").read_text(encoding="utf-8") == header


# --- atelier.yaml ---------------------------------------------------------------------

PROMPTS = [
    "L’attractivité d’un territoire ne doit-elle pas dépasser la recherche de « thématique spécifique », "
    "évoluer vers un nouveau mode de gouvernance et une mise en dynamique horizontale des "
    "« compétences locales » ?",
    "Existe-t-il un modèle social et économique qui dépasse une logique urbain/rural ? et/ou comment "
    "construire une nouvelle logique de développement qui dépasse cette dualisation /mise en tension "
    "urbain/rural ?",
    "Comment organiser le territoire dans une démarche stratégique qui permette l’émergence et/ou la mise "
    "en œuvre d’un nouveau système de développement ?",
    "Comment soutenir et créer les conditions pour accompagner des modèles innovants…?",
    "Quelles organisations nouvelles faut-il mettre en place ?",
    "Quels partenariats imaginer autrement ?",
    "…",
]


def test_workshop_header(atelier: Atelier) -> None:
    w = atelier.workshop
    assert plain(w.platform) == "Plateforme « Dynamiques territoriales du Massif Central »"
    assert w.organisation == w.platform
    assert w.title == "Animation des réunions de production d’idées et de projets"
    assert (w.date.isoformat(), w.place, w.language) == ("2016-06-30", "Moulins-sur-Allier", "fr")
    assert (w.status, w.moderation) == ("closed", "post")
    assert w.keywords
    assert w.preamble.title == (
        "Réflexions (issues des débats de la rencontre du 14 avril dernier / séminaire Territoires "
        "Appel à Projet sur la politique d’accueil)"
    )
    (paragraph,) = w.preamble.paragraphs
    assert plain(paragraph).startswith("Les appels à projet permettent d’« obtenir des financements")
    assert [p[:45] for p in w.preamble.points] == [
        "Comment le territoire peut-il être un acteur ",
        "Comment la ou les collectivités s’autorisent-",
    ]
    assert w.format.intro.report == "L’atelier s’est déroulé en 3 temps :"
    assert w.format.intro.kit == "L’atelier se déroulera en 3 temps :"  # the kit is printed before the day
    assert [s.report[:30] for s in w.format.steps] == [
        "Un temps d’agitation d’idées a",
        "La rencontre s’est ensuite org",
        "Enfin une synthèse collective ",
    ]


def test_questions_and_all_their_prompts(atelier: Atelier) -> None:
    q1, q2 = atelier.workshop.questions
    assert (q1.id, plain(q1.title)) == (
        "q1", "Le territoire peut-il et/ou doit-il devenir un « nouveau système productif local » ?"
    )
    assert (q2.id, q2.title) == (
        "q2",
        "En quoi la recherche-action peut devenir un appui aux transitions / mutations "
        "socio-économiques en cours sur les territoires ruraux ?",
    )
    # The seed prints Q1's prompts again under Q2: kept as printed.
    assert [plain(p) for p in q1.prompts] == PROMPTS
    assert [plain(p) for p in q2.prompts] == PROMPTS
    assert (q1.groups, q2.groups) == (("1", "2", "3"), ("1", "2"))
    assert q1.objective.report.startswith("L’objectif était, en petits groupes de 4/5 personnes d’effectuer")
    assert q2.objective.report.startswith("L’objectif était, en petits groupes de 5 à 7 personnes d’effectuer")
    assert q1.objective.report.endswith("en termes de freins et de moteurs")
    assert q1.objective.kit.startswith("L’objectif est, en petits groupes de 4/5 personnes, d’effectuer")


def test_both_times_of_both_questions(atelier: Atelier) -> None:
    q1, q2 = atelier.workshop.questions
    steps = {
        q.id: [(t.label, t.title, t.instructions, [(x.section, x.min, x.max) for x in t.targets]) for t in q.times]
        for q in (q1, q2)
    }
    gather = ("Rassembler toutes les idées en essayant d’être le plus précis possible",)
    assert steps == {
        "q1": [
            ("Temps 1", "État des lieux de vos pratiques", gather, []),
            (
                "Temps 2",
                "Comment faire autrement ?",
                ("identifier 3 à 5 éléments moteurs (par groupe)", "identifier 3 à 5 freins (par groupe)"),
                [("driver", 3, 5), ("brake", 3, 5)],
            ),
        ],
        "q2": [
            ("Temps 1", "État des lieux de vos pratiques", gather, []),
            (
                "Temps 2",
                "La recherche-action et votre territoire pour faire autrement",
                (
                    "identifier toutes les idées (par groupe)",
                    "identifier 3 à 5 freins selon vous à ce partenariat recherche-territoire "
                    "aujourd’hui (par groupe)",
                ),
                [("brake", 3, 5)],
            ),
        ],
    }
    # A Temps' question reads the same before and after the day: one text serves the kit and the report.
    assert all(t.text.kit == t.text.report for q in (q1, q2) for t in q.times)
    assert plain(q1.times[0].text.report).startswith("Est-ce que vous avez le sentiment que votre territoire")
    assert q1.times[1].text.report == (
        "Quelles conditions réunir pour être dans cette dynamique de changement et soutenir ces transitions ?"
    )
    assert q2.times[0].text.report.endswith("pour impulser cette dynamique de changement et soutenir ces transitions ?")
    assert q2.times[1].text.report == (
        "Sur quels sujets ? et/ou pour quels projets ? et/ou pour quels besoins actuels et/ou en devenir ?"
    )


# --- contributions.csv: how many points, where ---------------------------------------

# Counted by reading the seed, not the CSV: • / Ü / » / numbered / « - » items and the
# free-text paragraphs, without the sub-headings « Les moteurs au changement » and
# « Les freins ».  Columns of section 3 as decided in the commit that added them.
COLUMN_COUNTS = {
    ("q1", "brainstorming", None, "idea"): 15,  # 6 • + 9 Ü
    ("q2", "brainstorming", None, "idea"): 39,  # 11 • + 28 Ü (incl. « Produire… », « Aboutir… »)
    ("q1", "sous-groupe", "1", "practice"): 2,  # Pyrénées, Nièvre et Morvan
    ("q1", "sous-groupe", "1", "reflection"): 6,  # Évolution/adaptation + 3 Ü, Pourquoi… + 1 Ü
    ("q1", "sous-groupe", "1", "driver"): 5,
    ("q1", "sous-groupe", "1", "brake"): 5,
    ("q1", "sous-groupe", "2", "practice"): 14,  # • + 1. (2 Ü, 6 », 2 •) + 2. (1 Ü)
    ("q1", "sous-groupe", "2", "driver"): 4,
    ("q1", "sous-groupe", "2", "brake"): 4,
    ("q1", "sous-groupe", "2", "aside"): 1,  # the Agrilocal 63 box
    ("q1", "sous-groupe", "3", "reflection"): 10,  # 4 • + 6 Ü
    ("q1", "sous-groupe", "3", "driver"): 5,
    ("q1", "sous-groupe", "3", "brake"): 4,
    ("q2", "sous-groupe", "1", "practice"): 3,  # Ü 1–3 of the list
    ("q2", "sous-groupe", "1", "reflection"): 4,  # Ü 4–7
    ("q2", "sous-groupe", "2", "practice"): 4,  # the four themes
    ("q2", "sous-groupe", "2", "driver"): 2,  # « La présence d’acteurs… », « De « rentrer »… »
    ("q2", "sous-groupe", "2", "brake"): 4,  # « Les risques et freins à lever : » + 3 « - »
}

# Points per nesting depth (0 = top level) in each column.
DEPTHS = {
    ("q1", "brainstorming", None, "idea"): [6, 9],
    ("q2", "brainstorming", None, "idea"): [11, 28],
    ("q1", "sous-groupe", "1", "reflection"): [2, 4],
    ("q1", "sous-groupe", "2", "practice"): [3, 3, 6, 2],
    ("q1", "sous-groupe", "3", "reflection"): [4, 6],
    ("q2", "sous-groupe", "2", "brake"): [1, 3],
}


def test_points_per_column(atelier: Atelier) -> None:
    counts = Counter((c.question, c.phase, c.group, c.section) for c in atelier.contributions)
    assert dict(counts) == COLUMN_COUNTS
    assert len(atelier.contributions) == 131


def test_points_per_depth(atelier: Atelier) -> None:
    walked = 0
    for (question, phase, group, section), total in COLUMN_COUNTS.items():
        per_depth: Counter[int] = Counter()
        for top in atelier.points(question, phase, section, group):
            for d, _ in top.walk():
                per_depth[d] += 1
        assert [per_depth[d] for d in range(len(per_depth))] == DEPTHS.get(
            (question, phase, group, section), [total]
        ), (question, phase, group, section)
        walked += sum(per_depth.values())
    assert walked == 131  # every row hangs in a tree of its own column


def test_ids_positions_and_fixed_fields(atelier: Atelier) -> None:
    ids = by_id(atelier)
    siblings: dict[tuple, list[int]] = {}
    for c in atelier.contributions:
        assert re.fullmatch(r"q[12]-(bs|g[1-3]-(practice|reflection|driver|brake|aside))-\d\d(-\d+)*", c.id), c.id
        if c.parent:
            assert c.id == f"{c.parent}-{c.position}"
            assert (ids[c.parent].section, ids[c.parent].group) == (c.section, c.group)
        else:
            assert c.id.endswith(f"-{c.position:02d}")
        siblings.setdefault((c.question, c.phase, c.group, c.section, c.parent), []).append(c.position)
        assert c.group is None if c.phase == "brainstorming" else c.group is not None
        assert c.created_at.isoformat() == "2016-06-30T12:00:00+00:00"
        assert (c.updated_at, c.status, c.author) == (None, "published", None)
        assert c.link is None or c.section == "aside"
    for positions in siblings.values():
        assert sorted(positions) == list(range(1, len(positions) + 1))


def test_typography(atelier: Atelier) -> None:
    for c in atelier.contributions:
        assert "'" not in c.text and "  " not in c.text and c.text == c.text.strip(), c.id
        assert not re.search(f"«(?!{NBSP})|(?<!{NBSP})»", c.text), c.id


SPOTS = [
    # (start of the text, question, group, section, start of the parent's text)
    ("Le territoire est un espace d’acteurs", "q1", None, "idea", None),
    ("D’élargir le « cercle des acteurs locaux »", "q1", None, "idea", "Proposer aux territoires de travailler"),
    ("la recherche-action peut être un appui pour aider", "q1", None, "idea", "Proposer aux territoires"),
    ("Permettre l’émergence d’autres systèmes productifs", "q1", None, "idea", None),
    ("Un regard extérieur, un regard autre", "q2", None, "idea", None),
    ("Produire, s’engager, se positionner…", "q2", None, "idea", "En croisant recherche et action"),
    ("Aboutir à des actions concrètes", "q2", None, "idea", "En croisant recherche et action"),
    ("Appropriation par les acteurs (la recherche-action", "q2", None, "idea", "En facilitant une mise"),
    ("Ouverture vers de nouveaux réseaux, comme rapprochement", "q2", None, "idea", "Soutenir l’expérimentation"),
    ("Une démarche qui doit profiter aux « deux » parties", "q2", None, "idea", None),
    ("Le Massif des Pyrénées", "q1", "1", "practice", None),
    ("Nièvre et Morvan", "q1", "1", "practice", None),
    ("Production locale n’est pas synonyme", "q1", "1", "reflection", "Évolution/adaptation"),
    ("Diagnostic nécessaire", "q1", "1", "reflection", "Pourquoi faire autrement ?"),
    ("Co-construction du « vivre ensemble »", "q1", "1", "driver", None),
    ("Des acteurs relais", "q1", "1", "driver", None),
    ("Inertie des organisations", "q1", "1", "brake", None),
    ("Les territoires ne sont déjà pas", "q1", "2", "practice", None),
    ("Co-produits", "q1", "2", "practice", "Valoriser au maximum"),
    ("Création en proximité immédiate d’une scierie", "q1", "2", "practice", "Co-produits"),
    ("PSDR Grand Clermont-Ferrand", "q1", "2", "practice", "Aliments"),
    ("Auvergne BIO distribution", "q1", "2", "practice", "Plateformes :"),
    ("Agrilocal.fr", "q1", "2", "practice", "Plateformes :"),
    ("Vente directe par les agriculteurs", "q1", "2", "practice", "Aliments"),
    ("Exemple du Doume dans le Puy de Dôme : ADML63.org", "q1", "2", "practice", "Création de monnaies"),
    ("Transfert de ces initiatives", "q1", "2", "driver", None),
    ("Décloisonnement des acteurs", "q1", "2", "driver", None),
    ("Politiques publiques inadaptées", "q1", "2", "brake", None),
    ("Acteurs opérationnels", "q1", "3", "reflection", None),
    ("Observatoire", "q1", "3", "reflection", "Valorisation des ressources locales"),
    ("Réseau d’acteurs", "q1", "3", "reflection", "Dimension collaborative"),
    ("Capacité à changer : « le changement c’est maintenant »…", "q1", "3", "driver", None),
    ("Les politiques = clivages partisans", "q1", "3", "brake", None),
    ("Insuffisance de l’ingénierie", "q1", "3", "brake", None),
    ("Dans un contexte de regroupement de communes", "q2", "1", "practice", None),
    ("Les questions qui sont portées comme cœur", "q2", "1", "practice", None),
    ("Les questions concernant les transitions", "q2", "1", "reflection", None),
    ("La présence de chercheurs comme acteurs", "q2", "1", "reflection", None),
    ("Des thèmes de « recherche-action »", "q2", "2", "practice", None),
    ("Financements innovants", "q2", "2", "practice", None),
    ("La présence d’acteurs de la recherche", "q2", "2", "driver", None),
    ("De « rentrer » en co-construction", "q2", "2", "driver", None),
    ("Tension entre sujet du chercheur", "q2", "2", "brake", "Les risques et freins à lever :"),
    ("Un appui pour lever les difficultés", "q2", "2", "brake", "Les risques et freins à lever :"),
]


@pytest.mark.parametrize(("start", "question", "group", "section", "parent"), SPOTS)
def test_point_in_its_place(atelier: Atelier, start, question, group, section, parent) -> None:
    c = find(atelier, start)
    phase = "brainstorming" if group is None else "sous-groupe"
    assert (c.question, c.phase, c.group, c.section) == (question, phase, group, section)
    if parent is None:
        assert c.parent is None
    else:
        assert c.parent == find(atelier, parent).id


def test_sentence_cut_by_the_page_break_is_rejoined(atelier: Atelier) -> None:
    c = find(atelier, "D’élargir le « cercle")
    assert plain(c.text).endswith("acteurs économiques du territoire mais aussi impliqués sur le territoire ;")
    assert not any(plain(x.text).startswith("du territoire mais aussi") for x in atelier.contributions)


def test_column_sub_headings_are_not_points(atelier: Atelier) -> None:
    texts = {c.text for c in atelier.contributions}
    assert not texts & {"Les moteurs au changement", "Les freins"}


def test_agrilocal_box(atelier: Atelier) -> None:
    (aside,) = [c for c in atelier.contributions if c.section == "aside"]
    assert (aside.question, aside.group, aside.parent, aside.link) == ("q1", "2", None, AGRILOCAL)
    assert aside.text == (
        "L’outil internet Agrilocal 63, mis en place par le Conseil Général du Puy de Dôme, permet aux "
        "producteurs locaux de répondre plus facilement aux commandes des restaurants, des collèges et "
        "des maisons de retraite"
    )
    assert [c.id for c in atelier.contributions if c.link] == [aside.id]


def test_numbered_points(atelier: Atelier) -> None:
    numbered = [(c.number, c.text, c.section, c.group, c.parent) for c in atelier.contributions if c.number]
    assert numbered == [
        (1, "Valoriser au maximum ce qui est sur le territoire", "practice", "2", None),
        (2, "Création de monnaies locales", "practice", "2", None),
    ]


# --- nothing dropped, nothing invented ---------------------------------------------

# Typos fixed in the transcription (seed text → ours); the commit messages list them.
SEED_FIXES = {
    "inadpatées": "inadaptées",
    "clivages partisanes": "clivages partisans",
    "comme rapproche entreprises": "comme rapprochement entreprises",
    "«recherche – action»": "«recherche-action»",
    "hors champs ...": "hors champs...",
}
# Seed paragraphs without a bullet that are points nonetheless (section 3.2 sous-groupe 2, the box).
FREE_TEXT_POINTS = [
    "La présence d’acteurs de la recherche peut",
    "De « rentrer » en co-construction, en dialogue au",
    "Les risques et freins à lever :",
    "L’outil internet Agrilocal 63",
]
MARKED = re.compile(r"\s*(?:[•Ü»]|-(?= )|\d+\.(?=\s))\s*(.*\S)")


def normal(text: str, *, seed: bool = False) -> str:
    """Compare texts across PDF line breaks, spacing around « » and accents on capitals."""
    text = unicodedata.normalize("NFKC", text)  # U+00A0 → space, … → ...
    text = re.sub(r"-[ \t]*\n\s*", "-", text)  # the seed's line-end hyphens are real hyphens
    text = re.sub(r"\s+", " ", text).replace("'", "’")
    text = re.sub(r"«\s*", "«", re.sub(r"\s*»", "»", text)).replace("’ «", "’«")
    if seed:
        for old, new in SEED_FIXES.items():
            text = text.replace(unicodedata.normalize("NFKC", old), unicodedata.normalize("NFKC", new))
    text = unicodedata.normalize("NFD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).strip()


def seed_points() -> list[str]:
    """The first line of every point of sections 2 and 3 of the seed."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("2  Mise à plat"))
    end = next(i for i, line in enumerate(lines) if line.strip().startswith("4  ANNEXES"))
    points = []
    for line in lines[start:end]:
        m = MARKED.match(line)
        if m and m.group(1) not in ("Les moteurs au changement", "Les freins"):
            if not m.group(1).startswith("L’objectif était"):  # in atelier.yaml, not a point
                points.append(m.group(1))
        elif any(line.strip().startswith(free) for free in FREE_TEXT_POINTS):
            points.append(line.strip())
    return points


def test_every_point_of_the_seed_is_a_contribution(atelier: Atelier) -> None:
    """Each seed point's first 25 characters open a contribution of its own: none dropped, none added."""
    points = seed_points()
    assert len(points) == 131  # 127 marked lines + 4 free-text paragraphs
    unused = {c.id: normal(c.text) for c in atelier.contributions}
    # Longest prefixes first, so that a short one cannot take the point a longer one needs.
    for prefix in sorted((normal(p, seed=True)[:25] for p in points), key=len, reverse=True):
        match = next((cid for cid, text in unused.items() if text.startswith(prefix)), None)
        assert match is not None, f"point du compte-rendu absent : {prefix!r}"
        del unused[match]
    assert unused == {}


def test_every_contribution_is_worded_as_in_the_seed(atelier: Atelier) -> None:
    seed = normal(SEED.read_text(encoding="utf-8"), seed=True)
    for c in atelier.contributions:
        text = c.text.replace("Agrilocal 63,", f"Agrilocal 63 {AGRILOCAL},") if c.link else c.text
        if c.id == "q1-bs-05-1":  # cut by the page break: both halves are in the seed
            head, tail = text.split(" du territoire mais aussi")
            assert normal(head) in seed and normal("du territoire mais aussi" + tail) in seed
            continue
        assert normal(text) in seed, c.id


def test_normal_sees_a_changed_word() -> None:
    """The comparison must not be so loose that a wrong transcription passes."""
    seed = normal(SEED.read_text(encoding="utf-8"), seed=True)
    assert normal("Inertie des organisations") in seed
    assert normal("Inertie des institutions") not in seed
    assert normal("Politiques publiques inadaptées") in seed
    assert normal("Politiques publiques inadpatées") not in seed
