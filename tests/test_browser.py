"""The form in Debian's headless Chromium against a real server: filled by keyboard, audited by axe-core."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from webform_helpers import make_app, make_data, rows
from werkzeug.serving import make_server

from pipeline.validate import validate_atelier

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "out" / "screenshots"


@pytest.fixture
def server(tmp_path):
    folder = make_data(tmp_path)
    app = make_app(tmp_path)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", folder
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    assert AXE.is_file(), "axe-core is missing: run `make node-deps`"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.problems = problems  # type: ignore[attr-defined]
        yield page
        browser.close()


def audit(page, name: str) -> None:
    """Run axe-core on the current page (CSP stays on: the script is evaluated by the driver)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: {serious} {page.url} {page.content()[:300]}"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_participant_journey_by_keyboard_with_accessibility_audit(server, page):
    base, folder = server

    page.goto(base + "/")
    audit(page, "liste des ateliers")
    page.goto(base + "/essai/")
    audit(page, "accueil de l'atelier")
    shot(page, "accueil-360")

    # The skip link is the first stop of the keyboard and moves the focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"

    # Émargement, typed and sent from the keyboard.
    page.click("text=Signer la feuille d'émargement")
    page.wait_for_url("**/emargement")
    audit(page, "émargement")
    page.focus("#name")
    page.keyboard.type("Anne Dupont")
    page.keyboard.press("Tab")
    page.keyboard.type("Mairie de Moulins")
    page.keyboard.press("Tab")
    page.select_option("#role", "elu")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the consent checkbox
    assert page.is_checked("#listed")
    shot(page, "emargement-360")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recu/**")
    assert "Merci" in page.inner_text(".bandeau")
    audit(page, "reçu d'émargement")
    shot(page, "recu-360")

    # An idea with précisions; first sent empty to see the error summary.
    page.goto(base + "/essai/idee")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector(".resume-erreurs")
    assert "valeur obligatoire manquante." in page.inner_text(".resume-erreurs")
    audit(page, "idée avec erreurs")
    shot(page, "idee-erreurs-360")
    page.click(".resume-erreurs a[href='#text']")
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type("Créer un conseil local de l'alimentation")
    page.check("#question-1")
    page.focus("#details")
    page.keyboard.type("avec les habitants\n- tirés au sort\net les élus")
    page.click("button[type=submit]")
    page.wait_for_url("**/recu/**")
    assert page.inner_text(".points").split("\n") == [
        "Créer un conseil local de l'alimentation",
        "avec les habitants",
        "tirés au sort",
        "et les élus",
    ]

    # A sous-groupe sheet: chosen by a link (question, then group), no script needed.
    page.goto(base + "/essai/fiche")
    audit(page, "choix de la fiche")
    page.get_by_role("link", name="Sous-groupe 2").first.click()
    page.wait_for_url("**/fiche?temps=sous-groupe&question=q1&groupe=2")
    audit(page, "fiche de sous-groupe")
    shot(page, "fiche-360")
    page.fill("#practice", "Marchés de producteurs\n  - le samedi")
    page.fill("#driver", "Volonté des élus\nDemande des habitants")
    page.fill("#brake", "Coût du foncier")
    page.click("button[type=submit]")
    page.wait_for_url("**/recu/**")
    audit(page, "reçu de fiche")

    # Correct then withdraw, through the links of the receipt.
    page.get_by_role("link", name="Corriger", exact=True).click()
    page.wait_for_url("**/corriger")
    audit(page, "correction")
    page.fill("#brake", "Coût du foncier\nManque de temps")
    page.click("button[type=submit]")
    page.wait_for_url("**/recu/**")
    assert "Manque de temps" in page.inner_text("main")

    # No CSP violation, no script error, no missing resource; the form sent empty on purpose answers 400.
    assert [p for p in page.problems if "status of 400 (BAD REQUEST)" not in p] == []
    page.goto(base + "/inconnu/")
    audit(page, "page 404")
    [person] = rows(folder, "participants")
    assert (person["name"], person["organisation"], person["role"], person["listed"]) == (
        "Anne Dupont",
        "Mairie de Moulins",
        "elu",
        "true",
    )
    contributions = rows(folder, "contributions")
    ideas = [(r["text"], r["question"]) for r in contributions if r["phase"] == "brainstorming"]
    assert ideas == [
        ("Créer un conseil local de l'alimentation", "q2"),
        ("avec les habitants", "q2"),
        ("tirés au sort", "q2"),
        ("et les élus", "q2"),
    ]
    sheet = [(r["section"], r["text"], r["group"]) for r in contributions if r["phase"] == "sous-groupe"]
    assert sheet == [
        ("practice", "Marchés de producteurs", "2"),
        ("practice", "le samedi", "2"),
        ("driver", "Volonté des élus", "2"),
        ("driver", "Demande des habitants", "2"),
        ("brake", "Coût du foncier", "2"),
        ("brake", "Manque de temps", "2"),
    ]
    assert validate_atelier(folder) == []


LONG_URL = "https://www.example.org/territoires/dossier_transition-agroecologique/2016/06/compte-rendu-atelier-moulins.pdf?version=2"


def test_a_pasted_address_or_a_long_run_stays_inside_a_360_px_receipt(server, page):
    base, _ = server
    page.goto(base + "/essai/idee")
    page.fill("#text", f"Voir {LONG_URL}")
    page.check("#question-1")
    page.fill("#details", "9" * 300 + "\nنريد سوقاً محلياً للمنتجين")
    page.click("button[type=submit]")
    page.wait_for_url("**/recu/**")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    items = page.query_selector_all(".points li")
    assert len(items) == 3
    for item in items:
        box = item.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360
    # The Arabic précision is set right to left.
    assert page.evaluate("getComputedStyle(document.querySelectorAll('.points li')[2]).unicodeBidi") == "plaintext"
    shot(page, "recu-lien-360")


def test_english_pages_pass_the_audit_too(server, page):
    base, _folder = server
    page.goto(base + "/essai/fiche?temps=sous-groupe&question=q1&groupe=1&lang=en")
    assert page.get_attribute("html", "lang") == "en"
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector(".resume-erreurs")
    audit(page, "fiche en anglais, avec erreurs")


def test_back_then_sign_again_replaces_the_signature_in_a_browser_that_keeps_the_page(server):
    """Retour, a typo fixed, Signer: one signature, the corrected one (README « Un envoi, une fois »).

    Phones' browsers restore the page from their back/forward cache, with its submission token;
    Playwright turns that cache off by default, so it is turned back on here.
    """
    from playwright.sync_api import sync_playwright

    base, folder = server
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, ignore_default_args=["--disable-back-forward-cache"]
        )
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR").new_page()
        page.goto(base + "/essai/emargement")
        token = page.input_value("input[name=envoi]")
        page.fill("#name", "Anne Dupon")
        page.select_option("#role", "habitant")
        page.click("button[type=submit]")
        page.wait_for_url("**/recu/**")
        page.go_back(wait_until="commit")  # restored from the cache: no « load » event
        page.wait_for_selector("input[name=envoi]", state="attached")
        assert page.input_value("input[name=envoi]") == token
        assert page.input_value("#name") == "Anne Dupon"
        page.fill("#name", "Anne Dupont")
        page.click("button[type=submit]")
        page.wait_for_url("**/recu/**")
        assert "remplace le premier" in page.inner_text("main")
        browser.close()
    assert [r["name"] for r in rows(folder, "participants")] == ["Anne Dupont"]
