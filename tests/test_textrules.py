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


# ---- the schema's rules, said once (pipeline.textrules.check_cell) -----------------------------

REQUIRED = "valeur obligatoire manquante."
NAME_TOO_LONG = f"« {'x' * 49}… » est trop long (121 caractères, au plus 120)."
TEXT_TOO_LONG = f"« {'é' * 49}… » est trop long (2{NNBSP}001 caractères, au plus 2{NNBSP}000)."  # numbers as French prints them
NOT_UTC = "« 2026-11-20T11:00:00+02:00 » n'est pas une date et heure UTC au format 2016-06-30T09:00:00Z."
ROLE = (
    f"« maire » n'est pas une valeur permise{NNBSP}; valeurs possibles{NNBSP}: elu (élu·e), technicien (agent ou "
    "chargé·e de mission), chercheur (recherche, enseignement), associatif (association, réseau), entreprise "
    "(entreprise, agriculteur), habitant (habitant·e, citoyen·ne), animateur (équipe d'animation), autre."
)
EMARGEMENT = ("/essai/emargement", {"name": "Anne", "organisation": "", "role": "habitant"})
IDEA = ("/essai/idee", {"question": "q1", "text": "Une idée"})
# (table, column, bad value, the layers that see it, the one sentence)
SCHEMA_CASES = [
    ("participants", "name", "", ("form", "store", "validate"), REQUIRED),
    ("participants", "name", "   ", ("form", "store", "validate"), BLANK),  # spaces only: blank, not « missing »
    ("participants", "name", "x" * 121, ("form", "store", "validate"), NAME_TOO_LONG),
    ("contributions", "text", "", ("form", "store", "validate"), REQUIRED),
    ("contributions", "text", "é" * 2001, ("form", "store", "validate"), TEXT_TOO_LONG),
    # Our files write UTC with « Z » (pipeline.workshop.format_datetime): an offset is refused by the store and by
    # validate alike (frictionless alone reads it as a valid datetime). The form never takes a time: it stamps it.
    ("participants", "created_at", "2026-11-20T11:00:00+02:00", ("store", "validate"), NOT_UTC),
    ("contributions", "created_at", "2026-11-20T11:00:00+02:00", ("store", "validate"), NOT_UTC),
    # An enum: each value with its meaning, in the three layers (the store's checks take textrules' words).
    ("participants", "role", "maire", ("form", "store", "validate"), ROLE),
    # A type: the store and validate (the form offers no free field for a position).
    ("contributions", "position", "un", ("store", "validate"), "« un » n'est pas un nombre entier."),
    # A boolean, a link, an identifier, a key naming no row: what the pattern or the key means, in the same words.
    ("participants", "listed", "oui", ("store", "validate"),
     f"« oui » n'est pas un booléen{NNBSP}: écrivez true ou false{NNBSP}; «\u00a0atelier normalize\u00a0» convertit "
     "VRAI, FAUX, oui, non, 1 et 0."),
    ("contributions", "link", "pas une url", ("store", "validate"), "« pas une url » n'est pas une adresse web http:// ou https://."),
    ("contributions", "parent", "nope", ("store", "validate"),
     f"le point parent « nope » n'existe pas dans contributions.csv{NNBSP}; indiquez l'identifiant d'un point existant "
     "ou laissez vide."),
]


@pytest.mark.parametrize(("resource", "column", "value", "layers", "message"), SCHEMA_CASES,
                         ids=[f"{c[0]}.{c[1]}={c[2][:12]!r}" for c in SCHEMA_CASES])
def test_the_schema_rules_have_one_verdict_and_one_sentence(tmp_path, resource, column, value, layers, message):
    url, others = EMARGEMENT if resource == "participants" else IDEA
    verdicts = {}
    if "form" in layers:
        verdicts["form"] = form_verdict(tmp_path / "form", url, column, others, value)
    if "store" in layers:
        verdicts["store"] = store_verdict(tmp_path, resource, column, value)
    if "validate" in layers:
        verdicts["validate"] = validate_verdict(tmp_path, resource, column, value)
    assert verdicts == dict.fromkeys(layers, message)


def test_a_date_is_written_yyyy_mm_dd_by_store_and_validate(tmp_path):
    from pipeline.textrules import check_cell

    said = "« 01/03/2027 » n'est pas une date au format AAAA-MM-JJ (2016-06-30)."
    assert check_cell("actions", "echeance", "01/03/2027").message == said
    assert check_cell("actions", "echeance", "2027-03-01") is None
    assert check_cell("actions", "echeance", "20270301").kind == "date"
    # The store, on the same value (the form reads JJ/MM/AAAA itself and stores AAAA-MM-JJ).
    folder = write_atelier(tmp_path / "essai", contributions=[contribution("c-1")])
    try:
        store.append_rows(folder, "actions", [{"id": "a-1", "phase": "plan", "title": "Lancer", "echeance": "01/03/2027",
                                                "statut": "proposee", "created_at": "2026-11-20T09:00:00Z"}])
    except store.StoreError as e:
        assert str(e).endswith(f"champ « echeance » : {said}"), str(e)
    else:
        raise AssertionError("the store took 01/03/2027")


def test_a_date_time_is_written_in_utc_with_z():
    from pipeline.textrules import check_cell, is_utc_datetime

    assert is_utc_datetime("2016-06-30T09:00:00Z")
    for other in ("2016-06-30T11:00:00+02:00", "2016-06-30T09:00:00+00:00", "2016-06-30T09:00:00", "2016-06-30T09:00Z", "hier"):
        assert not is_utc_datetime(other), other
        assert check_cell("contributions", "updated_at", other).kind == "datetime"
    assert check_cell("contributions", "updated_at", "") is None  # not required
