"""Render a report outline to HTML, then to an archival PDF/A-3b that carries its own data."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import mimetypes
import os
import re
import unicodedata
import zlib
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Iterator
from unittest import mock
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import pydyf  # type: ignore[import-untyped]
from markupsafe import Markup, escape
from weasyprint import HTML, Attachment  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

from pipeline import charts, durable, french as french_words
from pipeline.compose import Report, compose
from pipeline.fonts import FONTS_DIR, printable, project_fonts_only
from pipeline.tagging import add_alt_texts, finish_tags
from pipeline.french import french, plural
from pipeline.workshop import Atelier, AtelierError, load_atelier

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
TEMPLATES = HERE / "templates" / "report"
PDF_VARIANT = "pdf/a-3b"  # PDF/A-3 is the archival level that keeps non-PDF attachments
SAFE_LINK = re.compile(r"^https?://[^\s<>\"'\\]+$")
# A web address, or a run of more than 30 characters with no space (no French word is that
# long): printed unhyphenated, broken anywhere (report.css, .unbroken), never typeset as words.
UNBROKEN_RUN = re.compile(r"(?:https?://|www\.)[^\s<>\"]+|[^\s]{31,}")
LAST_WORD = re.compile(r"(\S+)(\s*)$")
LAST_WORD_HYPHENATED = 7  # the shortest word report.css hyphenates (hyphenate-limit-chars: 7 3 3)
# A point's bullet by depth, written in the point's own text: its glyph and the no-break spaces
# (U+2007 figure space, U+202F narrow, U+00A0) that bring its advance to about 1.1 em, which
# report.css's hanging indent takes back (ul.points.depth-N > li, text-indent).  Text, not a
# ::before box: at 2,000 points an extra box per point costs 2 s of layout, the glyph nothing.
# Advances in Noto Sans, in em: • 0.376, ‣ 0.368, – 0.5, · 0.268; U+2007 0.572, U+202F 0.166,
# U+00A0 0.26.
BULLETS = ("•\u2007\u202f", "‣\u2007\u202f", "–\u2007", "·\u2007\u00a0")

LOGGER = logging.getLogger(__name__)

ATTACHMENT_DESCRIPTIONS = {
    "atelier.yaml": "Description de l’atelier (questions, déroulé, consignes)",
    "datapackage.json": "Description du paquet de données (Frictionless Data Package)",
    "participants.csv": "Liste des présents publiée (les personnes non nommées y sont anonymisées)",
    "contributions.csv": "Points publiés au compte-rendu",
    "participants.schema.json": "Schéma de participants.csv (Table Schema)",
    "contributions.schema.json": "Schéma de contributions.csv (Table Schema)",
    "workshop.schema.json": "Schéma d’atelier.yaml (JSON Schema)",
}


class AssetFetcher(URLFetcher):
    """Serve the files under pipeline/assets/ and refuse every other URL.

    Contributions are untrusted: even though the templates escape them, the
    renderer must never read a local file or reach the network on their
    behalf.  Each refusal is logged and remembered in `refused`.
    """

    def __init__(self, root: Path = ASSETS) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.root = root.resolve()
        self.requested: list[str] = []
        self.refused: list[str] = []

    def asset(self, url: str) -> Path | None:
        """The asset file that `url` names, or None when it is anything else."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query:
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.requested.append(url)
        path = self.asset(url)
        if path is None:
            self.refused.append(url)
            LOGGER.warning("Ressource refusée : %s (seuls les fichiers de pipeline/assets/ sont lus).", url)
            raise ValueError(f"ressource refusée : {url}")
        kind = {".css": "text/css", ".ttf": "font/ttf"}.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind or "application/octet-stream"})


