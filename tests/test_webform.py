"""The participant web form through Flask's test client: pages, saving, messages, corrections, closing."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from webform_helpers import (
    SUBMISSION_INPUT,
    CSRF_INPUT,
    NBSP,
    NNBSP,
    csrf_token,
    make_app,
    make_data,
    rows,
    snapshot,
    submit,
    summary_items,
    text_of,
)

from pipeline import schemas
from pipeline.validate import validate_atelier


@pytest.fixture
def folder(tmp_path):
    return make_data(tmp_path)


@pytest.fixture
def app(tmp_path, folder):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


# ---- pages ---------------------------------------------------------------


def test_index_lists_open_then_closed_ateliers(tmp_path, folder, client):
    make_data(tmp_path, "ancien", status="closed", title="Atelier de 2015", date="2015-05-01")
    page = client.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Ateliers ouverts Atelier d’essai 20 novembre 2026 — Salle des fêtes de Saint-Essai" in text
    assert "Ateliers clos Atelier de 2015 1er mai 2015" in text
    assert 'href="/essai-2026/"' not in page.text and 'href="/essai/"' in page.text


def test_atelier_home_page_says_when_where_what_and_what_to_do(client):
    page = client.get("/essai/")
    text = text_of(page.text)
    assert "vendredi 20 novembre 2026 — Salle des fêtes de Saint-Essai" in text
    assert f"Que faire maintenant{NNBSP}?" in text
    for url in ("/essai/emargement", "/essai/idee", "/essai/fiche"):
        assert f'href="{url}"' in page.text
    assert "Le territoire peut-il devenir un système productif local ? Quels partenariats imaginer autrement ?" in text
    assert '<html lang="fr">' in page.text


def test_unknown_atelier_is_a_french_404(client):
    for url in ("/inconnu/", "/inconnu/idee", "/Essai/", "/.git/", "/essai%2F..%2F/"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "introuvable" in page.text or "Il n’y a pas" in page.text or "Il n&#39;y a pas" in page.text
    page = client.get("/inconnu/idee")
    assert f"Il n'y a pas d'atelier «{NBSP}inconnu{NBSP}»." in text_of(page.text)


# ---- émargement -----------------------------------------------------------


def test_emargement_form_offers_the_schema_roles_in_french_and_an_unchecked_consent(client):
    page = client.get("/essai/emargement").text
    enum = schemas.field("participants", "role")["constraints"]["enum"]
    assert re.findall(r'<option value="([^"]*)"', page) == ["", *enum]
    assert '<option value="elu">Élu·e</option>' in page
    consent = re.search(r"<input[^>]*id=\"listed\"[^>]*>", page).group(0)
    assert "checked" not in consent and 'type="checkbox"' in consent
    assert "Apparaître dans la liste des présents" in page
    assert "sinon, vous serez seulement compté·e".lower() in text_of(page).lower()
    assert 'autocomplete="name"' in page and 'autocomplete="organization"' in page


def test_emargement_is_saved_and_acknowledged(client, folder):
    sent = submit(client, "/essai/emargement", {"name": "Anne Dupont", "organisation": "Mairie", "role": "elu"})
    assert sent.status_code == 303
    receipt = client.get(sent.headers["Location"])
    assert receipt.status_code == 200
    text = text_of(receipt.text)
    assert f"Merci{NNBSP}! C'est enregistré." in text
    assert "Nom Anne Dupont Structure Mairie Qualité Élu·e Liste des présents Non, vous êtes seulement compté·e." in text
    [row] = rows(folder, "participants")
    assert {k: row[k] for k in ("name", "organisation", "role", "listed", "status")} == {
        "name": "Anne Dupont",
        "organisation": "Mairie",
        "role": "elu",
        "listed": "false",
        "status": "present",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["created_at"])
    assert validate_atelier(folder) == []


def test_consent_checked_is_stored_as_true(client, folder):
    submit(client, "/essai/emargement", {"name": "Paul", "role": "habitant", "listed": "y"})
    assert rows(folder, "participants")[0]["listed"] == "true"


# ---- idea -----------------------------------------------------------------


def test_idea_with_precisions_is_one_nested_batch(client, folder):
    sent = submit(
        client,
        "/essai/idee",
        {"question": "q2", "text": "Créer un conseil local", "details": "avec les habitants\n- tirés au sort\n\net les élus"},
    )
    assert sent.status_code == 303
    table = rows(folder, "contributions")
    assert [(r["text"], r["position"], r["section"], r["phase"], r["group"], r["question"]) for r in table] == [
        ("Créer un conseil local", "1", "idea", "brainstorming", "", "q2"),
        ("avec les habitants", "1", "idea", "brainstorming", "", "q2"),
        ("tirés au sort", "1", "idea", "brainstorming", "", "q2"),
        ("et les élus", "2", "idea", "brainstorming", "", "q2"),
    ]
    idea, first, sub, second = table
    assert (idea["parent"], first["parent"], sub["parent"], second["parent"]) == ("", idea["id"], first["id"], idea["id"])
    assert {r["status"] for r in table} == {"published"}
    assert validate_atelier(folder) == []
    receipt = client.get(sent.headers["Location"]).text
    assert (
        '<li class="niveau-0"><span dir="auto">Créer un conseil local</span></li>'
        '<li class="niveau-1"><span dir="auto">avec les habitants</span></li>'
    ) in receipt


def test_pre_moderation_keeps_ideas_pending_and_says_so(tmp_path):
    folder = make_data(tmp_path, moderation="pre")
    client = make_app(tmp_path).test_client()
    assert "publiés après validation" in client.get("/essai/idee").text
    sent = submit(client, "/essai/idee", {"question": "q1", "text": "Une idée"})
    assert rows(folder, "contributions")[0]["status"] == "pending"
    text = text_of(client.get(sent.headers["Location"]).text)
    assert "Votre contribution apparaîtra après validation par l'équipe d'animation." in text


# ---- sous-groupe sheet ----------------------------------------------------


SHEET_Q1 = "/essai/fiche?temps=sous-groupe&question=q1&groupe="


def test_the_sheet_page_offers_each_question_its_own_groups(client):
    """A question with 2 sous-groupes offers 2, not the 3 of its neighbour."""
    page = client.get("/essai/fiche").text
    links = re.findall(r'href="/essai/fiche\?temps=sous-groupe&amp;question=(q\d)&amp;groupe=(\d+)"', page)
    assert links == [("q1", "1"), ("q1", "2"), ("q1", "3"), ("q2", "1"), ("q2", "2")]


def test_sheet_shows_the_indent_rule_and_only_its_question_s_targets(client):
    page = client.get(SHEET_Q1 + "2").text
    text = text_of(page)
    assert f"Un point par ligne. Pour une précision, commencez la ligne par «{NBSP}-{NBSP}»" in text
    assert f"Objectif{NNBSP}: 3 à 5 moteurs." in text and f"Objectif{NNBSP}: 3 à 5 freins." in text
    assert 'aria-describedby="driver-aide regle-points"' in page
    assert f"Fiche — Sous-groupe 2" in text and "système productif local" in text and "recherche-action" not in text
    q2 = text_of(client.get("/essai/fiche?temps=sous-groupe&question=q2&groupe=1").text)
    assert "Objectif" not in q2  # q2 sets no target: none of q1's is repeated there


@pytest.mark.parametrize(
    "query, message",
    [
        ("temps=sous-groupe&question=q2&groupe=3", f"« 3 » n'est pas un sous-groupe de la question q2 au temps « sous-groupe »{NNBSP}; sous-groupes possibles{NNBSP}: 1 (Sous-groupe 1), 2 (Sous-groupe 2)."),
        ("temps=sous-groupe&question=q1&groupe=abc", f"« abc » n'est pas un sous-groupe de la question q1 au temps « sous-groupe »{NNBSP}; sous-groupes possibles{NNBSP}: 1 (Sous-groupe 1), 2 (Sous-groupe 2), 3 (Sous-groupe 3)."),
        ("temps=sous-groupe&question=q9&groupe=1", f"la question « q9 » n'existe pas dans atelier.yaml (questions{NNBSP}: q1, q2)."),
        ("temps=brainstorming&question=q1&groupe=1", f"Le temps « brainstorming » n'a pas de fiche de sous-groupe{NNBSP}; temps possibles{NNBSP}: sous-groupe."),
    ],
)
def test_an_undeclared_sheet_is_refused_naming_the_ids_that_exist(client, folder, query, message):
    def plain(text: str) -> str:
        return text.replace(NNBSP, " ").replace(NBSP, " ")

    before = snapshot(folder)
    shown = client.get(f"/essai/fiche?{query}")
    assert shown.status_code == 404 and plain(message) in plain(text_of(shown.text))
    token = csrf_token(client, SHEET_Q1 + "1")
    sent = client.post(f"/essai/fiche?{query}", data={"csrf_token": token, "practice": "Un point"})
    assert sent.status_code == 400
    assert plain(f"Rien n'a été enregistré : {message}") in plain(text_of(sent.text))
    assert snapshot(folder) == before



def test_a_blank_form_is_the_same_page_for_everyone_but_a_working_csrf_token(tmp_path, folder, app):
    """Blank forms are rendered once and kept (webform/pages.py): same bytes as a fresh render, own token."""
    fresh = make_app(tmp_path, TEMPLATES_AUTO_RELOAD=True)  # renders every time, as when editing templates
    submissions = set()
    for url in ("/essai/emargement", "/essai/idee", SHEET_Q1 + "2"):
        for lang in ("fr", "en"):
            pages = []
            for server in (app, app, fresh):
                visitor = app.test_client() if server is app else fresh.test_client()
                html = visitor.get(f"{url}{'&' if '?' in url else '?'}lang={lang}").text
                submission = SUBMISSION_INPUT.search(html).group(1)
                pages.append((visitor, html.replace(submission, ""), CSRF_INPUT.search(html).group(1)))
                submissions.add(submission)
            assert len({token for _v, _h, token in pages}) == 3
            assert len({html.replace(token, "") for _v, html, token in pages}) == 1
    assert len(submissions) == 18  # each visitor's page has its own submission token
    visitor, _html, token = pages[1]  # the second visitor got the kept page of the sheet
    sent = visitor.post(SHEET_Q1 + "2", data={"csrf_token": token, "driver": "Un moteur"})
    assert sent.status_code == 303



def test_a_kept_blank_form_is_never_served_under_another_root_url(app):
    """Behind a proxy that mounts the app under a prefix, the links of a kept page follow the prefix."""
    for root in ("", "/atelier", "/autre", "/atelier"):
        page = app.test_client().get("/essai/idee", base_url=f"http://localhost{root}/").text
        assert f'href="{root}/static/atelier.css"' in page and f'href="{root}/"' in page

def test_a_kept_blank_form_follows_atelier_yaml_and_never_hides_a_message(tmp_path, folder, client):
    assert "Atelier d’essai" in client.get("/essai/idee").text
    make_data(tmp_path, title="Atelier renommé")
    assert "Atelier renommé" in client.get("/essai/idee").text
    client.post("/essai/idee", data={"csrf_token": CSRF_INPUT.search(client.get("/essai/idee").text).group(1), "question": "q1", "text": "Une idée"})
    page = client.get("/essai/idee").text  # the redirection to the receipt was not followed
    assert f"Merci{NNBSP}! C'est enregistré." in text_of(page)
    assert "Merci" not in client.get("/essai/idee").text


def test_sheet_is_saved_column_by_column_with_nesting(client, folder):
    sent = submit(
        client,
        SHEET_Q1 + "2",
        {
            "practice": "Marchés de producteurs\n  - tous les samedis\n\tà Moulins",
            "reflection": "",
            "driver": "- Volonté des élus\n- Demande des habitants",
            "brake": "Coût\n» du foncier",
        },
    )
    assert sent.status_code == 303
    table = rows(folder, "contributions")
    got = [(r["section"], r["text"], r["position"], r["group"], r["phase"]) for r in table]
    assert got == [
        ("practice", "Marchés de producteurs", "1", "2", "sous-groupe"),
        ("practice", "tous les samedis", "1", "2", "sous-groupe"),
        ("practice", "à Moulins", "2", "2", "sous-groupe"),
        ("driver", "Volonté des élus", "1", "2", "sous-groupe"),
        ("driver", "Demande des habitants", "2", "2", "sous-groupe"),
        ("brake", "Coût", "1", "2", "sous-groupe"),
        ("brake", "du foncier", "1", "2", "sous-groupe"),
    ]
    parents = [r["parent"] for r in table]
    assert parents == ["", table[0]["id"], table[0]["id"], "", "", "", table[5]["id"]]
    assert validate_atelier(folder) == []
    text = text_of(client.get(sent.headers["Location"]).text)
    assert "Sous-groupe 2 Pratiques en cours / exemples Marchés de producteurs tous les samedis à Moulins" in text


# ---- validation messages (exact French, nothing written) ------------------

LONG = "x" * 121
REQUIRED = "valeur obligatoire manquante."  # a column's `required`, in the store's and validate's words (pipeline.textrules)
BLANK = f"Ce texte ne contient que des espaces ou des caractères invisibles{NNBSP}: écrivez-le en lettres visibles."
ROLES = (
    f"n'est pas une valeur permise{NNBSP}; valeurs possibles{NNBSP}: elu (élu·e), technicien (agent ou chargé·e de mission), "
    "chercheur (recherche, enseignement), associatif (association, réseau), entreprise (entreprise, agriculteur), "
    "habitant (habitant·e, citoyen·ne), animateur (équipe d'animation), autre."
)
VALID_EMARGEMENT = {"name": "Anne", "organisation": "", "role": "elu"}
VALID_IDEA = {"question": "q1", "text": "Une idée", "details": ""}
VALID_SHEET = {"practice": "Un point", "reflection": "", "driver": "", "brake": ""}
SHEET_1 = "fiche?temps=sous-groupe&question=q1&groupe=1"

CASES = [
    ("emargement", VALID_EMARGEMENT, {"name": "   "}, "name", "Prénom et nom", BLANK),
    ("emargement", VALID_EMARGEMENT, {"name": LONG}, "name", "Prénom et nom", f"« {'x' * 49}… » est trop long (121 caractères, au plus 120)."),
    ("emargement", VALID_EMARGEMENT, {"organisation": "o" * 161}, "organisation", "Structure (collectivité, association, entreprise…)", f"« {'o' * 49}… » est trop long (161 caractères, au plus 160)."),
    ("emargement", VALID_EMARGEMENT, {"role": ""}, "role", "Qualité", REQUIRED),
    ("emargement", VALID_EMARGEMENT, {"role": "pirate"}, "role", "Qualité", f"« pirate » {ROLES}"),
    ("emargement", VALID_EMARGEMENT, {"name": "Anne\x07"}, "name", "Prénom et nom", f"Ce texte contient un caractère invisible interdit (U+0007){NNBSP}: retirez-le."),
    ("emargement", VALID_EMARGEMENT, {"name": "Anne\nDupont"}, "name", "Prénom et nom", f"Ce texte contient un caractère invisible interdit (U+000A){NNBSP}: retirez-le."),
    ("emargement", VALID_EMARGEMENT, {"name": "\u200b\u2060\ufeff"}, "name", "Prénom et nom", f"Ce texte ne contient que des espaces ou des caractères invisibles{NNBSP}: écrivez-le en lettres visibles."),
    ("idee", VALID_IDEA, {"text": "\u200b \u2060"}, "text", "Votre idée", f"Ce texte ne contient que des espaces ou des caractères invisibles{NNBSP}: écrivez-le en lettres visibles."),
    ("emargement", VALID_EMARGEMENT, {"name": "Anne\u202eDupont"}, "name", "Prénom et nom", f"Ce texte contient un caractère invisible qui inverse le sens de lecture (U+202E){NNBSP}: retirez-le."),
    ("idee", VALID_IDEA, {"text": ""}, "text", "Votre idée", REQUIRED),
    ("idee", VALID_IDEA, {"text": "é" * 2001}, "text", "Votre idée", f"« {'é' * 49}… » est trop long (2{NNBSP}001 caractères, au plus 2{NNBSP}000)."),
    ("idee", VALID_IDEA, {"question": "q9"}, "question-0", "Question", "Choisissez une des valeurs proposées."),
    ("idee", VALID_IDEA, {"question": ""}, "question-0", "Question", REQUIRED),
    ("idee", VALID_IDEA, {"details": "ok\n" + "y" * 2001}, "details", "Précisions (facultatif)", f"Ligne 2{NNBSP}: « {'y' * 49}… » est trop long (2{NNBSP}001 caractères, au plus 2{NNBSP}000)."),
    ("idee", VALID_IDEA, {"details": "\n".join(["p"] * 61)}, "details", "Précisions (facultatif)", "Au plus 60 points (vous en avez écrit 61)."),
    ("idee", VALID_IDEA, {"text": "ligne\rperdue"}, "text", "Votre idée", f"Ce texte contient un retour chariot (U+000D) au lieu d'un saut de ligne{NNBSP}: retirez-le, ou lancez «\u00a0atelier normalize\u00a0» sur un fichier enregistré par un tableur."),
    ("idee", VALID_IDEA, {"details": "ok\nAnne \u202eetnoD"}, "details", "Précisions (facultatif)", f"Ligne 2{NNBSP}: Ce texte contient un caractère invisible qui inverse le sens de lecture (U+202E){NNBSP}: retirez-le."),
    ("idee", VALID_IDEA, {"details": "a\x00b"}, "details", "Précisions (facultatif)", f"Ce texte contient un caractère invisible interdit (U+0000){NNBSP}: retirez-le."),
    (SHEET_1, VALID_SHEET, {"practice": "  \n - \n"}, "practice", "Pratiques en cours / exemples", "Remplissez au moins une rubrique de la fiche."),
    (SHEET_1, VALID_SHEET, {"brake": "\n".join(["f"] * 61)}, "brake", "Freins (conditions au changement)", "Au plus 60 points (vous en avez écrit 61)."),
]


@pytest.mark.parametrize(
    "form, valid, change, anchor, label, message", CASES, ids=[f"{c[0][:5]}-{c[3]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_bad_input_gets_its_french_message_and_writes_nothing(client, folder, form, valid, change, anchor, label, message):
    before = snapshot(folder)
    page = submit(client, f"/essai/{form}", {**valid, **change})
    assert page.status_code == 400
    assert summary_items(page.text) == [(f"#{anchor}", f"{label}{NNBSP}: {message}")]
    field = anchor.removesuffix("-0")
    assert f'<p class="erreur" id="{field}-erreur"><span>{message}</span>' in page.text.replace("&#39;", "'")
    if anchor.endswith("-0"):
        assert re.search(rf'<fieldset aria-describedby="{field}-erreur">', page.text)
    else:
        tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{field}"[^>]*>', page.text).group(0)
        described = re.search(r'aria-describedby="([^"]*)"', tag).group(1).split()
        assert f"{field}-erreur" in described and all(f'id="{i}"' in page.text for i in described)
        assert 'aria-invalid="true"' in tag
    assert snapshot(folder) == before


def test_browser_line_breaks_are_stored_as_typed(client, folder):
    submit(client, "/essai/idee", {"question": "q1", "text": "deux\r\nlignes", "details": "a\r\n- b\r\n"})
    assert [(r["text"], r["parent"] != "") for r in rows(folder, "contributions")] == [
        ("deux\nlignes", False),
        ("a", True),
        ("b", True),
    ]


def test_a_rejected_form_keeps_what_was_typed(client):
    page = submit(client, "/essai/idee", {"question": "q9", "text": "Mon idée <b>importante</b>", "details": "- détail"})
    assert "Mon idée &lt;b&gt;importante&lt;/b&gt;</textarea>" in page.text
    assert "- détail</textarea>" in page.text


def test_two_errors_are_counted_in_the_summary(client):
    page = submit(client, "/essai/emargement", {"name": "", "role": ""})
    assert f"Le formulaire contient 2 erreurs{NNBSP}:" in page.text
    assert [href for href, _ in summary_items(page.text)] == ["#name", "#role"]


# ---- the schema is the one source of truth --------------------------------


def test_form_constraints_are_the_schema_values(app):
    forms = app.extensions["atelier"].forms
    with app.test_request_context():
        emargement = forms.emargement()
        idea = forms.idea()
        for field, resource, column in (
            (emargement.name, "participants", "name"),
            (emargement.organisation, "participants", "organisation"),
            (idea.text, "contributions", "text"),
        ):
            constraints = schemas.field(resource, column)["constraints"]
            assert field.flags.maxlength == constraints["maxLength"]
            assert bool(field.flags.required) == bool(constraints.get("required"))
            assert f'maxlength="{constraints["maxLength"]}"' in field()
        roles = [choice.value for choice in emargement.role.choices if choice.value]
        assert roles == schemas.field("participants", "role")["constraints"]["enum"]


def test_changing_the_schema_changes_the_form(tmp_path, folder, monkeypatch):
    """A copy of the participants schema with a shorter name and one role less drives a new app."""
    schema = schemas.table_schema("participants")
    for f in schema["fields"]:
        if f["name"] == "name":
            f["constraints"]["maxLength"] = 10
        if f["name"] == "role":
            f["constraints"]["enum"].remove("chercheur")
    copy = tmp_path / "participants.schema.json"
    copy.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.setitem(schemas.TABLE_SCHEMAS, "participants", copy)
    client = make_app(tmp_path).test_client()
    page = submit(client, "/essai/emargement", {"name": "Anne-Sophie Dupont", "role": "chercheur"})
    assert summary_items(page.text) == [
        ("#name", f"Prénom et nom{NNBSP}: « Anne-Sophie Dupont » est trop long (18 caractères, au plus 10)."),
        ("#role", f"Qualité{NNBSP}: « chercheur » {ROLES.replace('chercheur (recherche, enseignement), ', '')}"),
    ]
    assert 'maxlength="10"' in page.text and 'value="chercheur"' not in page.text


def test_every_schema_enum_value_has_a_french_label():
    from webform.forms import ROLE_LABELS

    assert list(ROLE_LABELS) == schemas.field("participants", "role")["constraints"]["enum"]
    # Rubrics have no labels in the code: atelier.yaml gives them, and the schema has no list of them.
    assert "enum" not in schemas.field("contributions", "section").get("constraints", {})


# ---- receipts: correct and withdraw ----------------------------------------


def token_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def test_receipt_link_is_private_and_only_its_hash_is_stored(tmp_path, client, folder):
    sent = submit(client, "/essai/idee", {"question": "q1", "text": "Une idée"})
    location = sent.headers["Location"]
    token = token_of(location)
    assert re.fullmatch(r"/essai/recu/[A-Za-z0-9_-]{43}", location)
    log = (tmp_path / "instance" / "recus" / "recus.log").read_text()
    [line] = log.splitlines()
    assert json.loads(line)[0] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in log
    assert not any(token.encode() in p.read_bytes() for p in folder.rglob("*") if p.is_file())
    page = client.get(location)
    assert page.headers["Cache-Control"] == "no-store"
    assert f"http://localhost{location}" in page.text
    for bad in ("/essai/recu/" + "A" * 43, "/essai/recu/court", location.replace("/essai/", "/autre/")):
        refused = client.get(bad)
        assert refused.status_code == 404
    assert "Ce lien de réponse n'est pas valable." in text_of(client.get("/essai/recu/" + "A" * 43).text)


def test_correcting_an_emargement_rewrites_the_row(client, folder):
    sent = submit(client, "/essai/emargement", {"name": "Anne Dupond", "role": "elu"})
    edit = sent.headers["Location"] + "/corriger"
    page = client.get(edit)
    assert page.headers["Cache-Control"] == "no-store"
    assert 'value="Anne Dupond"' in page.text and '<option selected value="elu">' in page.text
    corrected = submit(client, edit, {"name": "Anne Dupont", "role": "technicien", "listed": "y"})
    assert corrected.status_code == 303
    [row] = rows(folder, "participants")
    assert (row["name"], row["role"], row["listed"]) == ("Anne Dupont", "technicien", "true")
    assert "Votre correction est enregistrée." in client.get(corrected.headers["Location"]).text


def test_correcting_an_idea_keeps_ids_withdraws_removed_points_and_appends_new_ones(client, folder):
    sent = submit(client, "/essai/idee", {"question": "q1", "text": "Idée", "details": "p1\np2\np3"})
    edit = sent.headers["Location"] + "/corriger"
    page = client.get(edit).text
    assert "\np1\np2\np3</textarea>" in page
    before = {r["text"]: r for r in rows(folder, "contributions")}
    submit(client, edit, {"question": "q1", "text": "Idée corrigée", "details": "p1\n- p1a\np3 revu"})
    after = rows(folder, "contributions")
    by_id = {r["id"]: r for r in after}
    idea = by_id[before["Idée"]["id"]]
    assert (idea["text"], idea["status"]) == ("Idée corrigée", "published") and idea["updated_at"]
    assert by_id[before["p1"]["id"]]["updated_at"] == ""  # unchanged point: untouched
    assert by_id[before["p2"]["id"]]["text"] == "p1a" and by_id[before["p2"]["id"]]["parent"] == before["p1"]["id"]
    assert by_id[before["p3"]["id"]]["text"] == "p3 revu"
    assert len(after) == 4
    # shrinking withdraws the surplus, growing appends
    submit(client, edit, {"question": "q1", "text": "Idée corrigée", "details": ""})
    statuses = {r["text"]: r["status"] for r in rows(folder, "contributions")}
    assert statuses == {"Idée corrigée": "published", "p1": "withdrawn", "p1a": "withdrawn", "p3 revu": "withdrawn"}
    submit(client, edit, {"question": "q1", "text": "Idée corrigée", "details": "nouvelle\nautre"})
    live = [r["text"] for r in rows(folder, "contributions") if r["status"] == "published"]
    assert live == ["Idée corrigée", "nouvelle", "autre"]
    assert validate_atelier(folder) == []
    receipt = text_of(client.get(sent.headers["Location"]).text)
    assert "Idée corrigée nouvelle autre Votre lien privé" in receipt


def test_correcting_a_sheet_can_change_its_group(client, folder):
    sent = submit(client, "/essai/" + SHEET_1, {**VALID_SHEET, "driver": "m1\nm2"})
    edit = sent.headers["Location"] + "/corriger"
    assert "\nm1\nm2</textarea>" in client.get(edit).text
    submit(client, edit, {**VALID_SHEET, "group": "3", "driver": "m1"})
    live = [(r["section"], r["text"], r["group"]) for r in rows(folder, "contributions") if r["status"] == "published"]
    assert live == [("practice", "Un point", "3"), ("driver", "m1", "3")]
    assert validate_atelier(folder) == []


def test_pre_moderated_correction_goes_back_to_pending(tmp_path):
    folder = make_data(tmp_path, moderation="pre")
    client = make_app(tmp_path).test_client()
    sent = submit(client, "/essai/idee", {"question": "q1", "text": "Idée"})
    rewritten = (folder / "contributions.csv").read_text().replace(",pending\n", ",published\n")
    (folder / "contributions.csv").write_text(rewritten)  # the animation validated it
    submit(client, sent.headers["Location"] + "/corriger", {"question": "q1", "text": "Idée revue"})
    assert rows(folder, "contributions")[0]["status"] == "pending"


def test_withdrawing(client, folder):
    sent = submit(client, "/essai/emargement", {"name": "Anne", "role": "elu", "listed": "y"})
    withdraw = sent.headers["Location"] + "/retirer"
    assert "Ce retrait est définitif." in client.get(withdraw).text
    done = submit(client, withdraw, {})
    assert done.status_code == 303
    assert rows(folder, "participants")[0]["status"] == "withdrawn"
    page = text_of(client.get(done.headers["Location"]).text)
    assert f"C'est retiré{NNBSP}: votre contribution ne figurera pas au compte-rendu." in page
    assert f"Vous avez retiré cette réponse{NNBSP}: elle ne figurera pas au compte-rendu." in page
    assert client.get(sent.headers["Location"] + "/corriger").status_code == 303  # nothing left to correct
    sent = submit(client, "/essai/" + SHEET_1, {**VALID_SHEET, "brake": "f1\n- f1a"})
    submit(client, sent.headers["Location"] + "/retirer", {})
    assert {r["status"] for r in rows(folder, "contributions")} == {"withdrawn"}
    assert all(r["updated_at"] for r in rows(folder, "contributions"))
    assert validate_atelier(folder) == []


# ---- closed ateliers -------------------------------------------------------


def close(folder):
    path = folder / "atelier.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("status: open", "status: closed"), encoding="utf-8")


def test_closed_atelier_refuses_submissions_and_edits(client, folder):
    sent = submit(client, "/essai/idee", {"question": "q1", "text": "Idée"})
    token_url = sent.headers["Location"]
    form_token = CSRF_INPUT.search(client.get("/essai/emargement").text).group(1)
    close(folder)
    before = snapshot(folder)
    page = client.get("/essai/emargement")
    assert page.status_code == 200
    assert f"L'atelier «{NBSP}Atelier d’essai{NBSP}» est clos{NNBSP}: il n'accepte plus de réponses." in text_of(page.text)
    assert "<form" not in page.text
    refused = client.post("/essai/emargement", data={"csrf_token": form_token, "name": "Anne", "role": "elu"})
    assert refused.status_code == 403
    assert "il n'accepte plus de réponses" in text_of(refused.text)
    for url in (token_url + "/corriger", token_url + "/retirer"):  # the receipt itself stays readable (issue 11)
        page = client.get(url)
        assert page.status_code == 403
        assert f"est clos{NNBSP}: les réponses ne peuvent plus être corrigées ni retirées." in text_of(page.text)
    assert client.post(token_url + "/retirer", data={"csrf_token": form_token}).status_code == 403
    assert snapshot(folder) == before
    assert "Cet atelier est clos" in text_of(client.get("/essai/").text)


# ---- English ---------------------------------------------------------------


def test_english_from_the_browser_or_a_link(client):
    page = client.get("/essai/idee", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.text and "Your idea" in page.text and "Details (optional)" in page.text and ">Send<" in page.text
    assert '<html lang="fr">' in client.get("/essai/idee", headers={"Accept-Language": "de"}).text
    chosen = client.get("/essai/?lang=en")
    assert "langue=en" in chosen.headers["Set-Cookie"]
    assert "What to do now?" in client.get("/essai/").text  # the cookie is remembered
    page = submit(client, "/essai/emargement", {"name": "", "role": "elu"})
    assert summary_items(page.text) == [("#name", "First and last name: This field is required.")]
    assert "Page not found" in client.get("/nowhere/").text
    client.get("/essai/?lang=fr")
    assert "Que faire maintenant" in client.get("/essai/").text


# ---- start-up configuration ----------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    from webform import ConfigurationError, create_app

    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.setenv("FLASK_FACILITATOR_SECRET", "code d'animation de test")
    with pytest.raises(ConfigurationError) as caught:
        create_app({"DATA_DIR": str(tmp_path / "data"), "TOKENS_DIR": str(tmp_path / "t"), "RATELIMIT_DIR": str(tmp_path / "r")})
    assert str(caught.value).startswith(
        f"FLASK_SECRET_KEY manquante{NNBSP}: en production, définissez la variable d'environnement FLASK_SECRET_KEY"
    )
    monkeypatch.setenv("FLASK_SECRET_KEY", "12345")  # parsed as JSON by Flask: must stay the text
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TOKENS_DIR": str(tmp_path / "t"), "RATELIMIT_DIR": str(tmp_path / "r")})
    assert app.config["SECRET_KEY"] == "12345"


def test_tokens_may_not_be_stored_in_the_published_data(tmp_path):
    from webform import ConfigurationError

    with pytest.raises(ConfigurationError, match="est dans le dossier des données"):
        make_app(tmp_path, TOKENS_DIR=str(tmp_path / "data" / "recus"))


def test_a_broken_atelier_yaml_is_a_french_503_not_a_crash(tmp_path, client, folder):
    (folder / "atelier.yaml").write_text("title: [", encoding="utf-8")
    page = client.get("/essai/idee")
    assert page.status_code == 503
    assert "son fichier de description contient une erreur" in text_of(page.text)
    assert client.get("/").status_code == 200


def test_an_atelier_yaml_naming_an_undeclared_group_is_not_served(tmp_path, client, folder, caplog):
    """The form applies `atelier validate`'s format rules: it never offers a group nobody declared."""
    make_data(
        tmp_path,
        groups=[{"id": "mobilites", "label": "Table Mobilités"}],
        questions=[{"id": "q1", "title": "Q ?", "groups": ["mobilites", "energie"]}],
    )
    page = client.get("/essai/fiche")
    assert page.status_code == 503
    assert "son fichier de description contient une erreur" in text_of(page.text)
    assert "le groupe « energie » n'est pas déclaré dans « groups »" in caplog.text


