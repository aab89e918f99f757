"""A ballot cast in Debian's headless Chromium, 360 px wide, without JavaScript; pages audited by axe-core."""

from __future__ import annotations

import threading

import pytest
from test_browser import AXE, CHROMIUM, CHROMIUM_ARGS, audit, page, shot  # noqa: F401  (the page fixture)
from vote_helpers import PHASE, SLUG, vote_atelier
from webform_helpers import make_app
from werkzeug.serving import make_server

from pipeline import votes
from pipeline.workshop import load_atelier

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    folder = vote_atelier(tmp_path / "data")
    votes.set_state(folder, load_atelier(folder).workshop, PHASE, "open")
    httpd = make_server("127.0.0.1", 0, make_app(tmp_path), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", folder
    httpd.shutdown()
    thread.join(timeout=5)


def test_a_ballot_cast_by_keyboard_on_a_360_px_phone_without_script(server, page):
    base, folder = server
    context = page.context.browser.new_context(java_script_enabled=False, locale="fr-FR", viewport={"width": 360, "height": 740})
    phone = context.new_page()
    phone.goto(f"{base}/{SLUG}/")
    phone.get_by_role("link", name="Voter : Vote").click()
    assert phone.url.endswith(f"/{SLUG}/vote/{PHASE}")
    phone.get_by_label("Un marché de producteurs le samedi").fill("3")
    phone.get_by_label("Un tiers-lieu agricole").fill("2")
    phone.keyboard.press("Enter")  # submits the form, as a phone's « OK » key does
    phone.wait_for_url(f"{base}/{SLUG}/vote/{PHASE}/*")
    text = phone.inner_text("main")
    assert "Vous avez donné 5 gommettes" in text and "3 × Un marché de producteurs le samedi" in text
    # Nothing wider than the phone: the page never scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "vote-360")
    link = phone.url
    phone.get_by_label("Un tiers-lieu agricole").fill("0")
    phone.get_by_label("Une monnaie locale").fill("1")
    phone.get_by_role("button", name="Modifier mon vote").click()
    assert "Votre vote est modifié." in phone.inner_text("main")
    atelier = load_atelier(folder)
    state = votes.states(atelier.votes)[PHASE]
    assert list(state.counted().values()) == [{"pa": 3, "pd": 1}]
    context.close()
    for url in (f"{base}/{SLUG}/vote/{PHASE}", link):
        page.goto(url)
        audit(page, url)


def test_the_facilitator_s_vote_and_action_plan_pages_pass_the_audit(tmp_path, page):
    from facilitator_helpers import SECRET, facilitator_app

    from pipeline import actions

    folder = vote_atelier(tmp_path / "data")
    workshop = load_atelier(folder).workshop
    votes.set_state(folder, workshop, PHASE, "open")
    votes.cast_ballot(folder, workshop, PHASE, "b-1", {"pa": 2}, ["pa", "pb", "pc", "pd"])
    actions.add(folder, "plan", {"title": "Lancer le marché", "porteur": "Mairie", "statut": "decidee", "points": "pa"})
    httpd = make_server("127.0.0.1", 0, facilitator_app(tmp_path), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_port}"
        page.goto(f"{base}/{SLUG}/animation/connexion")
        page.fill("#secret", SECRET)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/{SLUG}/animation/")
        for path in (f"vote/{PHASE}", "actions/plan", "mur"):
            page.goto(f"{base}/{SLUG}/animation/{path}")
            audit(page, path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    finally:
        httpd.shutdown()
        thread.join(timeout=5)
