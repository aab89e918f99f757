"""The web form's defences: headers, CSRF, size limit, flood limit, encodings — French answers, no file touched."""

from __future__ import annotations

import re

import pytest
from flask.sessions import SecureCookieSessionInterface
from webform_helpers import CSRF_INPUT, NBSP, NNBSP, make_app, make_data, rows, snapshot, submit, summary_items, text_of

from webform.ratelimit import RateLimiter


@pytest.fixture
def folder(tmp_path):
    return make_data(tmp_path)


@pytest.fixture
def client(tmp_path, folder):
    return make_app(tmp_path).test_client()


def token(client, url="/essai/idee"):
    return CSRF_INPUT.search(client.get(url).text).group(1)


# ---- headers ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/essai/", "/essai/idee", "/inconnu/", "/static/atelier.css"])
def test_security_headers_everywhere(client, url):
    response = client.get(url)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]


def test_pages_have_no_inline_script_or_style_and_stay_small(client):
    for url in ("/", "/essai/", "/essai/emargement", "/essai/idee", "/essai/fiche", "/essai/fiche?temps=sous-groupe&question=q1&groupe=1", "/inconnu/"):
        response = client.get(url)
        assert response.headers["Content-Type"] == "text/html; charset=utf-8", url
        page = response.text
        assert "<script" not in page and "<style" not in page and "style=" not in page, url
        assert len(page.encode()) < 8000, url  # poor network: a few kilobytes per page
    assert len(client.get("/static/atelier.css").data) < 6000


# ---- CSRF ------------------------------------------------------------------


def test_missing_csrf_token_is_refused_in_french_and_the_text_is_kept(client, folder):
    before = snapshot(folder)
    page = client.post("/essai/idee", data={"question": "q1", "text": "Mon idée précieuse"})
    assert page.status_code == 400
    assert "Le jeton de sécurité du formulaire manque. Renvoyez le formulaire depuis cette page." in text_of(page.text)
    assert 'role="alert"' in page.text
    assert "\nMon idée précieuse</textarea>" in page.text
    assert snapshot(folder) == before
    # the page carries a fresh token: sending it again works
    again = client.post(
        "/essai/idee", data={"csrf_token": CSRF_INPUT.search(page.text).group(1), "question": "q1", "text": "Mon idée précieuse"}
    )
    assert again.status_code == 303
    assert [r["text"] for r in rows(folder, "contributions")] == ["Mon idée précieuse"]


def test_forged_csrf_token_is_refused(client, folder):
    token(client, "/essai/emargement")  # a session exists, with its own token
    before = snapshot(folder)
    page = client.post("/essai/emargement", data={"csrf_token": "faux", "name": "Anne", "role": "elu"})
    assert page.status_code == 400
    assert "Le jeton de sécurité du formulaire n'est pas valable. Renvoyez le formulaire." in text_of(page.text)
    assert 'value="Anne"' in page.text
    assert snapshot(folder) == before


def test_csrf_token_from_another_session_is_refused(tmp_path, folder):
    app = make_app(tmp_path)
    stolen = token(app.test_client(), "/essai/emargement")
    victim = app.test_client()
    page = victim.post("/essai/emargement", data={"csrf_token": stolen, "name": "Anne", "role": "elu"})
    assert page.status_code == 400
    assert "Votre session a expiré ou vos cookies sont bloqués" in text_of(page.text)
    assert rows(folder, "participants") == []


def test_expired_csrf_token(tmp_path, folder):
    client = make_app(tmp_path, WTF_CSRF_TIME_LIMIT=-1).test_client()
    page = client.post("/essai/idee", data={"csrf_token": token(client), "question": "q1", "text": "x"})
    assert page.status_code == 400
    assert f"Le formulaire a expiré{NNBSP}: vos réponses sont conservées ci-dessous, renvoyez-le." in text_of(page.text)


def test_a_form_refused_twice_says_the_reason_that_lasts_and_keeps_the_text(client, folder):
    """An expired token on an atelier closed meanwhile: resending would not help, so the page says it is closed."""
    from pipeline import opening

    client.get("/essai/idee")  # a session, with its CSRF key
    opening.set_status(folder, "closed")
    page = client.post("/essai/idee", data={"csrf_token": "faux", "question": "q1", "text": "Mon idée précieuse"})
    assert page.status_code == 403
    assert "a été clos pendant que vous écriviez" in text_of(page.text)
    assert "jeton de sécurité" not in text_of(page.text)
    assert "\nMon idée précieuse</textarea>" in page.text
    assert rows(folder, "contributions") == []


def test_csrf_failure_on_a_receipt_action_is_a_french_page(client, folder):
    sent = submit(client, "/essai/emargement", {"name": "Anne", "role": "elu"})
    page = client.post(sent.headers["Location"] + "/retirer", data={})
    assert page.status_code == 400
    assert "Le jeton de sécurité du formulaire manque." in text_of(page.text)
    assert rows(folder, "participants")[0]["status"] == "present"


def test_the_same_secret_key_lets_any_worker_check_the_token(tmp_path, folder):
    """Two app instances (two gunicorn workers) with the same key accept each other's tokens."""
    one, two = make_app(tmp_path), make_app(tmp_path)
    client = one.test_client()
    form_token = token(client, "/essai/emargement")
    cookie = client.get_cookie("session")
    other = two.test_client()
    other.set_cookie("session", cookie.value)
    assert other.post("/essai/emargement", data={"csrf_token": form_token, "name": "A", "role": "elu"}).status_code == 303


