"""Moderation decisions on real files: each transition, the CSV checked after it, ids kept, refusals in French."""

from __future__ import annotations

import pytest
from conftest import contribution, participant
from webform_helpers import rows, snapshot

from pipeline import moderation
from pipeline.moderation import ModerationError
from pipeline.validate import validate_atelier

NNBSP = "\u202f"
NBSP = "\u00a0"
STAMP = "2026-11-20T15:00:00Z"


@pytest.fixture
def folder(make_atelier):
    return make_atelier(
        "essai",
        workshop={"moderation": "pre"},
        participants=[participant("p-1")],
        contributions=[
            contribution("a", text="Circuits courts"),
            contribution("a1", parent="a", text="avec les cantines"),
            contribution("b", position=2, status="pending", text="Une monnaie locale", author="p-1"),
            contribution("b1", parent="b", status="pending", text="comme à Moulins"),
            contribution("b2", parent="b", position=2, status="hidden", text="hors sujet"),
            contribution("c", position=3, text="Circuit court"),
            contribution("c1", parent="c", text="pour les écoles"),
            contribution("c11", parent="c1", text="et les collèges"),
            contribution("c2", parent="c", position=2, status="pending", text="en attente"),
            contribution("w", position=4, status="withdrawn", text="retirée"),
            contribution("s", phase="sous-groupe", group=1, section="driver", text="Volonté des élus"),
            contribution("q2", question="q2", text="Autre question"),
        ],
    )


def table(folder):
    return {r["id"]: r for r in rows(folder, "contributions")}


def fields(folder, *names):
    return {i: tuple(r[n] for n in names) for i, r in table(folder).items()}


def unchanged_except(before, after, ids):
    return {i: r for i, r in before.items() if i not in ids} == {i: r for i, r in after.items() if i not in ids}


def test_publishing_a_pending_point_publishes_its_pending_precisions(folder):
    before = table(folder)
    outcome = moderation.publish(folder, "b", stamp=STAMP)
    assert outcome.changed == ("b", "b1")
    after = table(folder)
    assert (after["b"]["status"], after["b"]["updated_at"]) == ("published", STAMP)
    assert (after["b1"]["status"], after["b1"]["updated_at"]) == ("published", STAMP)
    assert after["b2"]["status"] == "hidden"  # hidden on purpose: stays hidden
    assert after["b"]["author"] == "p-1" and after["b"]["text"] == "Une monnaie locale"
    assert unchanged_except(before, after, {"b", "b1"})
    assert list(after) == list(before)  # same rows, same order, same ids
    assert validate_atelier(folder) == []


def test_pending_to_hidden_then_published_again(folder):
    moderation.hide(folder, "c2", stamp=STAMP)
    assert table(folder)["c2"]["status"] == "hidden"
    moderation.publish(folder, "c2", stamp="2026-11-20T15:05:00Z")
    assert fields(folder, "status", "updated_at")["c2"] == ("published", "2026-11-20T15:05:00Z")


def test_published_to_hidden_to_published(folder):
    before = table(folder)
    assert moderation.hide(folder, "a", stamp=STAMP).changed == ("a",)
    after = table(folder)
    assert (after["a"]["status"], after["a"]["updated_at"]) == ("hidden", STAMP)
    assert after["a1"] == before["a1"]  # a précision disappears with its point, untouched
    assert unchanged_except(before, after, {"a"})
    assert moderation.publish(folder, "a", stamp=STAMP).changed == ("a",)
    again = table(folder)
    assert again["a"]["status"] == "published"
    assert unchanged_except(before, again, {"a"})
    assert validate_atelier(folder) == []


def test_the_same_decision_twice_changes_nothing_and_says_so(folder):
    moderation.hide(folder, "a", stamp=STAMP)
    before = snapshot(folder)
    outcome = moderation.hide(folder, "a")
    assert outcome.changed == ()
    assert outcome.note == f"Le point «{NBSP}Circuits courts{NBSP}» est déjà masqué."
    assert moderation.publish(folder, "c").note == f"Le point «{NBSP}Circuit court{NBSP}» est déjà publié."
    assert snapshot(folder) == before


def test_publishing_under_a_hidden_point_warns_that_it_stays_out(folder):
    moderation.hide(folder, "c", stamp=STAMP)
    outcome = moderation.publish(folder, "c2", stamp=STAMP)
    assert outcome.note == (
        f"Le point au-dessus, «{NBSP}Circuit court{NBSP}», n'est pas publié{NNBSP}: celui-ci n'apparaîtra qu'avec lui."
    )


def test_edit_keeps_the_id_status_and_place_and_sets_updated_at(folder):
    before = table(folder)
    assert moderation.edit(folder, "b1", "comme à Moulins-sur-Allier\r\n", stamp=STAMP).changed == ("b1",)
    after = table(folder)
    assert after["b1"] == {**before["b1"], "text": "comme à Moulins-sur-Allier", "updated_at": STAMP}
    assert unchanged_except(before, after, {"b1"})
    assert moderation.edit(folder, "b1", " comme à Moulins-sur-Allier ").changed == ()


