"""Loading an atelier folder into typed objects, and the contribution trees."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from conftest import contribution, participant
from pipeline.workshop import AtelierError, load_atelier


def test_load_types_and_values(make_atelier):
    folder = make_atelier(
        participants=[participant("p1", name="Élise Martin", listed="true"), participant("p2", listed="false")],
        contributions=[contribution("a", author="p1", text="Idée « forte » ; avec, virgules\net retour")],
    )
    atelier = load_atelier(folder)
    w = atelier.workshop
    assert (w.slug, w.date, w.is_open, w.moderation) == ("essai-2026", dt.date(2026, 11, 20), True, "post")
    assert [q.id for q in w.questions] == ["q1", "q2"]
    q1 = w.question("q1")
    assert q1 is not None and q1.groups == ("1", "2", "3")
    sheet = w.phase("sous-groupe")
    assert sheet is not None and sheet.kind == "sheet" and [g.id for g in w.groups_for(sheet, q1)] == ["1", "2", "3"]
    assert w.targets(sheet, q1)["driver"].min == 3 and w.targets(sheet, q1)["brake"].max == 5
    assert w.question("q3") is None
    [c] = atelier.contributions
    assert c.text == "Idée « forte » ; avec, virgules\net retour"
    assert (c.group, c.parent, c.author, c.created_at) == (None, None, "p1", dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone.utc))
    assert [p.name for p in atelier.listed_participants()] == ["Élise Martin"]
    assert atelier.unlisted_count() == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.text = "autre"  # type: ignore[misc]


def test_points_are_ordered_trees_of_published_contributions(make_atelier):
    rows = [
        contribution("b", position=2, text="B"),
        contribution("a", position=1, text="A"),
        contribution("a2", parent="a", position=2, text="A.2"),
        contribution("a1", parent="a", position=1, text="A.1"),
        contribution("a1x", parent="a1", position=1, text="A.1.x"),
        contribution("h", position=3, text="caché", status="hidden"),
        contribution("h1", parent="h", position=1, text="enfant d'un caché"),
        contribution("p", position=4, text="en attente", status="pending"),
        contribution("w", position=5, text="retiré", status="withdrawn"),
        contribution("g", phase="sous-groupe", group=2, section="brake", text="frein"),
    ]
    atelier = load_atelier(make_atelier(contributions=rows))
    ideas = atelier.points("q1", "brainstorming", "idea")
    walked = [(depth, p.contribution.text) for top in ideas for depth, p in top.walk()]
    assert walked == [(0, "A"), (1, "A.1"), (2, "A.1.x"), (1, "A.2"), (0, "B")]
    assert [p.contribution.id for p in atelier.points("q1", "sous-groupe", "brake", group="2")] == ["g"]
    assert atelier.points("q1", "sous-groupe", "brake", group="1") == ()
    with_pending = atelier.points("q1", "brainstorming", "idea", statuses=("published", "pending"))
    assert [p.contribution.id for p in with_pending] == ["a", "b", "p"]


def test_withdrawn_participants_are_neither_named_nor_counted(make_atelier):
    atelier = load_atelier(
        make_atelier(participants=[participant("p1", status="withdrawn"), participant("p2", listed="false", status="withdrawn")])
    )
    assert (atelier.listed_participants(), atelier.unlisted_count()) == ((), 0)


def test_missing_folder_and_broken_data(make_atelier, tmp_path):
    with pytest.raises(AtelierError, match="ce dossier n'existe pas"):
        load_atelier(tmp_path / "absent")
    folder = make_atelier(contributions=[contribution("a", position="premier")])
    with pytest.raises(AtelierError, match=f"lancez « atelier validate {folder} » pour le détail"):
        load_atelier(folder)
