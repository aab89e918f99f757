"""The rendered compte-rendu, read back from the PDF: content in place, archival facts, safety."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import (
    EXAMPLE, HIDDEN_WORDS, SMALL_CONTRIBUTIONS, SMALL_PARTICIPANTS, SMALL_WORKSHOP, UNNAMED_TEXTS, contribution,
    weasyprint_warnings, write_atelier,
)
from pdf_layout import Layout, normalise
from pipeline.compose import Report, compose
from pipeline.render import ASSETS, AssetFetcher, render_html, safe_href, write_pdf
from pipeline.workshop import load_atelier

REPO = Path(__file__).resolve().parent.parent
ATTACHMENT_NAMES = [
    "atelier.yaml", "datapackage.json", "participants.csv", "contributions.csv",
    "participants.schema.json", "contributions.schema.json", "workshop.schema.json",
]


@dataclass
class Rendered:
    folder: Path
    report: Report
    pdf: Path
    warnings: list[str]
    fetcher: AssetFetcher

    @property
    def reader(self) -> PdfReader:
        return PdfReader(self.pdf)

    def text(self) -> str:
        return "\n".join(page.extract_text() for page in self.reader.pages)


def objects(reader: PdfReader) -> list:
    """Every dictionary and stream of the file, object streams included."""
    from pypdf.generic import DictionaryObject, IndirectObject

    ids = {(n, g) for g, table in reader.xref.items() for n in table} | {(n, 0) for n in reader.xref_objStm}
    found = [IndirectObject(n, g, reader).get_object() for n, g in sorted(ids)]
    return [o for o in found if isinstance(o, DictionaryObject)]



def render(folder: Path, out: Path, *, draft: bool = False) -> Rendered:
    """Render like build_pdf does, keeping the fetcher and every WeasyPrint warning."""
    with weasyprint_warnings() as warnings:
        report = compose(load_atelier(folder))
        fetcher = AssetFetcher()
        write_pdf(render_html(report, draft=draft), report, out, fetcher=fetcher)
    return Rendered(folder, report, out, warnings, fetcher)


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Rendered:
    base = tmp_path_factory.mktemp("small")
    folder = write_atelier(base / "petit-atelier", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS,
                           contributions=SMALL_CONTRIBUTIONS)
    return render(folder, base / "petit.pdf")


@pytest.fixture(scope="session")
def example(tmp_path_factory) -> Rendered:
    return render(EXAMPLE, tmp_path_factory.mktemp("example") / "moulins.pdf")


@pytest.fixture(params=["small", "example"])
def rendered(request) -> Rendered:
    return request.getfixturevalue(request.param)


# ---- Content ---------------------------------------------------------------------------------


def test_no_weasyprint_warning(rendered):
    assert rendered.warnings == []


def expected_columns(report: Report):
    """(question, group, section) → the column's top-level items, as the report outline has them."""
    for chapter in report.chapters:
        for q in chapter.questions:
            for column in q.columns:
                yield (q.number, None, column.rubric), column.items
            for sheet in q.sheets:
                for column in [c for row in sheet.rows for c in row.columns] + list(sheet.boxes):
                    yield (q.number, int(sheet.group), column.rubric), column.items


def test_every_point_in_its_section_column_and_nesting(rendered):
    """Each published point is found, in order, in the column it belongs to, indented under its parent."""
    layout = Layout(rendered.pdf)
    checked = 0
    for key, items in expected_columns(rendered.report):
        column = layout.columns.get(key)
        assert column is not None, f"colonne absente du PDF : {key}"
        cursor = 0

        def check(item, parent_run=None):  # type: ignore[no-untyped-def]
            nonlocal cursor, checked
            found = column.find(item.text, cursor)
            assert found is not None, f"{key} : « {item.text} » absent ou pas à sa place"
            cursor, run = found[0] + 1, found[1]
            if parent_run and (parent_run.page, parent_run.right) == (run.page, run.right):
                assert run.x > parent_run.x + 3, f"{key} : « {item.text} » n'est pas en retrait sous son parent"
            checked += 1
            siblings_x = set()
            for child in item.children:
                child_run = check(child, run)
                if (child_run.page, child_run.right) == (run.page, run.right):
                    siblings_x.add(child_run.x)
            assert len(siblings_x) <= 1, f"{key} : les sous-points de « {item.text} » ne sont pas alignés"
            return run

        for item in items:
            check(item)
    assert checked == len(list(rendered.report.items())) > 0


