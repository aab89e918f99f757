"""`atelier review`: the French summary of a data change, for reviewers of a pull request."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from conftest import contribution, participant, write_atelier
from gitrepo import commit_all, git, init_repo
from pipeline import review as reviewing
from pipeline.cli import main
from pipeline.markdown import WJ, md
from pipeline.privacy import personal_data

NB = "\u202f"  # espace fine insécable
NBSP = "\u00a0"  # espace insécable, inside « » (pipeline.french)
SLUG = "essai-2026"

BASE_POINTS = [
    contribution("c1", position=1, text="Mutualiser les moyens entre communes"),
    contribution("c2", position=2, text="Créer un tiers-lieu dans l'ancienne gare"),
    contribution("c3", position=3, text="Un point qui sera masqué par l'animation"),
    contribution("c4", position=4, text="Associer les habitants dès le diagnostic"),
    contribution(
        "c5", question="q1", phase="sous-groupe", group=2, section="driver", position=1,
        text="Des élus qui portent le projet",
    ),
]
NEW_TEXTS = [
    ("q1", "brainstorming", "", "idea", "Un guichet unique pour les porteurs de projet"),
    ("q1", "brainstorming", "", "idea", "S'appuyer sur les associations de parents d'élèves"),
    ("q1", "brainstorming", "", "idea", "Ouvrir les cantines aux producteurs locaux"),
    ("q1", "sous-groupe", "2", "driver", "Une ingénierie partagée à l'échelle du pays"),
    ("q1", "sous-groupe", "2", "brake", "Le manque de temps des élus"),
    ("q1", "sous-groupe", "2", "brake", "Des financements trop cloisonnés"),
    ("q2", "brainstorming", "", "idea", "La recherche-action donne du recul aux acteurs"),
    ("q2", "brainstorming", "", "idea", "Des chercheurs en résidence dans les communes"),
    ("q2", "sous-groupe", "1", "practice", "Le laboratoire rural de Saint-Essai"),
    ("q2", "sous-groupe", "1", "reflection", "Qui finance le temps des chercheurs ?"),
]


def new_points() -> list[dict]:
    return [
        contribution(
            f"n{i}", question=q, phase=phase, group=group, section=section, position=10 + i, text=text,
            created_at="2026-11-20T15:30:00Z",
        )
        for i, (q, phase, group, section, text) in enumerate(NEW_TEXTS, 1)
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main holds a small atelier, checked out on a branch that changes it."""
    repo = init_repo(tmp_path / "depot")
    write_atelier(repo / "data" / SLUG, participants=[participant("p1", name="Jeanne Martin")], contributions=BASE_POINTS)
    commit_all(repo, "Atelier d'essai")
    git(repo, "checkout", "--quiet", "-b", "donnees-formulaire")
    return repo


def change_data(repo: Path, **overrides) -> None:
    points = [dict(p) for p in BASE_POINTS]
    points[0]["text"] = "Mutualiser les moyens humains entre communes voisines"
    points[0]["updated_at"] = "2026-11-20T16:00:00Z"
    points[1]["text"] = "Créer un tiers-lieu dans l'ancienne gare SNCF"
    points[2]["status"] = "hidden"
    people = [
        participant("p1", name="Jeanne Martin"),
        participant("p2", name="Marie Curie", organisation="Laboratoire des territoires"),
        participant("p3", name="Personne Secrète", listed="false"),
        participant("p4", name="Autre Discrète", listed="false"),
    ]
    write_atelier(
        repo / "data" / SLUG,
        workshop=overrides.get("workshop", {"status": "closed"}),
        participants=overrides.get("participants", people),
        contributions=overrides.get("contributions", points + new_points()),
    )


def run_review(repo: Path, monkeypatch, *args: str):
    monkeypatch.chdir(repo)
    return CliRunner().invoke(main, ["review", "--base", "main", *args])


