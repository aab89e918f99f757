"""The « one point per line, indent to nest » rule of the textareas (form, correction, saisie), and its inverse.

The rule, as the hint under each textarea says it:

- every non-blank line is one point;
- a line that is more indented than the first lines — by leading spaces
  (two spaces = one level), tabs (one tab = one level) or a bullet « - », « – »,
  « • », « * » or « » » followed by a space (one more level) — is a
  précision of the nearest line above that is less indented;
- levels are relative: if every line starts with « - », they are all
  top-level points; a line can go at most one level deeper than the line
  above it, and never deeper than the deepest level the compte-rendu prints
  (`pipeline.schemas.MAX_DEPTH`) — extra indentation is ignored, never
  an error, so no answer is refused for its layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from pipeline.textrules import is_blank

BULLETS = "-–•*»"
_LEAD = re.compile(r"^(?P<indent>[ \t]*)(?:(?P<bullet>[" + re.escape(BULLETS) + r"])(?:[ \t]+|$))?(?P<text>.*)$")


@dataclass(frozen=True)
class Line:
    """One point typed in a textarea: its nesting depth (0 = top level) and its text."""

    depth: int
    text: str
    number: int  # the line number in the textarea, 1-based, for error messages


def _raw_depth(indent: str, bullet: str | None) -> int:
    return indent.count("\t") + indent.count(" ") // 2 + (1 if bullet else 0)


def leading_depth(line: str) -> tuple[int, str]:
    """One line on its own: how many levels its indent and bullet ask for, and its text.

    The facilitator's one-post-it-at-a-time entry nests a line under the
    previous point this way (levels cannot be relative to a single line).
    """
    match = _LEAD.match(line.rstrip())
    assert match is not None  # the pattern matches any line
    return _raw_depth(match["indent"], match["bullet"]), match["text"].strip()


def parse_points(text: str, max_depth: int) -> list[Line]:
    """Split a textarea into points with their depth, following the module's rule.

    `max_depth` is the number of levels allowed (depths 0 … max_depth - 1).
    """
    raw: list[tuple[int, str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LEAD.match(line.rstrip())
        assert match is not None  # the pattern matches any line
        body = match["text"].strip()
        if is_blank(body):
            continue  # the one definition of an empty text (pipeline.textrules)
        raw.append((_raw_depth(match["indent"], match["bullet"]), body, number))
    if not raw:
        return []
    base = min(depth for depth, _, _ in raw)
    lines: list[Line] = []
    previous = -1
    for depth, body, number in raw:
        depth = min(depth - base, previous + 1, max_depth - 1)
        lines.append(Line(depth, body, number))
        previous = depth
    return lines


def format_points(items: Iterable[tuple[int, str]]) -> str:
    """Write points back as text that `parse_points` reads to the same depths."""
    out = []
    for depth, text in items:
        out.append(text if depth == 0 else "  " * (depth - 1) + "- " + text)
    return "\n".join(out)


def nest(
    lines: Iterable[Line],
    root_parent: str,
    ids: Iterator[str],
) -> Iterator[tuple[Line, str, str, int]]:
    """Give each line an id, its parent's id (`root_parent` for top level) and its rank among siblings.

    `ids` supplies the identifiers in reading order, so a correction can
    reuse the ids of the points it replaces.
    """
    stack: list[tuple[int, str]] = []
    ranks: dict[str, int] = {}
    for line in lines:
        while stack and stack[-1][0] >= line.depth:
            stack.pop()
        parent = stack[-1][1] if stack else root_parent
        ranks[parent] = ranks.get(parent, 0) + 1
        point_id = next(ids)
        yield line, point_id, parent, ranks[parent]
        stack.append((line.depth, point_id))


def ids_then_new(reused: Iterable[str], make: Callable[[], str]) -> Iterator[str]:
    """Yield the reused ids first, then fresh ones from `make()` for ever."""
    yield from reused
    while True:
        yield make()
