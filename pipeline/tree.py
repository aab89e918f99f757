"""Points and their précisions as a tree: the one way to hang children under their parent, for any kind of point.

A point (a CSV row, a `Contribution`) names its parent by id (`parent`,
empty at the top level) and its rank among its siblings (`position`).  The
report, the wall, the moderation page, a receipt and the moderation
decisions all need the same grouping and the same sibling order; they call
`children_by_parent` and walk the result with `walk`, `descendants`,
`height` or `nest`, which stop at a loop that hand-made data may hold.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

T = TypeVar("T")
R = TypeVar("R")
TOP = ""  # the key of the top-level points in `children_by_parent`


def row_order(row: Mapping[str, str]) -> tuple[int, str, str]:
    """A CSV row's place among its siblings, as `Contribution.order`: position, then arrival, then id.

    (`created_at` compares as text: the store writes every stamp in one UTC format.)"""
    return int(row["position"]), row["created_at"], row["id"]


def children_by_parent(
    items: Iterable[T],
    *,
    parent_of: Callable[[T], str | None],
    order: Callable[[T], Any],
    top: Callable[[T], bool] | None = None,
) -> dict[str, list[T]]:
    """Each parent id → its children, siblings sorted by `order`; the top-level ones under `TOP`.

    A point is top-level when it has no parent, or when `top(point)` says so
    (a receipt's point whose parent is not on the receipt, say).
    """
    children: dict[str, list[T]] = {}
    for item in items:
        parent = parent_of(item) or TOP
        if top is not None and top(item):
            parent = TOP
        children.setdefault(parent, []).append(item)
    for kids in children.values():
        kids.sort(key=order)
    return children


def walk(
    children: Mapping[str, list[T]], id_of: Callable[[T], str], root: str = TOP
) -> Iterator[tuple[int, T]]:
    """(depth, point) below `root` in reading order: each point, then its précisions (depth 0 first).

    A point met again on its own branch (a loop in hand-made data) is not
    entered twice."""

    def below(parent: str, depth: int, seen: frozenset[str]) -> Iterator[tuple[int, T]]:
        for kid in children.get(parent, ()):
            kid_id = id_of(kid)
            if kid_id in seen:
                continue
            yield depth, kid
            yield from below(kid_id, depth + 1, seen | {kid_id})

    yield from below(root, 0, frozenset({root}))


def descendants(children: Mapping[str, list[T]], id_of: Callable[[T], str], root: str) -> list[T]:
    """Every point below `root` (its précisions, theirs…), in reading order."""
    return [item for _depth, item in walk(children, id_of, root)]


def height(children: Mapping[str, list[T]], id_of: Callable[[T], str], root: str) -> int:
    """How many levels of précisions hang below `root` (0 for none)."""
    return max((depth + 1 for depth, _item in walk(children, id_of, root)), default=0)


def nest(
    children: Mapping[str, list[T]], id_of: Callable[[T], str], make: Callable[[T, tuple[R, ...]], R], root: str = TOP
) -> tuple[R, ...]:
    """The points below `root` as nested values: `make(point, its nested précisions)` for each, in reading order.

    E.g. `Point(contribution, children)` for the report and the moderation
    queue.  A point met again on its own branch is not entered twice."""

    def below(parent: str, seen: frozenset[str]) -> tuple[R, ...]:
        return tuple(
            make(kid, below(id_of(kid), seen | {id_of(kid)})) for kid in children.get(parent, ()) if id_of(kid) not in seen
        )

    return below(root, frozenset({root}))
