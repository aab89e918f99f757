"""Files as organisers edit them: every step reads them alike — validate, build, release, the preview, the review.

Each edit is what a spreadsheet or a text editor does to a real atelier
folder.  For each, `atelier validate` gives the exact French line (or says
« valide »), and `build`, `release` and the preview refuse with that same line
or succeed: never « valide » then a failure later, never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from conftest import SMALL_CONTRIBUTIONS, SMALL_PARTICIPANTS, SMALL_WORKSHOP, write_atelier
from gitrepo import commit_all, git, init_repo

from pipeline import release as releasing
from pipeline.cli import main
from pipeline.validate import validate_atelier
from pipeline.french import fr
from webform import preview

NB = "\u202f"
BOM = b"\xef\xbb\xbf"
Edit = Callable[[Path], None]


def rewrite(name: str, change: Callable[[bytes], bytes]) -> Edit:
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_bytes(change(path.read_bytes()))

    return edit


def yaml_line(pattern: str, replacement: str) -> Edit:
    def edit(folder: Path) -> None:
        path = folder / "atelier.yaml"
        text = path.read_text(encoding="utf-8")
        new = re.sub(pattern, replacement, text, count=1, flags=re.M)
        assert new != text, pattern
        path.write_text(new, encoding="utf-8")

    return edit


def header(name: str, old: str, new: str) -> Edit:
    return rewrite(name, lambda data: data.replace(old.encode(), new.encode(), 1))


CONTRIBUTIONS_HEADER = "id,question,phase,group,section,parent,position,number,text,link,author,created_at,updated_at,status"
PARTICIPANTS_HEADER = "id,name,organisation,role,listed,created_at,status"
NORMALIZE = "lancez « atelier normalize {folder} » pour le réenregistrer comme atelier l'écrit"

# (id, edit, None for a clean success, or (file, line, field, message) of the one problem)
EDITS: list[tuple[str, Edit, tuple[str, int | None, str | None, str] | None]] = [
    ("bom-contributions", rewrite("contributions.csv", lambda d: BOM + d), None),
    ("bom-participants", rewrite("participants.csv", lambda d: BOM + d), None),
    ("crlf", rewrite("contributions.csv", lambda d: d.replace(b"\n", b"\r\n")), None),
    ("bom-semicolon-crlf-excel", rewrite("participants.csv", lambda d: BOM + d.replace(b",", b";").replace(b"\n", b"\r\n")),
     ("participants.csv", 1, None,
      "les colonnes sont séparées par « ; » (point-virgule) ; atelier lit des fichiers séparés par des virgules : "
      f"dans le tableur, enregistrez en « CSV » avec le séparateur « , », ou {NORMALIZE}.")),
    ("windows-1252", rewrite("contributions.csv", lambda d: d.decode("utf-8").encode("cp1252", "replace")),
     ("contributions.csv", 2, None,
      "le fichier n'est pas en UTF-8 (un tableur l'a peut-être enregistré en Windows-1252) ; enregistrez-le au "
      f"format « CSV UTF-8 », ou {NORMALIZE}.")),
    ("renamed-header", header("contributions.csv", ",text,", ",texte,"),
     ("contributions.csv", 1, None,
      f"la colonne 9 s'appelle « texte » au lieu de « text » ; renommez-la : l'en-tête attendu est « {CONTRIBUTIONS_HEADER} ».")),
    ("extra-column", rewrite("participants.csv", lambda d: d.replace(b"\n", b",\n").replace(b"status,\n", b"status,remarque\n", 1)),
     ("participants.csv", 1, None,
      f"colonne(s) en trop : « remarque » ; supprimez-les : l'en-tête attendu est « {PARTICIPANTS_HEADER} ».")),
    ("empty-file", rewrite("participants.csv", lambda d: b""),
     ("participants.csv", None, None,
      f"le fichier est vide ; sa première ligne doit être l'en-tête « {PARTICIPANTS_HEADER} » ({NORMALIZE}).")),
    ("unclosed-quote", rewrite("contributions.csv", lambda d: d + b'z1,q1,brainstorming,,idea,,9,,"pas ferm\xc3\xa9\n'),
     ("contributions.csv", 27, None, "un guillemet ouvert à cette ligne n'est jamais refermé ; fermez la cellule par « \" »."),),
    ("impossible-date", yaml_line(r"^date: .*$", "date: 2026-06-31"),
     ("atelier.yaml", 4, "date", "« 2026-06-31 » n'existe pas dans le calendrier ; vérifiez le jour et le mois (AAAA-MM-JJ).")),
    ("impossible-quoted-date", yaml_line(r"^date: .*$", "date: '2016-02-30'"),
     ("atelier.yaml", 4, "date", "« 2016-02-30 » n'existe pas dans le calendrier ; vérifiez le jour et le mois (AAAA-MM-JJ).")),
    ("unquoted-date", yaml_line(r"^date: .*$", "date: 2016-06-30"), None),
    ("quoted-date", yaml_line(r"^date: .*$", 'date: "2016-06-30"'), None),
    ("french-date", yaml_line(r"^date: .*$", "date: 30/06/2016"),
     ("atelier.yaml", 4, "date",
      "« 30/06/2016 » n'a pas le format attendu ; écrivez la date sous la forme AAAA-MM-JJ, par exemple 2016-06-30.")),
    ("wrong-type", yaml_line(r"^    count: 2$", "    count: deux"),
     ("atelier.yaml", 17, "questions[1].subgroups.count", "« deux » devrait être un nombre entier.")),
    ("unknown-key", yaml_line(r"^place: (.*)$", r"place: \1\nlieu: Moulins"),
     ("atelier.yaml", 6, None,
      "clé inconnue « lieu » ; vérifiez l'orthographe (clés permises : platform, organisation, title, date, place, "
      "timezone, language, status, moderation, keywords, preamble, format, questions, terms, sessions, groups, phases).")),
    ("yaml-tab", yaml_line(r"^place: (.*)$", "place: \\1\n\tlanguage: fr"),
     ("atelier.yaml", 6, None, "YAML illisible : une tabulation ; l'indentation se fait avec des espaces.")),
    ("empty-title", yaml_line(r"^title: .*$", "title:"),
     ("atelier.yaml", 3, "title", "valeur vide ; il faut un texte.")),
    ("status-true", yaml_line(r"^status: .*$", "status: true"),
     ("atelier.yaml", 7, "status", "« true » n'est pas une valeur permise ; valeurs possibles : open, closed.")),
    ("timezone-guadeloupe", yaml_line(r"^place: (.*)$", r"place: \1\ntimezone: America/Guadeloupe"), None),
    ("timezone-unknown", yaml_line(r"^place: (.*)$", r"place: \1\ntimezone: Europe/Moulins"),
     ("atelier.yaml", 6, "timezone",
      "« Europe/Moulins » n'est pas un fuseau horaire connu ; écrivez un nom IANA, par exemple Europe/Paris, "
      "America/Guadeloupe, Indian/Reunion ou Pacific/Noumea.")),
]


@pytest.fixture
def atelier(tmp_path: Path) -> Path:
    return write_atelier(
        tmp_path / "data" / "petit-atelier",
        workshop=SMALL_WORKSHOP,
        participants=SMALL_PARTICIPANTS,
        contributions=SMALL_CONTRIBUTIONS,
    )


def flat(problems, folder: Path) -> list[list]:
    return [[str(Path(p.file).relative_to(folder)), p.line, p.field, p.message] for p in problems]


def expected_line(folder: Path, expected) -> str:
    file, line, field, message = expected
    where = [f"ligne {line}"] if line else []
    if field:
        where.append(f"champ « {field} »")
    message = message.replace("{folder}", str(folder))
    return f"{folder / file}: {', '.join(where)} : {message}" if where else f"{folder / file} : {message}"


@pytest.mark.parametrize("edit, expected", [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_every_step_agrees_on_an_organisers_edit(atelier, tmp_path, edit, expected):
    edit(atelier)
    runner = CliRunner()

    # validate: the exact French line, or « valide »
    problems = validate_atelier(atelier)
    if expected is None:
        assert problems == []
    else:
        file, line, field, message = expected
        assert flat(problems, atelier) == [[file, line, field, message.replace("{folder}", str(atelier))]]
    said = runner.invoke(main, ["validate", str(atelier)])
    assert said.exit_code == (0 if expected is None else 1), said.output
    assert fr("Traceback") not in said.output

    # build: a PDF, or the same line and no PDF
    pdf = tmp_path / "cr.pdf"
    built = runner.invoke(main, ["build", str(atelier), "-o", str(pdf)])
    assert said.exception is None or isinstance(said.exception, SystemExit)
    if expected is None:
        assert built.exit_code == 0, built.output
        assert pdf.read_bytes().startswith(b"%PDF-")
    else:
        assert built.exit_code == 1 and not pdf.exists()
        assert fr(expected_line(atelier, expected)) in built.output
        assert fr("Traceback") not in built.output

    # release: version 1, or « Données invalides » with the same line and nothing written
    reports = tmp_path / "reports"
    if expected is None:
        [outcome] = releasing.release([atelier], reports)
        assert outcome.released and outcome.version == 1
    else:
        with pytest.raises(releasing.ReleaseError) as refused:
            releasing.release([atelier], reports)
        assert str(refused.value).splitlines() == [
            f"Données invalides{NB}: aucune version publiée.", expected_line(atelier, expected)
        ]
        assert not reports.exists()

    # the preview: a PDF, or the same sentence naming the atelier's file, never a server path
    job_folder = tmp_path / "apercu"
    job_folder.mkdir()
    job = preview.render(atelier, job_folder)
    if expected is None:
        assert job.state == "done", job.error
    else:
        assert job.state == "failed"
        file, line, field, message = expected
        where = ", ".join(([f"ligne {line}"] if line else []) + ([f"champ « {field} »"] if field else []))
        shown = f"{file}: {where} : " if where else f"{file} : "
        assert shown + message.replace("{folder}", "petit-atelier") in job.error
        assert str(tmp_path) not in job.error and "('" not in job.error


def test_a_folder_given_as_dot_or_with_a_trailing_slash(atelier, tmp_path, monkeypatch):
    monkeypatch.chdir(atelier)
    runner = CliRunner()
    (atelier / "datapackage.json").unlink()
    made = runner.invoke(main, ["datapackage", "."])
    assert made.exit_code == 0, made.output
    assert '"name": "petit-atelier"' in (atelier / "datapackage.json").read_text(encoding="utf-8")
    for path in (".", "./", str(atelier) + "/", "../petit-atelier"):
        checked = runner.invoke(main, ["validate", path])
        assert checked.exit_code == 0, checked.output
        # `.` is named by its real path (« . : valide. » said nothing), other paths as given
        assert checked.output == fr(f"{atelier if path in ('.', './') else Path(path)} : valide.\n")
    built = runner.invoke(main, ["build", ".", "-o", str(tmp_path / "cr.pdf")])
    assert built.exit_code == 0, built.output
    monkeypatch.chdir(tmp_path)
    [outcome] = releasing.release([Path("data/petit-atelier/")], tmp_path / "reports")
    assert outcome.slug == "petit-atelier" and (tmp_path / "reports" / "petit-atelier" / "compte-rendu.pdf").exists()


def test_normalize_rewrites_what_a_french_spreadsheet_saved(atelier):
    import csv
    import io

    # Excel's « CSV (séparateur: point-virgule) »: « ; », CR LF, Windows-1252.
    original = {name: (atelier / name).read_bytes() for name in ("participants.csv", "contributions.csv")}
    for name, data in original.items():
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
        (atelier / name).write_bytes(out.getvalue().encode("cp1252", "replace"))
    assert validate_atelier(atelier) != []
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [fr(f"{atelier / 'participants.csv'} : réenregistré."), fr(f"{atelier / 'contributions.csv'} : réenregistré.")]
    for name, data in original.items():
        assert (atelier / name).read_bytes() == data.decode("utf-8").encode("cp1252", "replace").decode("cp1252").encode("utf-8")
    assert validate_atelier(atelier) == []
    again = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert again.output == fr(f"{atelier} : rien à changer.\n")


def test_normalize_does_not_guess_a_renamed_column(atelier):
    header("contributions.csv", ",text,", ",texte,")(atelier)
    before = (atelier / "contributions.csv").read_bytes()
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 1
    assert done.output == (
        fr(f"Erreur : {atelier / 'contributions.csv'}: ligne 1 : la colonne 9 s'appelle « texte » au lieu de « text » ; "
        f"renommez-la : l'en-tête attendu est « {CONTRIBUTIONS_HEADER} ».\n")
    )
    assert (atelier / "contributions.csv").read_bytes() == before


# ---- the review of a pull request reads the files as validate does ------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "depot")
    write_atelier(
        repo / "data" / "petit-atelier", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS,
        contributions=SMALL_CONTRIBUTIONS,
    )
    commit_all(repo, "Atelier")
    git(repo, "checkout", "--quiet", "-b", "tableur")
    return repo


def review(repo: Path, monkeypatch) -> tuple[int, str]:
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["review", "--base", "main", "--head", "HEAD", "--fail-on-invalid"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_review_of_a_spreadsheet_saved_with_a_bom_sees_no_change(repo, monkeypatch):
    rewrite("contributions.csv", lambda d: BOM + d.replace(b"\n", b"\r\n"))(repo / "data" / "petit-atelier")
    commit_all(repo, "Enregistré par un tableur")
    code, text = review(repo, monkeypatch)
    assert code == 0
    assert f"✅ **Validation{NB}:** les données proposées sont valides." in text
    assert "supprimée" not in text and "ajouté" not in text


def test_review_of_a_semicolon_file_fails_and_shows_no_false_deletions(repo, monkeypatch):
    rewrite("contributions.csv", lambda d: d.replace(b",", b";"))(repo / "data" / "petit-atelier")
    commit_all(repo, "Enregistré en point-virgule")
    code, text = review(repo, monkeypatch)
    assert code == 1
    assert "✅" not in text and "❌ **Validation" in text
    assert "supprimée" not in text
    assert "séparées par «" in text


def test_no_traceback_for_a_file_that_cannot_be_written(atelier, tmp_path):
    (tmp_path / "un-fichier").write_text("", encoding="utf-8")
    built = CliRunner().invoke(main, ["build", str(atelier), "-o", str(tmp_path / "un-fichier" / "cr.pdf")], prog_name="atelier")
    assert built.exit_code == 2  # refused before anything is built, as every output path (pipeline.cli.Output)
    assert built.output == (
        fr(f"Erreur : « {tmp_path / 'un-fichier'} » est un fichier, pas un dossier ; choisissez un autre chemin. "
        "(« atelier build -h » décrit la commande)\n")
    )


def test_normalize_writes_nothing_when_one_table_cannot_be_matched(atelier):
    rewrite("participants.csv", lambda d: BOM + d.replace(b",", b";"))(atelier)
    header("contributions.csv", ",text,", ",texte,")(atelier)
    before = {p.name: p.read_bytes() for p in atelier.glob("*.csv")}
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 1
    assert {p.name: p.read_bytes() for p in atelier.glob("*.csv")} == before


@pytest.mark.parametrize(
    ("last_rows", "words"),
    [
        (b'c-96,q1,brainstorming,,idea,,96,,"Guillemet pas ferm\xc3\xa9,,,2016-06-30T12:00:00Z,,published\n'
         b"c-95,q1,brainstorming,,idea,,95,,Point suivant,,,2016-06-30T12:00:00Z,,published\n",
         "un guillemet ouvert à cette ligne n'est jamais refermé"),
        (b"c-95,q1,brainstorming,,idea,,95,,Texte ok,,,2016-06-30T12:00:00Z,,published,et la suite\n",
         "cellule en trop « et la suite » : la ligne a plus de colonnes que l'en-tête"),
        (b"c-95,q1,brainstorming,idea,,95,,Texte ok,,,2016-06-30T12:00:00Z,,published\n",
         "la ligne a 13 colonnes au lieu de 14 : il manque « status » (une virgule manquante ou une ligne coupée ?)."),
    ],
    ids=["unclosed quote", "a cell too many", "a comma lost"],
)
def test_normalize_refuses_what_validate_cannot_read_and_writes_nothing(atelier, last_rows, words):
    """An unclosed quote would swallow the next rows into one cell, an extra cell may be the end of a text:
    normalize says where, as validate does, and writes nothing (a tester's finding)."""
    path = atelier / "contributions.csv"
    data = path.read_bytes()
    path.write_bytes(data + last_rows)
    line = data.count(b"\n") + 1
    before = {p.name: p.read_bytes() for p in atelier.glob("*.csv")}
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 1
    assert fr(f"contributions.csv: ligne {line} : {words}") in done.output
    assert {p.name: p.read_bytes() for p in atelier.glob("*.csv")} == before
    checked = CliRunner().invoke(main, ["validate", str(atelier)])
    assert checked.exit_code == 1 and fr(f"ligne {line}") in checked.output and fr(words) in checked.output


def test_normalize_reads_a_lone_carriage_return_and_the_empty_columns_a_spreadsheet_adds(atelier):
    """Old-Mac line breaks in a cell become LF (written unquoted, a CR broke the file), and columns with no name
    nor content at the right of the header are dropped (testers' findings)."""
    import csv
    import io

    path = atelier / "contributions.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[1][8] = "avant\raprès"
    rows[2][8] = "un\r\ndeux"
    out = io.StringIO()
    csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(r + ["", "", ""] for r in rows)
    path.write_bytes(out.getvalue().encode("utf-8"))
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 0, done.output
    assert validate_atelier(atelier) == []
    texts = [r[8] for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))]
    assert texts[1:3] == ["avant\naprès", "un\ndeux"]
    assert b"\r" not in path.read_bytes()


