"""The animation kit: its outline, its HTML, the QR code and the URL it encodes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLE, contribution, weasyprint_warnings
from markupsafe import escape
from pypdf import PdfReader

from pipeline.cli import main
from pipeline.kit import attendance_url, check_url, compose_kit, kit_html, qr_svg, render_kit_html, role_labels, write_kit_pdf
from pipeline.render import ASSETS, AssetFetcher
from pipeline.french import fr, french
from pipeline.workshop import AtelierError, load_atelier

REPO = Path(__file__).resolve().parent.parent
URL = "https://atelier.example.org/moulins-2016/"


@pytest.fixture(scope="module")
def example():
    return load_atelier(EXAMPLE)


def test_outline_of_the_example(example):
    kit = compose_kit(example.workshop, URL)
    assert kit.title == "Kit d’animation — Animation des réunions de production d’idées et de projets"
    assert kit.date_text == "30 juin 2016"
    assert [(qk.number, qk.question.id, [g.id for g in qk.sheets[0].groups]) for qk in kit.questions] == [
        (1, "q1", ["1", "2", "3"]),
        (2, "q2", ["1", "2"]),
    ]
    q1, q2 = kit.questions
    assert [(h.heading, [c.section for c in h.columns]) for h in q1.sheets[0].heads] == [
        ("", ["practice"]),
        ("", ["reflection"]),
        ("Conditions au changement", ["driver", "brake"]),
    ]
    assert [(c.title, c.count, c.hint) for c in q1.sheets[0].columns[2:]] == [
        ("Moteurs", 5, "identifier 3 à 5 moteurs par sous-groupe"),
        ("Freins", 5, "identifier 3 à 5 freins par sous-groupe"),
    ]
    # q2 asks for 3 à 5 freins only: its moteurs get the usual five entries, with no hint;
    # pratiques and réflexions, counted nowhere, are ruled lines.
    assert [c.count for c in q2.sheets[0].columns[:2]] == [0, 0]
    assert [(c.count, c.hint) for c in q2.sheets[0].columns[2:]] == [
        (5, ""),
        (5, "identifier 3 à 5 freins par sous-groupe"),
    ]
    # 3 sous-groupes of up to 8 people: 24 rows, so two sheets of 20.
    assert kit.attendance_sheets == (range(1, 21), range(21, 41))


@pytest.mark.parametrize(
    "targets, expected",
    [
        ([{"section": "driver", "min": 2, "max": 8}], 8),
        ([{"section": "driver", "min": 3}], 5),
        ([{"section": "driver", "min": 7}], 7),
        ([{"section": "driver", "max": 40}], 15),
        ([], 0),
    ],
)
def test_numbered_lines_follow_the_target(make_atelier, targets, expected):
    times = [{"label": "Temps 2", "title": "Comment faire autrement ?", "targets": targets}]
    folder = make_atelier(workshop={"questions": [{"id": "q1", "title": "Q ?", "subgroups": {"count": 1, "times": times}}]})
    (question,) = compose_kit(load_atelier(folder).workshop).questions
    drivers = {c.section: c for c in question.sheets[0].columns}["driver"]
    assert drivers.count == expected  # 0: ruled lines, no numbered entries


def test_attendance_rows_can_be_asked_for(example):
    assert compose_kit(example.workshop, attendees=61).attendance_sheets[-1] == range(61, 81)
    assert compose_kit(example.workshop, attendees=0).attendance_sheets == (range(1, 21),)


def test_role_labels_come_from_the_participants_schema():
    assert role_labels() == (
        "élu·e",
        "agent ou chargé·e de mission",
        "recherche, enseignement",
        "association, réseau",
        "entreprise, agriculteur",
        "habitant·e, citoyen·ne",
        "équipe d'animation",
        "autre",
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://atelier.example.org/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "atelier.example.org/moulins-2016/",
        "https://atelier.example.org/a b",
        'https://atelier.example.org/"><script>',
    ],
)
def test_a_bad_url_is_refused_in_french(url):
    with pytest.raises(AtelierError) as error:
        check_url(url)
    assert str(error.value) == (
        f"--url : « {url} » n'est pas une adresse web ; donnez une adresse en http:// ou https://, "
        "par exemple https://atelier.example.org/moulins-2016/."
    )


def test_a_url_too_long_for_paper_is_refused():
    url = "https://atelier.example.org/" + "a" * 480
    with pytest.raises(AtelierError) as error:
        check_url(url)
    assert str(error.value) == (
        "--url : l'adresse fait 508 caractères ; au-delà de 500, le QR code devient illisible sur papier. "
        "Donnez une adresse plus courte."
    )


@pytest.mark.parametrize("url", [URL, "http://127.0.0.1:5000/moulins-2016/?lang=fr#emargement"])
def test_a_web_address_is_accepted(url):
    assert check_url(url) == url


def test_qr_code_is_inline_vector_svg():
    svg = qr_svg(URL)
    assert svg.startswith('<svg version="1.1" viewBox="0 0 37 37" xmlns="http://www.w3.org/2000/svg" class="qr"')
    assert "<path d=\"M4,4H5V5H4z" in svg
    assert " id=" not in svg  # printed twice in one page: no id may repeat
    assert "<image" not in svg and "href" not in svg


def test_html_has_every_question_prompt_and_temps(example):
    html = kit_html(EXAMPLE, URL)
    for question in example.workshop.questions:
        assert html.count(_escaped(question.title)) >= 3  # cover, poster, post-its, consignes, grids
        for prompt in question.prompts:
            assert _escaped(prompt) in html
        for step in question.times:
            assert _escaped(step.text.kit) in html
            for instruction in step.instructions:
                assert _escaped(instruction) in html
    for number, groups in ((1, 3), (2, 2)):
        for group in range(1, groups + 1):
            assert html.count(f"<h1>Question {number} — Sous-groupe {group}</h1>") == 1
        assert f"Question {number} — Sous-groupe {groups + 1}" not in html
    assert html.count('<svg version="1.1"') == 3  # the cover and each of the two attendance sheets
    assert html.count("J’accepte d’apparaître dans la liste des présents du compte-rendu") == 2


def test_without_url_there_is_no_qr_code():
    html = kit_html(EXAMPLE)
    assert "<svg" not in html and "Participer en ligne" not in html
    assert "https://" not in html


def test_untrusted_text_is_escaped(make_atelier):
    attack = '<link rel="attachment" href="file:///etc/passwd"><img src="http://169.254.169.254/">'
    folder = make_atelier(
        workshop={
            "title": attack,
            "place": attack,
            "questions": [{"id": "q1", "title": attack, "prompts": [attack], "subgroups": {"count": 1}}],
        }
    )
    html = kit_html(folder)
    assert "&lt;link rel=&#34;attachment&#34;" in html
    assert "<link rel=\"attachment\"" not in html and "<img" not in html


def _escaped(text: str) -> str:
    """How the template prints a value: French typography, then HTML escaping."""
    return str(escape(french(text)))


# ---- The PDF, read back as a person would ---------------------------------------------------



@dataclass
class Printed:
    pdf: Path
    warnings: list[str]
    fetcher: AssetFetcher

    @cached_property
    def pages(self) -> list[str]:
        """The text of each page, as pdftotext (poppler) reads it."""
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(self.pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        return text.split("\f")[:-1]

    def page(self, first_line: str) -> list[int]:
        """Indexes of the pages whose text starts with `first_line`."""
        return [i for i, text in enumerate(self.pages) if text.lstrip().startswith(first_line)]

    def qr_codes(self, index: int) -> list[str]:
        """The QR codes a phone would read on page `index`, decoded from a 150 dpi picture."""
        import zxingcpp
        from PIL import Image

        stem = self.pdf.with_name(f"{self.pdf.stem}-{index}")
        subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", "-f", str(index + 1),
                        "-l", str(index + 1), str(self.pdf), str(stem)], check=True)
        with Image.open(stem.with_suffix(".png")) as picture:
            return [code.text for code in zxingcpp.read_barcodes(picture) if code.format == zxingcpp.BarcodeFormat.QRCode]


def print_kit(folder: Path, out: Path, url: str | None = None) -> Printed:
    """Build the kit like `atelier kit` does, keeping the fetcher and every WeasyPrint warning."""
    with weasyprint_warnings() as warnings:
        workshop = load_atelier(folder).workshop
        fetcher = AssetFetcher()
        write_kit_pdf(render_kit_html(compose_kit(workshop, url)), workshop, out, fetcher=fetcher)
    return Printed(out, warnings, fetcher)


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Printed:
    return print_kit(EXAMPLE, tmp_path_factory.mktemp("kit") / "kit.pdf", URL)


@pytest.fixture(scope="module")
def printed_without_url(tmp_path_factory) -> Printed:
    return print_kit(EXAMPLE, tmp_path_factory.mktemp("kit") / "kit-sans-url.pdf")


def flat(text: str) -> str:
    """Letters and digits only: what survives line breaks and typographic spaces."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def test_no_weasyprint_warning_and_only_assets_fetched(printed, printed_without_url):
    for kit in (printed, printed_without_url):
        assert kit.warnings == []
        assert kit.fetcher.refused == []
        assert kit.fetcher.requested
        assert all(url.startswith(ASSETS.as_uri() + "/") for url in kit.fetcher.requested)


