"""The printable animation kit: posters, sous-groupe grids, post-it sheets and attendance list."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import jinja2
import qrcode  # type: ignore[import-untyped]
import qrcode.constants  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]
from markupsafe import Markup
from weasyprint import HTML  # type: ignore[import-untyped]

from pipeline import durable, schemas
from pipeline.compose import session_text, target_text
from pipeline.fonts import project_fonts_only
from pipeline.tagging import add_alt_texts, finish_tags
from pipeline.french import date_fr
from pipeline.render import ASSETS, AssetFetcher, _source_date_epoch, environment, quick_pdf_writing
from pipeline.workshop import Atelier, AtelierError, Group, Phase, Question, Rubric, Workshop, load_atelier

TEMPLATES = Path(__file__).resolve().parent / "templates" / "kit"

# The template draws a few more writing lines than a grid column holds (8 mm apart
# over 144 mm) and the stylesheet clips the rest, so each column ends at its border.
RULED_LINES = 20
DEFAULT_NUMBERED = 5  # entries of a counted rubric when atelier.yaml sets no target maximum
MAX_NUMBERED = 15  # beyond that an entry would get less than one 8 mm writing line
ROWS_PER_SHEET = 20  # attendance rows per page
PEOPLE_PER_SUBGROUP = 8  # « sous-groupes de 5 à 8 personnes »: enough rows for full groups
MAX_URL_LENGTH = 500  # a QR code beyond that is too dense to scan from paper
_URL_CHARS = re.compile(r"^[!#-;=?-\[\]_a-z~%]+$", re.IGNORECASE)  # RFC 3986 characters, no space or quote


@dataclass(frozen=True)
class KitColumn:
    """A rubric on a group's grid: ruled lines, or numbered entries when it has a target."""

    section: str
    title: str
    hint: str
    count: int  # numbered entries; 0 for plain ruled lines


@dataclass(frozen=True)
class GridHead:
    """Neighbouring columns under the heading they share (« Conditions au changement »), or under none."""

    heading: str
    columns: tuple[KitColumn, ...]


@dataclass(frozen=True)
class SheetKit:
    """The grids of one grouped phase on one question: one page per group."""

    phase: Phase
    groups: tuple[Group, ...]
    heads: tuple[GridHead, ...]

    @property
    def columns(self) -> tuple[KitColumn, ...]:
        return tuple(c for h in self.heads for c in h.columns)


@dataclass(frozen=True)
class QuestionKit:
    """Everything printed for one question: poster, post-it sheets, Temps sheet, grids."""

    number: int
    question: Question
    pooled: tuple[Phase, ...]  # the phases whose post-its are cut out for this question
    sheets: tuple[SheetKit, ...]
    targets: tuple[str, ...]

    @property
    def has_instructions(self) -> bool:
        """A page of instructions for the groups: their objective, Temps or targets, when there are groups."""
        return bool(self.sheets) and bool(self.question.objective.kit or self.question.times or self.targets)

    @property
    def grid_title_size(self) -> str:
        """« small » when the question would take more than two lines above a grid."""
        return "small" if len(self.question.title) > 280 else "normal"

    @property
    def poster_size(self) -> str:
        """The poster's type size, « xl » to « xs », so that a question fills one page."""
        q = self.question
        # Title letters are about twice as big as the prompts'; each prompt also ends a line.
        weight = 2 * len(q.title) + sum(len(p) + 60 for p in q.prompts)
        for size, limit in (("xl", 700), ("l", 1000), ("m", 1600), ("s", 2600)):
            if weight <= limit:
                return size
        return "xs"


@dataclass(frozen=True)
class Kit:
    """The kit's outline: plain values, no markup except the QR code's SVG."""

    workshop: Workshop
    title: str
    date_text: str
    url: str | None
    qr: Markup | None
    attendance_url: str | None  # the émargement page, which the attendance sheet's QR code opens
    attendance_qr: Markup | None
    questions: tuple[QuestionKit, ...]
    sessions: tuple[str, ...]
    roles: tuple[str, ...]
    attendance_sheets: tuple[range, ...]
    votes: tuple[VoteKit, ...] = ()
    plans: tuple[Phase, ...] = ()  # an action-plan sheet each
    statuts: tuple[str, ...] = ()