def test_nothing_unpublished_or_unnamed(small):
    text = small.text()
    flat = normalise(text)
    for word in HIDDEN_WORDS + UNNAMED_TEXTS:
        assert normalise(word) not in flat
    assert "Alix Bernard" in text and "Camille Martin" in text
    assert "et 2 autres participants" in text


def switch_status(folder: Path, changes: dict[str, str]) -> None:
    """Rewrite contributions.csv with some statuses changed (and their updated_at set)."""
    import csv

    path = folder / "contributions.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        fields = list(rows[0])
    for row in rows:
        if row["id"] in changes:
            row["status"] = changes[row["id"]]
            row["updated_at"] = "2016-07-10T08:00:00Z"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_hidden_pending_withdrawn_rows_of_the_example_are_absent(example, tmp_path):
    """On a copy of the example: hide a sous-groupe point that has sub-points, put an idea back in
    moderation, withdraw another; none of them, nor the hidden point's branch, reaches the PDF."""
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / EXAMPLE.name))
    atelier = load_atelier(folder)
    by_parent: dict[str, list[str]] = {}
    for c in atelier.contributions:
        if c.parent:
            by_parent.setdefault(c.parent, []).append(c.id)
    with_children = next(c for c in atelier.contributions if c.phase == "sous-groupe" and c.id in by_parent)
    ideas = [c for c in atelier.contributions if c.phase == "brainstorming" and c.id not in by_parent]
    pending, withdrawn = ideas[0], ideas[-1]
    switch_status(folder, {with_children.id: "hidden", pending.id: "pending", withdrawn.id: "withdrawn"})

    gone = {with_children.id, pending.id, withdrawn.id}
    todo = [with_children.id]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            gone.add(child)
            todo.append(child)
    result = render(folder, tmp_path / "cr.pdf")
    shown = {item.id for item in result.report.items()}
    assert gone.isdisjoint(shown)
    flat = normalise(result.text())
    texts = {c.id: c.text for c in atelier.contributions}
    visible_texts = [normalise(texts[i]) for i in shown]
    for gone_id in gone:
        needle = normalise(texts[gone_id])
        if any(needle in other for other in visible_texts):
            continue  # the same words are also a published point: nothing to prove with them
        assert needle not in flat, f"{gone_id} apparaît dans le PDF"
    assert result.warnings == []


# ---- Archival facts ----------------------------------------------------------------------------


def test_metadata(small):
    reader = small.reader
    info = reader.metadata
    assert info["/Title"] == "Animation des réunions de production d’idées et de projets — compte-rendu, version de travail"
    assert info["/Author"] == "Plateforme Dynamiques territoriales du Massif Central"
    assert info["/Subject"] == "Compte-rendu de l’atelier du 30 juin 2016, Moulins-sur-Allier"
    assert info["/Keywords"] == "développement territorial, recherche-action"
    assert info["/CreationDate"] == "D:20160630000000+00'00"
    assert info["/ModDate"] == "D:20160705090000+00'00"  # the last change in the data, not today
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr"
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"