def test_pages_of_the_example(printed):
    # cover, 2 attendance sheets; q1: poster, post-its, consignes, 3 grids; q2: the same with 2 grids
    assert len(printed.pages) == 14
    reader = PdfReader(printed.pdf)
    sizes = [(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages]
    grids = {i for i, text in enumerate(printed.pages) if re.match(r"\s*Question \d — Sous-groupe \d", text)}
    assert grids == {6, 7, 8, 12, 13}
    assert sizes == [(842, 595) if i in grids else (595, 842) for i in range(14)]


def test_cover_and_posters_say_the_day_and_every_question(printed, example):
    w = example.workshop
    cover = printed.pages[0]
    assert "Kit d’animation".upper() in cover.upper()
    assert "30 juin 2016 — Moulins-sur-Allier" in cover
    for text in (w.title, w.platform, w.format.intro.kit, *(step.kit for step in w.format.steps)):
        assert flat(text) in flat(cover)
    for number, question in enumerate(w.questions, start=1):
        assert flat(question.title) in flat(cover) and f"question{number}" in flat(cover)
        (poster,) = [i for i, t in enumerate(printed.pages) if flat(t).startswith(flat(f"Question {number} {question.title}"))]
        for prompt in question.prompts:
            assert flat(prompt) in flat(printed.pages[poster])


def test_temps_instructions_of_each_question(printed, example):
    for number, question in enumerate(example.workshop.questions, start=1):
        (index,) = [i for i, t in enumerate(printed.pages) if flat(t).startswith(flat(f"Travail en sous-groupes Question {number}"))]
        page = printed.pages[index]
        if number == 1:
            assert "identifier 3 à 5 moteurs par sous-groupe ; identifier 3 à 5 freins par sous-groupe." in " ".join(page.split())
        assert flat(question.objective.kit) in flat(page)
        for step in question.times:
            assert flat(f"{step.label} {step.title}") in flat(page)
            assert flat(step.text.kit) in flat(page)
            for instruction in step.instructions:
                assert flat(instruction) in flat(page)


@pytest.mark.parametrize("number, groups", [(1, 3), (2, 2)])
def test_one_grid_page_per_sous_groupe(printed, number, groups):
    headers = [f"Question {number} — Sous-groupe {g}" for g in range(1, groups + 2)]
    for header in headers[:-1]:
        (index,) = printed.page(header)
        lines = [line.strip() for line in printed.pages[index].splitlines() if line.strip()]
        for label in ("Pratiques en cours / exemples", "Réflexions", "Conditions au changement", "Moteurs", "Freins"):
            assert label in lines
        assert any(line.startswith("Rapporteur·rice") for line in lines)
        # Moteurs and Freins: entries 1. to 5. each
        assert sorted(line for line in lines if re.fullmatch(r"\d+\.", line)) == sorted(
            [f"{n}." for n in range(1, 6)] * 2
        )
    assert printed.page(headers[-1]) == []


def test_attendance_sheets(printed):
    sheets = printed.page("Liste d’émargement")
    assert sheets == [1, 2]
    for index, rows in zip(sheets, (range(1, 21), range(21, 41))):
        text = printed.pages[index]
        words = " ".join(text.split())
        for header in ("Prénom et nom", "Structure", "Qualité (n°)",
                       "J’accepte d’apparaître dans la liste des présents du compte-rendu"):
            assert header in words
        assert text.split().count("oui") == 20 + 1  # one per row, and « oui » in the note on data use
        assert text.split().count("non") == 20
        numbers = [int(line) for line in text.splitlines() if line.strip().isdigit()]
        assert [n for n in numbers if n > 8] == [n for n in rows if n > 8]  # 1…8 are also the Qualité codes
        assert "Aucune adresse électronique ni aucun numéro de téléphone n’est demandé." in words
        for label in role_labels():
            assert flat(label) in flat(text)
        assert "@" not in text and "Téléphone" not in text


def test_qr_code_opens_the_form_on_the_cover_and_the_emargement_page_on_attendance_sheets(printed):
    assert printed.qr_codes(0) == [URL]
    assert URL in "".join(printed.pages[0].split())
    for index in (1, 2):
        assert printed.qr_codes(index) == [URL + "emargement"]
        assert URL + "emargement" in "".join(printed.pages[index].split())
    assert printed.qr_codes(3) == []


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://atelier.example.org/moulins-2016/", "https://atelier.example.org/moulins-2016/emargement"),
        ("https://atelier.example.org/moulins-2016", "https://atelier.example.org/moulins-2016/emargement"),
        ("https://atelier.example.org/", "https://atelier.example.org/moulins-2016/emargement"),
        ("https://atelier.example.org", "https://atelier.example.org/moulins-2016/emargement"),
        ("http://127.0.0.1:5000/moulins-2016/?lang=fr#x", "http://127.0.0.1:5000/moulins-2016/emargement"),
        ("https://h.example.org/ateliers/", "https://h.example.org/ateliers/moulins-2016/emargement"),
    ],
)
def test_attendance_url_is_the_emargement_page(url, expected):
    assert attendance_url(url, "moulins-2016") == expected