def test_a_mistyped_command_is_answered_in_french(tmp_path):
    runner = CliRunner()
    absent = runner.invoke(main, ["validate", str(tmp_path / "absent")])
    assert absent.exit_code == 2
    assert absent.output.startswith(fr(f"Erreur : le dossier « {tmp_path / 'absent'} » n'existe pas. (« "))
    assert absent.output.endswith(fr(" validate -h » décrit la commande)\n"))  # the program's name as it was called
    option = runner.invoke(main, ["build", "--nope"])
    assert option.exit_code == 2 and option.output.startswith(fr("Erreur : ")) and fr("Usage") not in option.output


# ---- the atelier's time zone, in every date and time shown -------------------------------


def test_an_atelier_in_guadeloupe_is_reviewed_in_its_own_time(tmp_path, monkeypatch):
    from conftest import contribution

    repo = init_repo(tmp_path / "depot")
    folder = repo / "data" / "pointe-a-pitre"
    workshop = {**SMALL_WORKSHOP, "date": "2026-07-01", "timezone": "America/Guadeloupe"}
    write_atelier(folder, workshop=workshop, contributions=[contribution("a", created_at="2026-07-01T14:00:00Z")])
    commit_all(repo, "Atelier")
    git(repo, "checkout", "--quiet", "-b", "saisie")
    write_atelier(
        folder,
        workshop=workshop,
        contributions=[
            contribution("a", created_at="2026-07-01T14:00:00Z"),
            # 22 h 30 on the day in Pointe-à-Pitre (2 July, 0 h 30 in Paris): the same evening
            contribution("soir", position=2, created_at="2026-07-02T02:30:00Z"),
            # 19 h 00 the next day in Pointe-à-Pitre (3 July, 1 h 00 in Paris): transcribed the day after, as usual
            contribution("lendemain", position=4, created_at="2026-07-02T23:00:00Z"),
            # 2 h 00 on 3 July in Pointe-à-Pitre: more than a day after the atelier
            contribution("tard", position=3, created_at="2026-07-03T06:00:00Z"),
        ],
    )
    commit_all(repo, "Saisie des post-it")
    code, text = review(repo, monkeypatch)
    assert code == 0, text
    assert (
        "point `tard` créé le 3 juillet 2026 à 2 h 00 (heure America/Guadeloupe), plus d'un jour après "
        "l'atelier du 1er juillet 2026." in text
    )
    assert "point `soir` créé le" not in text and "point `lendemain` créé le" not in text