def test_bookmarks_follow_the_sections(small):
    def titles(entries, depth=0):  # type: ignore[no-untyped-def]
        for entry in entries:
            if isinstance(entry, list):
                yield from titles(entry, depth + 1)
            else:
                yield "  " * depth + entry.title.replace("\u202f", " ").replace("\xa0", " ")

    assert list(titles(small.reader.outline)) == [
        "L’atelier en chiffres",
        "  Brainstorming : points par question",
        "  Sous-groupes : points par rubrique et par sous-groupe",
        "1 Mise en place de l’atelier",
        "  1.1 Préalables",
        "  1.2 Les deux questions posées lors de cette rencontre",
        "2 Mise à plat des idées fortes : brainstorming",
        "  2.1 Question 1 : Le territoire peut-il et/ou doit-il devenir un « nouveau système productif local » ?",
        "  2.2 Question 2 : En quoi la recherche-action peut devenir un appui aux transitions ?",
        "3 Travail en sous-groupes",
        "  3.1 Question 1 : Le territoire peut-il et/ou doit-il devenir un « nouveau système productif local » ?",
        "    Sous-groupe 1",
        "    Sous-groupe 2",
        "  3.2 Question 2 : En quoi la recherche-action peut devenir un appui aux transitions ?",
        "    Sous-groupe 1",
        "4 Annexes",
        "  4.1 Rappel de l’organisation du temps de travail par sous-groupes",
        "    Question 1 : Le territoire peut-il et/ou doit-il devenir un « nouveau système productif local » ?",
        "  4.2 Liste des présents",
        "À propos de ce document",
    ]


def test_pages_are_a4_and_numbered(small):
    pages = small.reader.pages
    assert len(pages) >= 6
    for number, page in enumerate(pages, start=1):
        assert [round(float(v)) for v in page.mediabox[2:]] == [595, 842]
        if number > 1:  # the cover has no running header or footer
            assert f"page {number} / {len(pages)}" in page.extract_text()


def test_attachments_are_the_published_data_package(small):
    reader = small.reader
    attached = {name: contents[0] for name, contents in reader.attachments.items()}
    assert list(attached) == ATTACHMENT_NAMES
    assert attached == dict(small.report.files)
    for name in ("atelier.yaml", "datapackage.json"):
        assert attached[name] == (small.folder / name).read_bytes()
    for name in ("participants.schema.json", "contributions.schema.json", "workshop.schema.json"):
        assert attached[name] == (REPO / "schemas" / name).read_bytes()
    files = [o for o in objects(reader) if o.get("/Type") == "/EmbeddedFile"]
    assert len(files) == len(ATTACHMENT_NAMES)
    for embedded in files:  # dated by the data, not by the day of the build
        assert (embedded["/Params"]["/CreationDate"], embedded["/Params"]["/ModDate"]) == (
            "D:20160630000000Z", "D:20160705090000Z")
    specs = [o for o in objects(reader) if o.get("/Type") == "/Filespec"]
    assert [s["/AFRelationship"] for s in specs] == ["/Source"] * len(ATTACHMENT_NAMES)
    assert len(reader.trailer["/Root"]["/AF"]) == len(ATTACHMENT_NAMES)


def test_example_attachments_equal_its_source_files(example):
    attached = {name: contents[0] for name, contents in example.reader.attachments.items()}
    assert list(attached) == ATTACHMENT_NAMES
    atelier = load_atelier(EXAMPLE)
    everything_published = all(c.status == "published" for c in atelier.contributions)
    for name in ("atelier.yaml", "datapackage.json") + (("contributions.csv",) if everything_published else ()):
        assert attached[name] == (EXAMPLE / name).read_bytes(), name


def test_only_project_assets_were_fetched(rendered):
    assert rendered.fetcher.refused == []
    assert rendered.fetcher.requested
    for url in rendered.fetcher.requested:
        assert url.startswith(ASSETS.as_uri() + "/")


def test_fonts_are_the_shipped_ones(rendered):
    fonts = {
        str(o["/BaseFont"]).split("+", 1)[1]
        for o in objects(rendered.reader)
        if o.get("/Type") == "/Font" and o.get("/Subtype") == "/Type0"
    }
    assert fonts == {"Report-Sans", "Report-Sans-Bold", "Report-Sans-Italic"}


def test_draft_has_a_watermark_on_every_page(tmp_path):
    folder = write_atelier(tmp_path / "brouillon", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS,
                           contributions=SMALL_CONTRIBUTIONS)
    draft = render(folder, tmp_path / "projet.pdf", draft=True)
    pages = draft.reader.pages
    assert all("PROJET — document de travail" in page.extract_text() for page in pages)
    assert draft.warnings == []