def _w3c(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def safe_href(url: str | None) -> Markup | None:
    """The link as an href when it is a plain http(s) URL, else None (printed as text only)."""
    if url and SAFE_LINK.match(url):
        return Markup(escape(url))
    return None


def _link_text(text: str, link: str | None, typography: bool) -> Markup:
    """An aside's text, with its link made clickable where the text quotes it."""
    href = safe_href(link)
    if not link or href is None or link not in text:
        return breakable(text, typography)
    before, _, after = text.partition(link)
    return Markup('{}<a href="{}"><span class="unbroken">{}</span></a>{}').format(
        breakable(before, typography), href, printable(link), breakable(after, typography)
    )


# A point narrower than this many em of its own font size holds on one line in the narrowest
# column where points are set: a sous-groupe grid's column (half the text block less its
# padding, 81 mm) at depth 0 leaves 76.8 mm at 9 pt (24.2 em), at depth 3 64.2 mm at 7.7 pt
# (23.6 em).  A one-line point is never hyphenated: its last word needs no span.
ONE_LINE_EM = 22.0


@cache
def _advances() -> dict[int, float]:
    """Each character's advance in Noto Sans Regular, the face of the points' text, in em."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # already loaded by pipeline.fonts

    font = TTFont(FONTS_DIR / "NotoSans-Regular.ttf", lazy=True)
    metrics, em = font["hmtx"], font["head"].unitsPerEm
    return {code: metrics[glyph][0] / em for code, glyph in font.getBestCmap().items()}


def fits_one_line(text: str, width_em: float) -> bool:
    """Whether `text` is narrower than `width_em`, summing Noto Sans's advances; a text with a
    character Noto Sans does not draw (another face, maybe far wider) is said not to fit."""
    advances, width = _advances(), 0.0
    for char in text:
        advance = advances.get(ord(char))
        if advance is None:
            return False
        width += advance
    return width < width_em


def breakable(text: str, typography: bool = True, one_line_em: float = 0.0) -> Markup:
    """A participant's text as markup: escaped, French typography on its words (not on its web
    addresses), each address or long run in <span class="unbroken"> (never hyphenated, broken
    anywhere) and its last word in <span class="last-word"> (never hyphenated, so no paragraph
    ends on a lone fragment such as « ment »), unless the text fits on one line of
    `one_line_em` (em), which is never hyphenated: a span costs 1 ms of layout."""

    def fix(value: str) -> str:
        return printable(french(value) if typography else value)

    out = Markup()
    start = 0
    for run in UNBROKEN_RUN.finditer(text):
        out += Markup(escape(fix(text[start : run.start()])))
        out += Markup('<span class="unbroken">{}</span>').format(printable(run.group()))
        start = run.end()
    tail = fix(text[start:])
    last = LAST_WORD.search(tail)
    # Only a word long enough to be hyphenated (report.css: hyphenate-limit-chars 7), in a text
    # that may wrap, needs the span: fewer inline boxes, a faster layout.
    if (
        last
        and last.start() > 0
        and len(last.group(1)) >= LAST_WORD_HYPHENATED
        and not (one_line_em > 0 and start == 0 and fits_one_line(tail, one_line_em))
    ):
        out += Markup('{}<span class="last-word">{}</span>{}').format(tail[: last.start()], last.group(1), last.group(2))
    else:
        out += Markup(escape(tail))
    return out


# A sous-groupe grid is kept on one page when its longer column holds at most this many lines
# (about a third of a page): longer, it may run over pages rather than leave one mostly empty.
SHORT_GRID = 24
GRID_LINE_CHARS = 48  # characters on one line of a grid column (half the text block, 9 pt)


def column_lines(items: Iterable[Any]) -> int:
    """Estimated lines of a grid column: each point and précision takes its own lines."""
    return sum(1 + (len(point.text) + len(point.link or "")) // GRID_LINE_CHARS for item in items for _, point in item.walk())


def direction(text: str) -> str:
    """« rtl » when the first letter with a strong direction is Arabic or Hebrew, else « ltr »:
    the rule of HTML's dir="auto", which WeasyPrint does not apply itself."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """The templates compiled once per machine, not at every build (0.07 s of each): Jinja's
    own cache, in its private per-user folder of the temporary directory, keyed by each
    template's source.  A cache that cannot be read or written is skipped, never an error."""

    def load_bytecode(self, bucket: Any) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: Any) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache() -> jinja2.BytecodeCache | None:
    try:
        return _TemplateCache()
    except (OSError, RuntimeError):  # no private folder can be made: compile at every build
        return None


