"""Who reaches the facilitator's pages: every URL refuses strangers, participants and wrong secrets; lock-out; cookie."""

from __future__ import annotations

import re
import tempfile
import time

import pytest
from facilitator_helpers import SECRET, facilitator_app, log_in, logged_in, make_folder
from webform_helpers import CSRF_INPUT, NBSP, NNBSP, make_app, snapshot, submit, text_of

from webform.ratelimit import GuessDelay

from webform import ConfigurationError, create_app


def facilitator_routes() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) of every facilitator URL but the login page, read from the app itself.

    A page added later is in this list without anyone remembering to add it.
    """
    scratch = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "liste des routes",
            "DATA_DIR": f"{scratch}/data",
            "TOKENS_DIR": f"{scratch}/t",
            "RATELIMIT_DIR": f"{scratch}/r",
            "PREVIEW_DIR": f"{scratch}/p",
        }
    )
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("facilitator.") and rule.endpoint != "facilitator.login":
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, rule.rule, method))
    return sorted(found)


ROUTES = facilitator_routes()
VALUES = {"slug": "essai", "point_id": "b", "resource": "contributions", "phase_id": "vote", "ballot": "b-1", "action_id": "a-1"}


def test_the_route_list_is_complete():
    endpoints = {endpoint for endpoint, _rule, _method in ROUTES}
    assert {
        "facilitator.dashboard",
        "facilitator.wall",
        "facilitator.queue",
        "facilitator.publish",
        "facilitator.hide",
        "facilitator.edit",
        "facilitator.merge",
        "facilitator.transcribe",
        "facilitator.transcribe_lines",
        "facilitator.set_status",
        "facilitator.exports",
        "facilitator.export_zip",
        "facilitator.export_xlsx",
        "facilitator.export_csv",
        "facilitator.preview",
        "facilitator.start_preview",
        "facilitator.preview_pdf",
        "facilitator.logout",
    } <= endpoints
    assert all(rule.startswith("/<slug>/animation/") for _e, rule, _m in ROUTES)


def url(app, endpoint: str, method: str) -> str:
    with app.test_request_context():
        return app.url_map.bind("localhost").build(endpoint, VALUES, method=method, append_unknown=False)


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path, moderation="pre")


@pytest.fixture
def app(tmp_path, folder):
    return facilitator_app(tmp_path)


def strangers(app, kind: str):
    """A client of each kind that must be refused, and the token it may try to use."""
    client = app.test_client()
    token = ""
    if kind == "participant":
        sent = submit(client, "/essai/idee", {"question": "q1", "text": "Mon idée"})
        token = sent.headers["Location"].rsplit("/", 1)[1]
        assert client.get(sent.headers["Location"]).status_code == 200  # a valid receipt, a live session
    elif kind == "wrong secret":
        assert log_in(client, secret="pas le bon code").status_code == 400
    return client, token


@pytest.mark.parametrize("kind", ["anonymous", "participant", "wrong secret"])
@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=[f"{m} {r}" for _e, r, m in ROUTES])
def test_every_facilitator_url_refuses_strangers(tmp_path, app, folder, endpoint, rule, method, kind):
    client, token = strangers(app, kind)
    before = snapshot(folder), (folder / "atelier.yaml").read_bytes()
    target = url(app, endpoint, method)
    page = client.get("/essai/idee").text  # a participant's page: a valid CSRF token for this session
    csrf = CSRF_INPUT.search(page).group(1)
    attempts = [{}, {"query_string": {"jeton": token, "token": token}}, {"headers": {"Authorization": f"Bearer {token}"}}]
    for extra in attempts if token else attempts[:1]:
        if method == "GET":
            answer = client.get(target, **extra)
            assert answer.status_code == 303, (target, answer.status_code)
            assert answer.headers["Location"].startswith("/essai/animation/connexion?suite="), answer.headers["Location"]
        else:
            answer = client.post(target, data={"csrf_token": csrf, "text": "x", "status": "closed", "keep": "a"}, **extra)
            assert answer.status_code == 403, (target, answer.status_code)
            assert f"Cette action est réservée à l'équipe d'animation{NNBSP}: connectez-vous d'abord." in text_of(answer.text)
        for secret_text in ("Une monnaie locale", "Hors sujet", "Anne Dupont"):
            assert secret_text not in answer.text
    assert (snapshot(folder), (folder / "atelier.yaml").read_bytes()) == before
    assert not (tmp_path / "instance" / "apercus").exists()  # no render was started


@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=[f"{m} {r}" for _e, r, m in ROUTES])
def test_every_facilitator_url_lets_the_facilitator_in(tmp_path, app, folder, endpoint, rule, method):
    client = logged_in(app)
    target = url(app, endpoint, method)
    if "<phase_id>" in rule:
        # This atelier has no vote nor action plan: the view itself answers (tests/test_votes.py uses them).
        answer = client.get(target) if method == "GET" else client.post(
            target, data={"csrf_token": CSRF_INPUT.search(client.get("/essai/animation/").text).group(1)})
        assert answer.status_code == 404 and "de ce genre dans cet atelier" in answer.text, (target, answer.status_code)
    elif method == "GET":
        answer = client.get(target)
        expected = 404 if endpoint == "facilitator.preview_pdf" else 200  # no preview produced yet
        assert answer.status_code == expected, (target, answer.text[:500])
    else:
        csrf = CSRF_INPUT.search(client.get("/essai/animation/").text).group(1)
        answer = client.post(target, data={"csrf_token": csrf, "text": "Texte", "status": "open", "keep": "a"})
        assert answer.status_code in (303, 400), (target, answer.status_code, answer.text[:500])
        if endpoint == "facilitator.start_preview":
            wait_for_render(app)


def wait_for_render(app, slug: str = "essai", timeout: float = 90.0):
    previews = app.extensions["animation-previews"]
    deadline = time.monotonic() + timeout
    while (job := previews.job(slug)) is not None and job.state == "running":
        assert time.monotonic() < deadline, "the render did not finish"
        time.sleep(0.2)
    return job


def test_login_sets_a_protected_session_cookie_and_goes_where_it_was_asked(app):
    client = app.test_client()
    sent = client.get("/essai/animation/mur?question=q1")
    assert sent.headers["Location"] == "/essai/animation/connexion?suite=/essai/animation/mur?question%3Dq1"
    answer = log_in(client, query_string={"suite": "/essai/animation/mur?question=q1"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/essai/animation/mur?question=q1"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/essai/animation/mur?question=q1").status_code == 200


def test_the_cookie_is_secure_when_configured(tmp_path, folder):
    app = facilitator_app(tmp_path, SESSION_COOKIE_SECURE=True)
    answer = log_in(app.test_client(), base_url="https://localhost")
    assert "; Secure" in answer.headers["Set-Cookie"]


@pytest.mark.parametrize(
    "suite, place",
    [
        ("/essai/animation/moderation", "/essai/animation/moderation"),
        ("https://ailleurs.example/essai/animation/", "/essai/animation/"),
        ("//ailleurs.example/essai/animation/", "/essai/animation/"),
        ("/autre/animation/", "/essai/animation/"),
        ("/essai/idee", "/essai/animation/"),
        ("/essai/animation/\\\\ailleurs.example", "/essai/animation/"),
    ],
)
def test_after_login_only_this_ateliers_animation_pages_are_destinations(app, suite, place):
    client = app.test_client()
    page = client.get("/essai/animation/connexion", query_string={"suite": suite})
    csrf = CSRF_INPUT.search(page.text).group(1)
    answer = client.post("/essai/animation/connexion", query_string={"suite": suite}, data={"csrf_token": csrf, "secret": SECRET})
    assert answer.headers["Location"] == place


def test_logout_ends_the_session(app):
    client = logged_in(app)
    csrf = CSRF_INPUT.search(client.get("/essai/animation/").text).group(1)
    answer = client.post("/essai/animation/deconnexion", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["Location"] == "/essai/animation/connexion"
    assert "Vous êtes déconnecté·e de l'animation." in text_of(client.get(answer.headers["Location"]).text)
    assert client.get("/essai/animation/").status_code == 303
    assert client.get("/essai/animation/connexion").status_code == 200


def test_logout_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(tmp_path, folder):
    """Issue 11: « Se déconnecter » revokes the session for every worker, not only in this browser."""
    worker_a, worker_b = facilitator_app(tmp_path), facilitator_app(tmp_path)
    client = logged_in(worker_a)
    copy = worker_b.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/essai/animation/").status_code == 200
    csrf = CSRF_INPUT.search(client.get("/essai/animation/").text).group(1)
    assert client.post("/essai/animation/deconnexion", data={"csrf_token": csrf}).status_code == 303
    assert copy.get("/essai/animation/").status_code == 303  # sent to the login page
    assert logged_in(worker_b).get("/essai/animation/").status_code == 200  # a new login works


def test_logout_is_a_post(app):
    client = logged_in(app)
    assert client.get("/essai/animation/deconnexion").status_code == 405
    assert client.get("/essai/animation/").status_code == 200


def test_a_session_expires_and_dies_with_a_new_secret(tmp_path, folder):
    expired = facilitator_app(tmp_path, FACILITATOR_SESSION_HOURS=-1)
    client = expired.test_client()
    assert log_in(client).status_code == 303
    assert client.get("/essai/animation/").status_code == 303
    app = facilitator_app(tmp_path)
    client = logged_in(app)
    cookie = client.get_cookie("session").value
    rotated = facilitator_app(tmp_path, FACILITATOR_SECRET="un tout autre code d'animation").test_client()
    rotated.set_cookie("session", cookie)
    assert rotated.get("/essai/animation/").status_code == 303
    other_worker = facilitator_app(tmp_path).test_client()  # same key and secret: another gunicorn worker
    other_worker.set_cookie("session", cookie)
    assert other_worker.get("/essai/animation/").status_code == 200


def test_a_wrong_secret_is_a_french_error_and_keeps_nothing(app):
    client = app.test_client()
    answer = log_in(client, secret="presque le code")
    assert answer.status_code == 400
    assert "Code d'animation : Ce code d'animation n'est pas le bon." in text_of(answer.text).replace(NNBSP, " ")
    assert 'value="presque le code"' not in answer.text  # a password field is never filled back
    empty = log_in(client, secret="")
    assert empty.status_code == 400 and "Ce champ est obligatoire." in text_of(empty.text)


def test_wrong_secrets_slow_the_address_down_across_workers_never_lock_it_out(tmp_path, folder):
    """Issue 11, case 7: the room's participants share the team's address; their wrong codes cost the
    team a short wait at most (FACILITATOR_DELAY_MAX_SECONDS), never minutes of 429."""
    worker_a, worker_b = facilitator_app(tmp_path), facilitator_app(tmp_path)
    room, other = {"REMOTE_ADDR": "192.0.2.10"}, {"REMOTE_ADDR": "192.0.2.99"}
    for n in range(5):
        worker = worker_a if n % 2 else worker_b
        assert log_in(worker.test_client(), secret=f"essai {n}", environ_base=room).status_code == 400
    waiting = log_in(worker_a.test_client(), environ_base=room)  # even the right secret waits its turn
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "2"
    assert (
        "Plusieurs codes erronés ont été essayés depuis cette adresse (peut-être depuis le Wi-Fi de la salle). "
        f"Par sécurité, patientez 2{NBSP}secondes avant de réessayer."
    ) in text_of(waiting.text)
    assert 'type="password"' in waiting.text  # the form is there to try again
    assert log_in(worker_b.test_client(), environ_base=other).status_code == 303  # another address does not wait
    time.sleep(2.1)
    assert log_in(worker_b.test_client(), environ_base=room).status_code == 303  # the team is in after 2 s


def test_a_code_pasted_with_spaces_around_it_is_accepted_and_blank_costs_no_delay(tmp_path, folder):
    app = facilitator_app(tmp_path)
    room = {"REMOTE_ADDR": "192.0.2.10"}
    for _n in range(6):  # blank codes: no attempt counted
        assert log_in(app.test_client(), secret=" \n\t", environ_base=room).status_code == 400
    assert log_in(app.test_client(), secret=f"  {SECRET}\r\n", environ_base=room).status_code == 303


def test_the_delay_grows_then_stays_at_its_ceiling_and_a_right_code_wipes_it(tmp_path):
    now = [1000.0]
    delay = GuessDelay(tmp_path, free=3, longest=60, forget=900, clock=lambda: now[0])
    waits = []
    for _ in range(10):
        verdict, wait = delay.attempt("192.0.2.1", lambda: False)
        assert verdict == "wrong"
        if wait:
            now[0] += wait - 0.5
            assert delay.attempt("192.0.2.1", lambda: True) == ("wait", 0.5)  # not even checked
            now[0] += 0.5
        waits.append(wait)
    assert waits[:8] == [0, 0, 2, 4, 8, 16, 32, 60] and waits[8:] == [60, 60]
    assert delay.attempt("192.0.2.1", lambda: True) == ("accepted", 0.0)
    assert delay.attempt("192.0.2.1", lambda: False) == ("wrong", 0.0)  # counted afresh
    now[0] += 901
    assert delay.delay(0) == 0.0


def test_successful_logins_do_not_use_up_the_allowance(tmp_path, folder):
    app = facilitator_app(tmp_path)
    for _ in range(8):
        assert log_in(app.test_client()).status_code == 303
    for n in range(4):
        assert log_in(app.test_client(), secret=f"faux {n}").status_code == 400
    assert log_in(app.test_client()).status_code == 303


def test_the_participants_flood_limit_does_not_count_the_facilitators_posts(tmp_path, folder):
    app = facilitator_app(tmp_path, RATELIMIT_BURST=2, RATELIMIT_PER_MINUTE=1)
    client = logged_in(app)
    for n in range(5):
        answer = submit(client, "/essai/animation/saisie", {"question": "q1", "section": "idea", "group": "", "text": f"Post-it {n}"})
        assert answer.status_code == 303


def test_without_a_secret_the_facilitator_pages_are_switched_off(tmp_path, folder):
    client = make_app(tmp_path).test_client()
    answer = client.get("/essai/animation/connexion")
    assert answer.status_code == 503
    assert "Les pages d'animation sont désactivées" in text_of(answer.text)
    assert client.get("/essai/animation/").status_code == 303


def test_unknown_atelier_is_a_404_even_for_the_login(app):
    assert app.test_client().get("/inconnu/animation/connexion").status_code == 404


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, f"FLASK_FACILITATOR_SECRET manquante{NNBSP}: en production, définissez le code d'animation"),
        ({"FLASK_FACILITATOR_SECRET": "court"}, f"FLASK_FACILITATOR_SECRET trop courte (5\u00a0caractères){NNBSP}: il en faut au moins 12."),
        (
            {"FLASK_FACILITATOR_SECRET": "la clé de session"},
            f"FLASK_FACILITATOR_SECRET est égale à FLASK_SECRET_KEY{NNBSP}: choisissez deux valeurs différentes.",
        ),
    ],
)
def test_production_refuses_to_start_without_a_good_facilitator_secret(tmp_path, monkeypatch, env, message):
    monkeypatch.setenv("FLASK_SECRET_KEY", "la clé de session")
    monkeypatch.delenv("FLASK_FACILITATOR_SECRET", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = {"DATA_DIR": str(tmp_path / "data"), "TOKENS_DIR": str(tmp_path / "t"), "RATELIMIT_DIR": str(tmp_path / "r")}
    with pytest.raises(ConfigurationError) as caught:
        create_app(config)
    assert str(caught.value).startswith(message)
    monkeypatch.setenv("FLASK_FACILITATOR_SECRET", "123456789012345")  # digits: JSON would make it a number
    assert create_app(config).config["FACILITATOR_SECRET"] == "123456789012345"


# ---- headers -----------------------------------------------------------------------------------

PAGES = [
    "/essai/animation/",
    "/essai/animation/mur",
    "/essai/animation/moderation",
    "/essai/animation/moderation/b/corriger",
    "/essai/animation/moderation/b/fusionner",
    "/essai/animation/saisie",
    "/essai/animation/saisie/lignes",
    "/essai/animation/exports",
    "/essai/animation/apercu",
]


@pytest.mark.parametrize("page", PAGES + ["/essai/animation/connexion"])
def test_security_headers_on_facilitator_pages(app, page):
    client = logged_in(app) if page != "/essai/animation/connexion" else app.test_client()
    answer = client.get(page)
    assert answer.status_code == 200
    headers = answer.headers
    csp = headers["Content-Security-Policy"]
    script = "script-src 'self'" if page == "/essai/animation/mur" else "script-src 'none'"  # the wall updates itself
    assert "default-src 'self'" in csp and script in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Robots-Tag"] == "noindex, nofollow"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    scripts = re.findall(r"<script[^>]*>[^<]*</script>", answer.text)
    assert scripts in ([], ['<script src="/static/animation.js" defer></script>'])  # our file, never inline code
    assert answer.text.count("<script") == len(scripts)
    assert "<style" not in answer.text and "style=" not in answer.text


def test_downloads_are_not_cached_either(app):
    client = logged_in(app)
    for path in ("/essai/animation/exports/donnees.zip", "/essai/animation/exports/contributions.csv"):
        answer = client.get(path)
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