def check_url(url: str) -> str:
    """Return `url` when it is a plain http(s) address fit for a QR code, else raise AtelierError."""
    parts = urlsplit(url) if _URL_CHARS.match(url) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AtelierError(
            f"--url : « {url} » n'est pas une adresse web ; "
            "donnez une adresse en http:// ou https://, par exemple https://atelier.example.org/moulins-2016/."
        )
    if len(url) > MAX_URL_LENGTH:
        raise AtelierError(
            f"--url : l'adresse fait {len(url)} caractères ; au-delà de {MAX_URL_LENGTH}, "
            "le QR code devient illisible sur papier. Donnez une adresse plus courte."
        )
    return url


def attendance_url(url: str, slug: str, page: str = "emargement") -> str:
    """The émargement page (`/<atelier>/emargement`), or another `page`, of the form whose address is `url`.

    `url` is the atelier's page (« https://h/moulins-2016/ ») or the form's root
    (« https://h/ »); its query and fragment are dropped.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1] != slug:
        path = f"{path}/{slug}"
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/{page}", "", ""))


@dataclass(frozen=True)
class VoteKit:
    """The gommettes instructions of a vote phase: its rule, what is voted on, where to vote online."""

    phase: Phase
    voted: tuple[str, ...]  # « Propositions par groupe — Propositions »
    url: str | None
    qr: Markup | None


def _vote_kit(workshop: Workshop, phase: Phase, url: str | None) -> VoteKit:
    rule = phase.vote
    assert rule is not None
    voted = []
    for phase_id, rubric_id in rule.points:
        target = workshop.phase(phase_id)
        rubric = target.rubric(rubric_id) if target and rubric_id else None
        if target:
            voted.append(f"{target.title} — {rubric.label}" if rubric else target.title)
    vote_url = attendance_url(url, workshop.slug, f"vote/{phase.id}") if url else None
    return VoteKit(phase, tuple(voted), vote_url, qr_svg(vote_url, "QR code du vote en ligne") if vote_url else None)


def qr_svg(url: str, label: str = "QR code de l’adresse du formulaire") -> Markup:
    """The QR code of `url` as inline SVG: vector paths, sized by the stylesheet."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,  # the quiet zone the standard asks for
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(url)
    code.make(fit=True)
    svg = code.make_image().get_image()
    # The page prints the code twice: no id may repeat, and CSS decides the size.
    for element in svg.iter():
        element.attrib.pop("id", None)
    for name in ("width", "height"):
        svg.attrib.pop(name, None)
    svg.set("class", "qr")
    svg.set("role", "img")
    svg.set("aria-label", label)
    return Markup(ET.tostring(svg, encoding="unicode"))


def role_labels() -> tuple[str, ...]:
    """The « Qualité » choices as people read them (pipeline.schemas.role_labels), in the schema's order."""
    return tuple(schemas.role_labels().values())


def _kit_column(workshop: Workshop, phase: Phase, question: Question, rubric: Rubric) -> KitColumn:
    """Numbered entries for a rubric counted somewhere in the phase (« 3 à 5 moteurs »), else ruled lines."""
    target = workshop.targets(phase, question).get(rubric.id)
    counted = any(workshop.targets(phase, q).get(rubric.id) for q in workshop.phase_questions(phase))
    if not counted:
        return KitColumn(rubric.id, rubric.label, rubric.help, 0)
    if target is None:
        return KitColumn(rubric.id, rubric.label, "", DEFAULT_NUMBERED)
    low = target.min or 0
    # « au moins 3 »: room for the usual five.
    count = target.max if target.max else max(low, DEFAULT_NUMBERED)
    return KitColumn(rubric.id, rubric.label, target_text(target, workshop), max(1, min(count, MAX_NUMBERED)))


def _sheet_kit(workshop: Workshop, phase: Phase, question: Question) -> SheetKit:
    heads: list[GridHead] = []
    for rubric in phase.columns:
        column = _kit_column(workshop, phase, question, rubric)
        if heads and heads[-1].heading == rubric.heading and rubric.heading:
            heads[-1] = GridHead(rubric.heading, heads[-1].columns + (column,))
        else:
            heads.append(GridHead(rubric.heading, (column,)))
    return SheetKit(phase, workshop.groups_for(phase, question), tuple(heads))


