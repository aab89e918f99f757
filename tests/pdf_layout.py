"""Read a compte-rendu PDF back as a person would: which text sits under which heading, in which column."""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from pypdf import PdfReader

from pipeline.fonts import FONTS_DIR
from pipeline.render import BULLETS

# The content box of a page, from pipeline/assets/report.css (@page margins 22 mm top, 20 mm bottom):
# runs outside it are the running header and footer.
MM = 72 / 25.4
CONTENT_TOP = 841.89 - 22 * MM
CONTENT_BOTTOM = 20 * MM
PAGE_MIDDLE = 595.28 / 2


def normalise(text: str) -> str:
    """Letters and digits only, casefolded: what survives line breaks, hyphenation and typography."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Run:
    """A piece of text drawn on a page, at its baseline's start."""

    page: int
    x: float
    y: float
    text: str
    bold: bool

    @property
    def right(self) -> bool:
        return self.x >= PAGE_MIDDLE


@dataclass(frozen=True)
class Heading:
    title: str
    level: int
    page: int
    top: float


BULLET = re.compile("|".join(re.escape(b) for b in BULLETS))


@cache
def advance(text: str) -> float:
    """Width of `text` in Noto Sans Regular, in em."""
    font = TTFont(FONTS_DIR / "NotoSans-Regular.ttf")
    glyphs, metrics = font.getBestCmap(), font["hmtx"]
    return sum(metrics[glyphs[ord(c)]][0] for c in text) / font["head"].unitsPerEm


def runs(reader: PdfReader) -> list[Run]:
    """The text runs of each page; a point's bullet (pipeline.render.BULLETS, drawn in the same
    run as its text) is a run of its own, so that a point's run starts where its words do."""
    found: list[Run] = []
    for number, page in enumerate(reader.pages):

        def visit(text, cm, tm, font, size, number=number):  # type: ignore[no-untyped-def]
            if not text.strip():
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            name = str(font.get("/BaseFont", "")) if font else ""
            bullet = BULLET.match(text)
            if bullet:
                found.append(Run(number, round(x, 1), round(y, 1), bullet.group().strip(), "Bold" in name))
                x += advance(bullet.group()) * size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
                text = text[bullet.end():]
            found.append(Run(number, round(x, 1), round(y, 1), text.strip(), "Bold" in name))

        page.extract_text(visitor_text=visit)
    return found


def headings(reader: PdfReader) -> list[Heading]:
    """Every bookmark with its level, page and top, in document order."""
    out: list[Heading] = []

    def walk(entries, level):  # type: ignore[no-untyped-def]
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
            else:
                out.append(Heading(entry.title, level, reader.get_destination_page_number(entry), float(entry["/Top"])))

    walk(reader.outline, 1)
    return out


def _in(run: Run, start: Heading, end: Heading | None) -> bool:
    after_start = (run.page, -run.y) > (start.page, -start.top)
    before_end = end is None or (run.page, -run.y) < (end.page, -end.top)
    return after_start and before_end and CONTENT_BOTTOM < run.y < CONTENT_TOP


@dataclass
class Column:
    """The text of one column of the report, in reading order, with where each run starts."""

    runs: list[Run]

    def __post_init__(self) -> None:
        self.text = ""
        self.starts: list[int] = []
        for run in self.runs:
            self.starts.append(len(self.text))
            self.text += normalise(run.text)

    def find(self, text: str, start: int = 0) -> tuple[int, Run] | None:
        """Where `text` begins at or after `start`, and the run it begins in."""
        at = self.text.find(normalise(text), start)
        if at < 0:
            return None
        return at, self.runs[bisect.bisect_right(self.starts, at) - 1]


class Layout:
    """The report's sections 2 and 3 as columns keyed (question, group, section)."""

    # The seed's rubric labels (data/moulins-2016/atelier.yaml), as the grids' column heads print them.
    COLUMN_HEADS = {"Pratiques en cours / exemples": "practice", "Réflexions": "reflection", "Moteurs": "driver", "Freins": "brake"}

    def __init__(self, path: Path) -> None:
        reader = PdfReader(path)
        self.runs = runs(reader)
        self.headings = headings(reader)
        self.columns: dict[tuple[int, int | None, str], Column] = {}
        chapter = ""
        question: int | None = None
        for i, heading in enumerate(self.headings):
            end = self.headings[i + 1] if i + 1 < len(self.headings) else None
            if heading.level == 1:
                chapter = heading.title.split(" ")[0]
                continue
            if heading.level == 2 and (m := re.search(r"Question (\d+)", heading.title)):
                question = int(m[1])
                if chapter == "2":
                    inside = [r for r in self.runs if _in(r, heading, end) and normalise(r.text) != normalise(heading.title)]
                    # One column (report.css), read line by line: a line may hold several runs
                    # (a web address or a last word is a span of its own), left to right.
                    inside.sort(key=lambda r: (r.page, -r.y, r.x))
                    self.columns[(question, None, "idea")] = Column(inside)
            if chapter == "3" and heading.level == 3 and question and (m := re.fullmatch(r"Sous-groupe (\d+)", heading.title)):
                self._sheet(question, int(m[1]), [r for r in self.runs if _in(r, heading, end)])

    def _sheet(self, question: int, group: int, inside: list[Run]) -> None:
        """Split a sous-groupe's runs by the column heads above them (repeated on each page).

        A run belongs to the nearest head above it on its side of the page; a
        row with one rubric left has its head on the left and spans the page.
        """
        heads = [r for r in inside if r.bold and (r.text in self.COLUMN_HEADS or r.text == "ENCADRÉ")]
        by_column: dict[str, list[Run]] = {}
        for run in inside:
            if run in heads or (run.bold and run.text == "CONDITIONS AU CHANGEMENT"):
                continue
            above = [h for h in heads if h.page == run.page and h.y > run.y]
            if not above:
                continue
            nearest = min(h.y for h in above)
            row = [h for h in above if h.y == nearest]  # the heads of the row this run sits in
            same_side = [h for h in row if h.right == run.right] or [h for h in row if not h.right]
            if not same_side:
                continue
            head = same_side[0]
            section = "aside" if head.text == "ENCADRÉ" else self.COLUMN_HEADS[head.text]
            by_column.setdefault(section, []).append(run)
        for section, column_runs in by_column.items():
            column_runs.sort(key=lambda r: (r.page, -r.y, r.x))
            self.columns[(question, group, section)] = Column(column_runs)

    def all_text(self) -> str:
        return normalise(" ".join(r.text for r in self.runs))
