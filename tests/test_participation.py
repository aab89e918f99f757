"""What people do to an atelier's rows (pipeline.participation), on real files: correct, withdraw, transcribe."""

from __future__ import annotations

import pytest
from conftest import contribution, participant
from webform_helpers import rows, snapshot

from pipeline import participation, schemas
from pipeline.french import plural
from pipeline.participation import CorrectionRefused, Points
from pipeline.points import Line
from pipeline.render import InvalidAtelier, load_valid
from pipeline.validate import validate_atelier
from pipeline.workshop import load_atelier

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
            contribution("a2", parent="a", position=2, text="et les marchés"),
            contribution("z", position=2, text="Un autre point, d'une autre personne"),
        ],
    )


def lines(*items: tuple[int, str]) -> list[Line]:
    return [Line(depth, text, n) for n, (depth, text) in enumerate(items, start=1)]


def by_id(folder):
    return {r["id"]: r for r in rows(folder, "contributions")}


def test_a_row_has_exactly_the_columns_of_the_table_schema():
    row = participation.point_row(
        "c-1", question="q1", phase="brainstorming", group="", section="idea", parent="", position=3,
        text="Texte", status="pending", created_at=STAMP,
    )
    assert tuple(row) == schemas.field_names("contributions")
    assert (row["position"], row["author"], row["updated_at"], row["number"]) == ("3", "", "", "")
    person = participation.signature_row("p-2", participation.person_fields("Anne", None, "habitant", False), STAMP)
    assert tuple(person) == schemas.field_names("participants")
    assert (person["organisation"], person["listed"], person["status"]) == ("", "false", "present")


def test_a_corrected_text_is_moderated_again_and_keeps_its_id_and_place(folder):
    workshop = load_atelier(folder).workshop
    sent = [r for r in rows(folder, "contributions") if r["id"] in ("a", "a1", "a2")]
    wanted = Points("q1", "brainstorming", "", {"idea": lines((0, "Circuits courts"), (1, "avec les cantines scolaires"))})
    added: list[list[str]] = []

    result = participation.correct_points(folder, workshop, sent, {}, wanted, before_adding=added.append, stamp=STAMP)

    after = by_id(folder)
    assert [r["id"] for r in result] == ["a", "a1"]
    assert (after["a"]["status"], after["a"]["updated_at"]) == ("published", "")  # unchanged: untouched
    assert (after["a1"]["text"], after["a1"]["status"], after["a1"]["position"], after["a1"]["updated_at"]) == (
        "avec les cantines scolaires", "pending", "1", STAMP,
    )
    assert (after["a2"]["status"], after["a2"]["updated_at"]) == ("withdrawn", STAMP)  # no longer in the form
    assert after["z"] == {k: str(v) for k, v in contribution("z", position=2, text="Un autre point, d'une autre personne").items()}
    assert added == []
    assert validate_atelier(folder) == []


def test_a_new_point_is_announced_before_it_is_written_and_goes_after_its_siblings(folder):
    workshop = load_atelier(folder).workshop
    sent = [r for r in rows(folder, "contributions") if r["id"] in ("a", "a1", "a2")]
    wanted = Points(
        "q1", "brainstorming", "",
        {"idea": lines((0, "Circuits courts"), (1, "avec les cantines"), (1, "et les marchés"), (1, "et les AMAP"))},
    )
    seen_in_file: list[bool] = []

    def announce(ids: list[str]) -> None:
        seen_in_file.append(any(i in by_id(folder) for i in ids))
        announced.extend(ids)

    announced: list[str] = []
    result = participation.correct_points(folder, workshop, sent, {}, wanted, before_adding=announce, stamp=STAMP)

    new = by_id(folder)[announced[0]]
    assert seen_in_file == [False]
    assert [r["id"] for r in result][:3] == ["a", "a1", "a2"]
    # After a2 (rank 2): the store adds the rank among the sent siblings (3), as for any sending.
    assert (new["parent"], new["position"], new["text"], new["status"]) == ("a", "5", "et les AMAP", "pending")


