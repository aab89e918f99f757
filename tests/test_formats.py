"""Each ready format end to end on the real app, and ateliers whose shape is not the seed's.

`atelier new --format` → every participant form posted through Flask's test
client, the team's points typed in the saisie → `atelier validate` and the
official frictionless CLI → `atelier build` → `atelier kit`.  The format's own
labels are on the form, the wall, the kit and the PDF; the seed's are not where
they do not belong.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import contribution, weasyprint_warnings, write_atelier
from facilitator_helpers import facilitator_app, logged_in
from pypdf import PdfReader
from webform_helpers import CSRF_INPUT, NBSP, NNBSP, csrf_token, rows, snapshot, submit, text_of

from pipeline.cli import main
from pipeline.validate import validate_atelier
from pipeline.workshop import Workshop, load_atelier
from pipeline.french import fr

FRICTIONLESS = Path(sys.executable).parent / "frictionless"
READY = ("moulins", "afom", "world-cafe", "constats-propositions")
# What only the seed's day calls its phases, rubrics and groups.
SEED_LABELS = ("Brainstorming", "Pratiques en cours", "Moteurs", "Freins", "Conditions au changement", "Sous-groupe", "Encadré")


def plain(text: str) -> str:
    """Letters, digits and single spaces: what survives line breaks, hyphenation and typographic spaces."""
    text = text.replace(NNBSP, " ").replace(NBSP, " ").replace("\u00ad", "")
    text = re.sub(r"-\n", "", text)
    return " ".join(text.split())


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return plain(out.stdout)


def bookmarks(path: Path) -> list[str]:
    def walk(entries, depth=0):  # type: ignore[no-untyped-def]
        for entry in entries:
            if isinstance(entry, list):
                yield from walk(entry, depth + 1)
            else:
                yield "  " * depth + plain(entry.title)

    return list(walk(PdfReader(path).outline))


@dataclass
class Run:
    """One ready format, created, filled through the app, validated, built and printed."""

    name: str
    folder: Path
    workshop: Workshop
    pages: dict[str, str]  # what each participant page shows
    wall: str
    pdf: str
    outline: list[str]
    kit: str
    warnings: list[str]


def fill(tmp_path: Path, folder: Path) -> tuple[dict[str, str], str]:
    """Post every participant form the atelier offers, and the team's points in the saisie."""
    slug = folder.name
    workshop = load_atelier(folder).workshop
    app = facilitator_app(tmp_path)
    client = app.test_client()
    pages = {"home": text_of(client.get(f"/{slug}/").text)}
    assert submit(client, f"/{slug}/emargement", {"name": "Anne Dupont", "role": "elu", "listed": "y"}).status_code == 303

    idea = client.get(f"/{slug}/idee")
    if idea.status_code == 200:
        pages["idee"] = text_of(idea.text)
        columns = re.findall(r'name="column"[^>]*value="([^"]+)"', idea.text) or re.findall(
            r'value="([^"]+)"[^>]*name="column"', idea.text
        )
        assert columns, "the idea page names its column"
        for column in columns:
            phase, _sep, rubric = column.partition("/")
            for question in workshop.phase_questions(workshop.phase(phase)):  # type: ignore[arg-type]
                sent = submit(
                    client, f"/{slug}/idee",
                    {"question": question.id, "column": column, "text": f"Point {phase} {rubric} {question.id}", "details": "- une précision"},
                )
                assert sent.status_code == 303, text_of(sent.text)
    else:
        assert idea.status_code == 404  # no pooled phase for participants

    chooser = client.get(f"/{slug}/fiche")
    pages["fiche"] = text_of(chooser.text)
    links = [html.unescape(u) for u in re.findall(r'href="(/[^"]+/fiche\?[^"]+)"', chooser.text)]
    for link in links:
        page = client.get(link)
        pages.setdefault("fiche-remplie", text_of(page.text))
        names = re.findall(r'<textarea[^>]*name="([^"]+)"', page.text)
        data = {name: f"{name} de {link.rsplit('=', 1)[-1]}\n- détail" for name in names}
        token = CSRF_INPUT.search(page.text).group(1)  # type: ignore[union-attr]
        sent = client.post(link, data={"csrf_token": token, **data})
        assert sent.status_code == 303, text_of(sent.text)

    # The team types what participants do not: the phases written by the team, and the encadrés.
    team = logged_in(app, slug)
    for phase in workshop.phases:
        rubrics = phase.boxes if phase.for_participants else phase.rubrics
        for question in workshop.phase_questions(phase):
            for group in workshop.groups_for(phase, question) if phase.grouped else (None,):
                for rubric in rubrics:
                    sent = submit(
                        team, f"/{slug}/animation/saisie",
                        {"question": question.id, "section": f"{phase.id}/{rubric.id}", "group": group.id if group else "",
                         "text": f"{rubric.label} ({question.id})"},
                    )
                    assert sent.status_code == 303, text_of(sent.text)
    # A vote: opened by the team, a ballot from a phone on the first votable point, paper gommettes on it too.
    for phase in (p for p in workshop.phases if p.kind == "vote"):
        csrf = CSRF_INPUT.search(team.get(f"/{slug}/animation/vote/{phase.id}").text).group(1)  # type: ignore[union-attr]
        assert team.post(f"/{slug}/animation/vote/{phase.id}/etat", data={"csrf_token": csrf, "event": "open"}).status_code == 303
        ballot = client.get(f"/{slug}/vote/{phase.id}")
        pages[f"vote-{phase.id}"] = text_of(ballot.text)
        point = re.search(r'name="p-([^"]+)"', ballot.text).group(1)  # type: ignore[union-attr]
        token = re.search(r'name="bulletin" value="([^"]+)"', ballot.text).group(1)  # type: ignore[union-attr]
        csrf_p = CSRF_INPUT.search(ballot.text).group(1)  # type: ignore[union-attr]
        assert client.post(f"/{slug}/vote/{phase.id}", data={"csrf_token": csrf_p, "bulletin": token, f"p-{point}": "1"}).status_code == 303
        assert team.post(f"/{slug}/animation/vote/{phase.id}/papier", data={"csrf_token": csrf, f"papier-{point}": "2"}).status_code == 303
    # An action plan: one action typed by the team.
    for phase in (p for p in workshop.phases if p.kind == "actions"):
        sent = submit(team, f"/{slug}/animation/actions/{phase.id}", {"title": "Une action", "porteur": "La mairie", "statut": "decidee"})
        assert sent.status_code == 303, text_of(sent.text)
    pages["saisie"] = team.get(f"/{slug}/animation/saisie").text  # the markup: labels, optgroups
    pages["moderation"] = text_of(team.get(f"/{slug}/animation/moderation").text)
    return pages, text_of(team.get(f"/{slug}/animation/mur").text)


