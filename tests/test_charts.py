"""The charts of « L'atelier en chiffres »: counts at every level, one scale, targets as marks, words for each."""

from __future__ import annotations

import re

from pipeline.charts import alt_text, highest, phase_chart
from pipeline.compose import Count, CountRow, PhaseCounts

SHEETS = PhaseCounts(
    phase="sous-groupe",
    title="Sous-groupes",
    grouped=True,
    questions=(
        ("Question 1\u202f: Q1 ?", (
            CountRow("Sous-groupe 1", (Count("driver", "Moteurs", 1, 4, (3, 5)), Count("brake", "Freins", 0, 0, (3, 5)))),
        )),
        ("Question 2\u202f: Q2 ?", (
            CountRow("Sous-groupe 1", (Count("driver", "Moteurs", 2, 2, None), Count("brake", "Freins", 6, 6, None))),
        )),
    ),
    total=12,
    noun=("point", "points"),
)


def bars(svg: str) -> list[float]:
    """Widths of the bars drawn (the rects that are not the background)."""
    return [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', svg)]


def test_nested_points_count_and_read_as_three_plus_two():
    svg = str(phase_chart(SHEETS, highest((SHEETS,))))
    # 1 moteur with 3 précisions under it: « 1 + 3 », two stacked bars, not « 1 » under the target.
    assert ">1 + 3</text>" in svg
    assert ">6</text>" in svg and ">2</text>" in svg


def test_one_scale_across_questions_and_nothing_drawn_for_zero():
    svg = str(phase_chart(SHEETS, highest((SHEETS,))))
    widths = bars(svg)
    # q1: 1 own + 3 nested; q2: 2 and 6; the frein at 0 draws no bar at all.
    assert len(widths) == 4
    own, nested, two, six = widths
    assert abs(two - 2 * own) < 0.02 and abs(six - 6 * own) < 0.02 and abs(nested - 3 * own) < 0.02


def test_the_target_is_two_dashed_marks_with_its_words_not_a_band():
    svg = str(phase_chart(SHEETS, highest((SHEETS,))))
    assert svg.count('stroke-dasharray="2 1.5"') == 4  # min and max, for moteurs and freins of question 1
    assert svg.count("objectif\u202f: 3 à 5") == 2
    assert 'fill="#e9ecef"' not in svg  # no grey band that reads like a grade


def test_each_chart_is_said_in_words():
    words = alt_text(SHEETS)
    assert words == (
        "Sous-groupes. Question 1\u202f: Q1 ? — Sous-groupe 1\u202f: moteurs 1 (et 3 précisions), freins 0. "
        "Question 2\u202f: Q2 ? — Sous-groupe 1\u202f: moteurs 2, freins 6."
    )
    svg = str(phase_chart(SHEETS, highest((SHEETS,))))
    assert f"<title>{words}</title>" in svg and 'role="img"' in svg and "aria-label=" in svg