def test_merge_hides_the_duplicate_and_moves_its_precisions_under_the_kept_point(folder):
    before = table(folder)
    outcome = moderation.merge(folder, "a", "c", text="Circuits courts alimentaires", stamp=STAMP)
    assert outcome.changed == ("a", "c", "c1", "c2")
    after = table(folder)
    assert (after["c"]["status"], after["c"]["updated_at"]) == ("hidden", STAMP)
    assert (after["a"]["text"], after["a"]["updated_at"], after["a"]["status"]) == (
        "Circuits courts alimentaires",
        STAMP,
        "published",
    )
    # after the kept point's own précision (a1, position 1), in their order, statuses kept
    assert fields(folder, "parent", "position", "status", "updated_at")["c1"] == ("a", "2", "published", STAMP)
    assert fields(folder, "parent", "position", "status", "updated_at")["c2"] == ("a", "3", "pending", STAMP)
    assert after["c11"] == before["c11"]  # follows its parent c1
    assert unchanged_except(before, after, {"a", "c", "c1", "c2"})
    assert validate_atelier(folder) == []


def test_merge_without_text_keeps_the_kept_text(folder):
    moderation.merge(folder, "c", "b", stamp=STAMP)
    after = table(folder)
    assert after["c"]["text"] == "Circuit court" and after["c"]["updated_at"] == ""
    assert [(after[i]["parent"], after[i]["position"]) for i in ("b1", "b2")] == [("c", "3"), ("c", "4")]
    assert after["b"]["status"] == "hidden"


@pytest.mark.parametrize(
    "keep, duplicate, message",
    [
        ("a", "a", f"contributions.csv{NNBSP}: un point ne peut pas être fusionné avec lui-même{NNBSP}; rien n'a été modifié."),
        (
            "a",
            "s",
            f"contributions.csv{NNBSP}: «{NBSP}Volonté des élus{NBSP}» et «{NBSP}Circuits courts{NBSP}» ne sont pas dans "
            f"la même colonne (champ «{NBSP}phase{NBSP}»{NNBSP}: «{NBSP}sous-groupe{NBSP}» et «{NBSP}brainstorming{NBSP}»){NNBSP}; "
            "on ne fusionne que des points d'une même colonne. Rien n'a été modifié.",
        ),
        (
            "q2",
            "a",
            f"contributions.csv{NNBSP}: «{NBSP}Circuits courts{NBSP}» et «{NBSP}Autre question{NBSP}» ne sont pas dans "
            f"la même colonne (champ «{NBSP}question{NBSP}»{NNBSP}: «{NBSP}q1{NBSP}» et «{NBSP}q2{NBSP}»){NNBSP}; "
            "on ne fusionne que des points d'une même colonne. Rien n'a été modifié.",
        ),
        (
            "c11",
            "c",
            f"contributions.csv{NNBSP}: l'un de ces deux points est une précision de l'autre{NNBSP}; on ne fusionne pas "
            "un point avec ses propres précisions. Rien n'a été modifié.",
        ),
        (
            "c",
            "c1",
            f"contributions.csv{NNBSP}: l'un de ces deux points est une précision de l'autre{NNBSP}; on ne fusionne pas "
            "un point avec ses propres précisions. Rien n'a été modifié.",
        ),
        (
            "a",
            "w",
            f"contributions.csv{NNBSP}: le point «{NBSP}retirée{NBSP}» a été retiré par son auteur{NNBSP}; l'animation ne "
            "peut plus le publier, le masquer ni le modifier.",
        ),
        (
            "b2",
            "c",
            f"contributions.csv{NNBSP}: le point à garder «{NBSP}hors sujet{NBSP}» est masqué{NNBSP}; republiez-le d'abord. "
            "Rien n'a été modifié.",
        ),
        ("a", "zz", f"contributions.csv{NNBSP}: le point «{NBSP}zz{NBSP}» est introuvable{NNBSP}; rien n'a été modifié."),
    ],
)
def test_merge_refusals_write_nothing(folder, keep, duplicate, message):
    before = snapshot(folder)
    with pytest.raises(ModerationError) as caught:
        moderation.merge(folder, keep, duplicate)
    assert str(caught.value) == message
    assert snapshot(folder) == before


def test_merge_refuses_to_nest_deeper_than_the_report_prints(make_atelier):
    folder = make_atelier(
        "profond",
        contributions=[
            contribution("k"),
            contribution("k1", parent="k"),
            contribution("k2", parent="k1"),
            contribution("d", position=2),
            contribution("d1", parent="d"),
            contribution("d2", parent="d1"),
        ],
    )
    before = snapshot(folder)
    with pytest.raises(ModerationError, match="descendraient à 5 niveaux, au-delà des 4 que le compte-rendu imprime"):
        moderation.merge(folder, "k2", "d")
    assert snapshot(folder) == before
    moderation.merge(folder, "k1", "d")  # 4 levels: allowed
    assert validate_atelier(folder) == []


def test_withdrawn_points_are_never_touched(folder):
    before = snapshot(folder)
    for decide in (moderation.publish, moderation.hide):
        with pytest.raises(ModerationError, match="a été retiré par son auteur"):
            decide(folder, "w")
    with pytest.raises(ModerationError, match="a été retiré par son auteur"):
        moderation.edit(folder, "w", "nouveau")
    assert snapshot(folder) == before


def test_an_empty_text_is_refused(folder):
    with pytest.raises(ModerationError) as caught:
        moderation.edit(folder, "a", "  \n ")
    assert str(caught.value) == f"contributions.csv{NNBSP}: le texte d'un point ne peut pas être vide{NNBSP}; rien n'a été modifié."


def test_merge_candidates_are_the_same_column_shown_and_unrelated(folder):
    found = sorted(r["id"] for r in moderation.merge_candidates(table(folder), "c"))
    assert found == ["a", "a1", "b", "b1"]  # not c's précisions, not hidden b2, not withdrawn w, not q2 or s
