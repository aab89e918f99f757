"""A facilitator's session in Debian's headless Chromium: login, post-its by keyboard, moderation, the wall; axe-core audits."""

from __future__ import annotations

import threading

import pytest
from facilitator_helpers import SECRET, facilitator_app
from test_browser import AXE, CHROMIUM, CHROMIUM_ARGS, audit, page, shot  # noqa: F401  (page is a fixture)
from webform_helpers import make_data, rows
from werkzeug.serving import make_server

from conftest import contribution

from pipeline import store
from pipeline.validate import validate_atelier

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path, request):
    """An atelier in pre-moderation, served with a facilitator's code (and `request.param`'s settings)."""
    folder = make_data(tmp_path, moderation="pre")
    app = facilitator_app(tmp_path, **getattr(request, "param", {}))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", folder
    httpd.shutdown()
    thread.join(timeout=5)


def active_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_facilitator_session_by_keyboard_with_accessibility_audit(server, page):
    base, folder = server

    # A participant sends an idea: pre-moderation keeps it pending.
    page.goto(base + "/essai/idee")
    page.check("#question-0")
    page.fill("#text", "Une monnaie locale")
    page.click("button[type=submit]")
    page.wait_for_url("**/recu/**")
    page.context.clear_cookies()  # the facilitator is someone else
    [pending] = rows(folder, "contributions")
    assert pending["status"] == "pending"

    # The facilitator's pages send a stranger to the login page; the code is typed, Enter logs in.
    page.goto(base + "/essai/animation/moderation")
    assert page.url == base + "/essai/animation/connexion?suite=/essai/animation/moderation"
    audit(page, "connexion")
    page.focus("#secret")
    page.keyboard.type("pas le bon code")
    page.keyboard.press("Enter")
    page.wait_for_selector(".resume-erreurs")
    audit(page, "connexion refusée")
    page.focus("#secret")
    page.keyboard.type(SECRET)
    page.keyboard.press("Enter")
    page.wait_for_url("**/animation/moderation")
    assert "Vous êtes connecté·e à l'animation." in page.inner_text(".bandeau")

    # Dashboard.
    page.goto(base + "/essai/animation/")
    audit(page, "tableau de bord")
    shot(page, "animation-tableau-360")

    # Three post-its typed one after the other: the cursor comes back to the text field each time.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base + "/essai/animation/saisie")
    audit(page, "saisie")
    page.select_option("#question", "q1")
    page.select_option("#section", "sous-groupe/driver")
    page.select_option("#group", "2")
    assert active_id(page) == "text"  # autofocus
    for text in ("Volonté des élus", "- et des techniciens", "Demande des habitants"):
        assert active_id(page) == "text"
        page.keyboard.type(text)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert active_id(page) == "text", f"the cursor is not back in the field after {text!r}"
        assert page.input_value("#text") == ""
        assert page.input_value("#group") == "2" and page.input_value("#section") == "sous-groupe/driver"
    assert page.inner_text(".recents").split("\n") == [
        "Question 1 · Sous-groupe 2 · Moteurs Demande des habitants",
        "Question 1 · Sous-groupe 2 · Moteurs ↳ et des techniciens",
        "Question 1 · Sous-groupe 2 · Moteurs Volonté des élus",
    ]
    audit(page, "saisie avec derniers post-its")
    shot(page, "animation-saisie")
    page.goto(base + "/essai/animation/saisie/lignes")
    audit(page, "saisie de plusieurs post-its")

    # Moderation: the participant's idea is published from the keyboard.
    page.goto(base + "/essai/animation/moderation")
    audit(page, "modération")
    shot(page, "animation-moderation")
    page.focus(f"#point-{pending['id']} button:text('Publier')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Publié\u202f: «\u00a0Une monnaie locale\u00a0»." in page.inner_text(".bandeau")
    audit(page, "modération après publication")
    page.goto(base + f"/essai/animation/moderation/{pending['id']}/corriger")
    audit(page, "correction d'un point")
    page.goto(base + f"/essai/animation/moderation/{pending['id']}/fusionner")
    audit(page, "fusion d'un doublon")

    # The wall, as projected: everything published, nested, in large type.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(base + "/essai/animation/mur")
    audit(page, "mur")
    shot(page, "animation-mur-1920")
    wall = page.inner_text("main")
    for text in ("Une monnaie locale", "Volonté des élus", "et des techniciens", "Demande des habitants"):
        assert text in wall
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.points-mur li')).fontSize)") >= 24
    assert page.get_attribute('meta[name="actualisation"]', "content") == "15"

    for path, name in (("exports", "exports"), ("apercu", "aperçu")):
        page.goto(base + f"/essai/animation/{path}")
        audit(page, name)
    page.goto(base + "/essai/animation/?lang=en")
    audit(page, "dashboard in English")
    assert page.get_attribute("html", "lang") == "en"

    assert [p for p in page.problems if "status of 400 (BAD REQUEST)" not in p] == []
    table = rows(folder, "contributions")
    assert [(r["text"], r["status"], r["group"], r["section"], r["author"]) for r in table] == [
        ("Une monnaie locale", "published", "", "idea", ""),
        ("Volonté des élus", "published", "2", "driver", ""),
        ("et des techniciens", "published", "2", "driver", ""),
        ("Demande des habitants", "published", "2", "driver", ""),
    ]
    assert table[2]["parent"] == table[1]["id"]
    assert validate_atelier(folder) == []


def log_in(page, base: str) -> None:
    page.goto(base + "/essai/animation/connexion")
    page.fill("#secret", SECRET)
    with page.expect_navigation():
        page.press("#secret", "Enter")


def published(folder, text: str) -> None:
    store.append_rows(folder, "contributions", [contribution(store.new_id("c"), position=9, text=text)])


FAST = [{"WALL_REFRESH_SECONDS": 1}]


@pytest.mark.parametrize("server", FAST, indirect=True)
def test_the_wall_updates_in_place_with_its_script_and_can_be_paused(server, page):
    base, folder = server
    log_in(page, base)
    page.goto(base + "/essai/animation/mur")
    page.evaluate("window.sansRechargement = true")
    published(folder, "Arrivée pendant la projection")
    page.get_by_text("Arrivée pendant la projection").wait_for()  # (wait_for_function would need eval: CSP)
    assert page.evaluate("window.sansRechargement === true")  # replaced in place, not reloaded
    page.focus("#pause-actualisation")
    page.keyboard.press("Enter")
    assert page.inner_text("#pause-actualisation") == "Reprendre"
    assert page.url == base + "/essai/animation/mur"  # the link did not navigate
    published(folder, "Arrivée pendant la pause")
    page.wait_for_timeout(2500)
    assert "Arrivée pendant la pause" not in page.inner_text("main")
    page.click("#pause-actualisation")
    page.get_by_text("Arrivée pendant la pause").wait_for()
    assert page.inner_text("#pause-actualisation") == "Mettre en pause"
    audit(page, "mur mis à jour par le script")
    assert page.evaluate("window.sansRechargement === true")
    assert page.problems == []


@pytest.mark.parametrize("server", FAST, indirect=True)
def test_the_wall_reloads_itself_without_javascript(server, page):
    base, folder = server
    context = page.context.browser.new_context(java_script_enabled=False, locale="fr-FR")
    plain = context.new_page()
    try:
        log_in(plain, base)
        plain.goto(base + "/essai/animation/mur")
        published(folder, "Vue après rechargement")
        plain.wait_for_event("load", timeout=10_000)  # the <noscript> meta refresh reloads the page
        assert "Vue après rechargement" in plain.inner_text("main")
        plain.goto(base + "/essai/animation/mur?pause=1")
        published(folder, "Pas pendant la pause")
        plain.wait_for_timeout(2500)
        assert "Pas pendant la pause" not in plain.inner_text("main")
    finally:
        context.close()


@pytest.mark.parametrize("server", [{}], indirect=True)
def test_header_links_are_never_broken_inside_a_word_at_360_px(server, page):
    """Finding 9: « English » and « Français » stayed whole beside a long atelier title on every animation page."""
    base, folder = server
    text = (folder / "atelier.yaml").read_text(encoding="utf-8")
    title = "Diagnostic partagé du territoire intercommunal de la vallée (AFOM) et ateliers"
    (folder / "atelier.yaml").write_text(text.replace("title: Atelier d’essai", f"title: {title}").replace(
        "title: Atelier d'essai", f"title: {title}"), encoding="utf-8")
    page.goto(base + "/essai/animation/connexion")
    page.fill("#secret", SECRET)
    page.press("#secret", "Enter")
    page.wait_for_url("**/animation/")
    assert title in page.inner_text(".entete")
    # One rectangle per line the word's text takes (a flex item's own box is one block whatever its lines).
    lines = "(el) => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    for lang, word in (("fr", "English"), ("en", "Français")):
        for path in ("", "mur", "moderation", "saisie", "exports", "apercu"):
            page.goto(f"{base}/essai/animation/{path}?lang={lang}")
            link = page.locator(".entete .langue")
            assert link.inner_text() == word
            assert link.evaluate(lines) == 1, f"{word} coupé sur /animation/{path}"
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
