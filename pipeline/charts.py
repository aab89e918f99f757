"""Vector charts of the synthesis page, drawn as inline SVG from numbers only."""

from __future__ import annotations

from markupsafe import Markup, escape

from pipeline.compose import QuestionCounts
from pipeline.fonts import FAMILIES

# One colour per column of a sous-groupe sheet; the same as the sheet's headings.
SERIES = (
    ("practices", "Pratiques", "#3f6e9a"),
    ("reflections", "Réflexions", "#7a5c99"),
    ("drivers", "Moteurs", "#2f7d4f"),
    ("brakes", "Freins", "#b4533a"),
)
TARGET_SECTIONS = {"drivers": "driver", "brakes": "brake"}
FONT = ", ".join(f"'{family}'" for family in FAMILIES)

# The text block of an A4 page is 172 mm (487 pt) wide; the charts take 470 pt.
LABEL_W = 78.0  # room for « Sous-groupe 12 »
CELL_W = 90.0
GAP = 8.0
ROW_H = 21.0
BAR_H = 11.0
HEAD_H = 20.0


def _num(value: float) -> str:
    """Coordinates with at most two decimals, the same on every machine."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _target_label(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"objectif\u202f: {int(low)} à {int(high)}" if low != high else f"objectif\u202f: {int(low)}"
    if low is not None:
        return f"objectif\u202f: au moins {int(low)}"
    return f"objectif\u202f: au plus {int(high or 0)}"


def subgroup_chart(question: QuestionCounts) -> Markup:
    """A bar table: one row per sous-groupe, one column per rubrique, a bar and its count.

    Every column of a question shares one scale so bars compare across
    columns; the target of a rubrique (« 3 à 5 moteurs ») is a shaded band.
    Only numbers and the project's own labels go into the SVG, all escaped.
    """
    targets = {section: (low, high) for section, low, high in question.targets}
    highest = max(
        [1]
        + [getattr(g, key) for g in question.groups for key, _, _ in SERIES]
        + [high or low or 0 for low, high in targets.values()]
    )
    bar_room = CELL_W - 22.0  # leave room for the count after the longest bar
    scale = bar_room / highest
    width = LABEL_W + len(SERIES) * (CELL_W + GAP)
    height = HEAD_H + max(1, len(question.groups)) * ROW_H + 4
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{_num(width)}pt" height="{_num(height)}pt" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'font-family="{FONT}" font-size="8.5">'
    ]
    for column, (key, label, colour) in enumerate(SERIES):
        x = LABEL_W + column * (CELL_W + GAP)
        out.append(
            f'<text x="{_num(x)}" y="12" fill="{colour}" font-weight="bold">{escape(label)}</text>'
        )
        section = TARGET_SECTIONS.get(key)
        if section and section in targets:
            low, high = targets[section]
            out.append(
                f'<text x="{_num(x + CELL_W - 2)}" y="12" fill="#6c757d" font-size="7" text-anchor="end">'
                f"{escape(_target_label(low, high))}</text>"
            )
            start = (low or 0) * scale
            end = (high if high is not None else highest) * scale
            out.append(
                f'<rect x="{_num(x + start)}" y="{_num(HEAD_H - 3)}" width="{_num(max(end - start, 1.5))}" '
                f'height="{_num(len(question.groups) * ROW_H + 2)}" fill="#e9ecef"/>'
            )
    for row, group in enumerate(question.groups):
        y = HEAD_H + row * ROW_H
        out.append(
            f'<text x="0" y="{_num(y + BAR_H - 1.5)}" fill="#333">Sous-groupe {int(group.group)}</text>'
        )
        for column, (key, _, colour) in enumerate(SERIES):
            x = LABEL_W + column * (CELL_W + GAP)
            value = int(getattr(group, key))
            length = value * scale
            out.append(f'<line x1="{_num(x)}" y1="{_num(y - 2)}" x2="{_num(x)}" y2="{_num(y + BAR_H + 2)}" stroke="#9aa3ab" stroke-width="0.6"/>')
            if value:
                out.append(
                    f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(length)}" height="{_num(BAR_H)}" fill="{colour}"/>'
                )
            out.append(
                f'<text x="{_num(x + length + 3)}" y="{_num(y + BAR_H - 1.5)}" fill="#222">{value}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def brainstorm_chart(questions: tuple[QuestionCounts, ...]) -> Markup:
    """One stacked bar per question: ideas, then the précisions nested under them."""
    highest = max([1] + [q.ideas + q.precisions for q in questions])
    label_w, bar_w, count_w = LABEL_W, 250.0, 130.0
    scale = bar_w / highest
    height = max(1, len(questions)) * ROW_H + 4
    width = label_w + bar_w + count_w
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{_num(width)}pt" height="{_num(height)}pt" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'font-family="{FONT}" font-size="8.5">'
    ]
    for row, q in enumerate(questions):
        y = 2 + row * ROW_H
        ideas, precisions = q.ideas * scale, q.precisions * scale
        out.append(f'<text x="0" y="{_num(y + BAR_H - 1.5)}" fill="#333">Question {int(q.number)}</text>')
        out.append(f'<line x1="{_num(label_w)}" y1="{_num(y - 2)}" x2="{_num(label_w)}" y2="{_num(y + BAR_H + 2)}" stroke="#9aa3ab" stroke-width="0.6"/>')
        if q.ideas:
            out.append(f'<rect x="{_num(label_w)}" y="{_num(y)}" width="{_num(ideas)}" height="{_num(BAR_H)}" fill="#1f4e79"/>')
        if q.precisions:
            out.append(
                f'<rect x="{_num(label_w + ideas)}" y="{_num(y)}" width="{_num(precisions)}" height="{_num(BAR_H)}" fill="#8fb3d9"/>'
            )
        out.append(
            f'<text x="{_num(label_w + ideas + precisions + 3)}" y="{_num(y + BAR_H - 1.5)}" fill="#222">'
            f"{int(q.ideas)} idée{'s' if q.ideas != 1 else ''} + {int(q.precisions)} précision{'s' if q.precisions != 1 else ''}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
