"""Many participants at once on gunicorn workers, some of them killed: no acknowledged answer is lost."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from webform_helpers import make_data, rows

from pipeline.validate import validate_atelier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.servers import gunicorn  # noqa: E402

pytestmark = pytest.mark.slow

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CLIENTS = 24
FLOWS = 240
DEADLINE = 60.0  # seconds: the load stops by itself


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        "FLASK_SECRET_KEY": "clé partagée par les workers",
        "FLASK_FACILITATOR_SECRET": "code d'animation des workers",
        "FLASK_DATA_DIR": str(tmp_path / "data"),
        "FLASK_TOKENS_DIR": str(tmp_path / "instance" / "recus"),
        "FLASK_RATELIMIT_DIR": str(tmp_path / "instance" / "debit"),
        "FLASK_RATELIMIT_ENABLED": "false",
    }


def one_flow(base: str, n: int) -> tuple[str, str, bool]:
    """GET a form, POST it with its CSRF token, follow to the receipt. Returns (kind, marker, acknowledged)."""
    marker = f"m{n}-{uuid.uuid4().hex[:10]}"
    kind = ("idee", "emargement", "fiche")[n % 3]
    data = {
        "idee": {"question": "q1", "text": f"Idée {marker}", "details": f"précision {marker}\n- détail {marker}"},
        "emargement": {"name": f"Personne {marker}", "organisation": "Mairie", "role": "habitant", "listed": "y"},
        "fiche": {"driver": f"moteur {marker}\n- sous {marker}", "brake": f"frein {marker}"},
    }[kind]
    # A sheet's phase, question and group are in its address.
    path = f"fiche?temps=sous-groupe&question=q1&groupe={1 + n % 3}" if kind == "fiche" else kind
    try:
        with requests.Session() as session:
            page = session.get(f"{base}/essai/{path}", timeout=10)
            token = CSRF.search(page.text).group(1)
            sent = session.post(f"{base}/essai/{path}", data={"csrf_token": token, **data}, allow_redirects=False, timeout=10)
            if sent.status_code != 303:
                return kind, marker, False
            receipt = session.get(base + sent.headers["Location"], timeout=10)
            return kind, marker, receipt.status_code == 200 and marker in receipt.text
    except (requests.RequestException, AttributeError):
        return kind, marker, False  # a killed worker: no receipt, that is allowed


def expected_rows(kind: str, marker: str) -> list[tuple[str, str]]:
    return {
        "idee": [("contributions", f"Idée {marker}"), ("contributions", f"précision {marker}"), ("contributions", f"détail {marker}")],
        "emargement": [("participants", f"Personne {marker}")],
        "fiche": [("contributions", f"moteur {marker}"), ("contributions", f"sous {marker}"), ("contributions", f"frein {marker}")],
    }[kind]


def run_load(base: str) -> list[tuple[str, str, bool]]:
    started = time.monotonic()
    results = []
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(one_flow, base, n) for n in range(FLOWS)]
        for future in futures:
            results.append(future.result(timeout=max(1.0, DEADLINE - (time.monotonic() - started))))
    return results


@contextlib.contextmanager
def killing_workers(server: Any, *, every: float, most: int) -> Iterator[list[int]]:
    """While the block runs, SIGKILL every worker of `server` each `every` seconds (at most `most` kills):
    all at once, so that the requests in flight — some in the middle of an append — die with them; the
    master respawns them.  Yields the list of the pids killed, filled as it goes."""
    stop = threading.Event()
    kills: list[int] = []

    def killer() -> None:
        while not stop.wait(every) and len(kills) < most:
            for victim in server.worker_pids():
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(victim)
                except ProcessLookupError:
                    pass

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        yield kills
    finally:
        stop.set()
        thread.join(timeout=5)


def check_every_receipt_is_there_once(folder: Path, results: list[tuple[str, str, bool]]) -> None:
    texts = {
        "participants": [r["name"] for r in rows(folder, "participants")],
        "contributions": [r["text"] for r in rows(folder, "contributions")],
    }
    missing, duplicated = [], []
    for kind, marker, acknowledged in results:
        for resource, text in expected_rows(kind, marker):
            count = texts[resource].count(text)
            if acknowledged and count != 1:
                missing.append((text, count))
            if count > 1:
                duplicated.append(text)
    assert missing == [] and duplicated == []
    assert validate_atelier(folder) == []


def test_concurrent_participants_on_four_workers(tmp_path):
    folder = make_data(tmp_path)
    with gunicorn("webform:create_app()", environment(tmp_path), workers=4) as server:
        results = run_load(server.url)
    acknowledged = sum(ok for _k, _m, ok in results)
    assert acknowledged == FLOWS, [r for r in results if not r[2]][:5]
    check_every_receipt_is_there_once(folder, results)
    assert len(rows(folder, "participants")) == FLOWS // 3


def test_workers_killed_during_the_load_lose_no_acknowledged_answer(tmp_path):
    folder = make_data(tmp_path)
    with gunicorn("webform:create_app()", environment(tmp_path), workers=3) as server:
        with killing_workers(server, every=0.4, most=24) as kills:
            results = run_load(server.url)
    print(f"{len(kills)} workers tués, {sum(ok for _k, _m, ok in results)} reçus sur {FLOWS}")
    assert len(kills) >= 3, "the load ended before the workers could be killed"
    acknowledged = sum(ok for _k, _m, ok in results)
    assert acknowledged > FLOWS // 2  # the master restarts killed workers; most flows get through
    check_every_receipt_is_there_once(folder, results)


# ---- issue 11: the same form sent at once by a double tap, on several workers -----------------

SUBMISSION = re.compile(r'name="envoi" value="([^"]+)"')


def form_body(session: requests.Session, url: str, data: dict[str, str]) -> dict[str, str]:
    page = session.get(url, timeout=10)
    body = {"csrf_token": CSRF.search(page.text).group(1), **data}
    submission = SUBMISSION.search(page.text)
    if submission:
        body["envoi"] = submission.group(1)
    return body


def all_at_once(session: requests.Session, url: str, body: dict[str, str], times: int) -> list[requests.Response]:
    start = threading.Barrier(times)

    def send(_n: int) -> requests.Response:
        start.wait()
        return session.post(url, data=body, allow_redirects=False, timeout=20)

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(send, range(times)))


def test_the_same_form_sent_eight_times_at_once_is_saved_once(tmp_path):
    folder = make_data(tmp_path)
    with gunicorn("webform:create_app()", environment(tmp_path), workers=3, threads=4) as server:
        with requests.Session() as session:
            body = form_body(session, f"{server.url}/essai/idee", {"question": "q1", "text": "Double tape", "details": "- vite"})
            answers = all_at_once(session, f"{server.url}/essai/idee", body, 8)
    assert [a.status_code for a in answers] == [303] * 8
    assert len({a.headers["Location"] for a in answers}) == 1
    assert [r["text"] for r in rows(folder, "contributions")] == ["Double tape", "vite"]


def test_the_same_correction_sent_eight_times_at_once_adds_its_point_once(tmp_path):
    folder = make_data(tmp_path)
    with gunicorn("webform:create_app()", environment(tmp_path), workers=3, threads=4) as server:
        with requests.Session() as session:
            body = form_body(session, f"{server.url}/essai/idee", {"question": "q1", "text": "Une idée", "details": ""})
            receipt = session.post(f"{server.url}/essai/idee", data=body, allow_redirects=False, timeout=10).headers["Location"]
            correction = {"question": "q1", "text": "Une idée", "details": "une précision ajoutée"}
            body = form_body(session, f"{server.url}{receipt}/corriger", correction)
            answers = all_at_once(session, f"{server.url}{receipt}/corriger", body, 8)
            page = session.get(f"{server.url}{receipt}", timeout=10).text
    assert [a.status_code for a in answers] == [303] * 8
    texts = [r["text"] for r in rows(folder, "contributions")]
    assert texts.count("une précision ajoutée") == 1
    assert "une précision ajoutée" in page  # the receipt holds it: the participant can see and remove it


def test_no_acknowledged_receipt_ever_answers_not_valid_while_workers_are_killed(tmp_path):
    """Issue 11, case 5: a participant told « enregistré » is never told the link is not valid."""
    make_data(tmp_path)
    not_valid: list[str] = []

    def flow(base: str, n: int) -> bool:
        try:
            with requests.Session() as session:
                body = form_body(session, f"{base}/essai/idee", {"question": "q1", "text": f"Idée {n}"})
                sent = session.post(f"{base}/essai/idee", data=body, allow_redirects=False, timeout=10)
        except (requests.RequestException, AttributeError):
            return False  # killed before the acknowledgement: allowed
        if sent.status_code != 303:
            return False
        for _attempt in range(20):  # the receipt, read as soon as the redirect arrives, by whichever worker
            try:
                page = session.get(base + sent.headers["Location"], timeout=10)
            except requests.RequestException:
                time.sleep(0.05)
                continue  # a killed worker: ask again
            if page.status_code == 404:
                not_valid.append(sent.headers["Location"])
            return page.status_code == 200
        return False

    with gunicorn("webform:create_app()", environment(tmp_path), workers=3, threads=4) as server:
        with killing_workers(server, every=0.3, most=30) as kills, ThreadPoolExecutor(CLIENTS) as pool:
            done = list(pool.map(lambda n: flow(server.url, n), range(FLOWS)))
    assert len(kills) >= 3
    assert sum(done) > FLOWS // 2
    assert not_valid == []


def test_one_signature_or_sheet_page_sent_at_once_with_different_contents_is_one_answer(tmp_path):
    """Back, change, send, repeated fast on a bad network: never a second signature or sheet, never a mixture."""
    folder = make_data(tmp_path)
    sheet = "/essai/fiche?temps=sous-groupe&question=q1&groupe=2"
    with gunicorn("webform:create_app()", environment(tmp_path), workers=3, threads=4) as server:
        with requests.Session() as session:
            person = form_body(session, f"{server.url}/essai/emargement", {"name": "Anne Dupont", "role": "habitant"})
            people = [{**person, **({"listed": "y"} if n % 2 else {})} for n in range(8)]
            paper = form_body(session, f"{server.url}{sheet}", {})
            sheets = [{**paper, "driver": f"Moteur {n}\n- détail {n}", "brake": f"Frein {n}"} for n in range(8)]
            for url, bodies in ((f"{server.url}/essai/emargement", people), (f"{server.url}{sheet}", sheets)):
                start = threading.Barrier(len(bodies))

                def send(body: dict[str, str], url: str = url, start: threading.Barrier = start) -> requests.Response:
                    start.wait()
                    return session.post(url, data=body, allow_redirects=False, timeout=20)

                with ThreadPoolExecutor(len(bodies)) as pool:
                    answers = list(pool.map(send, bodies))
                assert [a.status_code for a in answers] == [303] * len(bodies)
                assert len({a.headers["Location"] for a in answers}) == 1
    assert [r["name"] for r in rows(folder, "participants")] == ["Anne Dupont"]
    live = [r["text"] for r in rows(folder, "contributions") if r["status"] != "withdrawn"]
    sent = {n for n in range(8) if live == [f"Moteur {n}", f"détail {n}", f"Frein {n}"]}
    assert len(sent) == 1, live  # one of the eight, whole