def test_a_session_cookie_compressed_by_flask_still_opens(tmp_path, folder):
    """Our sessions are no longer zlib-compressed; a cookie Flask compressed (before an upgrade) still reads."""
    app = make_app(tmp_path)
    stock = SecureCookieSessionInterface().get_signing_serializer(app)
    cookie = stock.dumps({"csrf_token": "0" * 40, "_flashes": [("message", "Merci ! C'est enregistré.")]})
    assert cookie.startswith(".")  # itsdangerous marks a compressed payload so
    client = app.test_client()
    client.set_cookie("session", cookie)
    assert "Merci ! C&#39;est enregistré." in client.get("/essai/").text
    assert not client.get_cookie("session").value.startswith(".")


# ---- size, flood, encodings -----------------------------------------------


def test_too_large_a_submission_is_a_french_413(tmp_path, folder):
    client = make_app(tmp_path, MAX_CONTENT_LENGTH=4096).test_client()
    before = snapshot(folder)
    page = client.post("/essai/idee", data={"csrf_token": token(client), "question": "q1", "text": "x" * 5000})
    assert page.status_code == 413
    # Issue 11: the body is not read, so the form cannot come back; Back gives the text back (no autocomplete="off").
    assert (
        f"Votre envoi dépasse 4 Kio{NNBSP}: revenez à la page précédente (votre texte y est encore), "
        "raccourcissez vos textes ou envoyez-les en plusieurs fois."
    ) in text_of(page.text)
    assert snapshot(folder) == before


def test_a_flood_gets_a_french_429_with_retry_after(tmp_path, folder):
    client = make_app(tmp_path, RATELIMIT_BURST=2, RATELIMIT_PER_MINUTE=6).test_client()
    for n in range(2):
        assert submit(client, "/essai/idee", {"question": "q1", "text": f"idée {n}"}).status_code == 303
    before = snapshot(folder)
    page = submit(client, "/essai/idee", {"question": "q1", "text": "une de trop"})
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "10"
    # Issue 11: the form comes back with the idea typed, and says when to send it again.
    assert (
        f"Trop d'envois depuis votre connexion (toute la salle partage le même Wi-Fi). Ce que vous avez saisi est "
        f"conservé ci-dessous{NNBSP}: renvoyez-le dans 10{NBSP}secondes."
    ) in text_of(page.text)
    assert "une de trop</textarea>" in page.text
    assert snapshot(folder) == before
    assert client.get("/essai/idee").status_code == 200  # reading is never limited


def test_the_bucket_is_shared_by_workers_and_refills():
    import tempfile

    now = [1000.0]
    folder = tempfile.mkdtemp()
    worker_a = RateLimiter(folder, burst=2, per_minute=60, clock=lambda: now[0])
    worker_b = RateLimiter(folder, burst=2, per_minute=60, clock=lambda: now[0])
    assert worker_a.take("192.0.2.1") == 0.0
    assert worker_b.take("192.0.2.1") == 0.0
    assert worker_a.take("192.0.2.1") == pytest.approx(1.0)
    assert worker_b.take("192.0.2.9") == 0.0  # another client has its own bucket
    now[0] += 1.0
    assert worker_b.take("192.0.2.1") == 0.0


@pytest.mark.parametrize(
    "body",
    [
        b"question=q1&text=caf%E9",  # Latin-1 é, percent-encoded
        b"question=q1&text=caf\xc3",  # raw bytes cut in the middle of a character
        b"question=q1&text=%FF%FE",
    ],
)
def test_malformed_utf8_is_refused_in_french(client, folder, body):
    before = snapshot(folder)
    page = client.post(
        "/essai/idee",
        data=b"csrf_token=" + token(client).encode() + b"&" + body,
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 400
    assert f"Le formulaire reçu n'est pas du texte UTF-8 valable{NNBSP}: rien n'a été enregistré." in text_of(page.text)
    assert snapshot(folder) == before


def test_other_encodings_of_the_form_are_refused(client, folder):
    before = snapshot(folder)
    page = client.post("/essai/idee", data={"csrf_token": token(client), "text": "x", "fichier": (__import__("io").BytesIO(b"x"), "x.txt")})
    assert page.status_code == 415
    assert "application/x-www-form-urlencoded" in text_of(page.text)
    page = client.post("/essai/idee", data='{"text": "x"}', content_type="application/json")
    assert page.status_code == 415
    assert snapshot(folder) == before


def test_unknown_pages_and_methods_are_french(client):
    assert "Cette page ne s'utilise pas ainsi." in text_of(client.delete("/essai/idee").text)
    assert client.put("/essai/").status_code == 405
    page = client.get("/essai/recu/x/inconnu")
    assert page.status_code == 404 and "Page introuvable" in page.text


def test_text_is_stored_exactly_as_typed_even_when_it_looks_like_markup_or_a_formula(client, folder):
    sent = submit(client, "/essai/idee", {"question": "q1", "text": '=SUM(A1) <script>alert("x")</script> « ok »'})
    assert rows(folder, "contributions")[0]["text"] == '=SUM(A1) <script>alert("x")</script> « ok »'
    page = client.get(sent.headers["Location"]).text
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_summary_links_point_to_existing_fields(client):
    page = submit(client, "/essai/fiche?temps=sous-groupe&question=q1&groupe=1", {"practice": ""})
    page_of_idea = submit(client, "/essai/idee", {"question": "", "text": ""})
    assert summary_items(page.text) and summary_items(page_of_idea.text)
    for href, _text in summary_items(page.text) + summary_items(page_of_idea.text):
        assert re.search(rf'id="{href[1:]}"', page.text + page_of_idea.text), href