@pytest.fixture(scope="module", params=READY)
def run(request, tmp_path_factory) -> Run:
    tmp_path = tmp_path_factory.mktemp(request.param)
    data = tmp_path / "data"
    created = CliRunner().invoke(main, ["new", "essai", "--format", request.param, "--data", str(data), "--date", "2026-06-30"])
    assert created.exit_code == 0, created.output
    folder = data / "essai"
    # Valid the moment it is created.
    assert validate_atelier(folder) == []
    pages, wall = fill(tmp_path, folder)
    assert validate_atelier(folder) == []
    official = subprocess.run([str(FRICTIONLESS), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert official.returncode == 0, official.stdout
    with weasyprint_warnings() as warnings:
        built = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "cr.pdf")])
        printed = CliRunner().invoke(main, ["kit", str(folder), "-o", str(tmp_path / "kit.pdf"), "--url", "https://atelier.example.org/essai/"])
    assert built.exit_code == 0, built.output
    assert printed.exit_code == 0, printed.output
    return Run(
        request.param, folder, load_atelier(folder).workshop, pages, wall,
        pdf_text(tmp_path / "cr.pdf"), bookmarks(tmp_path / "cr.pdf"), pdf_text(tmp_path / "kit.pdf"), warnings,
    )


def test_the_format_s_labels_are_on_the_form_the_wall_the_kit_and_the_pdf(run: Run):
    w = run.workshop
    assert run.warnings == []
    for phase in w.phases:
        assert plain(phase.title) in run.pdf, phase.title
        assert plain(phase.text()) in run.wall, phase.text()
        for rubric in phase.rubrics:
            # Every rubric got points: each is printed under its label, in the PDF and on the wall.
            assert plain(rubric.label) in run.pdf, rubric.label
            assert plain(rubric.full_text() if phase.grouped else rubric.label) in run.wall or len(phase.rubrics) == 1, rubric.label
        if phase.grouped:
            for question in w.phase_questions(phase):
                for group in w.groups_for(phase, question):
                    assert plain(group.label) in run.pdf and plain(group.label) in run.kit and plain(group.label) in run.pages["fiche"]
    sheets = [p for p in w.phases if p.grouped]
    if sheets:
        page = run.pages["fiche-remplie"]
        first = sheets[0]
        assert [r for r in first.columns if plain(r.full_text()) in page] == list(first.columns)
        assert all(plain(r.label) in run.kit for r in first.columns)
    pooled = [p for p in w.phases if p.for_participants and not p.grouped]
    if pooled:
        columns = [r for p in pooled for r in p.columns]
        if len(columns) == 1:
            assert f"Votre {columns[0].singular}" in run.pages["idee"]
        else:
            assert all(plain(r.label) in run.pages["idee"] for r in columns)
        assert all(plain(p.text()) in run.pages["idee"] for p in pooled)


