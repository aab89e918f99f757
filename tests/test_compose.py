"""compose(): from a loaded atelier to the outline of its compte-rendu, published points only."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest

from conftest import HIDDEN_WORDS, UNNAMED_TEXTS
from pipeline.compose import Attendance, Attendee, compose, target_text
from pipeline.french import date_fr
from pipeline.published import UNNAMED
from pipeline.workshop import Target, load_atelier


@pytest.fixture
def report(small_atelier):
    return compose(load_atelier(small_atelier), version="2")


def outline(items):
    """(text, number, children) trees, to compare whole columns at once."""
    return [(i.text, i.number, outline(i.children)) for i in items]


def test_title_block(report):
    t = report.title
    assert (t.platform, t.date_text, t.place, t.kind, t.version) == (
        "Plateforme « Dynamiques territoriales du Massif Central »",
        "30 juin 2016",
        "Moulins-sur-Allier",
        "Compte-rendu",
        "2",
    )


@pytest.mark.parametrize(
    ("day", "text"),
    [(dt.date(2016, 6, 30), "30 juin 2016"), (dt.date(2017, 7, 1), "1er juillet 2017"), (dt.date(2020, 8, 15), "15 août 2020")],
)
def test_date_fr(day, text):
    assert date_fr(day) == text


def test_setup(report):
    s = report.setup
    assert s.questions_heading == "Les deux questions posées lors de cette rencontre"
    assert s.format_intro == "L'atelier s'est déroulé en 3 temps :"
    assert len(s.format_steps) == 3
    assert [(q.number, q.prompts) for q in s.questions] == [
        (1, ("Quelles organisations nouvelles faut-il mettre en place ?", "Quels partenariats imaginer autrement ?")),
        (2, ("Comment soutenir des modèles innovants…?",)),
    ]


def chapter(report, phase):
    (found,) = [c for c in report.chapters if c.phase == phase]
    return found


def columns(sheet):
    """{rubric: items} of a sheet, grid rows and encadrés together."""
    found = {c.rubric: c.items for row in sheet.rows for c in row.columns}
    found.update({c.rubric: c.items for c in sheet.boxes})
    return found


def test_one_chapter_per_phase_in_the_deroule_s_order(report):
    assert [(c.number, c.phase, c.kind, c.title) for c in report.chapters] == [
        (2, "brainstorming", "ideas", "Mise à plat des idées fortes : brainstorming"),
        (3, "sous-groupe", "sheet", "Travail en sous-groupes"),
    ]


def test_brainstorm_keeps_nesting_and_drops_unpublished(report):
    q1, q2 = chapter(report, "brainstorming").questions
    [ideas1], [ideas2] = q1.columns, q2.columns
    assert ideas1.label == "Idée"
    assert outline(ideas1.items) == [
        ("Le territoire est un espace d'acteurs et non un territoire « administratif »", None, []),
        ("Comment prendre appui sur cet espace afin d'« organiser » un système productif ?", None, [
            ("Le système productif est-il nécessairement un système de production économique ?", None, [
                ("Valeurs sociales, valeurs patrimoniales, identitaires", None, []),
            ]),
            ("Peut-on produire de la valeur ajoutée sociale ?", None, []),
        ]),
    ]
    assert [i.text for i in ideas2.items] == ["Un regard extérieur, un regard autre", "Des financements en plus"]


def test_subgroup_sheets(report):
    q1, q2 = chapter(report, "sous-groupe").questions
    assert q1.objective.startswith("Recueillir les pratiques")
    sg1, sg2 = q1.sheets
    assert (sg1.group, sg1.label) == ("1", "Sous-groupe 1")
    # The hidden practice x2 takes its published child x2a with it.
    assert outline(columns(sg1)["practice"]) == [("Nièvre et Morvan, sur l'axe Paris-Lyon : productions locales intéressantes", None, [])]
    assert [i.text for i in columns(sg1)["driver"]] == ["Partager le diagnostic et la nécessité du changement", "Des acteurs relais"]
    assert [(row.heading, [c.label for c in row.columns]) for row in sg1.rows] == [
        ("", ["Pratiques en cours / exemples", "Réflexions"]),
        ("Conditions au changement", ["Moteurs", "Freins"]),
    ]
    assert outline(columns(sg2)["reflection"]) == [
        ("Valoriser au maximum ce qui est sur le territoire", 1, [
            ("Co-produits", None, [("Création d'un nouveau produit alimentaire à base de raisins verts", None, [])]),
        ]),
        ("Création de monnaies locales", 2, []),
    ]
    # An empty rubric is left out, not printed empty: sous-groupe 2 has no practice, no moteur.
    assert [[c.rubric for c in row.columns] for row in sg2.rows] == [["reflection"], ["brake"]]
    [box] = sg2.boxes
    assert box.label == "Encadré" and box.items[0].link == "http://www.agrilocal63.fr/"
    [only] = q2.sheets
    assert only.group == "1" and [i.text for i in columns(only)["practice"]][0].startswith("Des dynamiques")


def test_nothing_unpublished_anywhere(report):
    texts = " ".join(item.text for item in report.items())
    for word in HIDDEN_WORDS:
        assert word not in texts


def test_annex_times_and_targets(report):
    q1_times = report.times[0]
    assert [(s.label, s.title) for s in q1_times.steps] == [
        ("Temps 1", "Etat des lieux de vos pratiques"),
        ("Temps 2", "Comment faire autrement ?"),
    ]
    assert q1_times.steps[1].targets == (
        "identifier 3 à 5 moteurs par sous-groupe",
        "identifier 3 à 5 freins par sous-groupe",
    )
    assert len(report.times) == 1  # q2 has no Temps to recall


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (Target("driver", 3, 5), "identifier 3 à 5 moteurs par sous-groupe"),
        (Target("brake", 1, 1), "identifier 1 frein par sous-groupe"),
        (Target("practice", 2, None), "identifier au moins 2 pratiques par sous-groupe"),
        (Target("reflection", None, 4), "identifier au plus 4 réflexions par sous-groupe"),
    ],
)
def test_target_text(report, small_atelier, target, text):
    assert target_text(target, load_atelier(small_atelier).workshop) == text


def test_attendance_names_the_consenting_and_counts_the_others(report):
    a = report.attendance
    assert a.listed == (
        # The qualité people gave, in the words of the participants schema (issue 13: it was dropped).
        Attendee("Alix Bernard", "Université Clermont Auvergne", "recherche, enseignement"),
        Attendee("Camille Martin", "Conseil départemental de l'Allier", "agent ou chargé·e de mission"),
    )
    assert (a.others, a.total, a.others_text) == (2, 4, "et 2 autres participants")


@pytest.mark.parametrize(
    ("listed", "others", "text"),
    [
        (1, 1, "et 1 autre participant"),
        (1, 12, "et 12 autres participants"),
        (0, 3, "3 participants, non nommés à leur demande."),
        (2, 0, ""),
    ],
)
def test_others_text(listed, others, text):
    assert Attendance(tuple(Attendee(f"P{i}", "") for i in range(listed)), others).others_text == text


def test_synthesis_counts(report):
    s = report.synthesis
    assert (s.participants, s.groups) == (4, 3)
    assert s.contributions == len(list(report.items())) == 21
    ideas, sheets = s.phases
    assert (ideas.phase, ideas.grouped, ideas.noun, ideas.total) == ("brainstorming", False, ("idée", "idées"), 8)
    # Nested points are counted at every level: (top-level, all) per question.
    assert [[(c.top, c.total) for c in row.counts] for _heading, rows in ideas.questions for row in rows] == [[(2, 5)], [(2, 3)]]
    q1_heading, q1_rows = sheets.questions[0]
    assert q1_heading.startswith("Question 1\u202f: ")
    assert [(row.label, [(c.rubric, c.top, c.total) for c in row.counts]) for row in q1_rows] == [
        ("Sous-groupe 1", [("practice", 1, 1), ("reflection", 1, 2), ("driver", 2, 2), ("brake", 1, 1)]),
        ("Sous-groupe 2", [("practice", 0, 0), ("reflection", 2, 4), ("driver", 0, 0), ("brake", 1, 1)]),
    ]
    assert [c.target for c in q1_rows[0].counts] == [None, None, (3, 5), (3, 5)]


def test_colophon_and_metadata_come_from_the_data(report):
    c, m = report.colophon, report.metadata
    last = dt.datetime(2016, 7, 5, 9, 0, tzinfo=dt.timezone.utc)  # x2 was hidden then
    assert (c.version, c.participants, c.contributions, c.last_change) == ("2", 4, 21, last)
    assert c.last_change_text == "5 juillet 2016 à 11 h 00"  # Paris time, the default timezone
    assert (m.created, m.modified) == (dt.datetime(2016, 6, 30, tzinfo=dt.timezone.utc), last)
    assert (m.author, m.lang, m.keywords) == (
        "Plateforme Dynamiques territoriales du Massif Central", "fr", ("développement territorial", "recherche-action"),
    )


def test_published_files_carry_only_what_the_report_shows(report, small_atelier):
    files = dict(report.files)
    assert list(files) == [
        "atelier.yaml", "datapackage.json", "participants.csv", "contributions.csv",
        "participants.schema.json", "contributions.schema.json", "workshop.schema.json",
    ]
    assert files["atelier.yaml"] == (small_atelier / "atelier.yaml").read_bytes()
    assert files["datapackage.json"] == (small_atelier / "datapackage.json").read_bytes()
    points = list(csv.DictReader(io.StringIO(files["contributions.csv"].decode())))
    assert {row["id"] for row in points} == {item.id for item in report.items()}
    assert {row["author"] for row in points} == {"", "p1"}  # p4 withdrew: b2a1 stays, anonymous
    people = list(csv.DictReader(io.StringIO(files["participants.csv"].decode())))
    assert [(p["id"], p["name"], p["organisation"]) for p in people] == [
        ("p1", "Camille Martin", "Conseil départemental de l'Allier"),
        ("p2", "Alix Bernard", "Université Clermont Auvergne"),
        ("p3", UNNAMED, ""),
        ("p5", UNNAMED, ""),
    ]
    everything = b"".join(files.values()).decode()
    for text in HIDDEN_WORDS + UNNAMED_TEXTS:
        assert text not in everything


def test_published_csv_equals_its_source_when_everything_is_published(make_atelier):
    from conftest import SMALL_CONTRIBUTIONS, SMALL_PARTICIPANTS, SMALL_WORKSHOP

    named = [p for p in SMALL_PARTICIPANTS if p["listed"] == "true" and p["status"] == "present"]
    ids = {p["id"] for p in named}
    shown = [
        {**c, "author": c["author"] if c["author"] in ids else ""}
        for c in SMALL_CONTRIBUTIONS
        if c["id"][0] != "x"
    ]
    folder = make_atelier("tout-publie", workshop=SMALL_WORKSHOP, participants=named, contributions=shown)
    files = dict(compose(load_atelier(folder)).files)
    for name in ("contributions.csv", "participants.csv"):
        assert files[name] == (folder / name).read_bytes()


def test_fingerprint_is_checkable_with_sha256sum(report):
    files = dict(report.files)
    listing = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n"
        for name in ("atelier.yaml", "contributions.csv", "participants.csv")
    )
    assert report.colophon.fingerprint == hashlib.sha256(listing.encode()).hexdigest()


def test_fingerprint_changes_with_a_published_point_only(make_atelier):
    from conftest import SMALL_CONTRIBUTIONS, SMALL_PARTICIPANTS, SMALL_WORKSHOP, contribution

    def fingerprint(extra):
        folder = make_atelier(f"f{len(extra)}-{extra[0]['status'] if extra else ''}", workshop=SMALL_WORKSHOP,
                              participants=SMALL_PARTICIPANTS, contributions=SMALL_CONTRIBUTIONS + extra)
        return compose(load_atelier(folder)).colophon.fingerprint

    base = fingerprint([])
    assert fingerprint([contribution("n1", position=9, status="pending")]) == base
    assert fingerprint([contribution("n1", position=9)]) != base
