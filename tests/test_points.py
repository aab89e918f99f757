"""The « one point per line, indent to nest » rule of the textareas."""

from __future__ import annotations

import itertools

import pytest

from pipeline.points import format_points, nest, parse_points


def depths(text: str, max_depth: int = 4) -> list[tuple[int, str]]:
    return [(line.depth, line.text) for line in parse_points(text, max_depth)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a\nb", [(0, "a"), (0, "b")]),
        ("a\n  b\n    c\nd", [(0, "a"), (1, "b"), (2, "c"), (0, "d")]),
        ("a\n\tb\n\t\tc", [(0, "a"), (1, "b"), (2, "c")]),
        ("a\n- b\n  - c", [(0, "a"), (1, "b"), (2, "c")]),
        ("a\n» b\n• c\n* d\n– e", [(0, "a"), (1, "b"), (1, "c"), (1, "d"), (1, "e")]),
        ("- a\n- b\n- c", [(0, "a"), (0, "b"), (0, "c")]),  # levels are relative
        ("    a\n      b", [(0, "a"), (1, "b")]),
        ("a\n        b", [(0, "a"), (1, "b")]),  # never more than one level below the line above
        ("a\n b", [(0, "a"), (0, "b")]),  # one space is not a level
        ("a\n\n   \n-\nb", [(0, "a"), (0, "b")]),  # blank lines and lone bullets are skipped
        ("-3 °C en hiver\n-x", [(0, "-3 °C en hiver"), (0, "-x")]),  # a dash glued to a word is text
        ("a\r\n- b\r\n", [(0, "a"), (1, "b")]),
        ("a\n- b\n  - c\n    - d\n      - e", [(0, "a"), (1, "b"), (2, "c"), (3, "d"), (3, "e")]),
    ],
)
def test_parse(text, expected):
    assert depths(text) == expected


def test_line_numbers_count_blank_lines():
    assert [line.number for line in parse_points("a\n\nb", 4)] == [1, 3]


def test_format_is_the_inverse_of_parse():
    items = [(0, "a"), (1, "b"), (2, "c"), (1, "d"), (0, "e")]
    assert depths(format_points(items)) == items


def test_nest_gives_parents_and_ranks_and_reuses_ids_first():
    ids = itertools.chain(["old1", "old2"], (f"new{n}" for n in itertools.count(1)))
    got = [(line.text, pid, parent, rank) for line, pid, parent, rank in nest(parse_points("a\n- b\n- c\nd", 4), "", ids)]
    assert got == [("a", "old1", "", 1), ("b", "old2", "old1", 1), ("c", "new1", "old1", 2), ("d", "new2", "", 2)]
