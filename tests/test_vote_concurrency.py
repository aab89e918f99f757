"""30 participants vote at once on gunicorn workers, with double taps, replays and changes: the tally equals the ballots."""

from __future__ import annotations

import random
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from test_concurrency import environment
from vote_helpers import HIDDEN_TOKEN, PHASE, SLUG, vote_atelier

from pipeline import votes
from pipeline.validate import validate_atelier
from pipeline.workshop import load_atelier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.servers import gunicorn  # noqa: E402

pytestmark = pytest.mark.slow

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PEOPLE = 30
POINTS = ("pa", "pb", "pc", "pd")


def choices(rng: random.Random) -> dict[str, int]:
    left, chosen = 5, {}
    for point in rng.sample(POINTS, rng.randint(1, 4)):
        count = rng.randint(0, left)
        if count:
            chosen[point] = count
            left -= count
    return chosen


def one_person(base: str, n: int) -> tuple[dict[str, int], dict[str, int]]:
    """Vote like a person on a phone: sometimes a double tap, a replay, a change of mind. Returns (first, last) ballots."""
    rng = random.Random(n)
    url = f"{base}/{SLUG}/vote/{PHASE}"
    with requests.Session() as session:
        page = session.get(url, timeout=20)
        csrf, token = CSRF.search(page.text).group(1), HIDDEN_TOKEN.search(page.text).group(1)
        first = choices(rng)
        data = {"csrf_token": csrf, "bulletin": token, **{f"p-{k}": str(v) for k, v in first.items()}}
        if n % 3 == 0:  # a double tap: the same POST twice at once
            with ThreadPoolExecutor(2) as pair:
                sent = list(pair.map(lambda _: session.post(url, data=data, allow_redirects=False, timeout=20), range(2)))
        else:
            sent = [session.post(url, data=data, allow_redirects=False, timeout=20)]
        assert all(s.status_code == 303 for s in sent), [s.status_code for s in sent]
        link = base + sent[0].headers["Location"]
        if n % 4 == 0:  # a replay of the first POST, later (the back button, a flaky network)
            assert session.post(url, data=data, allow_redirects=False, timeout=20).status_code == 303
        last = first
        if n % 5 == 0:  # a change of mind through the private link, sent twice
            last = choices(rng)
            change = {"csrf_token": csrf, **{f"p-{k}": str(v) for k, v in last.items()}}
            for _ in range(2):
                assert session.post(link, data=change, allow_redirects=False, timeout=20).status_code == 303
        shown = session.get(link, timeout=20).text
        assert f"Vous avez donné {sum(last.values())} gommette" in shown or (not last and "aucune gommette" in shown)
        return first, last


def test_thirty_people_vote_at_once_and_the_tally_equals_their_ballots(tmp_path):
    folder = vote_atelier(tmp_path / "data")
    atelier = load_atelier(folder)
    votes.set_state(folder, atelier.workshop, PHASE, "open")
    with gunicorn("webform:create_app()", environment(tmp_path), workers=4) as server:
        with ThreadPoolExecutor(PEOPLE) as pool:
            sent = list(pool.map(lambda n: one_person(server.url, n), range(PEOPLE)))
    ballots = [last for _first, last in sent]
    expected = {p: sum(b.get(p, 0) for b in ballots) for p in POINTS}
    atelier = load_atelier(folder)
    phase = atelier.workshop.phase(PHASE)
    state = votes.states(atelier.votes)[PHASE]
    result = votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions, state)
    assert {r.point.contribution.id: r.online for r in result.results} == expected
    assert sum(1 for b in state.ballots.values() if b) == sum(1 for b in ballots if b) == result.ballots
    # One row per real change: double taps and replays wrote nothing more.
    changes = sum(bool(first) + (last != first) for first, last in sent)
    assert len(state.changes) == changes
    assert validate_atelier(folder) == []


def test_across_workers_an_old_form_never_undoes_a_ballot_and_tabs_make_one_ballot(tmp_path):
    """Findings 1 and 2 on 4 gunicorn workers: replays of old forms and simultaneous tabs of one browser."""
    folder = vote_atelier(tmp_path / "data")
    atelier = load_atelier(folder)
    votes.set_state(folder, atelier.workshop, PHASE, "open")
    with gunicorn("webform:create_app()", environment(tmp_path), workers=4) as server, requests.Session() as session:
        url = f"{server.url}/{SLUG}/vote/{PHASE}"
        pages = [session.get(url, timeout=20).text for _ in range(4)]  # four tabs opened before voting
        tabs = [{"csrf_token": CSRF.search(p).group(1), "bulletin": HIDDEN_TOKEN.search(p).group(1), "version": "0",
                 f"p-{POINTS[i % 4]}": "5"} for i, p in enumerate(pages)]
        with ThreadPoolExecutor(4) as pool:
            sent = list(pool.map(lambda data: session.post(url, data=data, allow_redirects=False, timeout=20), tabs))
        assert sorted(s.status_code for s in sent) == [303] + [409] * 3
        link = server.url + next(s for s in sent if s.status_code == 303).headers["Location"]
        assert session.post(link, data={"csrf_token": tabs[0]["csrf_token"], "version": "1", "p-pa": "1", "p-pb": "1"},
                            allow_redirects=False, timeout=20).status_code == 303
        for data in tabs:  # every old form again, on whichever worker
            assert session.post(url, data=data, allow_redirects=False, timeout=20).status_code == 409
    state = votes.states(load_atelier(folder).votes)[PHASE]
    assert list(state.ballots.values()) == [{"pa": 1, "pb": 1}] and len(state.changes) == 2
