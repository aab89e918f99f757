"""The preview PDF: the real renderer in a separate process, one render for simultaneous requests, French failures."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from facilitator_helpers import facilitator_app, logged_in, make_folder
from pypdf import PdfReader
from test_facilitator import flashes, post
from test_facilitator_access import wait_for_render
from webform_helpers import CSRF_INPUT, NNBSP, submit, text_of


pytestmark = pytest.mark.slow
WATERMARK = "PROJET — document de travail"


def journal(tmp_path, slug="essai"):
    path = tmp_path / "instance" / "apercus" / slug / "journal.log"
    return [line.split()[1] for line in path.read_text(encoding="utf-8").splitlines()]


def test_requests_at_once_on_two_workers_start_one_render_of_a_real_draft_pdf(tmp_path):
    make_folder(tmp_path)
    workers = [facilitator_app(tmp_path), facilitator_app(tmp_path)]
    clients = [logged_in(workers[n % 2]) for n in range(6)]
    tokens = [CSRF_INPUT.search(c.get("/essai/animation/apercu").text).group(1) for c in clients]
    barrier = threading.Barrier(len(clients))

    def press(n):
        barrier.wait()
        return clients[n].post("/essai/animation/apercu", data={"csrf_token": tokens[n]})

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(press, range(len(clients))))
    assert [a.status_code for a in answers] == [303] * len(clients)
    said = sorted(m for c, a in zip(clients, answers) for m in flashes(c, a))
    assert said == ["L'aperçu de ces données est déjà prêt ou en cours."] * 5 + ["Le rendu de l'aperçu a commencé."]

    page = clients[0].get("/essai/animation/apercu")
    if "Rendu en cours" in page.text:  # the page updates itself every 2 s while the render runs
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
        assert '<meta name="actualisation" content="2">' in page.text
    job = wait_for_render(workers[1])
    assert job.state == "done", job.error
    assert journal(tmp_path) == ["début", "fin"]  # one render for six requests

    page = clients[3].get("/essai/animation/apercu")
    assert "refresh" not in page.text and "<script" not in page.text
    assert 'href="/essai/animation/apercu.pdf"' in page.text
    assert f"{job.pages} pages, produites le " in text_of(page.text)
    pdf = clients[4].get("/essai/animation/apercu.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == "attachment; filename=essai-apercu.pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert pdf.data.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    assert len(pages) == job.pages
    text = "\n".join(p.extract_text() for p in pages)
    assert all(WATERMARK in p.extract_text() for p in pages)
    assert "Circuits courts" in text and "Volonté des élus" in text
    assert "Une monnaie locale" not in text and "Hors sujet" not in text  # pending, hidden

    # The same data again: the PDF is reused, nothing is rendered.
    answer = post(clients[5], "/essai/animation/apercu")
    assert flashes(clients[5], answer) == ["L'aperçu de ces données est déjà prêt ou en cours."]
    assert journal(tmp_path) == ["début", "fin"]

    # New data: the page says the PDF is stale and offers a new one.
    submit(clients[0], "/essai/animation/saisie", {"question": "q1", "section": "idea", "group": "", "text": "Idée tardive"})
    page = text_of(clients[0].get("/essai/animation/apercu").text)
    assert f"Les données ont changé depuis{NNBSP}: cet aperçu n'en tient pas compte." in page
    assert "Produire un nouvel aperçu" in page
    answer = post(clients[0], "/essai/animation/apercu")
    assert flashes(clients[0], answer) == ["Le rendu de l'aperçu a commencé."]
    assert wait_for_render(workers[0]).state == "done"
    assert journal(tmp_path) == ["début", "fin", "début", "fin"]
    latest = PdfReader(io.BytesIO(clients[0].get("/essai/animation/apercu.pdf").data))
    assert "Idée tardive" in "\n".join(p.extract_text() for p in latest.pages)


def test_a_killed_render_is_reported_and_can_be_started_again(tmp_path):
    make_folder(tmp_path)
    app = facilitator_app(tmp_path)
    client = logged_in(app)
    post(client, "/essai/animation/apercu")
    job = app.extensions["animation-previews"].job("essai")
    assert job.state == "running"
    os.kill(job.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (job := app.extensions["animation-previews"].job("essai")).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page = text_of(client.get("/essai/animation/apercu").text)
    assert f"Le rendu a échoué. Le rendu s'est interrompu (processus arrêté avant la fin){NNBSP}; relancez-le." in page
    assert "Produire un nouvel aperçu" in page
    assert client.get("/essai/animation/apercu.pdf").status_code == 404
    post(client, "/essai/animation/apercu")
    assert wait_for_render(app).state == "done"


def test_invalid_data_is_a_french_failure(tmp_path):
    folder = make_folder(tmp_path)
    with (folder / "contributions.csv").open("a", encoding="utf-8") as f:  # a hand edit gone wrong
        f.write("x1,q9,brainstorming,,idea,,1,,Perdu,,,2026-11-20T10:00:00Z,,published\n")
    app = facilitator_app(tmp_path)
    client = logged_in(app)
    post(client, "/essai/animation/apercu")
    job = wait_for_render(app)
    assert job.state == "failed"
    page = text_of(client.get("/essai/animation/apercu").text)
    assert f"Le rendu a échoué. Les données de l'atelier ne sont pas valides{NNBSP}: " in page
    assert "q9" in page
    assert client.get("/essai/animation/apercu.pdf").status_code == 404


def test_the_render_process_gets_no_secret(tmp_path, monkeypatch):
    """FLASK_* variables (the session key, the facilitator's code) stay in the web process."""
    monkeypatch.setenv("FLASK_FACILITATOR_SECRET", "ne doit pas sortir")
    make_folder(tmp_path)
    app = facilitator_app(tmp_path)
    client = logged_in(app)
    post(client, "/essai/animation/apercu")
    pid = app.extensions["animation-previews"].job("essai").pid
    try:
        environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    except FileNotFoundError:
        pytest.fail("the render ended before its environment could be read")
    assert not [v for v in environ if v.startswith(b"FLASK_")]
    assert wait_for_render(app).state == "done"
