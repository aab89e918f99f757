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


def test_brainstorm_keeps_nesting_and_drops_unpublished(report):
    q1, q2 = report.brainstorm
    assert outline(q1.ideas) == [
        ("Le territoire est un espace d'acteurs et non un territoire « administratif »", None, []),
        ("Comment prendre appui sur cet espace afin d'« organiser » un système productif ?", None, [
            ("Le système productif est-il nécessairement un système de production économique ?", None, [
                ("Valeurs sociales, valeurs patrimoniales, identitaires", None, []),
            ]),
            ("Peut-on produire de la valeur ajoutée sociale ?", None, []),
        ]),
    ]
    assert [i.text for i in q2.ideas] == ["Un regard extérieur, un regard autre", "Des financements en plus"]


def test_subgroup_sheets(report):
    q1, q2 = report.subgroups
    assert q1.objective.startswith("Recueillir les pratiques")
    sg1, sg2 = q1.sheets
    # The hidden practice x2 takes its published child x2a with it.
    assert outline(sg1.practices) == [("Nièvre et Morvan, sur l'axe Paris-Lyon : productions locales intéressantes", None, [])]
    assert [i.text for i in sg1.drivers] == ["Partager le diagnostic et la nécessité du changement", "Des acteurs relais"]
    assert outline(sg2.reflections) == [
        ("Valoriser au maximum ce qui est sur le territoire", 1, [
            ("Co-produits", None, [("Création d'un nouveau produit alimentaire à base de raisins verts", None, [])]),
        ]),
        ("Création de monnaies locales", 2, []),
    ]
    assert sg2.practices == () and not sg2.is_empty
    [aside] = sg2.asides
    assert aside.link == "http://www.agrilocal63.fr/"
    [only] = q2.sheets
    assert only.number == 1 and [i.text for i in only.practices][0].startswith("Des dynamiques")


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
def test_target_text(target, text):
    assert target_text(target) == text


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
    assert (s.participants, s.ideas, s.subgroups) == (4, 4, 3)
    assert s.contributions == len(list(report.items())) == 21
    q1 = s.questions[0]
    assert (q1.ideas, q1.precisions) == (2, 3)
    assert [(g.group, g.practices, g.reflections, g.drivers, g.brakes) for g in q1.groups] == [(1, 1, 1, 2, 1), (2, 0, 2, 0, 1)]
    assert q1.targets == (("driver", 3, 5), ("brake", 3, 5))


def test_colophon_and_metadata_come_from_the_data(report):
    c, m = report.colophon, report.metadata
    last = dt.datetime(2016, 7, 5, 9, 0, tzinfo=dt.timezone.utc)  # x2 was hidden then
    assert (c.version, c.participants, c.contributions, c.last_change) == ("2", 4, 21, last)
    assert c.last_change_text == "5 juillet 2016 à 9 h 00 UTC"
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