# ---- Safety ------------------------------------------------------------------------------------

HOSTILE = [
    '<img src="http://127.0.0.1:9/espion.png">',
    "<link rel=attachment href=file:///etc/passwd>",
    "<style>body { display: none }</style>",
    '<a href="javascript:alert(1)">cliquez</a>',
    "javascript:alert(document.cookie)",
    "{{ 7 * 7 }} {% raw %}",
    "url(file:///etc/hostname) @import 'http://127.0.0.1:9/x.css';",
]


def test_untrusted_text_stays_text(tmp_path):
    rows = [contribution(f"h{i}", position=i + 1, text=text) for i, text in enumerate(HOSTILE)]
    rows.append(contribution("lien", phase="sous-groupe", group=1, section="aside", position=1,
                             text="Un encadré avec son lien", link="https://exemple.org/agrilocal?x=1&y=2"))
    folder = write_atelier(tmp_path / "hostile", contributions=rows)
    result = render(folder, tmp_path / "hostile.pdf")

    squeeze = lambda s: re.sub(r"\s+", "", s.replace("\u2010\n", ""))  # noqa: E731
    text = squeeze(result.text())
    for hostile in HOSTILE:
        assert squeeze(hostile) in text, hostile
    assert result.fetcher.refused == []
    assert all(url.startswith(ASSETS.as_uri() + "/") for url in result.fetcher.requested)

    assert sum(o.get("/Type") == "/EmbeddedFile" for o in objects(result.reader)) == len(ATTACHMENT_NAMES)
    assert list(result.reader.attachments) == ATTACHMENT_NAMES
    uris = [
        annot.get_object()["/A"]["/URI"]
        for page in result.reader.pages
        for annot in page.get("/Annots", [])
        if "/A" in annot.get_object() and "/URI" in annot.get_object()["/A"]
    ]
    assert uris == ["https://exemple.org/agrilocal?x=1&y=2"]


def test_fetcher_refuses_everything_but_assets(tmp_path, caplog):
    """Markup that did reach WeasyPrint still could not make it read a file or the network."""
    from weasyprint import HTML

    secret = tmp_path / "secret.txt"
    secret.write_text("mot de passe", encoding="utf-8")
    foreign = [
        "http://169.254.169.254/latest/meta-data/",
        secret.as_uri(),
        f"{ASSETS.as_uri()}/../render.py",
        "file:///etc/passwd",
        "data:text/css,body{color:red}",
    ]
    html = (
        '<html><head><link rel="stylesheet" href="report.css">'
        f'<link rel="stylesheet" href="{foreign[4]}"><link rel="attachment" href="{foreign[1]}"></head><body>'
        f'<img src="{foreign[0]}"><a rel="attachment" href="{foreign[2]}">x</a>'
        f'<a rel="attachment" href="{foreign[3]}">y</a><p>texte</p></body></html>'
    )
    fetcher = AssetFetcher()
    with caplog.at_level(logging.WARNING, logger="pipeline.render"):
        pdf = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    assert sorted(fetcher.refused) == sorted(foreign)
    assert fetcher.requested[0] == ASSETS.as_uri() + "/report.css"
    import io

    assert not [o for o in objects(PdfReader(io.BytesIO(pdf))) if o.get("/Type") == "/EmbeddedFile"]
    assert b"mot de passe" not in pdf
    refusals = [r.getMessage() for r in caplog.records if r.name == "pipeline.render"]
    assert f"Ressource refusée : {foreign[0]} (seuls les fichiers de pipeline/assets/ sont lus)." in refusals