def test_ten_points_added_and_two_corrected(repo, monkeypatch):
    change_data(repo)
    commit_all(repo, "Données du formulaire")
    result = run_review(repo, monkeypatch)
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("<!-- atelier-review -->\n# Revue des données des ateliers\n")
    lines = text.splitlines()
    for expected in [
        f"## {SLUG} — Atelier d’essai",
        f"✅ **Validation{NB}:** les données proposées sont valides.",
        f"**En bref{NB}:** 10 points ajoutés, 2 corrigés, 1 masqué, 3 émargements, atelier.yaml modifié.",
        f"- `status`{NB}: open → closed",
        f"- 1 personne ajoutée à la liste des présents{NB}: Marie Curie (Laboratoire des territoires)",
        "- 2 personnes sans consentement à être nommées",
        "#### Points ajoutés (10)",
        "**Question 1 — Brainstorming**",
        "- `n1` Un guichet unique pour les porteurs de projet",
        "**Question 1 — Sous-groupe 2 — Freins**",
        "**Question 2 — Sous-groupe 1 — Pratiques en cours / exemples**",
        "#### Points corrigés (2)",
        f"- `c1`{NB}: Mutualiser les moyens **humains** entre communes **voisines**",
        f"- `c2`{NB}: Créer un tiers-lieu dans l'ancienne gare **SNCF**",
        "#### Changements de statut (1)",
        f"- `c3` masqué (publié → masqué){NB}: «{NBSP}Un point qui sera masqué par l'animation{NBSP}»",
    ]:
        assert expected in lines, expected
    # Brainstorming comes before the sous-groupes, question 1 before question 2.
    order = [line for line in lines if line.startswith("**Question")]
    assert order == [
        "**Question 1 — Brainstorming**",
        "**Question 1 — Sous-groupe 2 — Moteurs**",
        "**Question 1 — Sous-groupe 2 — Freins**",
        "**Question 2 — Brainstorming**",
        "**Question 2 — Sous-groupe 1 — Pratiques en cours / exemples**",
        "**Question 2 — Sous-groupe 1 — Réflexions**",
        "**Question 1 — Brainstorming**",  # the corrections
        "**Question 1 — Brainstorming**",  # the status change
    ]
    # People who did not consent are counted, never named.
    assert "Secrète" not in text and "Discrète" not in text
    assert "<details>" not in text  # ten lines stay open


def test_head_defaults_to_the_work_tree(repo, monkeypatch):
    change_data(repo)  # not committed
    result = run_review(repo, monkeypatch)
    assert result.exit_code == 0, result.output
    assert f"Données de la proposition comparées à `main` (depuis `{git(repo, 'rev-parse', '--short', 'main').strip()}`){NB}: 1 atelier modifié." in result.output
    assert f"**En bref{NB}:** 10 points ajoutés" in result.output
    listed = run_review(repo, monkeypatch, "--list")
    assert listed.output == f"{SLUG}\n"


def test_invalid_data_is_summarised_and_fails_only_when_asked(repo, monkeypatch):
    points = [dict(p) for p in BASE_POINTS] + [contribution("n1", position=9, group=7, text="Groupe inconnu")]
    change_data(repo, contributions=points, workshop={})
    commit_all(repo, "Données invalides")
    result = run_review(repo, monkeypatch, "--head", "HEAD")
    assert result.exit_code == 0, result.output
    assert f"❌ **Validation{NB}: 1 problème** dans les données proposées." in result.output
    assert f"- data/{SLUG}/contributions.csv: ligne 7" in result.output  # the repository path, not a temp folder
    failing = run_review(repo, monkeypatch, "--fail-on-invalid")
    assert failing.exit_code == 1


def test_nothing_changed(repo, monkeypatch):
    result = run_review(repo, monkeypatch)
    assert result.exit_code == 0
    assert "Aucune donnée d'atelier n'a changé." in result.output
    assert ": 0 atelier modifié." in result.output.replace(NB, "")


def test_unknown_revision_is_a_french_error(repo, monkeypatch):
    result = run_review(repo, monkeypatch)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["review", "--base", "pas-de-telle-branche"])
    assert result.exit_code == 1
    assert "Révision git introuvable : « pas-de-telle-branche »." in result.output.replace(NB, " ").replace("\u00a0", " ")


HOSTILE = (
    "<script>alert(1)</script> **gras** [lien](http://exemple.invalid) ![img](x.png) "
    "@octocat #12 | tableau | `code` $x^2$ ~~barré~~ \u202eenverse\u202c www.exemple.invalid"
)