def test_attendance_sheet_has_a_signature_column(printed):
    for index in (1, 2):
        assert "Signature" in printed.pages[index].split()


def test_kit_command_refuses_an_invalid_atelier_in_french(make_atelier, tmp_path):
    folder = make_atelier(contributions=[contribution("c1", question="q9")])
    out = tmp_path / "kit.pdf"
    result = CliRunner().invoke(main, ["kit", str(folder), "-o", str(out)])
    assert result.exit_code == 1
    assert fr(f"{folder}/contributions.csv: ligne 2, champ « question » : la question « q9 » n'existe pas dans atelier.yaml (questions : q1, q2).") in result.output
    assert fr("le kit n'a pas été imprimé") in result.output
    assert not out.exists()


def test_without_url_there_is_no_qr_code_in_the_pdf(printed_without_url):
    assert len(printed_without_url.pages) == 14
    for index in (0, 1, 2):
        assert printed_without_url.qr_codes(index) == []
        assert "http" not in printed_without_url.pages[index]
    assert "Participer en ligne" not in printed_without_url.pages[0]


def test_metadata(printed):
    reader = PdfReader(printed.pdf)
    assert reader.metadata.title == "Kit d’animation — Animation des réunions de production d’idées et de projets"
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert reader.metadata.author == "Plateforme «\u00a0Dynamiques territoriales du Massif Central\u00a0»"
    assert "/CreationDate" not in reader.metadata and "/ModDate" not in reader.metadata