@cache
def environment(typography: bool = True) -> jinja2.Environment:
    """The report's Jinja environment: autoescape everything, fail on any missing value,
    and set every printed string in French typography (the data itself is never changed)."""

    def finalize(value: Any) -> Any:
        if typography and isinstance(value, str) and not isinstance(value, Markup):
            return french(value)
        return value

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_template_cache(),
    )
    env.filters["w3c"] = _w3c
    env.filters["href"] = safe_href
    env.filters["link_text"] = lambda text, link: _link_text(text, link, typography)
    env.filters["breakable"] = lambda text, one_line_em=0.0: breakable(text, typography, one_line_em)
    env.filters["direction"] = direction
    env.filters["point_count"] = lambda items: sum(1 for item in items for _ in item.walk())
    env.filters["column_lines"] = column_lines
    env.globals["phase_chart"] = charts.phase_chart
    env.globals["plural"] = french_words.plural  # « 0 point publié », « 2 points publiés »
    env.globals["plural_word"] = french_words.plural_word
    env.globals["chart_scale"] = charts.highest
    env.globals["chart_alt"] = charts.alt_text
    env.globals["SHORT_GRID"] = SHORT_GRID
    env.globals["ONE_LINE_EM"] = ONE_LINE_EM
    env.globals["BULLETS"] = tuple(Markup(bullet) for bullet in BULLETS)  # never re-set by french()
    return env


def render_html(report: Report, *, draft: bool = False) -> str:
    """The compte-rendu as one HTML page whose stylesheet and fonts live in pipeline/assets/."""
    template = environment(report.metadata.lang == "fr").get_template("report.html.j2")
    return template.render(report=report, draft=draft)


def attachments(report: Report) -> list[Attachment]:
    """The published data package, dated by the data so the PDF's bytes do not depend on today."""
    created, modified = report.metadata.created, report.metadata.modified
    return [
        Attachment(
            string=content,
            name=name,
            description=ATTACHMENT_DESCRIPTIONS.get(name, name),
            created=created.astimezone(dt.timezone.utc),
            modified=modified.astimezone(dt.timezone.utc),
            relationship="Source",
        )
        for name, content in report.files
    ]


def _unique_associated_files(document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists each attachment twice in the catalog's /AF (once from the
    EmbeddedFiles name tree, once from its Filespec); PDF/A-3 wants each file once."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def _finish(document: Any, pdf: Any) -> None:
    _unique_associated_files(document, pdf)
    finish_tags(document, pdf)


# zlib level for the PDF's streams.  pydyf 0.13 uses 9, which at 2,000 points spends
# 2.2 s compressing 221 streams; level 6 takes a third of that for a file 4.5 % larger.
PDF_COMPRESSION_LEVEL = 6


def _page_references(pdf: Any) -> tuple[bytes, ...]:
    """pydyf's PDF.page_references, built once per page count instead of once per call."""
    kids = pdf.pages["Kids"]
    cached = pdf.__dict__.get("_atelier_page_references")
    if cached is None or cached[0] != len(kids):
        cached = (len(kids), tuple(f"{number} 0 R".encode("ascii") for number in kids[::3]))
        pdf.__dict__["_atelier_page_references"] = cached
    return cached[1]  # type: ignore[no-any-return]


class _Zlib:
    """What pydyf sees as `zlib` while we write: the same functions at our compression level."""

    compress = staticmethod(zlib.compress)

    @staticmethod
    def compressobj(level: int = PDF_COMPRESSION_LEVEL) -> Any:
        return zlib.compressobj(level=PDF_COMPRESSION_LEVEL)


