"""Every validation rule, with a broken fixture and the exact French message."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import contribution, participant, write_atelier
from pipeline.cli import main
from pipeline.validate import Problem, font_warnings, validate_atelier
from pipeline.french import fr

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)


def flat(problems: list[Problem], folder: Path) -> list[list[object]]:
    """[file name, line, field, message] — the folder prefix stripped for readability."""
    return [[Path(p.file).name, p.line, p.field, p.message] for p in problems]


def check(folder: Path) -> list[list[object]]:
    return flat(validate_atelier(folder, now=NOW), folder)


def test_valid_atelier_has_no_problem(make_atelier):
    folder = make_atelier(
        participants=[participant("p1"), participant("p2", listed="false")],
        contributions=[
            contribution("a", author="p1"),
            contribution("a1", parent="a", position=1),
            contribution("g", phase="sous-groupe", group=3, section="driver"),
            contribution("g1", phase="sous-groupe", group=3, section="driver", parent="g"),
            contribution("x", phase="sous-groupe", group=1, section="aside", link="https://example.org/"),
        ],
    )
    assert check(folder) == []


# (contribution overrides, expected [line, field, message]) — one rule each.
CONTRIBUTION_RULES = [
    (
        {"question": "q9"},
        [2, "question", "la question « q9 » n'existe pas dans atelier.yaml (questions : q1, q2)."],
    ),
    (
        {"group": 2},
        [2, "group", "« 2 » : le temps « brainstorming » se fait sans sous-groupe ; laissez ce champ vide."],
    ),
    (
        {"phase": "sous-groupe", "section": "driver"},
        [2, "group", "sous-groupe manquant pour un point du temps « sous-groupe » ; indiquez l'un de ceux de la question q1 : 1 (Sous-groupe 1), 2 (Sous-groupe 2), 3 (Sous-groupe 3)."],
    ),
    (
        {"phase": "sous-groupe", "group": 4, "section": "driver"},
        [2, "group", "« 4 » n'est pas un sous-groupe de la question q1 au temps « sous-groupe » ; sous-groupes possibles : 1 (Sous-groupe 1), 2 (Sous-groupe 2), 3 (Sous-groupe 3)."],
    ),
    (
        {"phase": "sous-groupe", "group": 1, "section": "idea"},
        [2, "section", "« idea » n'est pas une rubrique du temps « sous-groupe » ; rubriques possibles : practice (pratiques en cours / exemples), reflection (réflexions), driver (moteurs), brake (freins), aside (encadré)."],
    ),
    (
        {"section": "brake"},
        [2, "section", "« brake » n'est pas une rubrique du temps « brainstorming » ; rubriques possibles : idea (idée)."],
    ),
    (
        {"phase": "atelier"},
        [2, "phase", "le temps « atelier » n'existe pas dans atelier.yaml (temps : brainstorming, sous-groupe)."],
    ),
    (
        {"status": "publié"},
        [2, "status", "« publié » n'est pas une valeur permise\u202f; valeurs possibles\u202f: pending (en attente de modération), "
         "published (publié), hidden (masqué par l'animation), withdrawn (retiré par son auteur)."],
    ),
    ({"text": ""}, [2, "text", "valeur obligatoire manquante."]),
    ({"text": "x" * 2001}, [2, "text", f"« {'x' * 49}… » est trop long (2\u202f001 caractères, au plus 2\u202f000)."]),
    ({"position": 0}, [2, "position", "« 0 » est inférieur au minimum 1."]),
    ({"position": "premier"}, [2, "position", "« premier » n'est pas un nombre entier."]),
    (
        {"id": "a b"},
        [2, "id", "« a b » n'a pas le format attendu\u202f: lettres, chiffres, «\u00a0-\u00a0» et «\u00a0_\u00a0», sans espace (motif [A-Za-z0-9][A-Za-z0-9_-]*)."],
    ),
    ({"link": "javascript:alert(1)"}, [2, "link", "« javascript:alert(1) » n'est pas une adresse web http:// ou https://."]),
    (
        {"created_at": "30/06/2016"},
        [2, "created_at", "« 30/06/2016 » n'est pas une date et heure UTC au format 2016-06-30T09:00:00Z."],
    ),
    (
        {"created_at": "2026-12-25T10:00:00Z"},
        [2, "created_at", "2026-12-25T10:00:00Z est dans le futur ; vérifiez l'horloge ou la saisie."],
    ),
    (
        {"created_at": "2016-06-30T10:00:00Z"},
        [2, "created_at", "2016-06-30T10:00:00Z précède de plus d'un an l'atelier du 2026-11-20 ; vérifiez la date."],
    ),
    (
        {"updated_at": "2026-11-20T09:00:00Z"},
        [2, "updated_at", "2026-11-20T09:00:00Z précède la création du point (2026-11-20T10:00:00Z)."],
    ),
    (
        {"parent": "zz"},
        [2, "parent", "le point parent « zz » n'existe pas dans contributions.csv\u202f; indiquez l'identifiant d'un point existant ou laissez vide."],
    ),
    (
        {"author": "p9"},
        [2, "author", "le participant « p9 » n'existe pas dans participants.csv\u202f; indiquez l'identifiant d'un participant ou laissez vide."],
    ),
]


@pytest.mark.parametrize("override, expected", CONTRIBUTION_RULES, ids=[str(r[1][1]) + "-" + str(i) for i, r in enumerate(CONTRIBUTION_RULES)])
def test_contribution_rule(make_atelier, override, expected):
    folder = make_atelier(contributions=[contribution("a", **override)])
    assert check(folder) == [["contributions.csv", *expected]]


def test_duplicate_id_names_the_first_line(make_atelier):
    folder = make_atelier(contributions=[contribution("a"), contribution("b"), contribution("a", position=2)])
    assert check(folder) == [
        ["contributions.csv", 4, "id", "l'identifiant « a » est déjà utilisé ligne 2 ; chaque ligne a un identifiant unique."]
    ]


def test_line_numbers_follow_multiline_texts(make_atelier):
    folder = make_atelier(
        contributions=[contribution("a", text="première ligne\ndeuxième ligne\ntroisième"), contribution("b", group=1)]
    )
    assert check(folder) == [
        ["contributions.csv", 5, "group", "« 1 » : le temps « brainstorming » se fait sans sous-groupe ; laissez ce champ vide."]
    ]


def test_child_in_another_column(make_atelier):
    folder = make_atelier(
        contributions=[
            contribution("a"),
            contribution("b", phase="sous-groupe", group=1, section="driver", parent="a"),
        ]
    )
    assert check(folder) == [
        [
            "contributions.csv", 3, "parent",
            "le point parent « a » (ligne 2) est dans une autre colonne (q1, brainstorming, idée) que ce point "
            "(q1, sous-groupe, Sous-groupe 1, moteurs) ; un point s'emboîte dans un point de la même question, "
            "du même temps, du même groupe et de la même rubrique.",
        ]
    ]


def test_cycle_is_reported_once(make_atelier):
    folder = make_atelier(
        contributions=[contribution("a", parent="c"), contribution("b", parent="a"), contribution("c", parent="b")]
    )
    assert check(folder) == [
        ["contributions.csv", 2, "parent", "les points forment une boucle (a → c → b → a) ; un point ne peut pas descendre de lui-même."]
    ]


def test_self_parent_is_a_cycle(make_atelier):
    folder = make_atelier(contributions=[contribution("a", parent="a")])
    assert check(folder) == [
        ["contributions.csv", 2, "parent", "les points forment une boucle (a → a) ; un point ne peut pas descendre de lui-même."]
    ]


def test_depth_is_bounded(make_atelier):
    rows = [contribution("n0")] + [contribution(f"n{i}", parent=f"n{i - 1}") for i in range(1, 6)]
    folder = make_atelier(contributions=rows)
    assert check(folder) == [
        ["contributions.csv", 6, "parent", "ce point est au niveau 5 d'emboîtement ; 4 niveaux au plus sont permis."],
        ["contributions.csv", 7, "parent", "ce point est au niveau 6 d'emboîtement ; 4 niveaux au plus sont permis."],
    ]


def test_short_row_is_one_line(make_atelier):
    folder = make_atelier(contributions=[contribution("a")])
    path = folder / "contributions.csv"
    path.write_text(path.read_text(encoding="utf-8") + "b,q1,brainstorming\n", encoding="utf-8")
    assert check(folder) == [
        [
            "contributions.csv", 3, None,
            "la ligne a 3 colonnes au lieu de 14 : il manque « group », « section », « parent », « position », "
            "« number », « text », « link », « author », « created_at », « updated_at », « status » "
            "(une virgule manquante ou une ligne coupée ?).",
        ]
    ]


def test_participant_rules(make_atelier):
    folder = make_atelier(
        participants=[participant("p1", role="maire"), participant("p2", listed="oui"), participant("p3", name="")]
    )
    assert check(folder) == [
        # each role with what it means, and which true/false words normalize converts (findings of issue 12)
        ["participants.csv", 2, "role", "« maire » n'est pas une valeur permise\u202f; valeurs possibles\u202f: elu (élu·e), "
         "technicien (agent ou chargé·e de mission), chercheur (recherche, enseignement), associatif (association, réseau), "
         "entreprise (entreprise, agriculteur), habitant (habitant·e, citoyen·ne), animateur (équipe d'animation), autre."],
        ["participants.csv", 3, "listed", "« oui » n'est pas un booléen\u202f: écrivez true ou false\u202f; «\u00a0atelier normalize\u00a0» convertit VRAI, FAUX, oui, non, 1 et 0."],
        ["participants.csv", 4, "name", "valeur obligatoire manquante."],
    ]


def test_missing_table(make_atelier):
    folder = make_atelier()
    (folder / "participants.csv").unlink()
    assert check(folder) == [
        ["participants.csv", None, None, "fichier introuvable ; un fichier avec la seule ligne d'en-tête suffit."]
    ]


def test_outdated_datapackage(make_atelier):
    folder = make_atelier()
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"][1]["schema"]["fields"].pop()
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    assert check(folder) == [
        [
            "datapackage.json", None, None,
            f"la description de « contributions » n'est plus celle de schemas/contributions.schema.json "
            f"et des temps, rubriques et groupes d'atelier.yaml ; "
            f"régénérez-le avec « atelier datapackage {folder} ».",
        ]
    ]


WORKSHOP_RULES = [
    ({"status": "ouvert"}, [7, "status", "« ouvert » n'est pas une valeur permise ; valeurs possibles : open, closed."]),
    ({"date": "30 juin"}, [4, "date", "« 30 juin » n'a pas le format attendu ; écrivez la date sous la forme AAAA-MM-JJ, par exemple 2016-06-30."]),
    ({"date": "2016-02-30"}, [4, "date", "« 2016-02-30 » n'existe pas dans le calendrier ; vérifiez le jour et le mois (AAAA-MM-JJ)."]),
    ({"colour": "bleu"}, [37, None, "clé inconnue « colour » ; vérifiez l'orthographe (clés permises : platform, organisation, title, date, place, timezone, language, status, moderation, keywords, preamble, format, questions, terms, sessions, groups, phases)."]),
    ({"title": ""}, [3, "title", "ce texte ne peut pas être vide."]),
    ({"questions": []}, [9, "questions", "il faut au moins 1 élément."]),
]


@pytest.mark.parametrize("override, expected", WORKSHOP_RULES, ids=[str(r[1][1]) for r in WORKSHOP_RULES])
def test_workshop_rule(make_atelier, override, expected):
    folder = make_atelier(workshop=override)
    assert check(folder) == [["atelier.yaml", *expected]]


def test_workshop_missing_key_and_nested_path(make_atelier):
    folder = make_atelier()
    text = (folder / "atelier.yaml").read_text(encoding="utf-8").replace("  subgroups:\n    count: 2\n", "  subgroups: {}\n")
    (folder / "atelier.yaml").write_text(text, encoding="utf-8")
    assert check(folder) == [["atelier.yaml", 35, "questions[2].subgroups", "clé obligatoire manquante : « count »."]]


def test_duplicate_question_id_and_bad_target(make_atelier):
    folder = make_atelier()
    text = (folder / "atelier.yaml").read_text(encoding="utf-8")
    text = text.replace("- id: q2", "- id: q1").replace("min: 3\n        max: 5\n      - section: brake", "min: 6\n        max: 5\n      - section: brake")
    (folder / "atelier.yaml").write_text(text, encoding="utf-8")
    assert check(folder) == [
        ["atelier.yaml", 27, "questions[1].subgroups.times[2].targets[1]", "le minimum 6 dépasse le maximum 5."],
        ["atelier.yaml", 33, "questions[2].id", "l'identifiant « q1 » est déjà celui de la question 1 ; chaque question a son propre identifiant."],
    ]


def test_unreadable_yaml(make_atelier):
    folder = make_atelier()
    (folder / "atelier.yaml").write_text("title: [oups\n", encoding="utf-8")
    [problem] = check(folder)
    assert problem[:3] == ["atelier.yaml", 2, None]  # the line as a line: `--format github` annotates it
    assert problem[3].startswith("YAML illisible")


def test_cli_exit_codes_and_text(make_atelier):
    good = make_atelier("bon")
    bad = make_atelier("mauvais", contributions=[contribution("a", group=2)])
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(good)])
    assert (ok.exit_code, ok.output) == (0, fr(f"{good} : valide.\n"))
    ko = runner.invoke(main, ["validate", str(good), str(bad)])
    assert ko.exit_code == 1
    assert fr(f"{bad}/contributions.csv: ligne 2, champ « group » : « 2 » : le temps « brainstorming » se fait sans sous-groupe ; laissez ce champ vide.\n") in ko.output
    usage = runner.invoke(main, ["validate", str(good / "absent")])
    assert usage.exit_code == 2
    assert fr(f"le dossier « {good / 'absent'} » n'existe pas.") in usage.output


def test_cli_github_annotations(make_atelier):
    bad = make_atelier(contributions=[contribution("a", group=2)])
    result = CliRunner().invoke(main, ["validate", "--format", "github", str(bad)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (  # byte for byte: read by GitHub, not by a person
        f"::error file={bad}/contributions.csv,line=2,title=champ « group »::"
        "ligne 2 : « 2 » : le temps « brainstorming » se fait sans sous-groupe ; laissez ce champ vide."
    )


def test_github_annotations_are_escaped():
    problem = Problem("a,b:c.csv", 3, "text", "50 % de\nretour")
    assert problem.github() == "::error file=a%2Cb%3Ac.csv,line=3,title=champ « text »::ligne 3 : 50 %25 de%0Aretour"


def test_official_frictionless_cli_agrees(make_atelier):
    import subprocess
    import sys

    folder = make_atelier(participants=[participant("p1")], contributions=[contribution("a", author="p1")])
    frictionless = Path(sys.executable).parent / "frictionless"
    result = subprocess.run([str(frictionless), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    write_atelier(folder, contributions=[contribution("a", author="nobody")])
    result = subprocess.run([str(frictionless), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert result.returncode == 1


def test_a_character_no_project_font_draws_is_a_warning_not_an_error(make_atelier):
    folder = make_atelier(
        workshop={"place": "Tizi ⵣ"},
        contributions=[contribution("c1", text="Azul ⵣ 🌱 مرحبا שלום Ελλάδα ∑")],
    )
    assert [str(w) for w in font_warnings(folder)] == [
        f"{folder}/atelier.yaml: ligne 5, champ « place » : « ⵣ » (U+2D63, TIFINAGH LETTER YAZ) n'est dessiné par "
        "aucune police du projet ; le compte-rendu imprimera « [U+2D63] » à sa place.",
        f"{folder}/contributions.csv: ligne 2, champ « text » : « ⵣ » (U+2D63, TIFINAGH LETTER YAZ) n'est dessiné par "
        "aucune police du projet ; le compte-rendu imprimera « [U+2D63] » à sa place.",
    ]
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 0
    assert fr(f"{folder} : valide.") in result.output
    assert fr(f"Avertissement : {folder}/contributions.csv: ligne 2, champ « text » : « ⵣ »") in result.output
    github = CliRunner().invoke(main, ["validate", "--format", "github", str(folder)])
    assert github.exit_code == 0
    # GitHub's annotations are read by a machine: file name and text byte for byte, not typeset.
    assert f"::warning file={folder}/contributions.csv,line=2,title=champ « text »::ligne 2 : « ⵣ » (U+2D63" in github.output


# ---- The atelier's format (phases, rubrics, groups, sessions) -------------------------------

FORMAT = {
    "sessions": [{"id": "vendredi", "label": "Vendredi 23", "date": "2026-01-23"}, {"id": "dimanche", "label": "Dimanche 25", "date": "2026-01-25"}],
    "groups": [
        {"id": "mobilites", "label": "Mobilités", "session": "vendredi"},
        {"id": "habitat", "label": "Habitat", "session": "dimanche"},
    ],
    "phases": [
        {"id": "retours", "kind": "sheet", "title": "Retours", "session": "vendredi", "rubrics": [{"id": "retour", "label": "Retours"}]},
    ],
    "questions": [{"id": "q1", "title": "Le plan climat"}],
}


def format_problems(make_atelier, **changes):
    workshop = {**FORMAT, **changes}
    folder = make_atelier(workshop=workshop)
    return [[p.field, p.message] for p in validate_atelier(folder) if p.file.endswith("atelier.yaml")]


def test_a_well_formed_format_is_valid(make_atelier):
    assert format_problems(make_atelier) == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        (
            {"phases": [{"id": "vote", "kind": "vote", "title": "Vote", "rubrics": [{"id": "choix", "label": "Choix"}]}]},
            ["phases[1]", "clé obligatoire manquante : « vote »."],  # a vote says which points, how many gommettes
        ),
        (
            {"phases": [{"id": "x", "kind": "sheet", "title": "X", "session": "samedi", "rubrics": [{"id": "r", "label": "R"}]}]},
            ["phases[1].session", "la séance « samedi » n'est pas déclarée dans « sessions » (séances : vendredi, dimanche)."],
        ),
        (
            {"questions": [{"id": "q1", "title": "Q", "groups": ["mobilites", "energie"]}]},
            ["questions[1].groups[2]", "le groupe « energie » n'est pas déclaré dans « groups » (groupes : mobilites, habitat)."],
        ),
        (
            {"phases": [{"id": "x", "kind": "ideas", "title": "X", "rubrics": [{"id": "r", "label": "R"}, {"id": "r", "label": "S"}]}]},
            ["phases[1].rubrics[2].id", "la rubrique « r » figure deux fois dans ce temps."],
        ),
        (
            {"groups": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]},
            ["groups[2].id", "l'identifiant « a » est déjà celui du groupe 1 ; chaque groupe a son propre identifiant."],
        ),
    ],
)
def test_format_rule(make_atelier, changes, expected):
    assert format_problems(make_atelier, **changes) == [expected]


def test_a_group_of_another_session_is_not_offered(make_atelier):
    from pipeline.workshop import load_atelier

    w = load_atelier(make_atelier(workshop=FORMAT)).workshop
    [phase] = w.phases
    # Friday's phase works with Friday's groups: no phantom Sunday group.
    assert [g.id for g in w.groups_for(phase, w.questions[0])] == ["mobilites"]
    assert w.column_problem("q1", "retours", "habitat", "retour") == (
        "group",
        "« habitat » n'est pas un groupe de la question q1 au temps « retours » ; groupes possibles : mobilites (Mobilités).",
    )


def test_sessions_are_said_in_the_report_and_the_kit(make_atelier):
    from pipeline.compose import compose
    from pipeline.kit import compose_kit
    from pipeline.workshop import load_atelier

    sessions = [{**FORMAT["sessions"][0], "start": "18:00", "end": "21:30", "place": "Mairie"}, FORMAT["sessions"][1]]
    atelier = load_atelier(
        make_atelier(
            workshop={**FORMAT, "sessions": sessions},
            contributions=[contribution("a", phase="retours", group="mobilites", section="retour")],
        )
    )
    report = compose(atelier)
    friday = "Vendredi 23 — 23 janvier 2026, 18 h – 21 h 30, Mairie"
    assert report.setup.sessions == (friday, "Dimanche 25 — 25 janvier 2026")
    assert report.chapters[0].session == friday
    assert compose_kit(atelier.workshop).sessions == report.setup.sessions