def test_the_seed_s_labels_stay_out_of_other_formats(run: Run):
    places = (("PDF", run.pdf), ("kit", run.kit), ("mur", run.wall), *run.pages.items())
    for label in SEED_LABELS:
        if run.name == "moulins":  # the seed's own format: its labels are where they belong
            assert label.casefold() in run.pdf.casefold(), label
        else:
            for where, text in places:
                assert label.casefold() not in text.casefold(), f"{label} dans {where}"


def test_the_pdf_has_one_chapter_per_phase_in_the_deroule_s_order(run: Run):
    chapters = [line for line in run.outline if re.match(r"\d+ ", line)]
    titles = [plain(p.title) for p in run.workshop.phases]
    assert chapters == ["1 Mise en place de l’atelier"] + [f"{n} {t}" for n, t in enumerate(titles, start=2)] + [
        f"{len(titles) + 2} Annexes"
    ]


def test_the_kit_never_speaks_in_the_past_tense(run: Run):
    w = run.workshop
    said = [w.format.intro, *w.format.steps, *(q.objective for q in w.questions), *(p.intro for p in w.phases)]
    for text in said:
        if text.kit:
            assert plain(text.kit) in run.kit
        if text.report != text.kit:
            assert plain(text.report) not in run.kit, text.report
    for past in ("s’est déroulé", "était", "a permis", "ont abordé"):
        assert past not in run.kit


def test_afom_is_two_by_two_in_the_report(tmp_path):
    data = tmp_path / "data"
    CliRunner().invoke(main, ["new", "diag", "--format", "afom", "--data", str(data), "--date", "2026-06-30"])
    folder = data / "diag"
    rows_ = [
        contribution(f"c-{r}", question="theme-1", phase="afom", group="table-1", section=r, text=f"Un point {r}")
        for r in ("atouts", "faiblesses", "opportunites", "menaces")
    ]
    write_atelier_rows(folder, rows_)
    from pipeline.compose import compose

    report = compose(load_atelier(folder))
    [chapter] = report.chapters
    [question] = chapter.questions
    [sheet] = question.sheets
    assert [(row.heading, [c.label for c in row.columns]) for row in sheet.rows] == [
        ("Facteurs internes", ["Atouts", "Faiblesses"]),
        ("Facteurs externes", ["Opportunités", "Menaces"]),
    ]


def write_atelier_rows(folder: Path, contributions: list[dict[str, str]]) -> None:
    from conftest import write_table

    write_table(folder / "contributions.csv", "contributions", contributions)


# ---- A real-shaped atelier that is not the seed's -----------------------------------------

PLENARY = {
    "title": "Plénière de la concertation",
    "date": "2026-03-14",
    "place": "Clermont-Ferrand",
    "status": "closed",
    "terms": {"question": "thème", "questions": "thèmes", "group": "groupe", "groups": "groupes"},
    "format": {"intro": {"kit": "La plénière se déroulera en 3 temps :", "report": "La plénière s’est déroulée en 3 temps :"}},
    "groups": [
        {"id": "mobilites", "label": "Groupe Mobilités", "rapporteur": "Lou"},
        {"id": "habitat", "label": "Groupe Habitat"},
        {"id": "energie", "label": "Groupe Énergie"},
    ],
    "phases": [
        {
            "id": "tour-1", "kind": "sheet", "title": "Premier tour de groupes",
            "rubrics": [{"id": "reponses", "label": "Réponses"}, {"id": "questions", "label": "Questions à la salle"}],
        },
        {
            "id": "tour-2", "kind": "sheet", "title": "Second tour de groupes",
            "rubrics": [{"id": "amendements", "label": "Amendements proposés"}],
        },
        {
            "id": "synthese", "kind": "synthesis", "title": "Synthèse des amendements",
            "rubrics": [{"id": "retenus", "label": "Amendements retenus"}],
        },
    ],
    "questions": [{"id": "plan", "title": "Le plan de mobilité"}],
}


