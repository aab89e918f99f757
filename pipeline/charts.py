"""Vector charts of « L'atelier en chiffres », drawn as inline SVG from numbers only."""

from __future__ import annotations

from markupsafe import Markup, escape

from pipeline.compose import Count, CountRow, PhaseCounts
from pipeline.fonts import FAMILIES
from pipeline.french import plural

# Column colours, in the rubrics' order; the same on every chart.
COLOURS = ("#3f6e9a", "#7a5c99", "#2f7d4f", "#b4533a", "#8a6d1f", "#1f6f78")
NESTED = "#c9d3dd"  # the précisions stacked after a rubric's own points
FONT = ", ".join(f"'{family}'" for family in FAMILIES)

# The text block of an A4 page is 172 mm (487 pt) wide; the charts take 470 pt.
WIDTH = 470.0
LABEL_W = 96.0  # room for « Sous-groupe 12 » or a short group name
GAP = 8.0
ROW_H = 21.0
BAR_H = 11.0
HEAD_H = 22.0
QUESTION_H = 16.0
TARGET_H = 9.0


def _targets(rows: tuple[CountRow, ...]) -> bool:
    return any(c.target for row in rows[:1] for c in row.counts)


def _num(value: float) -> str:
    """Coordinates with at most two decimals, the same on every machine."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def target_label(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"objectif\u202f: {int(low)} à {int(high)}" if low != high else f"objectif\u202f: {int(low)}"
    if low is not None:
        return f"objectif\u202f: au moins {int(low)}"
    return f"objectif\u202f: au plus {int(high or 0)}"


def _value(count: Count) -> str:
    nested = count.total - count.top
    return f"{count.top} + {nested}" if nested else str(count.top)


def highest(phases: tuple[PhaseCounts, ...]) -> int:
    """The largest number any chart must show: one scale for every chart of the page."""
    values = [1]
    for phase in phases:
        for _, rows in phase.questions:
            for row in rows:
                for c in row.counts:
                    values.append(c.total)
                    if c.target:
                        values.append(c.target[1] or c.target[0] or 0)
    return max(values)


def alt_text(phase: PhaseCounts) -> str:
    """The chart said in words, for readers who do not see it (and the PDF's alternative text)."""
    parts = []
    for heading, rows in phase.questions:
        said = []
        for row in rows:
            counts = ", ".join(
                f"{c.label.lower()} {c.top}" + (f" (et {plural(c.total - c.top, 'précision')})" if c.total > c.top else "")
                for c in row.counts
            )
            said.append(f"{row.label}\u202f: {counts}" if phase.grouped else counts)
        parts.append(f"{heading} — " + "\u202f; ".join(said))
    return f"{phase.title}. " + ". ".join(parts) + "."


def phase_chart(phase: PhaseCounts, scale_max: int) -> Markup:
    """A bar table for one phase: one row per group (or per question), one column per rubric.

    Every bar of the page shares one scale (`scale_max`); a bar stacks a
    rubric's own points and, lighter, the précisions nested under them, and
    its value reads « 3 + 2 ».  A rubric's target is two dashed marks (its
    minimum and maximum) with the words « objectif : 3 à 5 », never a band
    that reads like a grade.  A count of zero draws no bar.  Only numbers and
    the atelier's own labels go into the SVG, all escaped.
    """
    columns = phase.questions[0][1][0].counts if phase.questions and phase.questions[0][1] else ()
    ncols = max(1, len(columns))
    cell_w = (WIDTH - LABEL_W - GAP * (ncols - 1)) / ncols
    bar_room = cell_w - 30.0  # room for the value after the longest bar
    scale = bar_room / max(1, scale_max)
    show_questions = phase.grouped or len(phase.questions) > 1
    height = HEAD_H + 4
    for _, rows in phase.questions:
        height += (QUESTION_H if phase.grouped else 0) + len(rows) * ROW_H + (TARGET_H if _targets(rows) else 0)
    alt = alt_text(phase)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(alt)}" '
        f'width="{_num(WIDTH)}pt" height="{_num(height)}pt" viewBox="0 0 {_num(WIDTH)} {_num(height)}" '
        f'font-family="{FONT}" font-size="8.5"><title>{escape(alt)}</title>'
    ]
    for column, count in enumerate(columns):
        x = LABEL_W + column * (cell_w + GAP)
        colour = COLOURS[column % len(COLOURS)]
        out.append(f'<text x="{_num(x)}" y="10" fill="{colour}" font-weight="bold">{escape(_short(count.label, cell_w))}</text>')
    y = HEAD_H
    for heading, rows in phase.questions:
        if phase.grouped:
            out.append(f'<text x="0" y="{_num(y + 10)}" fill="#222" font-weight="bold">{escape(_short(heading, WIDTH))}</text>')
            y += QUESTION_H
        if _targets(rows):
            for column, count in enumerate(rows[0].counts):
                if count.target:
                    x = LABEL_W + column * (cell_w + GAP)
                    out.append(
                        f'<text x="{_num(x)}" y="{_num(y + 6)}" fill="#495057" font-size="6.5">'
                        f"{escape(target_label(*count.target))}</text>"
                    )
            y += TARGET_H
        top = y
        for row in rows:
            label = row.label if phase.grouped else heading.split("\u202f:")[0]
            out.append(f'<text x="0" y="{_num(y + BAR_H - 1.5)}" fill="#333">{escape(_short(label, LABEL_W - 4))}</text>')
            for column, count in enumerate(row.counts):
                x = LABEL_W + column * (cell_w + GAP)
                colour = COLOURS[column % len(COLOURS)]
                own, nested = count.top * scale, (count.total - count.top) * scale
                out.append(f'<line x1="{_num(x)}" y1="{_num(y - 2)}" x2="{_num(x)}" y2="{_num(y + BAR_H + 2)}" stroke="#9aa3ab" stroke-width="0.6"/>')
                if count.top:
                    out.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(own)}" height="{_num(BAR_H)}" fill="{colour}"/>')
                if count.total > count.top:
                    out.append(f'<rect x="{_num(x + own)}" y="{_num(y)}" width="{_num(nested)}" height="{_num(BAR_H)}" fill="{NESTED}"/>')
                fill = "#222" if count.total else "#8a9199"
                out.append(f'<text x="{_num(x + own + nested + 3)}" y="{_num(y + BAR_H - 1.5)}" fill="{fill}">{escape(_value(count))}</text>')
            y += ROW_H
        # Targets: dashed marks across this question's rows, labelled once under the rubric's name.
        for column, count in enumerate(rows[0].counts if rows else ()):
            if not count.target:
                continue
            x = LABEL_W + column * (cell_w + GAP)
            low, high = count.target
            for bound in (b for b in (low, high) if b):
                bx = x + bound * scale
                out.append(
                    f'<line x1="{_num(bx)}" y1="{_num(top - 3)}" x2="{_num(bx)}" y2="{_num(y - ROW_H + BAR_H + 3)}" '
                    f'stroke="#495057" stroke-width="0.7" stroke-dasharray="2 1.5"/>'
                )
    out.append("</svg>")
    return Markup("".join(out))


def _short(text: str, room: float) -> str:
    """Cut a label to what fits in `room` points at 8.5 pt (about 4.6 pt per character)."""
    fits = max(4, int(room / 4.6))
    return text if len(text) <= fits else text[: fits - 1].rstrip() + "…"
