"""One set of text rules (pipeline/textrules.py): the form, the store and `atelier validate` give the same verdict, in the same words."""

from __future__ import annotations

import pytest
from conftest import contribution, participant, write_atelier
from webform_helpers import make_app, make_data, submit, summary_items

from pipeline import store
from pipeline.textrules import check_text, is_blank
from pipeline.validate import validate_atelier

NNBSP = "\u202f"
CONTROL = f"Ce texte contient un caractère invisible interdit (U+{{}}){NNBSP}: retirez-le."
BIDI = f"Ce texte contient un caractère invisible qui inverse le sens de lecture (U+{{}}){NNBSP}: retirez-le."
PRIVATE = (
    f"Ce texte contient un caractère à usage privé (U+{{}}), que les autres appareils et le compte-rendu n'affichent pas{NNBSP}: "
    "retirez-le."
)
BLANK = f"Ce texte ne contient que des espaces ou des caractères invisibles{NNBSP}: écrivez-le en lettres visibles."

CASES = [
    ("Anne\x07Dupont", CONTROL.format("0007")),
    ("Anne\x1b[31m", CONTROL.format("001B")),
    ("\u202eetnoD ennA", BIDI.format("202E")),
    ("Anne \u2066Dupont\u2069", BIDI.format("2066")),
    ("Anne \ue000 Dupont", PRIVATE.format("E000")),
    ("\U000f0001 Anne", PRIVATE.format("F0001")),
    ("\u200b", BLANK),
    ("\u2060\ufeff", BLANK),
    ("\u200b \u200d\u3164", BLANK),
    ("\u00ad\u180e", BLANK),
    ("Anne Dupont", None),
    ("Zoë\u200dé", None),  # a joiner inside visible text is fine
]
# (form URL, form field, its other fields, table, column, other row fields)
LAYERS = [
    ("/essai/emargement", "name", {"organisation": "", "role": "habitant"}, "participants", "name"),
    ("/essai/idee", "text", {"question": "q1"}, "contributions", "text"),
]


def form_verdict(tmp_path, url: str, name: str, others: dict[str, str], value: str) -> str | None:
    make_data(tmp_path)
    client = make_app(tmp_path, RATELIMIT_ENABLED=False).test_client()
    answer = submit(client, url, {**others, name: value})
    if answer.status_code == 303:
        return None
    found = [message.split(f"{NNBSP}: ", 1)[1] for href, message in summary_items(answer.text) if href == f"#{name}"]
    assert found, answer.text
    return found[0]


def store_verdict(tmp_path, resource: str, column: str, value: str) -> str | None:
    folder = write_atelier(tmp_path / "store" / "essai", participants=[participant("p-1")])
    row = participant("p-2", **{column: value}) if resource == "participants" else contribution("c-2", **{column: value})
    try:
        store.append_rows(folder, resource, [row])
    except store.StoreError as e:
        return str(e).split(f"champ « {column} » : ", 1)[1]
    return None


def validate_verdict(tmp_path, resource: str, column: str, value: str) -> str | None:
    people = [participant("p-1")]
    points = [contribution("c-1")]
    if resource == "participants":
        people.append(participant("p-2", **{column: value}))
    else:
        points.append(contribution("c-2", **{column: value}))
    folder = write_atelier(tmp_path / "validate" / "essai", participants=people, contributions=points)
    problems = [p for p in validate_atelier(folder) if p.field == column]
    return problems[0].message if problems else None


@pytest.mark.parametrize(("value", "message"), CASES, ids=[repr(v) for v, _m in CASES])
@pytest.mark.parametrize("layer", LAYERS, ids=[layer[3] for layer in LAYERS])
def test_form_store_and_validate_say_the_same_thing(tmp_path, layer, value, message):
    url, name, others, resource, column = layer
    verdicts = {
        "form": form_verdict(tmp_path / "form", url, name, others, value),
        "store": store_verdict(tmp_path, resource, column, value),
        "validate": validate_verdict(tmp_path, resource, column, value),
    }
    assert verdicts == {"form": message, "store": message, "validate": message}


def test_a_line_that_shows_nothing_is_a_blank_line_of_a_textarea():
    from pipeline.points import parse_points

    assert is_blank("\u200b\u2060\ufeff \u00a0") and not is_blank("a\u200b")
    assert [line.text for line in parse_points("Une idée\n\u200b\n- \u2060\nUne autre", 4)] == ["Une idée", "Une autre"]


def test_tabs_and_line_breaks_belong_to_multi_line_texts_only():
    assert check_text("a\tb\nc", multiline=True) is None
    assert check_text("a\tb", multiline=False).message == CONTROL.format("0009")
    assert check_text("", multiline=False) is None  # emptiness is the schema's « required »
