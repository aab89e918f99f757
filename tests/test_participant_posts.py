"""What participants send is never lost, doubled, reordered or silently undone (issue 11), on the real app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import contribution, write_atelier
from facilitator_helpers import SECRET, facilitator_app, logged_in
from webform_helpers import NBSP, NNBSP, form_tokens, make_app, make_data, rows, snapshot, submit, text_of

from pipeline import opening
from pipeline.workshop import load_atelier

IDEA = {"question": "q1", "text": "Une épicerie solidaire", "details": "dans l'ancienne gare\n- le samedi"}
SHEET_URL = "/essai/fiche?temps=sous-groupe&question=q1&groupe=2"
SHEET = {"driver": "Volonté des élus\n- et des techniciens", "brake": "Le coût"}
EMARGEMENT = {"name": "Anne Dupont", "organisation": "Mairie", "role": "habitant", "listed": "y"}
FORMS = [("/essai/idee", IDEA, "contributions", 3), (SHEET_URL, SHEET, "contributions", 3), ("/essai/emargement", EMARGEMENT, "participants", 1)]


@pytest.fixture
def folder(tmp_path):
    return make_data(tmp_path)


@pytest.fixture
def app(tmp_path, folder):
    return facilitator_app(tmp_path)


def sent_twice(client, url: str, data: dict[str, str]):
    """The same form sent twice (a double tap, a browser resending after a lost answer)."""
    body = {**form_tokens(client, url), **data}
    return client.post(url, data=body), client.post(url, data=body)


def receipt_of(client, answer) -> str:
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"]


# ---- 1. a form sent twice is saved once ------------------------------------------------------


@pytest.mark.parametrize(("url", "data", "resource", "count"), FORMS)
def test_the_same_form_sent_twice_is_saved_once_and_gives_the_first_receipt(app, folder, url, data, resource, count):
    client = app.test_client()
    first, second = sent_twice(client, url, data)
    assert receipt_of(client, first) == receipt_of(client, second)
    assert len(rows(folder, resource)) == count
    page = client.get(second.headers["Location"])
    assert "Cet envoi était déjà enregistré" in text_of(page.text)
    other = submit(client, url, data)  # the same text in a new form is a new answer
    assert receipt_of(client, other) != first.headers["Location"]
    assert len(rows(folder, resource)) == 2 * count


def test_a_form_sent_back_with_other_text_is_a_new_answer_not_a_replay(app, folder):
    """Back after « enregistré », another idea typed in the same page, sent: it is saved too."""
    client = app.test_client()
    tokens = form_tokens(client, "/essai/idee")
    first = client.post("/essai/idee", data={**tokens, **IDEA})
    second = client.post("/essai/idee", data={**tokens, **IDEA, "text": "Une autre idée", "details": ""})
    assert receipt_of(client, first) != receipt_of(client, second)
    assert [r["text"] for r in rows(folder, "contributions")][-1] == "Une autre idée"
    receipt = first.headers["Location"]
    tokens = form_tokens(client, receipt + "/corriger")
    assert client.post(receipt + "/corriger", data={**tokens, **IDEA, "text": "Première correction"}).status_code == 303
    assert client.post(receipt + "/corriger", data={**tokens, **IDEA, "text": "Seconde correction"}).status_code == 303
    assert "Seconde correction" in [r["text"] for r in rows(folder, "contributions")]


def test_a_signature_sent_again_with_other_content_replaces_the_first(app, folder):
    """Back after « Signer », « Apparaître dans la liste » unticked, Signer again: one row, not listed."""
    client = app.test_client()
    tokens = form_tokens(client, "/essai/emargement")
    first = client.post("/essai/emargement", data={**tokens, **EMARGEMENT})
    second = client.post("/essai/emargement", data={**tokens, **{k: v for k, v in EMARGEMENT.items() if k != "listed"}})
    assert receipt_of(client, first) == receipt_of(client, second)
    assert [(r["name"], r["listed"]) for r in rows(folder, "participants")] == [("Anne Dupont", "false")]
    page = text_of(client.get(second.headers["Location"]).text)
    assert f"Ce formulaire avait déjà été envoyé{NNBSP}: ce nouvel envoi remplace le premier" in page
    assert "Non, vous êtes seulement compté·e." in page
    # Back twice, the first content sent again: it is what the person wants now.
    assert receipt_of(client, client.post("/essai/emargement", data={**tokens, **EMARGEMENT})) == first.headers["Location"]
    assert [(r["name"], r["listed"]) for r in rows(folder, "participants")] == [("Anne Dupont", "true")]


def test_a_sheet_sent_again_with_a_typo_fixed_replaces_the_first(app, folder):
    client = app.test_client()
    tokens = form_tokens(client, SHEET_URL)
    sends = [client.post(SHEET_URL, data={**tokens, **SHEET, "brake": f"Le coût, envoi {n}"}) for n in range(5)]
    assert len({receipt_of(client, answer) for answer in sends}) == 1
    live = [r["text"] for r in rows(folder, "contributions") if r["status"] != "withdrawn"]
    assert live == ["Volonté des élus", "et des techniciens", "Le coût, envoi 4"]
    # A second sheet (another page) for the same group is another rapporteur's: kept.
    submit(client, SHEET_URL, {"driver": "Une autre table", "brake": ""})
    assert "Une autre table" in [r["text"] for r in rows(folder, "contributions")]


def test_a_sheet_sent_again_after_the_team_moderated_it_comes_back_with_its_text(app, folder):
    client = app.test_client()
    tokens = form_tokens(client, SHEET_URL)
    receipt = receipt_of(client, client.post(SHEET_URL, data={**tokens, **SHEET}))
    cost = {r["text"]: r for r in rows(folder, "contributions")}["Le coût"]["id"]
    facilitator = logged_in(app)
    assert submit(facilitator, f"/essai/animation/moderation/{cost}/corriger", {"text": "Le coût des travaux"}).status_code == 303
    before = snapshot(folder)
    page = client.post(SHEET_URL, data={**tokens, **SHEET, "brake": "Le coût trop élevé"})
    assert page.status_code == 409
    assert "Le coût trop élevé</textarea>" in page.text
    assert "L'équipe d'animation a traité cette réponse pendant que vous la modifiiez" in text_of(page.text)
    assert snapshot(folder) == before and client.get(receipt).status_code == 200


def form_tokens_of(html: str, sent: dict[str, str]) -> dict[str, str]:
    """The hidden fields of a form page shown again, over those `sent`."""
    return {**sent, **dict(re.findall(r'<input[^>]*name="(csrf_token|envoi|etat)"[^>]*value="([^"]*)"', html))}


def test_a_correction_sent_after_the_team_acted_comes_back_with_its_text(app, folder):
    """The page was opened before a merge, a team correction or a withdrawal from another tab."""
    alice, bob = app.test_client(), app.test_client()
    submit(alice, "/essai/idee", {"question": "q1", "text": "Un marché de producteurs"})
    receipt = receipt_of(bob, submit(bob, "/essai/idee", {"question": "q1", "text": "Un marché paysan", "details": "le dimanche"}))
    tokens = form_tokens(bob, receipt + "/corriger")
    by_text = {r["text"]: r for r in rows(folder, "contributions")}
    merge(logged_in(app), by_text["Un marché paysan"]["id"], by_text["Un marché de producteurs"]["id"])
    before = snapshot(folder)
    typed = {"question": "q1", "text": "Un marché paysan le dimanche", "details": "le dimanche\net le mercredi"}
    page = bob.post(receipt + "/corriger", data={**tokens, **typed})
    assert page.status_code == 409
    assert "le dimanche\net le mercredi</textarea>" in page.text.replace("\r\n", "\n")
    assert "L'équipe d'animation a traité cette réponse pendant que vous la modifiiez" in text_of(page.text)
    assert snapshot(folder) == before

    # Only a précision corrected by the team: the form's old text would have added it again.
    receipt = receipt_of(bob, submit(bob, "/essai/idee", {"question": "q1", "text": "Un jardin", "details": "partagé"}))
    tokens = form_tokens(bob, receipt + "/corriger")
    detail = {r["text"]: r for r in rows(folder, "contributions")}["partagé"]["id"]
    assert submit(logged_in(app), f"/essai/animation/moderation/{detail}/corriger", {"text": "partagé entre voisins"}).status_code == 303
    before = snapshot(folder)
    typed = {"question": "q1", "text": "Un jardin", "details": "partagé\nbio"}
    page = bob.post(receipt + "/corriger", data={**tokens, **typed})
    assert page.status_code == 409 and snapshot(folder) == before
    again = bob.post(receipt + "/corriger", data={**form_tokens_of(page.text, tokens), **typed})  # sent again as shown
    assert again.status_code == 409 and snapshot(folder) == before

    # Withdrawn from another tab, then the correction sent from the first one.
    tokens = form_tokens(bob, receipt + "/corriger")
    assert submit(bob, receipt + "/retirer", {}).status_code == 303
    page = bob.post(receipt + "/corriger", data={**tokens, "question": "q1", "text": "Un jardin ouvert", "details": ""})
    assert page.status_code == 409
    assert "Un jardin ouvert</textarea>" in page.text
    assert f"Cette réponse a été retirée (peut-être depuis un autre onglet){NNBSP}: rien n'a été enregistré." in text_of(page.text)


@pytest.mark.parametrize(
    ("path", "text", "count"),
    [("/essai/animation/saisie", "Manque de foncier", 1), ("/essai/animation/saisie/lignes", "Manque de foncier\n- prix élevés\nManque de temps", 3)],
)
def test_a_double_enter_in_the_transcription_saves_the_post_its_once(app, folder, path, text, count):
    facilitator = logged_in(app)
    before = len(rows(folder, "contributions"))
    first, second = sent_twice(facilitator, path, {"question": "q1", "section": "brake", "group": "3", "text": text})
    assert first.status_code == second.status_code == 303
    assert len(rows(folder, "contributions")) == before + count
    assert f"Cet envoi était déjà enregistré{NNBSP}: rien n'a été ajouté une seconde fois." in text_of(facilitator.get(path).text)
    assert submit(facilitator, path, {"question": "q1", "section": "brake", "group": "3", "text": text}).status_code == 303
    assert len(rows(folder, "contributions")) == before + 2 * count  # typed again in a new form: transcribed again


def test_the_same_correction_sent_twice_adds_its_point_once(app, folder):
    client = app.test_client()
    receipt = receipt_of(client, submit(client, "/essai/idee", IDEA))
    correction = {**IDEA, "details": IDEA["details"] + "\nune précision ajoutée"}
    first, second = sent_twice(client, receipt + "/corriger", correction)
    assert receipt_of(client, first) == receipt_of(client, second) == receipt
    texts = [r["text"] for r in rows(folder, "contributions")]
    assert texts.count("une précision ajoutée") == 1
    page = client.get(receipt)
    assert "Cette correction était déjà enregistrée." in text_of(page.text)
    assert "une précision ajoutée" in text_of(page.text)  # the receipt holds the new point: it can be removed


def test_a_withdrawal_sent_twice_is_applied_once(app, folder):
    client = app.test_client()
    receipt = receipt_of(client, submit(client, "/essai/idee", IDEA))
    first, second = sent_twice(client, receipt + "/retirer", {})
    assert receipt_of(client, first) == receipt_of(client, second) == receipt
    assert {r["status"] for r in rows(folder, "contributions")} == {"withdrawn"}


def test_the_withdrawal_page_shows_what_will_be_withdrawn(app):
    client = app.test_client()
    receipt = receipt_of(client, submit(client, SHEET_URL, SHEET))
    page = text_of(client.get(receipt + "/retirer").text)
    assert "Ce qui sera retiré" in page and "Volonté des élus" in page and "Le coût" in page
    person = receipt_of(client, submit(client, "/essai/emargement", EMARGEMENT))
    assert f"Votre émargement{NNBSP}: Anne Dupont (Mairie)" in text_of(client.get(person + "/retirer").text)


def test_rows_written_by_a_request_killed_before_its_receipt_are_not_written_again(app, folder):
    """The ids derive from the submission token: the resent form finds its rows and records the receipt."""
    client = app.test_client()
    body = {**form_tokens(client, "/essai/idee"), **IDEA}
    first = client.post("/essai/idee", data=body)
    Path(app.config["TOKENS_DIR"], "recus.log").write_text("")  # as if killed between the rows and the receipt
    fresh = facilitator_app(folder.parent.parent)  # a worker whose index never saw the receipt
    again = fresh.test_client()
    again.set_cookie("session", client.get_cookie("session").value)
    second = again.post("/essai/idee", data=body)
    assert receipt_of(client, second) == receipt_of(client, first)
    assert len(rows(folder, "contributions")) == 3
    assert again.get(second.headers["Location"]).status_code == 200


# ---- 2. a refused form comes back with what was typed ----------------------------------------


def test_a_sheet_sent_after_the_closing_comes_back_with_its_text(app, folder):
    client = app.test_client()
    body = {**form_tokens(client, SHEET_URL), **SHEET}
    opening.set_status(folder, "closed")
    before = snapshot(folder)
    page = client.post(SHEET_URL, data=body)
    assert page.status_code == 403
    assert "Volonté des élus\n- et des techniciens</textarea>" in page.text.replace("\r\n", "\n")
    assert (
        f"a été clos pendant que vous écriviez{NNBSP}: il n'accepte plus de réponses. Votre texte est conservé "
        f"ci-dessous{NNBSP}: copiez-le et remettez-le à l'équipe d'animation."
    ) in text_of(page.text)
    assert snapshot(folder) == before


def test_a_correction_sent_after_the_closing_comes_back_with_its_text(app, folder):
    client = app.test_client()
    receipt = receipt_of(client, submit(client, "/essai/idee", IDEA))
    body = {**form_tokens(client, receipt + "/corriger"), **IDEA, "text": "Une épicerie solidaire et mobile"}
    opening.set_status(folder, "closed")
    page = client.post(receipt + "/corriger", data=body)
    assert page.status_code == 403
    assert "Une épicerie solidaire et mobile</textarea>" in page.text
    assert "Une épicerie solidaire et mobile" not in (folder / "contributions.csv").read_text(encoding="utf-8")


def kept_texts(html: str) -> list[str]:
    """The read-only text boxes of an error page that shows back what was sent."""
    return [re.sub(r"^\n", "", t) for t in re.findall(r"<textarea[^>]*readonly[^>]*>(.*?)</textarea>", html, re.S)]


def test_a_sheet_or_signature_sent_while_atelier_yaml_is_broken_comes_back_with_its_text(app, folder):
    client = app.test_client()
    sheet, person = {**form_tokens(client, SHEET_URL), **SHEET}, {**form_tokens(client, "/essai/emargement"), **EMARGEMENT}
    path = folder / "atelier.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("date:", "date: [", 1), encoding="utf-8")  # an organiser's typo
    before = snapshot(folder)
    for url, body, typed in ((SHEET_URL, sheet, [SHEET["driver"], SHEET["brake"]]), ("/essai/emargement", person, ["Anne Dupont", "Mairie"])):
        page = client.post(url, data=body)
        assert page.status_code == 503
        assert kept_texts(page.text) == typed
        assert f"Rien n'a été enregistré. Votre texte est ci-dessous{NNBSP}: copiez-le" in text_of(page.text)
        assert body["csrf_token"] not in page.text and body["envoi"] not in page.text
    assert snapshot(folder) == before


def test_a_sheet_whose_group_was_removed_while_it_was_written_comes_back_with_its_text(app, folder):
    client = app.test_client()
    body = {**form_tokens(client, SHEET_URL), **SHEET}
    path = folder / "atelier.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"count: 3", "count: 1", text, count=1), encoding="utf-8")
    assert text != path.read_text(encoding="utf-8")
    page = client.post(SHEET_URL, data=body)
    assert page.status_code in (400, 404)
    assert kept_texts(page.text) == [SHEET["driver"], SHEET["brake"]]
    assert "Rien n'a été enregistré" in text_of(page.text)


@pytest.mark.parametrize("path", ["/essai/animation/saisie", "/essai/animation/saisie/lignes"])
def test_post_its_typed_when_the_facilitators_session_ended_come_back(app, folder, path):
    facilitator = logged_in(app)
    body = {**form_tokens(facilitator, path), "question": "q1", "section": "brake", "group": "3", "text": "Un post-it\n  recopié avec soin"}
    other_tab = app.test_client()
    other_tab.set_cookie("session", facilitator.get_cookie("session").value)
    assert other_tab.post("/essai/animation/deconnexion", data={"csrf_token": body["csrf_token"]}).status_code == 303
    before = snapshot(folder)
    for client in (facilitator, other_tab):  # the revoked cookie, and the cleared one
        page = client.post(path, data=body)
        assert page.status_code == 403
        assert "Un post-it\n  recopié avec soin" in kept_texts(page.text.replace("\r\n", "\n"))
        assert "connectez-vous d'abord" in text_of(page.text)
        assert f'href="/essai/animation/connexion?suite={path}"' in page.text
        assert "Un marché" not in page.text and "Une monnaie locale" not in page.text  # no team page to a stranger
    assert snapshot(folder) == before
    assert 'autocomplete="off"' not in logged_in(app).get("/essai/animation/saisie").text


def test_after_the_closing_a_receipt_is_shown_read_only_and_a_withdrawal_offers_no_button(app, folder):
    client = app.test_client()
    receipt = receipt_of(client, submit(client, SHEET_URL, SHEET))
    person = receipt_of(client, submit(client, "/essai/emargement", EMARGEMENT))
    withdrawal = {**form_tokens(client, receipt + "/retirer")}
    opening.set_status(folder, "closed")
    for url, shown in ((receipt, "Volonté des élus"), (person, "Anne Dupont")):
        page = client.get(url)
        assert page.status_code == 200
        assert shown in text_of(page.text)
        assert f"est clos{NNBSP}: les réponses ne peuvent plus être corrigées ni retirées." in text_of(page.text)
        assert "/corriger" not in page.text and "/retirer" not in page.text
    refused = client.post(receipt + "/retirer", data=withdrawal)
    assert refused.status_code == 403
    assert "Retirer définitivement" not in refused.text and "<button" not in refused.text
    assert {r["status"] for r in rows(folder, "contributions") if r["text"] in ("Volonté des élus", "Le coût")} == {"published"}


def test_post_its_typed_while_atelier_yaml_is_broken_come_back_to_the_facilitator(app, folder):
    facilitator = logged_in(app)
    body = {**form_tokens(facilitator, "/essai/animation/saisie/lignes"), "question": "q1", "section": "brake", "group": "3"}
    path = folder / "atelier.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("date:", "date: [", 1), encoding="utf-8")
    page = facilitator.post("/essai/animation/saisie/lignes", data={**body, "text": "Trois post-its\nrecopiés"})
    assert page.status_code == 503
    assert "Atelier à corriger" in text_of(page.text)  # what to correct, for the team
    assert kept_texts(page.text.replace("\r\n", "\n")) == ["Trois post-its\nrecopiés"]


def test_the_rate_limit_keeps_the_text_and_says_one_second_in_good_french(tmp_path, folder):
    client = make_app(tmp_path, RATELIMIT_BURST=1, RATELIMIT_PER_MINUTE=60).test_client()
    assert submit(client, "/essai/idee", IDEA).status_code == 303
    page = submit(client, "/essai/idee", {**IDEA, "text": "Une seconde idée"})
    assert page.status_code == 429 and page.headers["Retry-After"] == "1"
    assert f"renvoyez-le dans 1{NBSP}seconde." in text_of(page.text)
    assert "Une seconde idée</textarea>" in page.text
    sent = re.search(r'name="envoi" value="([^"]+)"', page.text).group(1)
    assert sent  # the same submission token: sending it again later is the same answer


@pytest.mark.parametrize("url", ["/essai/idee", SHEET_URL, "/essai/emargement"])
def test_no_textarea_or_field_stops_the_browser_from_giving_the_text_back(app, url):
    page = app.test_client().get(url).text
    assert 'autocomplete="off"' not in page


def test_an_empty_sheet_is_reported_with_the_other_mistakes_in_one_round(app):
    client = app.test_client()
    page = submit(client, SHEET_URL, {"reflection": "\u200b"})  # nothing visible: an invisible character only
    assert page.status_code == 400
    words = text_of(page.text)
    assert "Remplissez au moins une rubrique de la fiche." in words
    # An optional box showing nothing is empty, not a mistake of its own (a tester's finding).
    assert "Ce texte ne contient que des espaces ou des caractères invisibles" not in words


# ---- 3. arrival order -----------------------------------------------------------------------


def order_on_wall(client, texts: list[str]) -> list[str]:
    wall = client.get("/essai/animation/mur").text
    return sorted(texts, key=wall.index)


def test_ideas_and_sheets_keep_their_order_of_arrival_on_the_wall_and_in_the_report(tmp_path):
    folder = write_atelier(
        tmp_path / "data" / "essai",
        contributions=[
            contribution("t1", text="Transcrit un"),
            contribution("t2", position=2, text="Transcrit deux"),
            contribution("tg", phase="sous-groupe", group=1, section="driver", text="Moteur transcrit"),
        ],
    )
    app = facilitator_app(tmp_path)
    participant = app.test_client()
    sent = [f"Idée numéro {n}" for n in range(1, 6)]
    for text in sent:
        assert submit(participant, "/essai/idee", {"question": "q1", "text": text}).status_code == 303
    sheet_a = {"driver": "A1\nA2\nA3"}
    sheet_b = {"driver": "B1\nB2\nB3"}
    assert submit(participant, SHEET_URL[:-1] + "1", sheet_a).status_code == 303
    assert submit(participant, SHEET_URL[:-1] + "1", sheet_b).status_code == 303
    ideas = ["Transcrit un", "Transcrit deux", *sent]
    sheets = ["Moteur transcrit", "A1", "A2", "A3", "B1", "B2", "B3"]
    facilitator = logged_in(app)
    assert order_on_wall(facilitator, ideas) == ideas
    assert order_on_wall(facilitator, sheets) == sheets
    atelier = load_atelier(folder)  # what the report composes from
    assert [p.contribution.text for p in atelier.points("q1", "brainstorming", "idea")] == ideas
    assert [p.contribution.text for p in atelier.points("q1", "sous-groupe", "driver", "1")] == sheets


def test_points_sent_before_positions_were_kept_follow_their_arrival(tmp_path):
    """Older files gave every sent point position 1: arrival, not the random id, breaks the tie."""
    folder = write_atelier(
        tmp_path / "data" / "essai",
        contributions=[
            contribution(f"c-{key}", text=f"Arrivée {n}", created_at=f"2026-11-20T09:0{n}:00Z")
            for n, key in zip(range(1, 6), ("e", "a", "d", "b", "c"))
        ],
    )
    atelier = load_atelier(folder)
    assert [p.contribution.text for p in atelier.points("q1", "brainstorming", "idea")] == [
        f"Arrivée {n}" for n in range(1, 6)
    ]


# ---- 4. a correction never undoes moderation --------------------------------------------------


def merge(facilitator, duplicate: str, keep: str):
    answer = submit(facilitator, f"/essai/animation/moderation/{duplicate}/fusionner", {"keep": keep, "text": ""})
    assert answer.status_code == 303, answer.text


def test_a_correction_never_moves_back_what_a_merge_moved(app, folder):
    alice, bob = app.test_client(), app.test_client()
    receipt_a = receipt_of(alice, submit(alice, "/essai/idee", {"question": "q1", "text": "Un marché de producteurs"}))
    receipt_b = receipt_of(bob, submit(bob, "/essai/idee", {"question": "q1", "text": "Un marché paysan", "details": "le dimanche"}))
    by_text = {r["text"]: r for r in rows(folder, "contributions")}
    kept, duplicate = by_text["Un marché de producteurs"]["id"], by_text["Un marché paysan"]["id"]
    merge(logged_in(app), duplicate, kept)
    merged = {r["text"]: r for r in rows(folder, "contributions")}

    receipt = text_of(bob.get(receipt_b).text)
    assert f"fusionné par l'équipe d'animation avec un point semblable{NNBSP}: «{NBSP}Un marché de producteurs{NBSP}»" in receipt
    assert f"rangé par l'équipe d'animation sous «{NBSP}Un marché de producteurs{NBSP}»" in receipt
    # Bob presses « Corriger » and saves without changing anything: nothing the merge did moves.
    answer = bob.get(receipt_b + "/corriger")
    assert answer.status_code == 303 and answer.headers["Location"] == receipt_b
    assert "il n'y a plus rien à y corriger" in text_of(bob.get(receipt_b).text)
    assert {r["text"]: r for r in rows(folder, "contributions")} == merged
    assert merged["le dimanche"]["parent"] == kept and merged["Un marché paysan"]["status"] == "hidden"
    # Alice's own correction keeps Bob's précision where the merge put it.
    assert submit(alice, receipt_a + "/corriger", {"question": "q1", "text": "Un marché de producteurs locaux", "details": ""}).status_code == 303
    after = {r["text"]: r for r in rows(folder, "contributions")}
    assert after["le dimanche"]["parent"] == kept and after["le dimanche"]["status"] == "published"


def test_a_correction_never_revives_a_hidden_point_nor_undoes_the_teams_text(app, folder):
    client = app.test_client()
    receipt = receipt_of(
        client,
        submit(client, SHEET_URL[:-1] + "1", {"driver": "Motivation", "brake": "Tél 06 12 34 56 78\nLe coût"}),
    )
    by_text = {r["text"]: r for r in rows(folder, "contributions")}
    facilitator = logged_in(app)
    csrf = form_tokens(facilitator, "/essai/animation/")["csrf_token"]
    hide = f"/essai/animation/moderation/{by_text['Tél 06 12 34 56 78']['id']}/masquer"
    assert facilitator.post(hide, data={"csrf_token": csrf}).status_code == 303
    assert submit(facilitator, f"/essai/animation/moderation/{by_text['Motivation']['id']}/corriger", {"text": "La motivation des habitants"}).status_code == 303

    page = text_of(client.get(receipt).text)
    assert "(masqué par l'équipe d'animation" in page and "(corrigé par l'équipe d'animation)" in page
    form = client.get(receipt + "/corriger").text
    assert "Tél 06" not in re.search(r'<textarea[^>]*name="brake"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    assert submit(client, receipt + "/corriger", {"driver": "", "brake": "Le coût élevé"}).status_code == 303
    after = {r["id"]: r for r in rows(folder, "contributions")}
    hidden, corrected = after[by_text["Tél 06 12 34 56 78"]["id"]], after[by_text["Motivation"]["id"]]
    assert (hidden["status"], corrected["text"], corrected["status"]) == ("hidden", "La motivation des habitants", "published")
    assert after[by_text["Le coût"]["id"]]["text"] == "Le coût élevé"


# ---- right-to-left texts ----------------------------------------------------------------------


def test_arabic_and_hebrew_points_follow_their_own_direction_on_every_page(app, folder):
    client = app.test_client()
    arabic, hebrew = "مكتبة متنقلة!", "ספרייה ניידת?"
    receipt = receipt_of(client, submit(client, "/essai/idee", {"question": "q1", "text": arabic, "details": hebrew}))
    facilitator = logged_in(app)
    pages = {
        "reçu": client.get(receipt).text,
        "retrait": client.get(receipt + "/retirer").text,
        "correction": client.get(receipt + "/corriger").text,
        "mur": facilitator.get("/essai/animation/mur").text,
        "modération": facilitator.get("/essai/animation/moderation").text,
    }
    for name, page in pages.items():
        for text in (arabic, hebrew):
            at = page.index(text)
            opening_tag = page[page.rindex("<", 0, at) : at]
            assert 'dir="auto"' in opening_tag, (name, opening_tag)


# ---- folder names the app keeps for itself -----------------------------------------------------


def test_an_atelier_folder_named_like_the_apps_own_pages_is_refused_everywhere(tmp_path):
    from pipeline.validate import validate_atelier
    from pipeline.workshop import RESERVED_SLUGS

    app = facilitator_app(tmp_path)
    own = {rule.rule.split("/")[1] for rule in app.url_map.iter_rules() if not rule.rule.startswith("/<")} - {""}
    assert own <= RESERVED_SLUGS  # one list, the app's routes
    folder = make_data(tmp_path, "static", title="Atelier mal nommé")
    make_data(tmp_path, "bon", title="Atelier bien nommé")
    problems = [p.message for p in validate_atelier(folder)]
    assert problems == ["« static » est un nom réservé par le formulaire en ligne (ses adresses /static/… ne mèneraient "
                        "jamais à l'atelier) : renommez le dossier, par exemple « static-atelier »."]
    index = text_of(app.test_client().get("/").text)
    assert "Atelier bien nommé" in index and "Atelier mal nommé" not in index


# ---- 8. behind a reverse proxy ----------------------------------------------------------------

PROXY_HEADERS = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ateliers.exemple.org"}


@pytest.mark.parametrize(
    "headers",
    [
        PROXY_HEADERS,  # Caddy's defaults, and the README's nginx lines
        {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "Host": "ateliers.exemple.org"},
    ],
)
def test_external_urls_behind_a_reverse_proxy_are_the_participants(tmp_path, folder, headers):
    app = facilitator_app(tmp_path, PROXY_FIX_X_FOR=1)
    proxied = {"headers": headers, "base_url": "http://127.0.0.1:8000"}  # where the proxy sends the requests

    def tokens(client, url: str) -> dict[str, str]:
        page = client.get(url, **proxied).text
        found = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)}
        submission = re.search(r'name="envoi" value="([^"]+)"', page)
        return found | ({"envoi": submission.group(1)} if submission else {})

    client = app.test_client()
    answer = client.post("/essai/idee", data={**tokens(client, "/essai/idee"), **IDEA}, **proxied)
    assert answer.headers["Location"].startswith("/essai/recu/")
    receipt = client.get(answer.headers["Location"], **proxied).text
    assert re.search(r'class="lien-prive"><a href="https://ateliers\.exemple\.org/essai/recu/[\w-]{43}"', receipt)
    facilitator = app.test_client()
    login = {**tokens(facilitator, "/essai/animation/connexion"), "secret": SECRET}
    assert facilitator.post("/essai/animation/connexion", data=login, **proxied).status_code == 303
    dashboard = facilitator.get("/essai/animation/", **proxied).text
    assert 'href="https://ateliers.exemple.org/essai/">https://ateliers.exemple.org/essai/</a>' in dashboard