def test_a_correction_never_rewrites_what_the_team_touched_nor_what_hangs_below_it(folder):
    workshop = load_atelier(folder).workshop
    sent = [r for r in rows(folder, "contributions") if r["id"] in ("a", "a1", "a2")]
    before = snapshot(folder)
    wanted = Points("q1", "brainstorming", "", {"idea": lines((0, "Autre chose"))})

    participation.correct_points(folder, workshop, sent, {"a": participation.CORRECTED}, wanted, stamp=STAMP)

    assert snapshot(folder) == before  # « a » was corrected by the team: a, a1 and a2 are frozen


@pytest.mark.parametrize(
    ("statuses", "team", "reason", "words"),
    [
        (("withdrawn", "withdrawn"), {}, participation.WITHDRAWN, "cette réponse a été retirée entre-temps"),
        (("published", "published"), {"a": participation.HIDDEN}, participation.TEAM_ACTED, "l'équipe d'animation a traité"),
    ],
)
def test_a_correction_made_before_a_withdrawal_or_a_decision_is_refused(statuses, team, reason, words):
    sent = [contribution(i, status=s) for i, s in zip(("a", "a1"), statuses)]
    with pytest.raises(CorrectionRefused) as refused:
        participation.check_unchanged(sent, team, participation.correction_state({}, False))
    assert refused.value.reason == reason
    assert words in str(refused.value)
    assert str(refused.value).endswith("rien n'a été enregistré.")


def test_a_correction_state_is_what_the_team_did_and_nothing_else():
    same = participation.correction_state({"a": participation.HIDDEN, "b": participation.MOVED}, False)
    assert same == participation.correction_state({"b": participation.MOVED, "a": participation.HIDDEN}, False)
    assert same != participation.correction_state({"a": participation.HIDDEN}, False)
    assert same != participation.correction_state({"a": participation.HIDDEN, "b": participation.MOVED}, True)


def test_a_withdrawal_dates_contributions_but_not_people_and_is_done_once(folder):
    assert participation.withdraw(folder, "contributions", ["a", "a1"], stamp=STAMP) == ["a", "a1"]
    assert participation.withdraw(folder, "participants", ["p-1"], stamp=STAMP) == ["p-1"]
    after = by_id(folder)
    assert [(after[i]["status"], after[i]["updated_at"]) for i in ("a", "a1", "a2")] == [
        ("withdrawn", STAMP), ("withdrawn", STAMP), ("published", ""),
    ]
    assert rows(folder, "participants")[0]["status"] == "withdrawn"
    before = snapshot(folder)
    assert participation.withdraw(folder, "contributions", ["a", "a1"], stamp="2026-11-20T16:00:00Z") == []
    assert snapshot(folder) == before


def test_post_its_go_after_the_column_s_points_published_and_credited_to_nobody(folder):
    column = ("q1", "brainstorming", "", "idea")
    ids = iter(f"c-{n}" for n in range(1, 10))
    saved, chain = participation.transcribe(folder, column, "Vélo", False, [], new_id=lambda: next(ids), stamp=STAMP)
    nested, chain = participation.transcribe(folder, column, "  - en ville", False, chain, new_id=lambda: next(ids), stamp=STAMP)
    several, chain = participation.transcribe(
        folder, column, "Bus\n- le soir\nTrain", True, chain, new_id=lambda: next(ids), stamp=STAMP
    )
    after = by_id(folder)
    got = [(after[i]["parent"], after[i]["position"], after[i]["text"]) for i in ("c-1", "c-2", "c-3", "c-4", "c-5")]
    assert got == [("", "3", "Vélo"), ("c-1", "1", "en ville"), ("", "4", "Bus"), ("c-3", "1", "le soir"), ("", "5", "Train")]
    assert {(after[i]["status"], after[i]["author"], after[i]["created_at"]) for i in ("c-1", "c-5")} == {("published", "", STAMP)}
    assert [depth for _row, depth in saved + nested + several] == [0, 1, 0, 1, 0]
    assert chain == ["c-5"]
    assert validate_atelier(folder) == []


def test_only_a_valid_atelier_is_loaded_for_printing(folder):
    assert load_valid(folder).workshop.slug == "essai"
    with (folder / "contributions.csv").open("a", encoding="utf-8") as f:
        f.write("b,q1,brainstorming,,idea,inconnu,1,,Orphelin,,,2026-11-20T10:00:00Z,,published\n")
    with pytest.raises(InvalidAtelier) as refused:
        load_valid(folder)
    assert [str(p) for p in refused.value.problems] == [str(p) for p in validate_atelier(folder)]
    assert str(refused.value) == f"{folder} : {plural(len(refused.value.problems), 'problème')} ; rien n'a été produit."