def test_one_french_date_on_the_pages_and_in_the_report(tmp_path):
    """The pages write a date as the compte-rendu does (pipeline.french.date_fr): « 1er », the weekday on the home page."""
    import datetime as dt

    from pipeline.french import date_fr

    make_data(tmp_path, date="2016-07-01")
    client = make_app(tmp_path).test_client()
    assert date_fr(dt.date(2016, 7, 1), weekday=True) == "vendredi 1er juillet 2016"
    assert "vendredi 1er juillet 2016 — " in text_of(client.get("/essai/").text)
    assert "Atelier d’essai 1er juillet 2016 — " in text_of(client.get("/").text)
    # English pages keep Babel's English.
    assert "Friday, July 1, 2016 — " in text_of(client.get("/essai/?lang=en").text)


def test_a_forbidden_character_and_a_length_are_said_in_the_same_round(tmp_path):
    make_data(tmp_path)
    client = make_app(tmp_path, RATELIMIT_ENABLED=False).test_client()
    page = submit(client, "/essai/emargement", {**VALID_EMARGEMENT, "name": "Anne\x07" + "x" * 120})
    said = [message for href, message in summary_items(page.text) if href == "#name"]
    assert said == [
        f"Prénom et nom{NNBSP}: « Anne\ufffd{'x' * 44}… » est trop long (125 caractères, au plus 120).",
        f"Prénom et nom{NNBSP}: Ce texte contient un caractère invisible interdit (U+0007){NNBSP}: retirez-le.",
    ]


@pytest.mark.parametrize("nothing", ["   \n  ", "\u00a0", "\u200b\n\u200b"], ids=["spaces", "nbsp", "zero-width"])
def test_an_optional_box_that_shows_nothing_is_empty(client, folder, nothing):
    """A rapporteur who hit the space bar in an optional rubric is not asked to go and empty it (a tester's finding)."""
    answer = submit(client, f"/essai/{SHEET_1}", {**VALID_SHEET, "reflection": nothing})
    assert answer.status_code == 303, answer.text
    assert [(r["section"], r["text"]) for r in rows(folder, "contributions")] == [("practice", "Un point")]
    answer = submit(client, "/essai/idee", {"question": "q1", "text": "Une idée", "details": nothing})
    assert answer.status_code == 303, answer.text