@pytest.mark.parametrize(
    ("link", "href"),
    [
        ("http://www.agrilocal63.fr/", "http://www.agrilocal63.fr/"),
        ("https://exemple.org/a?b=1&c=2", "https://exemple.org/a?b=1&amp;c=2"),
        ("javascript:alert(1)", None),
        ("HTTP://EXEMPLE.ORG", None),
        ('http://x.org/"onmouseover=alert(1)', None),
        ("ftp://exemple.org/", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_href(link, href):
    assert safe_href(link) == href


# ---- Reproducibility and the command ------------------------------------------------------------

# Runs `atelier build` in a process whose clock says three days later, in another time zone.
LATER = """
import datetime, sys, time
real = time.time
time.time = lambda: real() + 3 * 86400
class Later(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromtimestamp(time.time(), tz)
    @classmethod
    def utcnow(cls):
        return datetime.datetime.utcfromtimestamp(time.time())
datetime.datetime = Later
from pipeline.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("which", ["small", "example"])
def test_same_inputs_same_bytes_across_processes_and_days(which, tmp_path):
    if which == "example":
        folder = EXAMPLE
    else:
        folder = write_atelier(tmp_path / "petit-atelier", workshop=SMALL_WORKSHOP,
                               participants=SMALL_PARTICIPANTS, contributions=SMALL_CONTRIBUTIONS)
    atelier = REPO / ".venv" / "bin" / "atelier"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    today = subprocess.run([str(atelier), "build", str(folder), "-o", str(tmp_path / "a.pdf")],
                           env=env, capture_output=True, text=True, cwd=REPO)
    assert today.returncode == 0, today.stderr
    later = subprocess.run([sys.executable, "-c", LATER, "build", str(folder), "-o", str(tmp_path / "b.pdf")],
                           env={**env, "TZ": "Pacific/Auckland"}, capture_output=True, text=True, cwd=REPO)
    assert later.returncode == 0, later.stderr
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.pdf", "b.pdf")]
    assert digest[0] == digest[1]


def test_build_command_writes_pdf_and_html(small_atelier, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main

    out, html = tmp_path / "sortie" / "cr.pdf", tmp_path / "cr.html"
    result = CliRunner().invoke(main, ["build", str(small_atelier), "-o", str(out), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Compte-rendu écrit dans {out}\nPage HTML écrite dans {html}\n"
    assert out.read_bytes().startswith(b"%PDF-1.7")
    page = html.read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and "Sous-groupe 2" in page


def test_build_command_refuses_invalid_data(make_atelier, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main

    folder = make_atelier(contributions=[contribution("a", group=7, phase="sous-groupe", section="driver")])
    out = tmp_path / "cr.pdf"
    result = CliRunner().invoke(main, ["build", str(folder), "-o", str(out)])
    assert result.exit_code == 1
    assert "le compte-rendu n'a pas été produit." in result.output
    assert not out.exists()


def test_build_pdf_from_an_atelier_with_a_version(small_atelier, tmp_path):
    from pipeline.render import build_pdf

    out = build_pdf(load_atelier(small_atelier), tmp_path / "v3.pdf", version=3, html_out=tmp_path / "v3.html")
    pages = PdfReader(out).pages
    assert "Version 3" in pages[0].extract_text()  # the cover
    assert all("Version 3" in page.extract_text() for page in pages[1:])  # every footer
    assert "<dt>Version</dt><dd>Version 3</dd>" in (tmp_path / "v3.html").read_text(encoding="utf-8")
    assert PdfReader(out).metadata["/Title"].endswith("— compte-rendu, version 3")  # the viewer's properties


def test_the_build_pauses_the_cycle_collector_and_restores_it(tmp_path, monkeypatch):
    """pipeline.render.cycle_collector_paused: no full collection walks the layout while it is
    built; the collector is on again after the build, and one paused before stays paused."""
    import gc

    from pipeline import render as render_module

    seen: list[bool] = []
    finish = render_module.finish_tags
    monkeypatch.setattr(render_module, "finish_tags", lambda document, pdf: (seen.append(gc.isenabled()), finish(document, pdf)))
    folder = write_atelier(tmp_path / "gc", workshop=SMALL_WORKSHOP, participants=SMALL_PARTICIPANTS, contributions=SMALL_CONTRIBUTIONS)
    report = compose(load_atelier(folder))
    assert gc.isenabled()
    write_pdf(render_html(report), report, tmp_path / "gc.pdf")
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        with render_module.cycle_collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