def test_what_the_team_did_is_read_from_the_rows_themselves(folder):
    from pipeline import moderation

    sent_ids = ("a", "a1", "a2")
    moderation.merge(folder, "z", "a", stamp=STAMP)  # « a » is a duplicate of « z »: its précisions move there
    sent = [r for r in rows(folder, "contributions") if r["id"] in sent_ids]
    host = "Un autre point, d'une autre personne"
    assert participation.team_changes(folder, sent, corrected=set()) == {
        "a": (participation.MERGED, host),
        "a1": (participation.MOVED, host),
        "a2": (participation.MOVED, host),
    }
    participation.withdraw(folder, "contributions", ["a2"], stamp=STAMP)
    sent = [r for r in rows(folder, "contributions") if r["id"] in sent_ids]
    assert set(participation.team_changes(folder, sent, corrected=set())) == {"a", "a1"}  # a withdrawal is the author's


def test_a_hidden_or_corrected_point_is_the_team_s(folder):
    from pipeline import moderation

    moderation.hide(folder, "a1", stamp=STAMP)
    sent = [r for r in rows(folder, "contributions") if r["id"] in ("a", "a1", "a2")]
    assert participation.team_changes(folder, sent, corrected={"a2"}) == {
        "a1": (participation.HIDDEN, ""),
        "a2": (participation.CORRECTED, ""),
    }
    assert [r["id"] for r in participation.editable(sent, {"a1", "a2"})] == ["a"]


@pytest.mark.parametrize("team", [{}, {"a11": participation.HIDDEN}], ids=["withdrawn", "hidden by the team"])
def test_precisions_left_out_of_a_correction_move_with_their_point_to_its_new_question(make_atelier, team):
    """A point corrected to another question takes the précisions the form dropped (withdrawn now or
    before) and those the team hid along: `atelier validate` wants a point and its précisions in one column."""
    folder = make_atelier(
        "essai",
        participants=[participant("p-1")],
        contributions=[
            contribution("a", text="Idée qui change de question"),
            contribution("a1", parent="a", text="précision A"),
            contribution("a11", parent="a1", text="sous-précision B", status="hidden" if team else "published"),
            contribution("a2", parent="a", position=2, text="retirée plus tôt", status="withdrawn"),
        ],
    )
    workshop = load_atelier(folder).workshop
    sent = rows(folder, "contributions")
    wanted = Points("q2", "brainstorming", "", {"idea": lines((0, "Idée qui change de question"), (1, "précision A"))})

    participation.correct_points(folder, workshop, sent, team, wanted, stamp=STAMP)

    after = by_id(folder)
    assert {i: (r["question"], r["status"]) for i, r in after.items()} == {
        "a": ("q2", "published"),
        "a1": ("q2", "published"),
        "a11": ("q2", "hidden" if team else "withdrawn"),
        "a2": ("q2", "withdrawn"),
    }
    assert after["a11"]["updated_at"] == after["a2"]["updated_at"] == STAMP
    assert validate_atelier(folder) == []


def test_a_precision_the_team_merged_in_from_another_sending_moves_with_the_point(make_atelier):
    """Bob's précision, merged by the team under Alice's idea, follows it when Alice moves her idea to another
    question: otherwise `atelier validate` refuses the atelier (a tester's finding)."""
    folder = make_atelier(
        "essai",
        participants=[participant("p-1")],
        contributions=[
            contribution("a", text="L'idée d'Alice"),
            contribution("b", position=2, text="L'idée de Bob", status="hidden"),
            contribution("b1", parent="a", text="la précision de Bob, passée sous l'idée d'Alice"),
        ],
    )
    workshop = load_atelier(folder).workshop
    alice = [r for r in rows(folder, "contributions") if r["id"] == "a"]
    wanted = Points("q2", "brainstorming", "", {"idea": lines((0, "L'idée d'Alice"))})

    participation.correct_points(folder, workshop, alice, {}, wanted, stamp=STAMP)

    after = by_id(folder)
    assert (after["a"]["question"], after["b1"]["question"], after["b1"]["parent"]) == ("q2", "q2", "a")
    assert after["b"]["question"] == "q1"  # Bob's own hidden idea stays where it was
    assert validate_atelier(folder) == []
