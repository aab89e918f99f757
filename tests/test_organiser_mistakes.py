"""What an organiser with a spreadsheet and the `atelier` command gets wrong, and the French answer to each.

An output path that is one of the atelier's own files, a folder whose name
cannot name an atelier, click's own messages, YAML mistakes: each is refused
with a French sentence (the file, the line, the fix), nothing changed, never a
traceback nor an English word of a library.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SMALL_CONTRIBUTIONS, SMALL_PARTICIPANTS, SMALL_WORKSHOP, write_atelier
from gitrepo import commit_all, init_repo
from webform_helpers import make_app, make_data

from pipeline.cli import main
from pipeline.workshop import OWN_FILES
from pipeline.french import fr


def atelier_cli(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="atelier")


@pytest.fixture
def atelier(tmp_path: Path) -> Path:
    return write_atelier(
        tmp_path / "data" / "petit-atelier",
        workshop=SMALL_WORKSHOP,
        participants=SMALL_PARTICIPANTS,
        contributions=SMALL_CONTRIBUTIONS,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- 1. no command writes over the atelier's files

OWN_FILE_WRITES = [
    ("export", "-o", "participants.csv", ["--table", "participants"]),
    ("export", "-o", "contributions.csv", []),
    ("build", "-o", "contributions.csv", []),
    ("build", "--html", "datapackage.json", ["-o", "{tmp}/cr.pdf"]),
    ("kit", "-o", "atelier.yaml", []),
    ("kit", "--html", "participants.csv", ["-o", "{tmp}/kit.pdf"]),
]


@pytest.mark.parametrize("command, option, name, more", OWN_FILE_WRITES)
def test_no_output_path_is_one_of_the_ateliers_own_files(atelier, tmp_path, command, option, name, more):
    before = snapshot(atelier)
    target = atelier / name
    done = atelier_cli(command, str(atelier), option, str(target), *[m.format(tmp=tmp_path) for m in more])
    assert done.exit_code == 2, done.output
    assert done.output.endswith(
        fr(f"Erreur : « {target} » est un fichier de l'atelier : l'écrire effacerait ses données ; "
        f"choisissez un autre nom, hors du dossier de l'atelier par exemple. (« atelier {command} -h » décrit la commande)\n")
    )
    assert snapshot(atelier) == before
    assert not (tmp_path / "cr.pdf").exists() and not (tmp_path / "kit.pdf").exists()


def test_a_relative_output_inside_the_folder_given_as_dot_is_refused(atelier, monkeypatch):
    monkeypatch.chdir(atelier)
    before = snapshot(atelier)
    done = atelier_cli("export", ".", "-o", "participants.csv", "--table", "participants")
    assert done.exit_code == 2
    assert fr("« participants.csv » est un fichier de l'atelier") in done.output
    assert snapshot(atelier) == before


def test_the_review_summary_is_not_written_over_an_ateliers_file(tmp_path, monkeypatch):
    repo = init_repo(tmp_path / "depot")
    folder = write_atelier(repo / "data" / "petit-atelier", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS)
    commit_all(repo, "Atelier")
    monkeypatch.chdir(repo)
    before = snapshot(folder)
    done = atelier_cli("review", "--base", "HEAD", "-o", "data/petit-atelier/atelier.yaml")
    assert done.exit_code == 2
    assert fr("« data/petit-atelier/atelier.yaml » est un fichier de l'atelier") in done.output
    assert snapshot(folder) == before


def test_a_file_with_an_ateliers_name_elsewhere_is_written(atelier, tmp_path):
    assert "participants.csv" in OWN_FILES
    done = atelier_cli("export", str(atelier), "-o", str(tmp_path / "participants.csv"), "--table", "participants")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "participants.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # the spreadsheet export


def test_an_output_in_a_missing_folder_is_written_there_as_build_and_kit_do(atelier, tmp_path):
    done = atelier_cli("export", str(atelier), "-o", str(tmp_path / "absent" / "e.zip"))
    assert done.exit_code == 0, done.output
    assert (tmp_path / "absent" / "e.zip").read_bytes().startswith(b"PK")


def test_a_system_refusal_is_said_in_french(atelier, tmp_path, monkeypatch):
    def refuse(self, data):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "write_bytes", refuse)
    done = atelier_cli("export", str(atelier), "-o", str(tmp_path / "e.zip"))
    assert done.exit_code == 1
    assert done.output == (
        fr(f"Erreur : {tmp_path / 'e.zip'} : accès refusé (droits du fichier ou du dossier) ; rien n'a été écrit de plus.\n")
    )


# ---------------------------------------------------------------- 2. folder names that cannot name an atelier

@pytest.mark.parametrize("name, suggestion", [("Forum Eau", "forum-eau"), ("L2", "l2"), ("été", "ete")])
def test_a_folder_name_that_cannot_name_an_atelier(atelier, name, suggestion):
    folder = atelier.parent / name
    shutil.copytree(atelier, folder)
    rule = (
        f"« {name} » ne peut pas nommer un atelier (minuscules sans accents, chiffres et tirets, "
        f"par exemple « moulins-2026 », 63 caractères au plus) ; renommez le dossier, par exemple en « {suggestion} »."
    )
    checked = atelier_cli("validate", str(folder))
    assert checked.exit_code == 1
    assert checked.output == fr(f"{folder} : {rule}\n{folder} : 1 problème.\n")
    for command in (["build", str(folder), "-o", str(atelier.parent / "cr.pdf")],
                    ["kit", str(folder), "-o", str(atelier.parent / "kit.pdf")],
                    ["summary", str(folder)], ["datapackage", str(folder)]):
        done = atelier_cli(*command)
        assert done.exit_code == 1, (command, done.output)
        assert fr(rule) in done.output and fr("Traceback") not in done.output
        assert done.output.splitlines()[-1].startswith(fr("Erreur : "))
    assert not (atelier.parent / "cr.pdf").exists()


def test_the_review_of_a_copied_folder_with_a_capital_names_the_rule(tmp_path, monkeypatch):
    repo = init_repo(tmp_path / "depot")
    folder = write_atelier(repo / "data" / "cafe", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS)
    commit_all(repo, "Atelier")
    shutil.copytree(folder, repo / "data" / "Cafe-Bis")
    monkeypatch.chdir(repo)
    done = atelier_cli("review", "--base", "HEAD", "--fail-on-invalid")
    assert done.exit_code == 1, done.output
    assert fr("❌ **Validation") in done.output and fr("Traceback") not in done.output
    assert "« Cafe-Bis » ne peut pas nommer un atelier" in done.output and "« cafe-bis »" in done.output  # the review, Markdown as it typesets it


def test_the_form_skips_a_folder_that_cannot_name_an_atelier_and_says_why(tmp_path, caplog):
    make_data(tmp_path, "bon", title="Atelier en bon état")
    shutil.copytree(make_data(tmp_path, "mal-nomme", title="Atelier mal nommé"), tmp_path / "data" / "Forum Eau")
    shutil.rmtree(tmp_path / "data" / "mal-nomme")
    client = make_app(tmp_path).test_client()
    with caplog.at_level(logging.WARNING):
        index = client.get("/")
    assert index.status_code == 200
    assert "Atelier en bon état" in index.text and "Atelier mal nommé" not in index.text
    assert "« Forum Eau » ne peut pas nommer un atelier" in caplog.text
    assert client.get("/Forum%20Eau/").status_code == 404


def test_serve_says_which_folder_it_does_not_serve(tmp_path, monkeypatch):
    import werkzeug.serving

    make_data(tmp_path, "bon")
    shutil.copytree(tmp_path / "data" / "bon", tmp_path / "data" / "Forum Eau")
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **kwargs: None)
    monkeypatch.setenv("FLASK_SECRET_KEY", "clé de test")
    monkeypatch.setenv("FLASK_FACILITATOR_SECRET", "code de test")
    done = atelier_cli("serve", "--data", str(tmp_path / "data"), "--port", "5999")
    assert done.exit_code == 0, done.output
    assert fr("Animation de bon : http://127.0.0.1:5999/bon/animation/\n") in done.output
    assert (
        fr(f"Avertissement : {tmp_path / 'data' / 'Forum Eau'} : « Forum Eau » ne peut pas nommer un atelier ")
        in done.output
    )
    assert fr("Animation de Forum Eau") not in done.output


# ---------------------------------------------------------------- 8. French words only

def test_clicks_own_messages_are_french(atelier, tmp_path):
    missing = atelier_cli("export", str(atelier))
    assert missing.exit_code == 2
    assert missing.output == fr("Erreur : il manque l'option '-o' / '--output'. (« atelier export -h » décrit la commande)\n")
    helped = atelier_cli("kit", "-h")
    assert fr("-h, --help") in helped.output and fr("Affiche cette aide et s'arrête.") in helped.output
    assert fr("Utilisation : atelier kit") in helped.output and fr("\nOptions :\n") in helped.output and fr("[obligatoire]") in atelier_cli("build", "-h").output
    for english in ("Show this message", "Usage:", "[required]"):
        assert fr(english) not in helped.output
    date = atelier_cli("new", "x", "--date", "2026-02-30", "--data", str(tmp_path))
    assert date.exit_code == 2
    assert date.output == (
        fr("Erreur : « 2026-02-30 » n'est pas une date du calendrier écrite AAAA-MM-JJ, par exemple 2026-06-30. "
        "(« atelier new -h » décrit la commande)\n")
    )
    file_as_folder = atelier_cli("build", str(atelier / "atelier.yaml"), "-o", str(tmp_path / "cr.pdf"))
    assert file_as_folder.output == (
        fr(f"Erreur : « {atelier / 'atelier.yaml'} » est un fichier ; indiquez le dossier de l'atelier, « {atelier} ». "
        "(« atelier build -h » décrit la commande)\n")
    )
    a_folder = atelier_cli("build", str(atelier), "-o", str(tmp_path))
    assert a_folder.exit_code == 2 and fr(f"« {tmp_path} » est un dossier ; indiquez le fichier à écrire") in a_folder.output


def test_kit_and_build_say_erreur_alike(atelier, tmp_path):
    (atelier / "contributions.csv").write_text("id\n", encoding="utf-8")
    for command in ("kit", "build"):
        done = atelier_cli(command, str(atelier), "-o", str(tmp_path / "x.pdf"))
        assert done.exit_code == 1
        assert done.output.splitlines()[-1].startswith(fr(f"Erreur : {atelier} : "))
        assert fr("Error:") not in done.output


def yaml_edit(folder: Path, old: str, new: str) -> None:
    path = folder / "atelier.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_yaml_syntax_errors_say_the_fix_without_the_parsers_english(atelier):
    yaml_edit(atelier, "\nplace:", "\n\tplace:")
    done = atelier_cli("validate", str(atelier))
    assert done.exit_code == 1
    line = next(n for n, t in enumerate((atelier / "atelier.yaml").read_text(encoding="utf-8").splitlines(), 1) if "\tplace" in t)
    assert done.output.splitlines()[0] == (
        fr(f"{atelier / 'atelier.yaml'}: ligne {line} : YAML illisible : une tabulation ; l'indentation se fait avec des espaces.")
    )
    assert fr("cannot start any token") not in done.output
    github = atelier_cli("validate", "--format", "github", str(atelier))
    assert fr(f"::error file={atelier / 'atelier.yaml'},line={line}::") in github.output


def test_an_unknown_yaml_problem_is_still_said_in_french(atelier):
    (atelier / "atelier.yaml").write_text("title: a\n- b\n", encoding="utf-8")
    done = atelier_cli("validate", str(atelier))
    assert done.exit_code == 1
    assert fr("YAML illisible : ") in done.output
    assert not any(fr(word) in done.output for word in ("expected", "found", "while", "block"))


def test_a_windows_1252_atelier_yaml_names_its_line_and_the_fix(atelier):
    path = atelier / "atelier.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("title: ", "title: Été ", 1)
    path.write_bytes(text.encode("cp1252"))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if not t.isascii())  # where UTF-8 decoding stops
    done = atelier_cli("validate", str(atelier))
    assert done.exit_code == 1
    assert done.output.splitlines()[0] == (
        fr(f"{path}: ligne {line} : le fichier n'est pas en UTF-8 ; réenregistrez-le en UTF-8 "
        "(dans l'éditeur : « Enregistrer sous », encodage UTF-8).")
    )


@pytest.mark.parametrize("yaml_text, message", [
    ("sessions:\n  - {id: s1, label: Matin, date: 2016-06-30, start: 9h}\n",
     "« 9h » n'a pas le format attendu ; écrivez l'heure sous la forme HH:MM, par exemple 09:30."),
])
def test_values_with_a_format_say_how_to_write_them(atelier, yaml_text, message):
    with (atelier / "atelier.yaml").open("a", encoding="utf-8") as f:
        f.write(yaml_text)
    done = atelier_cli("validate", str(atelier))
    assert done.exit_code == 1
    assert fr(message) in done.output and fr("motif") not in done.output


def test_a_target_written_as_text_gets_the_objects_example(tmp_path):
    assert atelier_cli("new", "cafe", "--format", "world-cafe", "--data", str(tmp_path)).exit_code == 0
    path = tmp_path / "cafe" / "atelier.yaml"
    text = path.read_text(encoding="utf-8")
    assert "help: \"Ce qui a été dit à la table, une idée par ligne.\"}" in text
    path.write_text(text.replace("une idée par ligne.\"}", "une idée par ligne.\", target: 3 à 5}", 1), encoding="utf-8")
    done = atelier_cli("validate", str(tmp_path / "cafe"))
    assert done.exit_code == 1
    assert fr("« 3 à 5 » devrait être un objet (clé: valeur) ; écrivez par exemple {min: 3, max: 5}.") in done.output


# ---------------------------------------------------------------- 7. what a spreadsheet writes, normalize fixes

def test_rows_of_empty_cells_are_one_sentence_each_and_normalize_drops_them(atelier):
    path = atelier / "participants.csv"
    path.write_bytes(path.read_bytes() + b",,,,,,\n,,,,,,\n")
    lines = len(path.read_bytes().splitlines())
    done = atelier_cli("validate", str(atelier))
    assert done.exit_code == 1
    assert done.output == (
        fr(f"{path}: ligne {lines - 1} : ligne vide ; supprimez-la.\n"
        f"{path}: ligne {lines} : ligne vide ; supprimez-la.\n"
        f"{atelier} : 2 problèmes.\n")
    )
    assert atelier_cli("normalize", str(atelier)).output == fr(f"{path} : réenregistré.\n")
    assert not path.read_bytes().endswith(b",,\n")
    assert atelier_cli("validate", str(atelier)).output == fr(f"{atelier} : valide.\n")


def test_normalize_reads_spreadsheet_booleans_and_accented_roles(atelier):
    path = atelier / "participants.csv"
    text = path.read_text(encoding="utf-8")
    spreadsheet = {",chercheur,true,": ",Chercheurs,VRAI,", ",elu,false,": ",élue,non,", ",habitant,false,": ",Habitante,FAUX,"}
    assert all(text.count(old) == 1 for old in spreadsheet), text
    edited = text
    for old, new in spreadsheet.items():
        edited = edited.replace(old, new)
    path.write_text(edited, encoding="utf-8")
    refused = atelier_cli("validate", str(atelier))
    assert refused.exit_code == 1
    assert (
        fr("champ « listed » : « VRAI » n'est pas un booléen\u202f: écrivez true ou false\u202f; «\u00a0atelier normalize\u00a0» convertit VRAI, FAUX, oui, non, 1 et 0.") in refused.output
    )
    assert fr("champ « role » : « élue » n'est pas une valeur permise\u202f; valeurs possibles\u202f: elu (élu·e), ") in refused.output
    assert atelier_cli("normalize", str(atelier)).exit_code == 0
    assert path.read_text(encoding="utf-8") == text
    assert atelier_cli("validate", str(atelier)).output == fr(f"{atelier} : valide.\n")


def test_a_person_who_signed_twice_is_a_warning_not_an_error(atelier):
    path = atelier / "participants.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    first = next(n for n, r in enumerate(rows, 1) if r.startswith("p1,"))
    again = rows[first - 1].replace("p1,Camille Martin,", "p9,camille  MARTIN,", 1)
    path.write_text("\n".join([*rows, again]) + "\n", encoding="utf-8")
    done = atelier_cli("validate", str(atelier))
    assert done.exit_code == 0, done.output
    assert done.output == (
        fr(f"Avertissement : {path}: ligne {len(rows) + 1}, champ « name » : « camille  MARTIN » a déjà signé ligne {first} ; "
        "si c'est la même personne (venue à deux séances), elle est comptée et nommée deux fois : "
        "passez une des deux lignes en « withdrawn ».\n"
        f"{atelier} : valide.\n")
    )


# ---------------------------------------------------------------- 6. one count of the points shown

def test_summary_and_report_count_the_same_points(atelier):
    from pipeline.compose import compose
    from pipeline.workshop import load_atelier

    loaded = load_atelier(atelier)
    assert any(c.id == "x2a" and c.status == "published" for c in loaded.contributions)  # under the hidden x2
    report = compose(loaded)
    printed = [item.id for item in report.items()]
    assert "x2a" not in printed
    assert sorted(printed) == sorted(c.id for c in loaded.shown())
    assert report.synthesis.contributions == len(printed)
    said = atelier_cli("summary", str(atelier))
    assert said.exit_code == 0
    assert fr(f"Points publiés : {len(printed)} sur {len(loaded.contributions)}\n") in said.output
    # the practice column of sous-groupe 1, question 1 holds s1 only once x2a is left out with its parent
    practice = [c for c in loaded.shown() if (c.question, c.phase, c.group, c.section) == ("q1", "sous-groupe", "1", "practice")]
    assert [c.id for c in practice] == ["s1"]
