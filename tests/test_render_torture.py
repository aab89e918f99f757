"""What participants really type, read back from the PDF: every word inside its box, no empty glyph box,
only the project's fonts, the same bytes whatever fonts the host has, tags a screen reader can use."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from conftest import EXAMPLE, SMALL_CONTRIBUTIONS, SMALL_PARTICIPANTS, SMALL_WORKSHOP, weasyprint_warnings, write_atelier
from hostile import ARABIC, HEBREW, LONG_URL, UNDRAWN, write_hostile_atelier
from pipeline.compose import compose
from pipeline.fonts import FAMILIES, FONTS_DIR, SUBSTITUTE, fontconfig_text, printable, undrawable
from pipeline.render import BULLETS, ONE_LINE_EM, AssetFetcher, breakable, direction, fits_one_line, render_html, write_pdf
from pipeline.workshop import load_atelier

REPO = Path(__file__).resolve().parent.parent
MM = 72 / 25.4
PAGE_W, PAGE_H = 595.28, 841.89
TEXT_LEFT, TEXT_RIGHT = 20 * MM, PAGE_W - 18 * MM  # report.css: @page margin 22mm 18mm 20mm 20mm
SLACK = 0.6  # points: rounding of pdftotext's boxes


@dataclass(frozen=True)
class Word:
    page: int
    x1: float
    y1: float
    x2: float
    y2: float
    text: str
    page_width: float = PAGE_W


def words(pdf: Path) -> list[Word]:
    """Each word's box as poppler's `pdftotext -bbox` reads it (points, from the page's top left)."""
    html = subprocess.run(["pdftotext", "-enc", "UTF-8", "-bbox", str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8", "replace")
    found: list[Word] = []
    for page, chunk in enumerate(html.split("<page ")[1:]):
        width = float(re.match(r'width="([\d.]+)"', chunk).group(1))  # type: ignore[union-attr]
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', chunk):
            found.append(Word(page, *(float(v) for v in m.groups()[:4]), m.group(5), width))
    return found


def overlapping(found: list[Word]) -> list[tuple[int, str, str]]:
    """Pairs of words printed over each other on one line of a page."""
    overlaps = []
    for page in {w.page for w in found}:
        on_page = sorted((w for w in found if w.page == page), key=lambda w: w.y1)
        for i, a in enumerate(on_page):
            for b in on_page[i + 1:]:
                if b.y1 >= a.y2 - SLACK:
                    break
                # Same line (boxes of fallback fonts are taller than the line: only a large vertical
                # overlap counts) and overlapping horizontally: one word is printed over another.
                same_line = min(a.y2, b.y2) - max(a.y1, b.y1) > 0.6 * min(a.y2 - a.y1, b.y2 - b.y1)
                if same_line and min(a.x2, b.x2) - max(a.x1, b.x1) > SLACK:
                    overlaps.append((page + 1, a.text, b.text))
    return overlaps


def pages_text(pdf: Path, *options: str) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", *options, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


@dataclass
class Built:
    folder: Path
    pdf: Path
    warnings: list[str]


def build(folder: Path, out: Path) -> Built:
    with weasyprint_warnings() as warnings:
        report = compose(load_atelier(folder))
        write_pdf(render_html(report), report, out, fetcher=AssetFetcher())
    return Built(folder, out, warnings)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("hostile")
    return build(write_hostile_atelier(base / "hostile-2026"), base / "hostile.pdf")


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Built:
    return build(EXAMPLE, tmp_path_factory.mktemp("example") / "moulins.pdf")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("small")
    folder = write_atelier(base / "petit-atelier", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS,
                           contributions=SMALL_CONTRIBUTIONS)
    return build(folder, base / "petit.pdf")


# ---- The render-torture test: every word in its box, no .notdef, our fonts, same bytes ---------


def test_no_weasyprint_warning_not_even_a_notdef(hostile):
    assert hostile.warnings == []


def test_no_word_leaves_the_text_area_or_runs_over_another(hostile):
    found = words(hostile.pdf)
    assert len(found) > 1000
    outside = [w for w in found if w.x1 < TEXT_LEFT - SLACK or w.x2 > TEXT_RIGHT + SLACK or w.y1 < 0 or w.y2 > PAGE_H]
    assert outside == []
    assert overlapping(found) == []


def test_the_kit_of_hostile_text_keeps_every_word_on_its_page(hostile, tmp_path):
    from pipeline.kit import build_kit

    with weasyprint_warnings() as warnings:
        kit = build_kit(hostile.folder, tmp_path / "kit.pdf", url="https://atelier.example.org/hostile-2026/")
    assert warnings == []
    found = words(kit)
    assert len(found) > 500
    margin = 10 * MM  # the kit's narrowest page margin is 12 mm
    assert [w for w in found if w.x1 < margin or w.x2 > w.page_width - margin] == []
    assert overlapping(found) == []


def test_no_font_maps_a_character_to_the_notdef_glyph(hostile):
    """WeasyPrint gives a font that lacks a glyph its own encoding, which sends it to CID 0 (.notdef);
    with every character drawn, every font keeps the identity encoding."""
    reader = PdfReader(hostile.pdf)
    encodings = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            encodings[str(font["/BaseFont"])] = font["/Encoding"]
    assert encodings and set(encodings.values()) == {"/Identity-H"}


def test_only_the_project_fonts_are_embedded_and_they_draw_every_script(hostile):
    listing = subprocess.run(["pdffonts", str(hostile.pdf)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+", 1)[1] for line in listing.splitlines()[2:]}
    allowed = {f.replace(" ", "-") + style for f in FAMILIES for style in ("", "-Bold", "-Italic", "-Bold-Italic")}
    # Text inside the charts' SVG is matched by fontconfig, which knows only the project's
    # files (pipeline.fonts): those keep the name the file gives itself (« Noto Sans Hebrew Bold »).
    allowed |= {
        TTFont(path)["name"].getDebugName(4).replace(" Regular", "").replace(" ", "-")
        for path in FONTS_DIR.glob("*.ttf")
    }
    assert names <= allowed
    assert {"Report-Sans", "Report-Arabic", "Report-Hebrew", "Report-Math", "Noto-Emoji"} <= names


def test_a_character_no_font_draws_is_printed_as_its_code_point(hostile):
    text = "".join(pages_text(hostile.pdf))
    assert SUBSTITUTE.format(ord(UNDRAWN)) == "[U+2D63]"
    assert "[U+2D63]" in text
    assert UNDRAWN not in text


def _hidden_fonts_build(folder: Path, out: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`atelier build` in a mount namespace where the host's font folders are empty."""
    empty = home / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    hide = " && ".join(f"mount --bind {empty} {d}" for d in ("/usr/share/fonts", "/usr/local/share/fonts") if Path(d).is_dir())
    script = f"{hide} && test \"$(fc-list | wc -l)\" = 0 && {REPO / '.venv/bin/atelier'} build {folder} -o {out}"
    env = {k: v for k, v in os.environ.items() if k not in ("FONTCONFIG_FILE", "FONTCONFIG_PATH")}
    env["HOME"] = str(home)  # no ~/.fonts either
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env, cwd=REPO)


def test_same_bytes_with_the_host_fonts_hidden(hostile, tmp_path):
    assert shutil.which("unshare") and shutil.which("fc-list")
    assert subprocess.run(["fc-list"], capture_output=True, text=True).stdout.strip(), "the host has fonts to hide"
    hidden = _hidden_fonts_build(hostile.folder, tmp_path / "hidden.pdf", tmp_path / "home")
    assert hidden.returncode == 0, hidden.stderr
    normal = tmp_path / "normal.pdf"
    subprocess.run([str(REPO / ".venv/bin/atelier"), "build", str(hostile.folder), "-o", str(normal)], check=True,
                   capture_output=True, cwd=REPO)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (normal, tmp_path / "hidden.pdf")]
    assert digest[0] == digest[1]


# ---- Wrapping: addresses whole, no lone fragment, no re-hyphenated compound ------------------


def test_a_web_address_is_never_hyphenated(hostile):
    raw = "".join(pages_text(hostile.pdf, "-raw"))
    joined = raw.replace("\n", "")
    assert LONG_URL in joined
    assert raw.count("\u2010") == len(re.findall(r"\w\u2010\n\w", raw))  # every hyphen the renderer adds ends a line…
    for line in raw.splitlines():
        if line.endswith("\u2010"):  # …and never inside an address
            assert not re.search(r"(https?://|www\.)\S*$", line), line


def test_no_paragraph_ends_on_a_lone_word_fragment(example, hostile):
    for built in (example, hostile):
        lines = "\n".join(pages_text(built.pdf, "-raw")).splitlines()
        for before, after in zip(lines, lines[1:]):
            if before.endswith("\u2010"):
                assert len(after.split()) > 1, f"« {before[-20:]} / {after} »"


def test_titles_do_not_hyphenate_an_already_hyphenated_compound(example):
    for line in "\n".join(pages_text(example.pdf, "-raw")).splitlines():
        assert not re.search(r"\w-\w+\u2010$", line), line


def test_right_to_left_paragraphs_are_set_right_to_left(hostile):
    found = words(hostile.pdf)
    first_arabic = ARABIC.split()[0]
    first_hebrew = HEBREW.split()[0]
    for first in (first_arabic, first_hebrew):
        boxes = [w for w in found if w.text in (first, first[::-1])]  # poppler may give the letters in visual order
        assert boxes
        # In a full-width list the first word of a right-to-left point ends at the right margin.
        assert max(w.x2 for w in boxes) > TEXT_RIGHT - 15 * MM


def test_breakable_escapes_and_marks_addresses_and_last_words():
    html = str(breakable(f"<b>l'idée</b> : {LONG_URL} et changement"))
    assert html.startswith("&lt;b&gt;l’idée&lt;/b&gt;\u202f: ")
    assert f'<span class="unbroken">{LONG_URL.replace("&", "&amp;")}</span>' in html
    assert html.endswith('et <span class="last-word">changement</span>')
    assert str(breakable("9" * 40)) == '<span class="unbroken">' + "9" * 40 + "</span>"
    assert direction(ARABIC) == "rtl" and direction(HEBREW) == "rtl"
    assert direction("« " + ARABIC) == "rtl" and direction("Marché " + ARABIC) == "ltr" and direction("2026") == "ltr"


def test_a_text_that_holds_on_one_line_needs_no_last_word_span():
    short, long = "Une idée, puis un changement", "Une idée qui en entraîne une autre, puis un changement"
    assert fits_one_line(short, ONE_LINE_EM) and not fits_one_line(long, ONE_LINE_EM)
    assert "span" not in str(breakable(short, one_line_em=ONE_LINE_EM))
    assert str(breakable(long, one_line_em=ONE_LINE_EM)).endswith('un <span class="last-word">changement</span>')
    assert str(breakable(short)).endswith('un <span class="last-word">changement</span>')  # width unknown: kept
    # Wide letters count as wide; a character Noto Sans does not draw makes the width unknown.
    assert not fits_one_line("M" * 25, ONE_LINE_EM) and fits_one_line("i" * 25, ONE_LINE_EM)
    assert not fits_one_line(f"{ARABIC[:3]} changement", ONE_LINE_EM)


def test_a_point_takes_its_own_direction_not_its_parents(tmp_path):
    """A French précision under a Hebrew point is set left to right (dir is not inherited)."""
    from conftest import contribution

    folder = write_atelier(
        tmp_path / "dir",
        contributions=[
            contribution("he", text=HEBREW),
            contribution("fr", parent="he", text="Une précision en français"),
        ],
    )
    page = render_html(compose(load_atelier(folder)))
    bullet = "|".join(BULLETS)  # a point's text follows its bullet (pipeline.render.BULLETS)
    items = [(d, t.strip()) for d, t in re.findall(rf'<li dir="(ltr|rtl)">(?:{bullet})?([^<]*)', page)]  # text up to its first tag
    assert [d for d, t in items if t.startswith(HEBREW.split()[0])] == ["rtl"]
    assert [d for d, t in items if t.startswith("Une précision")] == ["ltr"]


def test_the_characters_known_drawn_without_reading_the_fonts_are_drawn():
    from pipeline.fonts import SURELY_DRAWN, _invisible, drawable

    missing = sorted(c for c in SURELY_DRAWN if ord(c) not in drawable() and not _invisible(c))
    assert missing == []


def test_undrawable_characters_and_their_substitute():
    assert undrawable("Jardin 🌱 👩🏽‍🌾 🇫🇷 ❤️ Ελλάδα ∑ ≠ « » \u202f") == []
    assert undrawable(f"a{UNDRAWN}b{UNDRAWN}\ue000") == [UNDRAWN, "\ue000"]
    assert printable(f"tifinagh {UNDRAWN}") == "tifinagh [U+2D63]"


def test_fonts_css_declares_every_shipped_font_in_the_fallback_order():
    css = (FONTS_DIR.parent / "fonts.css").read_text(encoding="utf-8")
    for ttf in FONTS_DIR.glob("*.ttf"):
        assert f'url("fonts/{ttf.name}")' in css, ttf.name
    stack = ", ".join(f'"{f}"' for f in FAMILIES)
    assert css.count(f"font-family: {stack};") == 2  # the page boxes and the document
    assert "<dir>" in fontconfig_text(FONTS_DIR) and "/usr/share/fonts" not in fontconfig_text(FONTS_DIR)


# ---- Layout defects ------------------------------------------------------------------------------


def test_annex_temps_title_does_not_run_into_its_text(example):
    raw = re.sub(r"[^\S\n]+", " ", "\n".join(pages_text(example.pdf, "-raw")))
    assert "Temps 1 : État des lieux de vos pratiques\n" in raw


def test_a_points_bullet_hangs_and_its_wrapped_lines_start_under_its_first_word(example):
    # report.css sets the bullet in the line (text-indent), not as a positioned box: the text must
    # still start 4.2 mm into its column, bullet 0.6 mm in, on the first line as on the next ones.
    found = words(example.pdf)
    first = next(i for i, w in enumerate(found) if w.text == "Les" and found[i + 1].text == "territoires")
    bullet, word = found[first - 1], found[first]
    following = next(w for w in found[first:] if w.y1 > word.y2 - SLACK)
    assert following.text == "avec"  # « …qui vont dans ce sens, / avec des synergies d’acteurs… »
    assert bullet.text == "•" and abs(word.x1 - bullet.x1 - 3.6 * MM) < SLACK
    assert abs(following.x1 - word.x1) < SLACK


def test_a_long_sous_groupe_grid_starts_on_the_page_of_its_question(hostile):
    pages = pages_text(hostile.pdf)
    # Its practices hold 2,000 characters in 8 points: counted in lines, the grid is not « short »,
    # so it is not kept together on the next page behind a page left two-thirds empty.
    first = min(i for i, text in enumerate(pages) if "3.1 Question 1" in text and "Recueillir les pratiques" in text)
    assert "SOUS-GROUPE 1" in pages[first]


def test_a_continuation_page_says_which_question_it_continues(example, hostile):
    for built in (example, hostile):
        for text in pages_text(built.pdf):
            head = text.splitlines()[:4]
            chapter = next((line for line in head if re.search(r"brainstorming|Travail en sous-groupes", line)), None)
            if chapter is None or re.search(r"^\s*[23] (Mise à plat|Travail en sous-groupes)", text, re.M):
                continue
            assert re.search(r"— question \d", chapter), head


def test_the_table_of_contents_lists_every_second_level_heading(example):
    reader = PdfReader(example.pdf)
    toc = pages_text(example.pdf)[0]
    numbered = []

    def walk(entries, level):  # type: ignore[no-untyped-def]
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
            elif level == 2 and (m := re.match(r"(\d+\.\d+) ", entry.title)):
                numbered.append(m.group(1))

    walk(reader.outline, 1)
    assert {"1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2"} <= set(numbered)
    for number in numbered:
        assert re.search(rf"^{re.escape(number)} ", toc, re.M), number


def test_the_liste_des_presents_shows_each_persons_qualite(small):
    text = " ".join(" ".join(pages_text(small.pdf)).split())
    assert "Nom Structure Qualité" in text
    assert "Camille Martin Conseil départemental de l’Allier agent ou chargé·e de mission" in text
    assert "Alix Bernard Université Clermont Auvergne recherche, enseignement" in text


def test_the_colophon_says_how_to_extract_the_files_and_check_the_hash_on_windows(example):
    text = " ".join(pages_text(example.pdf)[-1].split())
    assert "pdfdetach -saveall compte-rendu.pdf" in text
    assert "Pièces jointes" in text
    assert "Get-FileHash" in text and "certutil -hashfile" in text
    assert "sha256sum atelier.yaml contributions.csv participants.csv | sha256sum" in text


def test_the_windows_command_computes_the_fingerprint():
    """The PowerShell line hashes « HASH  NAME » lines joined by LF, with a final LF, in UTF-8: what
    `sha256sum … | sha256sum` hashes, so both give the fingerprint printed above them."""
    report = compose(load_atelier(EXAMPLE))
    published = {name: content.encode("utf-8") if isinstance(content, str) else content for name, content in report.files}
    names = ("atelier.yaml", "contributions.csv", "participants.csv")
    lines = [hashlib.sha256(published[n]).hexdigest() + "  " + n for n in names]
    assert hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest() == report.colophon.fingerprint


# ---- Tags: what a screen reader gets -------------------------------------------------------------


def _structure(reader: PdfReader) -> list:
    found = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        node = node.get_object()
        if not isinstance(node, dict):
            return
        if "/S" in node:
            found.append(node)
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object") and isinstance(kid.get_object(), dict):
                walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_figures_have_alt_text_and_a_box_in_points(example):
    reader = PdfReader(example.pdf)
    figures = [n for n in _structure(reader) if n["/S"] == "/Figure"]
    assert len(figures) == 2  # one chart per phase of the example: brainstorming, sous-groupes
    for figure in figures:
        assert str(figure.get("/Alt", "")).strip()
        x1, y1, x2, y2 = (float(v) for v in figure["/A"]["/BBox"])
        assert TEXT_LEFT - 1 <= x1 < x2 <= TEXT_RIGHT + 1
        assert 20 * MM - 1 <= y1 < y2 <= PAGE_H - 22 * MM + 1  # inside the page's text area, from the bottom


def test_table_header_cells_have_a_scope(example):
    headers = [n for n in _structure(PdfReader(example.pdf)) if n["/S"] == "/TH"]
    assert headers
    assert {str(h["/A"].get("/Scope")) for h in headers} == {"/Column"}


def test_links_are_described_by_their_words_not_their_anchor(example):
    reader = PdfReader(example.pdf)
    described = []
    for page in reader.pages:
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link":
                described.append((str(annotation.get("/Contents", "")), "/Dest" in annotation))
    internal = [text for text, is_internal in described if is_internal]
    assert internal
    for text in internal:
        assert text.startswith("Aller à : ") and not re.fullmatch(r"Aller à : [\w-]+", text), text
    assert "Aller à : 3.1 Question 1" in internal