def rendered(markdown: str) -> str:
    """GitHub-flavoured HTML of `markdown` (CommonMark with tables and strikethrough, HTML allowed)."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def test_untrusted_text_stays_text():
    html = rendered(f"- {md(HOSTILE)}\n\n| a |\n|---|\n| {md(HOSTILE)} |\n")
    assert "<script" not in html and "<strong>" not in html and "<a " not in html and "<img" not in html
    assert "<s>" not in html and "<del>" not in html and "<code>" not in html
    assert html.count("<td>") == 1  # the | in the text did not add table cells
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f"@{WJ}octocat" in html and f"#{WJ}12" in html  # no mention, no issue link
    assert "\u202e" not in html  # no right-to-left override


def test_long_texts_are_truncated():
    assert md("mot " * 200, 50) == "mot mot mot mot mot mot mot mot mot mot mot mot \\[…\\]"


@pytest.mark.parametrize(
    "text, found",
    [
        ("Écrire à jean.dupont@example.org", ["adresse électronique (j…@…)"]),
        ("Tél. 06 12 34 56 78", ["numéro de téléphone (…78)"]),
        ("06.12.34.56.78", ["numéro de téléphone (…78)"]),
        ("0612345678", ["numéro de téléphone (…78)"]),
        ("+33 6 12 34 56 78", ["numéro de téléphone (…78)"]),
        ("+33 (0)4 73 12 34 56", ["numéro de téléphone (…56)"]),
        ("0033612345678", ["numéro de téléphone (…78)"]),
        ("+44 20 7946 0958", ["numéro de téléphone (…58)"]),
        ("Atelier du 30/06/2016, 12 345 habitants, code postal 03000, année 2016", []),
        ("SIRET 123 456 789 00012", []),
    ],
)
def test_personal_data_is_found(text, found):
    assert personal_data(text) == found


def test_reviewer_warnings(repo, monkeypatch):
    points = [dict(p) for p in BASE_POINTS] + [
        contribution("n1", position=10, text="Contact : marie@example.org, 06 12 34 56 78"),
        contribution("n2", position=11, text="=SOMME(A1:A9)"),
        contribution("n3", position=12, text="associer les habitants dès le diagnostic !"),  # same as c4
        contribution("n4", position=13, text="Associer les habitants dès le diagnostique"),  # near c4
        contribution("n5", position=14, text="Écrit trois jours après", created_at="2026-11-23T09:00:00Z"),
    ]
    change_data(repo, contributions=points, workshop={}, participants=[participant("p1", name="Jeanne Martin")])
    (repo / "data" / SLUG / "contributions.csv").write_text(
        (repo / "data" / SLUG / "contributions.csv").read_text(encoding="utf-8").replace(
            "c5,q1,sous-groupe", "c5-disparu,q1,sous-groupe"
        ),
        encoding="utf-8",
    )
    commit_all(repo, "Points à vérifier")
    text = run_review(repo, monkeypatch).output
    lines = text.splitlines()
    for expected in [
        f"### ⚠️ Points d'attention",
        f"- adresse électronique (m…@…) dans le point `n1` (Question 1 — Brainstorming){NB}: à retirer du texte.",
        f"- numéro de téléphone (…78) dans le point `n1` (Question 1 — Brainstorming){NB}: à retirer du texte.",
        f"- le texte du point `n2` (Question 1 — Brainstorming) commence par «{NBSP}={NBSP}»{NB}: "
        "un tableur l'exécuterait comme une formule.",
        f"- `n3` et `c4` ont le même texte (Question 1 — Brainstorming){NB}: "
        f"«{NBSP}associer les habitants dès le diagnostic !{NBSP}»",
        f"- `n4` et `c4` ont des textes très proches (95{NB}%, Question 1 — Brainstorming){NB}: "
        f"«{NBSP}Associer les habitants dès le diagnostique{NBSP}»",
        f"- point `n5` créé le 23 novembre 2026 à 10 h 00, plus d'un jour après l'atelier du 20 novembre 2026.",
        f"- le point `c5` a disparu de contributions.csv{NB}: un point ne se supprime pas, il se retire "
        f"(status{NB}: withdrawn). Son texte{NB}: «{NBSP}Des élus qui portent le projet{NBSP}»",
    ]:
        assert expected in lines, expected
    # Comments are e-mailed to every watcher: the summary never repeats the address or the number.
    assert "marie@" not in text and "56 78" not in text
    assert f"- `n1` Contact : \\[adresse masquée\\], \\[téléphone masqué\\]" in lines


def test_points_added_to_a_closed_atelier(repo, monkeypatch):
    write_atelier(repo / "data" / SLUG, workshop={"status": "closed"}, participants=[participant("p1")], contributions=BASE_POINTS)
    commit_all(repo, "Clôture")
    git(repo, "branch", "--quiet", "-f", "main")
    change_data(repo, workshop={"status": "closed"}, participants=[participant("p1")], contributions=BASE_POINTS + new_points()[:2])
    text = run_review(repo, monkeypatch).output
    assert f"- l'atelier était déjà clos (status{NB}: closed) et 2 lignes ont été ajoutées malgré tout." in text


def test_duplicates_are_found_among_thousands_within_bounds():
    def words(i: int) -> str:  # 2,000 distinct texts, far from each other
        return " ".join(hashlib.sha256(f"{i}-{k}".encode()).hexdigest()[:7] for k in range(6))

    rows = [contribution(f"x{i}", text=f"Proposition {words(i)}") for i in range(2000)]
    rows.append(contribution("dup", text=f"proposition {words(7)} !"))
    found, complete = reviewing.duplicates([rows[-1]], rows)
    assert [(d.other["id"], d.ratio) for d in found] == [("x7", 1.0)] and complete


def test_a_huge_change_stays_under_the_comment_limit(repo, monkeypatch):
    long_text = "Une contribution très longue et détaillée sur le territoire " * 30
    points = [dict(p) for p in BASE_POINTS] + [
        contribution(f"n{i}", position=10 + i, text=f"{i} {long_text}"[:2000], question="q1" if i % 2 else "q2")
        for i in range(2000)
    ]
    change_data(repo, contributions=points, workshop={}, participants=[participant("p1", name="Jeanne Martin")])
    commit_all(repo, "Beaucoup de points")
    text = run_review(repo, monkeypatch).output
    assert len(text) < reviewing.COMMENT_LIMIT
    assert len(text.encode("utf-8")) < 1024 * 1024
    assert text.count("<details>") == text.count("</details>") >= 1
    assert f"**En bref{NB}:** 2{NB}000 points ajoutés." in text
    # Thousands of look-alike points: the warnings do not crowd out the list of points.
    assert "#### Doublons probables (" in text and "#### Points ajoutés (2000)" in text
    assert "- `n1` 1 Une contribution très longue" in text
    assert re.search(r"^> ⚠️ Résumé tronqué pour rester sous la limite de 65\u202f536 caractères", text, re.M)
    assert "- … et " in text and "autres lignes (résumé tronqué)" in text


def test_word_diff_shortens_long_unchanged_runs():
    old = " ".join(f"m{i}" for i in range(1, 41))
    new = old.replace("m20", "M20")
    assert reviewing.word_diff(old, new) == (
        "… " + " ".join(f"m{i}" for i in range(10, 20)) + " ~~m20~~ **M20** " + " ".join(f"m{i}" for i in range(21, 31)) + " …"
    )
    short = "Le territoire est un espace d'acteurs et non un territoire « administratif »"
    assert reviewing.word_diff(short, short.replace("un territoire", "un simple périmètre")) == (
        "Le territoire est un espace d'acteurs et non un ~~territoire~~ **simple périmètre** « administratif »"
    )


def test_broken_files_still_give_a_summary(repo, monkeypatch):
    folder = repo / "data" / SLUG
    (folder / "atelier.yaml").write_text("title: [pas fermé\n", encoding="utf-8")
    with (folder / "contributions.csv").open("a", encoding="utf-8") as f:
        f.write('n1,q1,brainstorming,,idea,,9,,"guillemet jamais fermé\n')
    commit_all(repo, "Fichiers abîmés")
    result = run_review(repo, monkeypatch, "--head", "HEAD")
    assert result.exit_code == 0, result.output
    assert f"⚠️ atelier.yaml{NB}: ligne 2, YAML illisible" in result.output
    assert "❌ **Validation" in result.output


def test_a_deleted_atelier_is_flagged(repo, monkeypatch):
    git(repo, "rm", "--quiet", "-r", f"data/{SLUG}")
    commit_all(repo, "Suppression")
    text = run_review(repo, monkeypatch, "--head", "HEAD").output
    assert f"⚠️ **Cet atelier est supprimé** par cette proposition{NB}: ses données et son compte-rendu disparaîtraient." in text


def test_a_character_no_project_font_draws_is_pointed_out(repo, monkeypatch):
    points = [dict(p) for p in BASE_POINTS] + [contribution("n1", position=10, text="Azul ⵣ à tous 🌱")]
    people = [participant("p1", name="Jeanne Martin"), participant("p2", name="Tiziri ⵜⵉⵣⵉⵔⵉ")]
    change_data(repo, contributions=points, workshop={}, participants=people)
    commit_all(repo, "Tifinagh")
    lines = run_review(repo, monkeypatch).output.splitlines()
    assert f"#### Caractères sans police (2)" in lines
    assert (
        f"- point `n1` (Question 1 — Brainstorming){NB}: «{NBSP}ⵣ{NBSP}» \\(U+2D63, TIFINAGH LETTER YAZ\\) n'est dessiné "
        f"par aucune police du projet{NB}; le compte-rendu imprimera «{NBSP}[U+2D63]{NBSP}» à la place." in lines
    )
    assert any(
        line.startswith(f"- émargement `p2`, champ «{NBSP}Nom{NBSP}»{NB}: «{NBSP}ⵜ{NBSP}» \\(U+2D5C, TIFINAGH LETTER YAT\\), ")
        and line.endswith(f"ne sont dessinés par aucune police du projet{NB}; le compte-rendu imprimera «{NBSP}[U+2D5C]{NBSP}», "
                          f"«{NBSP}[U+2D49]{NBSP}», «{NBSP}[U+2D63]{NBSP}», «{NBSP}[U+2D54]{NBSP}» à la place.")
        for line in lines
    )
    assert not any("🌱" in line and "police" in line for line in lines)  # the emoji font draws it