def attendance_sheets(rows: int) -> tuple[range, ...]:
    """Row numbers of each attendance page: 1–20, 21–40…"""
    pages = max(1, math.ceil(rows / ROWS_PER_SHEET))
    return tuple(range(p * ROWS_PER_SHEET + 1, (p + 1) * ROWS_PER_SHEET + 1) for p in range(pages))


def compose_kit(workshop: Workshop, url: str | None = None, attendees: int | None = None) -> Kit:
    """The kit of `workshop`; `url` (checked) becomes a QR code, `attendees` sizes the list."""
    if url is not None:
        check_url(url)
    if attendees is None:
        attendees = PEOPLE_PER_SUBGROUP * max(
            (len(workshop.groups_for(p, q)) for p in workshop.phases for q in workshop.phase_questions(p)), default=0
        )
    questions = tuple(
        QuestionKit(
            number=number,
            question=q,
            pooled=tuple(
                p for p in workshop.phases if p.for_participants and not p.grouped and q in workshop.phase_questions(p)
            ),
            sheets=tuple(
                _sheet_kit(workshop, p, q)
                for p in workshop.phases
                if p.grouped and q in workshop.phase_questions(p) and workshop.groups_for(p, q)
            ),
            targets=tuple(target_text(t, workshop) for step in q.times for t in step.targets),
        )
        for number, q in enumerate(workshop.questions, start=1)
    )
    return Kit(
        workshop=workshop,
        title=f"Kit d’animation — {workshop.title}",
        date_text=date_fr(workshop.date),
        url=url,
        qr=qr_svg(url) if url else None,
        attendance_url=attendance_url(url, workshop.slug) if url else None,
        attendance_qr=qr_svg(attendance_url(url, workshop.slug), "QR code de la page d’émargement en ligne") if url else None,
        questions=questions,
        sessions=tuple(session_text(workshop, s.id) for s in workshop.sessions),
        roles=role_labels(),
        attendance_sheets=attendance_sheets(attendees),
        votes=tuple(_vote_kit(workshop, p, url) for p in workshop.phases if p.kind == "vote"),
        plans=tuple(p for p in workshop.phases if p.kind == "actions"),
        statuts=tuple(schemas.enum_labels("actions", "statut").values()),
    )


@cache
def _environment() -> jinja2.Environment:
    """The report's environment (autoescape, StrictUndefined, French typography) with the kit's templates."""
    return environment().overlay(loader=jinja2.FileSystemLoader(TEMPLATES))


def render_kit_html(kit: Kit) -> str:
    """The kit as one HTML document whose stylesheet and fonts live in pipeline/assets/."""
    return _environment().get_template("kit.html.j2").render(kit=kit, ruled_lines=RULED_LINES)


def write_kit_pdf(html: str, workshop: Workshop, out: Path, *, fetcher: AssetFetcher | None = None) -> Path:
    """Lay out the kit's HTML and write the PDF to `out` (atomically), fetching only project assets."""
    fetcher = fetcher or AssetFetcher()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # No date goes into the file; the atelier's day only pins fontTools' fallback subsetting.
    day = dt.datetime.combine(workshop.date, dt.time(), dt.timezone.utc)
    with durable.replacing(out) as partial, _source_date_epoch(day), project_fonts_only(), quick_pdf_writing():
        document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher)
        add_alt_texts(document.etree_element)
        document.write_pdf(partial, pdf_tags=True, finisher=finish_tags)
    return out


def build_kit(
    source: str | Path | Atelier,
    out: str | Path,
    *,
    url: str | None = None,
    attendees: int | None = None,
    html_out: str | Path | None = None,
) -> Path:
    """Load (if needed) an atelier, compose its kit and write it to `out` as a PDF."""
    atelier = source if isinstance(source, Atelier) else load_atelier(source)
    html = render_kit_html(compose_kit(atelier.workshop, url, attendees))
    if html_out is not None:
        Path(html_out).parent.mkdir(parents=True, exist_ok=True)
        Path(html_out).write_text(html, encoding="utf-8")
    return write_kit_pdf(html, atelier.workshop, Path(out))


def kit_html(source: str | Path | Atelier, url: str | None = None, attendees: int | None = None) -> str:
    """Load (if needed) an atelier and return its kit as HTML."""
    atelier = source if isinstance(source, Atelier) else load_atelier(source)
    return render_kit_html(compose_kit(atelier.workshop, url, attendees))