def test_fonts_are_the_shipped_ones(printed):
    fonts = subprocess.run(["pdffonts", str(printed.pdf)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+", 1)[1] for line in fonts.splitlines()[2:]}
    assert names == {"Report-Sans", "Report-Sans-Bold", "Report-Sans-Italic"}


def test_untrusted_text_is_printed_as_text(make_atelier, tmp_path):
    attack = '<link rel="attachment" href="file:///etc/passwd"><img src="http://169.254.169.254/">'
    folder = make_atelier(workshop={"title": attack, "questions": [{"id": "q1", "title": attack, "subgroups": {"count": 1}}]})
    kit = print_kit(folder, tmp_path / "kit.pdf")
    assert kit.warnings == [] and kit.fetcher.refused == []
    assert b"/EmbeddedFile" not in kit.pdf.read_bytes()
    assert '<link rel="attachment"' in " ".join(kit.pages[0].split())



def test_longest_texts_keep_one_page_per_sheet(make_atelier, tmp_path):
    """A 500-character question (the schema's maximum) and 15 moteurs still give one page per sheet."""
    title = ("Comment les territoires ruraux peuvent-ils organiser ensemble " * 9)[:499] + "?"
    times = [{"label": "Temps 2", "title": "Comment faire autrement ?",
              "targets": [{"section": "driver", "max": 15}, {"section": "brake", "min": 3, "max": 5}]}]
    question = {"id": "q1", "title": title, "prompts": ["Quels partenariats imaginer autrement, et avec qui ? " * 6] * 7,
                "subgroups": {"count": 2, "objective": "Recueillir puis identifier.", "times": times}}
    folder = make_atelier(workshop={"questions": [question]})
    kit = print_kit(folder, tmp_path / "kit.pdf", URL)
    assert kit.warnings == []
    # cover, one attendance sheet (16 rows), poster, post-its, consignes, two grids
    assert len(kit.pages) == 7
    assert [kit.page(f"Question 1 — Sous-groupe {g}") for g in (1, 2)] == [[5], [6]]
    lines = kit.pages[5].split()
    assert [n for n in range(1, 16) if f"{n}." in lines] == list(range(1, 16))


# ---- The command ------------------------------------------------------------------------------

# Runs `atelier kit` in a process whose clock says three days later, in another time zone.
LATER = """
import datetime, sys, time
real = time.time
time.time = lambda: real() + 3 * 86400
class Later(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromtimestamp(time.time(), tz)
datetime.datetime = Later
from pipeline.cli import main
main(sys.argv[1:])
"""


def test_same_inputs_same_bytes_across_processes_and_days(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    args = ["kit", str(EXAMPLE), "--url", URL, "-o"]
    today = subprocess.run([str(REPO / ".venv" / "bin" / "atelier"), *args, str(tmp_path / "a.pdf")],
                           env=env, capture_output=True, text=True, cwd=REPO)
    assert today.returncode == 0, today.stderr
    later = subprocess.run([sys.executable, "-c", LATER, *args, str(tmp_path / "b.pdf")],
                           env={**env, "TZ": "Pacific/Auckland"}, capture_output=True, text=True, cwd=REPO)
    assert later.returncode == 0, later.stderr
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_kit_command_writes_pdf_and_html(make_atelier, tmp_path):
    folder = make_atelier()
    out, html = tmp_path / "sortie" / "kit.pdf", tmp_path / "kit.html"
    result = CliRunner().invoke(main, ["kit", str(folder), "-o", str(out), "--url", URL, "--attendees", "45",
                                       "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Kit d'animation écrit dans {out}\nPage HTML écrite dans {html}\n"
    assert result.stderr == fr("")
    assert out.read_bytes().startswith(b"%PDF-")
    page = html.read_text(encoding="utf-8")
    assert "Question 1 — Sous-groupe 3" in page
    assert "feuille 3/3" in page and ">60<" in page and ">61<" not in page  # 45 people: three sheets of 20


def test_kit_command_warns_without_url(make_atelier, tmp_path):
    result = CliRunner().invoke(main, ["kit", str(make_atelier()), "-o", str(tmp_path / "kit.pdf")])
    assert result.exit_code == 0, result.output
    assert result.stderr == fr("Attention : pas d'adresse de formulaire (--url) ; le kit est imprimé sans QR code.\n")
    assert (tmp_path / "kit.pdf").exists()


def test_kit_command_refuses_a_bad_url(make_atelier, tmp_path):
    out = tmp_path / "kit.pdf"
    result = CliRunner().invoke(main, ["kit", str(make_atelier()), "-o", str(out), "--url", "ftp://atelier.example.org/"])
    assert result.exit_code == 1
    assert result.stderr == (
        fr("Erreur : --url : « ftp://atelier.example.org/ » n'est pas une adresse web ; donnez une adresse en http:// "
        "ou https://, par exemple https://atelier.example.org/moulins-2016/.\n")
    )
    assert not out.exists()
