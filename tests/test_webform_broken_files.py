"""The web app when an organiser's edit broke a file: no 500, the others served, the text kept, the facilitator told."""

from __future__ import annotations

import re

import pytest
from facilitator_helpers import facilitator_app, logged_in, make_folder
from webform_helpers import NNBSP, csrf_token, make_app, make_data, snapshot, text_of

IMPOSSIBLE_DATE = "date: 2026-06-31\n"


def break_date(folder) -> None:
    path = folder / "atelier.yaml"
    path.write_text(re.sub(r"^date: .*\n", IMPOSSIBLE_DATE, path.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")


def rename_header(folder, old: str = ",text,", new: str = ",texte,") -> None:
    path = folder / "contributions.csv"
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode(), 1))


@pytest.fixture
def two(tmp_path):
    make_data(tmp_path, "bon", title="Atelier en bon état")
    broken = make_data(tmp_path, "casse", title="Atelier cassé")
    break_date(broken)
    return tmp_path


def test_one_broken_atelier_leaves_the_others_served(two):
    client = make_app(two).test_client()
    index = client.get("/")
    assert index.status_code == 200
    assert "Atelier en bon état" in index.text and "Atelier cassé" not in index.text
    assert client.get("/bon/").status_code == 200
    page = client.get("/casse/")
    assert page.status_code == 503
    assert (
        f"Cet atelier est momentanément indisponible{NNBSP}: son fichier de description contient une erreur "
        "que l'équipe d'animation doit corriger." in text_of(page.text)
    )
    assert "2026-06-31" not in page.text  # the details are for the facilitator


def test_the_facilitator_of_a_broken_atelier_reads_what_to_correct(tmp_path):
    folder = make_folder(tmp_path, "casse")
    break_date(folder)
    client = logged_in(facilitator_app(tmp_path), "casse")
    page = client.get("/casse/animation/")
    assert page.status_code == 503
    text = text_of(page.text)
    assert "Atelier à corriger" in text
    assert (
        "casse/atelier.yaml: ligne 4, champ « date » : « 2026-06-31 » n'existe pas dans le calendrier ; "
        "vérifiez le jour et le mois (AAAA-MM-JJ)." in text
    )
    assert str(tmp_path) not in page.text


def test_a_stranger_sees_no_detail_of_a_broken_atelier(tmp_path):
    folder = make_folder(tmp_path, "casse")
    break_date(folder)
    client = facilitator_app(tmp_path).test_client()
    login = client.get("/casse/animation/connexion")
    assert login.status_code == 200 and "2026-06-31" not in login.text
    assert client.get("/casse/animation/").status_code == 303  # to the login page


def test_a_facilitator_dashboard_names_a_broken_table(tmp_path):
    folder = make_folder(tmp_path)
    rename_header(folder)
    client = logged_in(facilitator_app(tmp_path))
    page = client.get("/essai/animation/")
    assert page.status_code == 503
    assert "essai/contributions.csv: ligne 1 : la colonne 9 s'appelle « texte » au lieu de « text »" in text_of(page.text)


def test_a_new_idea_refused_by_a_broken_file_comes_back_with_its_text(tmp_path):
    folder = make_data(tmp_path)
    client = make_app(tmp_path).test_client()
    token = csrf_token(client, "/essai/idee")
    rename_header(folder, "id,question", "identifiant,question")
    before = snapshot(folder)
    answer = client.post("/essai/idee", data={"csrf_token": token, "question": "q1", "text": "Mon idée précieuse"})
    assert answer.status_code == 400
    assert "Mon idée précieuse</textarea>" in answer.text
    assert "Rien n'a été enregistré" in text_of(answer.text)
    assert snapshot(folder) == before


def test_a_correction_refused_by_a_broken_file_comes_back_with_its_text(tmp_path):
    folder = make_data(tmp_path)
    client = make_app(tmp_path).test_client()
    token = csrf_token(client, "/essai/idee")
    sent = client.post("/essai/idee", data={"csrf_token": token, "question": "q1", "text": "Idée"})
    assert sent.status_code == 303
    edit = sent.headers["Location"] + "/corriger"
    token = csrf_token(client, edit)
    rename_header(folder)  # an organiser's spreadsheet, while the server runs
    before = snapshot(folder)
    answer = client.post(edit, data={"csrf_token": token, "question": "q1", "text": "Idée corrigée avec soin"})
    assert answer.status_code == 400
    assert "Idée corrigée avec soin</textarea>" in answer.text
    assert f"Rien n'a été enregistré{NNBSP}:" in text_of(answer.text)
    assert str(tmp_path) not in answer.text
    assert snapshot(folder) == before