def test_the_colophon_gives_the_last_change_in_the_ateliers_zone(tmp_path):
    from pipeline.compose import compose
    from pipeline.workshop import load_atelier

    folder = write_atelier(
        tmp_path / "pointe-a-pitre",
        workshop={**SMALL_WORKSHOP, "timezone": "America/Guadeloupe"},
        participants=SMALL_PARTICIPANTS,
        contributions=SMALL_CONTRIBUTIONS,
    )
    # The small atelier last changed on 2016-07-05 at 9:00 UTC: 5:00 in Pointe-à-Pitre.
    assert compose(load_atelier(folder)).colophon.last_change_text == "5 juillet 2016 à 5 h 00 (heure America/Guadeloupe)"


def test_normalize_refuses_a_utf8_file_with_one_windows_1252_line_instead_of_garbling_every_accent(atelier):
    """Read as Windows-1252 as a whole, every « é » of the file would become « Ã© » (a tester's finding)."""
    path = atelier / "contributions.csv"
    data = path.read_bytes()
    line = data.count(b"\n") + 1
    path.write_bytes(data + "c-96,q1,brainstorming,,idea,,96,,Idée d'été,,,2016-06-30T12:00:00Z,,published\n".encode("cp1252"))
    before = path.read_bytes()
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 1
    assert fr(f"contributions.csv: ligne {line} : ce fichier mêle deux encodages (UTF-8 et Windows-1252)") in done.output
    assert path.read_bytes() == before


def test_normalize_refuses_a_windows_1252_file_with_one_utf8_line_too(atelier):
    """The other way round: read as Windows-1252, the pasted UTF-8 line would become « questionnÃ©s » (a tester's finding)."""
    path = atelier / "contributions.csv"
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    path.write_bytes(text.encode("cp1252", errors="replace") + "c-96,q1,brainstorming,,idea,,96,,Idée collée,,,2016-06-30T12:00:00Z,,published\n".encode("utf-8"))
    before = path.read_bytes()
    done = CliRunner().invoke(main, ["normalize", str(atelier)])
    assert done.exit_code == 1
    assert fr(f"contributions.csv: ligne {lines + 1} : ce fichier mêle deux encodages") in done.output
    assert path.read_bytes() == before