@contextlib.contextmanager
def quick_pdf_writing() -> Iterator[None]:
    """Cut what writing a tagged PDF costs in pydyf 0.13, with the same structure:

    - WeasyPrint's tagging asks `pdf.page_references` for every structure element
      (26,000 at 2,000 points) and pydyf rebuilds the tuple of all pages each time:
      built once per page count here (−0.4 s at 2,000 points);
    - pydyf compresses every stream at zlib level 9: level 6 here (−0.6 s).
    Both are undone when the block ends.
    """
    references, compressor = pydyf.PDF.page_references, pydyf.zlib
    pydyf.PDF.page_references = property(_page_references)
    pydyf.zlib = _Zlib
    try:
        yield
    finally:
        pydyf.PDF.page_references, pydyf.zlib = references, compressor


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while WeasyPrint lays out and writes a PDF.

    A build allocates millions of small objects (boxes, styles, PDF objects), all alive
    until it ends, and each full collection walks them all again: 0.85 s of 7.4 s at
    2,000 points, 0.1 s of 1.5 s at 200, for 2 % less peak memory.  Reference counting
    still frees everything as usual; the cycles the build leaves are collected afterwards
    by the ordinary collector.  A collector that was already paused stays paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _source_date_epoch(moment: dt.datetime) -> Iterator[None]:
    """fontTools stamps subset fonts with the current time unless SOURCE_DATE_EPOCH is set;
    HarfBuzz subsetting (libharfbuzz-subset0) does not, but keep the belt with the braces."""
    # The standard library sets the variable for the block and restores the environment after it.
    with mock.patch.dict(os.environ, {"SOURCE_DATE_EPOCH": str(int(moment.timestamp()))}):
        yield


def write_pdf(html: str, report: Report, out: Path, *, fetcher: AssetFetcher | None = None) -> Path:
    """Lay out `html` and write the PDF/A-3b with its attachments to `out` (atomically)."""
    fetcher = fetcher or AssetFetcher()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        durable.replacing(out) as partial,
        _source_date_epoch(report.metadata.modified),
        project_fonts_only(),
        quick_pdf_writing(),
        cycle_collector_paused(),
    ):
        document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher)
        add_alt_texts(document.etree_element)
        document.write_pdf(
            partial,
            pdf_variant=PDF_VARIANT,
            pdf_tags=True,
            attachments=attachments(report),
            finisher=_finish,
        )
    return out


class InvalidAtelier(AtelierError):
    """The atelier's data are not valid: nothing is printed from them.

    `problems`: what `atelier validate` says, each naming its file, line and
    field (`pipeline.validate.Problem`); the message counts them.
    """

    def __init__(self, folder: str | Path, problems: Iterable[Any]) -> None:
        self.folder, self.problems = folder, tuple(problems)
        super().__init__(f"{folder} : {plural(len(self.problems), 'problème')} ; rien n'a été produit.")


def load_valid(folder: str | Path) -> Atelier:
    """The atelier of `folder`, loaded only when `atelier validate` finds no problem in it.

    The one rule of every step that prints from the data (the compte-rendu,
    the kit, a release): an invalid atelier produces nothing.  Errors:
    InvalidAtelier (the problems), AtelierError (a file it cannot read).
    """
    from pipeline.validate import validate_atelier

    problems = validate_atelier(folder)
    if problems:
        raise InvalidAtelier(folder, problems)
    return load_atelier(folder)


def build_pdf(
    source: str | Path | Atelier,
    out: str | Path,
    *,
    draft: bool = False,
    version: str | int | None = None,
    html_out: str | Path | None = None,
) -> Path:
    """Load (if needed), compose and render an atelier's compte-rendu to `out`."""
    atelier = source if isinstance(source, Atelier) else load_atelier(source)
    report = compose(atelier, version)
    html = render_html(report, draft=draft)
    if html_out is not None:
        Path(html_out).parent.mkdir(parents=True, exist_ok=True)
        Path(html_out).write_text(html, encoding="utf-8")
    return write_pdf(html, report, Path(out))
