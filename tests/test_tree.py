"""pipeline.tree: one way to hang précisions under their point, in the report's sibling order, loops stopped."""

from __future__ import annotations

from pipeline import tree


def row(id: str, parent: str = "", position: int = 1, created_at: str = "2016-06-30T09:00:00Z") -> dict[str, str]:
    return {"id": id, "parent": parent, "position": str(position), "created_at": created_at}


def by_parent(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    return tree.children_by_parent(rows, parent_of=lambda r: r["parent"], order=tree.row_order)


def ids(pairs) -> list[tuple[int, str]]:
    return [(depth, r["id"]) for depth, r in pairs]


def test_siblings_follow_position_then_arrival_then_id():
    rows = [
        row("b", position=2),
        row("a2", created_at="2016-06-30T09:05:00Z"),
        row("a1", created_at="2016-06-30T09:01:00Z"),
        row("b1", parent="b"),
        row("a0"),
    ]
    children = by_parent(rows)
    assert [r["id"] for r in children[tree.TOP]] == ["a0", "a1", "a2", "b"]
    assert ids(tree.walk(children, lambda r: r["id"])) == [(0, "a0"), (0, "a1"), (0, "a2"), (0, "b"), (1, "b1")]


def test_descendants_and_height_in_reading_order():
    rows = [row("a"), row("a1", "a"), row("a2", "a", 2), row("a11", "a1"), row("a111", "a11")]
    children = by_parent(rows)
    assert [r["id"] for r in tree.descendants(children, lambda r: r["id"], "a")] == ["a1", "a11", "a111", "a2"]
    assert tree.height(children, lambda r: r["id"], "a") == 3
    assert tree.height(children, lambda r: r["id"], "a2") == 0


def test_a_loop_in_hand_made_data_stops_the_walk():
    rows = [row("x", "y"), row("y", "x")]
    children = by_parent(rows)
    assert ids(tree.walk(children, lambda r: r["id"], "x")) == [(0, "y")]
    assert [r["id"] for r in tree.descendants(children, lambda r: r["id"], "x")] == ["y"]
    assert tree.height(children, lambda r: r["id"], "x") == 1


def test_top_puts_a_point_whose_parent_is_elsewhere_at_the_top():
    rows = [row("mine"), row("reply", parent="someone-else")]
    children = tree.children_by_parent(
        rows, parent_of=lambda r: r["parent"], order=tree.row_order, top=lambda r: r["parent"] != "mine"
    )
    assert [r["id"] for r in children[tree.TOP]] == ["mine", "reply"]


def test_nest_builds_the_nested_values_in_reading_order_and_stops_at_a_loop():
    rows = [row("b", position=2), row("a"), row("a1", "a"), row("x", "y"), row("y", "x")]
    children = by_parent(rows)

    def shape(r, kids):
        return (r["id"], kids)

    assert tree.nest(children, lambda r: r["id"], shape) == (("a", (("a1", ()),)), ("b", ()))
    # x and y hang under each other only: never reached from the top, and one pass round the loop from x.
    assert tree.nest(children, lambda r: r["id"], shape, root="x") == (("y", ()),)