def test_named_groups_in_two_rounds_and_a_pooled_synthesis(tmp_path):
    points = [
        contribution("a1", question="plan", phase="tour-1", group="mobilites", section="reponses", text="Plus de bus le soir"),
        contribution("a2", question="plan", phase="tour-1", group="habitat", section="questions", text="Qui finance ?"),
        contribution("b1", question="plan", phase="tour-2", group="mobilites", section="amendements", text="Gratuité le samedi"),
        # The Habitat and Énergie groups sent nothing in the second round: left out, not printed empty.
        contribution("s1", question="plan", phase="synthese", section="retenus", text="Gratuité le samedi, à l’essai"),
    ]
    folder = write_atelier(tmp_path / "pleniere", workshop=PLENARY, contributions=points)
    assert validate_atelier(folder) == []
    official = subprocess.run([str(FRICTIONLESS), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert official.returncode == 0, official.stdout
    with weasyprint_warnings() as warnings:
        result = CliRunner().invoke(main, ["build", str(folder), "-o", str(tmp_path / "cr.pdf")])
    assert result.exit_code == 0, result.output
    assert warnings == []
    outline = bookmarks(tmp_path / "cr.pdf")
    chapters = [line for line in outline if re.match(r"\d+ ", line)]
    # The synthesis comes after the work it summarises.
    assert chapters == [
        "1 Mise en place de l’atelier",
        "2 Premier tour de groupes",
        "3 Second tour de groupes",
        "4 Synthèse des amendements",
        "5 Annexes",
    ]
    text = pdf_text(tmp_path / "cr.pdf")
    first = text[text.index("2 Premier tour de groupes 2.1"):text.index("3 Second tour de groupes 3.1")].casefold()
    second = text[text.index("3 Second tour de groupes 3.1"):text.index("4 Synthèse des amendements 4.1")].casefold()
    # Named groups keep their names; a group with nothing published in a round is left out of it.
    assert "groupe mobilités" in first and "groupe habitat" in first and "groupe énergie" not in first
    assert "groupe mobilités" in second and "groupe habitat" not in second and "groupe énergie" not in second
    assert "Thème 1 : Le plan de mobilité" in text and "Rapporteur : Lou" in text
    for label in SEED_LABELS + ("Aucun point publié", "Aucune idée"):
        assert label not in text, label
    assert "La plénière s’est déroulée en 3 temps :" in text


# ---- An undeclared rubric or group, refused everywhere ------------------------------------


def test_an_undeclared_rubric_or_group_is_refused_by_validate_and_the_official_cli(tmp_path):
    folder = write_atelier(
        tmp_path / "essai",
        contributions=[
            contribution("a"),
            contribution("b", phase="sous-groupe", group="7", section="driver"),
            contribution("c", phase="sous-groupe", group="1", section="atouts"),
        ],
    )
    assert [(p.line, p.field, p.message) for p in validate_atelier(folder)] == [
        (3, "group", "« 7 » n'est pas un sous-groupe de la question q1 au temps « sous-groupe » ; sous-groupes possibles : "
                     "1 (Sous-groupe 1), 2 (Sous-groupe 2), 3 (Sous-groupe 3)."),
        (4, "section", "« atouts » n'est pas une rubrique du temps « sous-groupe » ; rubriques possibles : "
                       "practice (pratiques en cours / exemples), reflection (réflexions), driver (moteurs), "
                       "brake (freins), aside (encadré)."),
    ]
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1
    assert fr(f"{folder}/contributions.csv: ligne 4, champ « section » : « atouts » n'est pas une rubrique") in result.output
    official = subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", str(folder / "datapackage.json")], capture_output=True, text=True
    )
    assert official.returncode == 1
    assert '"fieldName": "group"' in official.stdout and '"fieldName": "section"' in official.stdout
    assert '"cell": "7"' in official.stdout and '"cell": "atouts"' in official.stdout


def test_spreadsheet_exports_use_the_atelier_s_words(run: Run):
    from pipeline import export

    header = export.export_spreadsheet_csv(run.folder, "contributions").decode("utf-8-sig").splitlines()[0]
    assert f'"{run.workshop.terms.question.capitalize()}"' in header
    assert f'"{run.workshop.terms.group.capitalize()}"' in header


# ---- The old shape of atelier.yaml, read as the moulins format ---------------------------


def test_an_atelier_yaml_without_phases_reads_as_the_moulins_format(tmp_path):
    """The example's atelier.yaml as released in v1 (no phases): every point in the same chapters and columns."""
    import shutil

    from conftest import EXAMPLE

    from pipeline.compose import compose

    old = tmp_path / "moulins-2016"
    shutil.copytree(EXAMPLE, old)
    shutil.copy(Path(__file__).parent / "fixtures" / "moulins-2016-ancien-format.yaml", old / "atelier.yaml")
    assert "phases" not in (old / "atelier.yaml").read_text(encoding="utf-8")
    assert validate_atelier(old) == []  # the vocabulary is the same: datapackage.json still matches

    def columns(report):  # type: ignore[no-untyped-def]
        out = []
        for chapter in report.chapters:
            for q in chapter.questions:
                for column in q.columns:
                    out.append((chapter.title, q.number, None, column.rubric, [i.id for i in column.items]))
                for sheet in q.sheets:
                    for column in [c for row in sheet.rows for c in row.columns] + list(sheet.boxes):
                        out.append((chapter.title, q.number, sheet.label, column.rubric, [i.id for _d, i in _walk(column.items)]))
        return out

    before, after = compose(load_atelier(old)), compose(load_atelier(EXAMPLE))
    assert columns(before) == columns(after)
    assert len(list(before.items())) == len(list(after.items())) == 131
    # Only the déroulé's texts differ: the new file says them for the kit too.
    assert before.setup.format_intro == after.setup.format_intro == "L’atelier s’est déroulé en 3 temps :"


def _walk(items):  # type: ignore[no-untyped-def]
    for item in items:
        yield from item.walk()


# ---- Questions and answers -----------------------------------------------------------------


def test_a_questions_and_answers_phase(tmp_path):
    workshop = {
        "phases": [{"id": "echanges", "kind": "qa", "title": "Questions de la salle", "rubrics": [{"id": "question", "label": "Questions"}]}],
        "questions": [{"id": "plan", "title": "Le plan de mobilité"}],
    }
    points = [
        contribution("q", question="plan", phase="echanges", section="question", text="Qui paiera les navettes ?"),
        contribution("r", question="plan", phase="echanges", section="question", parent="q", text="La communauté de communes."),
    ]
    folder = write_atelier(tmp_path / "qa", workshop=workshop, contributions=points)
    assert validate_atelier(folder) == []
    from pipeline.render import render_html

    from pipeline.compose import compose

    page = render_html(compose(load_atelier(folder)))
    qa = re.search(r'<dl class="qa">(.*?)</dl>', page, re.S).group(1)
    entries = [(tag, re.sub(r"<[^>]+>", "", text)) for tag, text in re.findall(r"<(dt|dd)[^>]*>(.*?)</\1>", qa, re.S)]
    assert entries == [("dt", "Qui paiera les navettes\u202f?"), ("dd", "La communauté de communes.")]


# ---- the format's words, agreed in French (findings 10, 11, 12 of the integration's test) ----


def test_pages_and_kit_use_the_format_s_terms(run: Run):
    t = run.workshop.terms
    groups = [p for p in run.workshop.phases if p.grouped and p.for_participants]
    if groups:
        assert f"Remplir la fiche de votre {t.group}" in run.pages["home"]
        assert f"une fois par {t.group}" in run.pages["fiche"] and f"une fois par {t.group}" in run.pages["fiche-remplie"]
        assert f"Fiche de {t.group}" in run.pages["fiche"]
    if "groupe" not in t.group:
        pdf = " ".join(run.pdf.split())
        assert "aux groupes" not in pdf and "par groupes" not in pdf  # the figures' note, the annex: the format's word
        for where in ("home", "fiche", "fiche-remplie"):
            assert "groupe" not in run.pages[where].casefold(), where
        assert f'<label class="etiquette" for="group">{t.group.capitalize()}</label>' in run.pages["saisie"]
    assert f"{t.questions.capitalize()}" in run.pages["home"]
    if "idee" in run.pages and t.question != "question":
        assert t.question.capitalize() in run.pages["idee"] and "Question" not in run.pages["idee"]
    assert f"Affiche de chaque {t.question}" in run.kit
    if not any(p.for_participants and not p.grouped and "idée" in p.columns[0].singular for p in run.workshop.phases):
        assert "idées" not in run.kit


def test_the_team_s_pages_name_questions_and_phases_not_their_ids(run: Run):
    w = run.workshop
    t = w.terms
    saisie = html.unescape(run.pages["saisie"])
    for number, q in enumerate(w.questions, start=1):
        label = f"{t.question.capitalize()} {number}"
        assert f"{label} — {q.title}" in saisie
        assert f">{q.id} — " not in saisie
        for phase in w.phases:
            if q in w.phase_questions(phase) and phase.rubrics:  # a vote, a plan: their own sections of the wall
                assert f"{label} · {phase.text()}" in run.wall
        assert f"{q.id} · " not in run.wall
    assert "moderation: post" not in run.pages["moderation"]
    # The saisie offers under each question only the groups atelier.yaml declares for it.
    for number, q in enumerate(w.questions, start=1):
        block = re.search(rf'<optgroup label="{t.question.capitalize()} {number} — [^"]*">(.*?)</optgroup>', saisie, re.S)
        declared = {g.id for p in w.phases if q in w.phase_questions(p) for g in w.groups_for(p, q)}
        offered = set(re.findall(r'value="([^"]+)"', block.group(1))) if block else set()
        assert offered == declared, q.id


def test_messages_agree_with_the_gender_of_the_terms(run: Run):
    w = run.workshop
    t = w.terms
    phase = next((p for p in w.phases if p.grouped), None)
    if phase is None:
        return
    q = w.phase_questions(phase)[0]
    missing = w.column_problem(q.id, phase.id, "", phase.rubrics[0].id)
    unknown = w.column_problem(q.id, phase.id, "table-9", phase.rubrics[0].id)
    assert missing and unknown
    if t.group_gender == "f":
        assert missing[1].startswith(f"{t.group} manquante pour")
        assert f"n'est pas une {t.group} de" in unknown[1]
    else:
        assert missing[1].startswith(f"{t.group} manquant pour")
        assert f"n'est pas un {t.group} de" in unknown[1]
    the = "le " if t.question_gender == "m" else "la "
    assert f"de {the}{t.question} {q.id}" in unknown[1]


def test_counts_are_singular_for_0_and_1(run: Run):
    wrong = re.findall(r".{40}\b[01] (?:points|précisions|pages|participants|fiches|tables|groupes|sous-groupes)\b.{20}", run.kit)
    assert wrong == []
    assert re.search(r"\b[01] points? publiés\b", run.pdf) is None
    assert "(et 1 précisions)" not in run.pdf
    if any(p.for_participants and not p.grouped for p in run.workshop.phases):
        assert "(et 1 précision)" in run.pdf  # each posted idea has one précision: the chart's words agree
    summary = CliRunner().invoke(main, ["summary", str(run.folder)]).output
    assert not re.search(r"\b[01] \w+s\b", summary.replace("Participants", "")), summary
    for phase in run.workshop.phases:  # a rubric without points is counted in the singular: « 0 faiblesse »
        for rubric in phase.rubrics:
            if f" {rubric.plural}" in summary:
                assert not re.search(rf"\b[01] {re.escape(rubric.plural)}\b", summary)


def test_terms_agree_in_gender_and_elide():
    from pipeline.workshop import Terms

    table = Terms(group="table", groups="tables", group_gender="f", question="thème", questions="thèmes", question_gender="m")
    assert (table.a("group"), table.the("group"), table.to("group")) == ("une table", "la table", "à la table")
    assert (table.a("question"), table.the("question"), table.to("question")) == ("un thème", "le thème", "au thème")
    goal = Terms(question="objectif", question_gender="m")
    assert (goal.the("question"), goal.to("question")) == ("l'objectif", "à l'objectif")
    assert Terms().a("group", "en") == "a group" and Terms(group_en="atelier").a("group", "en") == "an atelier"
