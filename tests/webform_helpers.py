"""Helpers shared by the web form's tests: an app over tmp_path, CSRF-aware posts, CSV snapshots."""

from __future__ import annotations

import csv
import html as html_lib
import re
from pathlib import Path
from typing import Any

from conftest import write_atelier

from webform import create_app

NNBSP = "\u202f"  # before : ; ! ?
NBSP = "\u00a0"  # inside « »

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SUBMISSION_INPUT = re.compile(r'name="envoi" value="([^"]+)"')
STATE_INPUT = re.compile(r'name="etat" value="([^"]+)"')


def make_data(tmp_path: Path, slug: str = "essai", **workshop: Any) -> Path:
    """An atelier folder under tmp_path/data/ (DATA_DIR), so tokens can live beside, outside it."""
    return write_atelier(tmp_path / "data" / slug, workshop=workshop)


def make_app(tmp_path: Path, **config: Any):
    settings = {
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "clé de test",
        "TESTING": True,
        "TOKENS_DIR": str(tmp_path / "instance" / "recus"),
        "RATELIMIT_DIR": str(tmp_path / "instance" / "debit"),
    }
    settings.update(config)
    return create_app(settings)


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    match = CSRF_INPUT.search(page.text)
    assert match, "no CSRF token in the form"
    return match.group(1)


def form_tokens(client, url: str) -> dict[str, str]:
    """The hidden tokens of the form at `url`: CSRF, and the submission and correction-state tokens when it has them."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    match = CSRF_INPUT.search(page.text)
    assert match, "no CSRF token in the form"
    tokens = {"csrf_token": match.group(1)}
    submission = SUBMISSION_INPUT.search(page.text)
    if submission:
        tokens["envoi"] = submission.group(1)
    state = STATE_INPUT.search(page.text)
    if state:
        tokens["etat"] = state.group(1)
    return tokens


def submit(client, url: str, data: dict[str, Any], **kwargs: Any):
    """GET the form (for its CSRF and submission tokens) then POST `data`, like a browser."""
    return client.post(url, data={**form_tokens(client, url), **data}, **kwargs)


def snapshot(folder: Path) -> dict[str, bytes]:
    """The bytes of every CSV of an atelier folder."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def rows(folder: Path, resource: str) -> list[dict[str, str]]:
    with (folder / f"{resource}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def summary_items(html: str) -> list[tuple[str, str]]:
    """(href, text) of each link of the error summary."""
    block = re.search(r'<div class="resume-erreurs" role="alert".*?</div>', html, re.S)
    assert block, "no error summary"
    found = re.findall(r'<li><a href="([^"]*)">(.*?)</a></li>', block.group(0))
    return [(href, html_lib.unescape(text)) for href, text in found]


def text_of(page: str) -> str:  # noqa: D401
    """The page's text without tags, entities decoded, spaces collapsed."""
    # Only ASCII blanks collapse: the narrow no-break spaces of French typography stay.
    return re.sub(r"[ \t\r\n]+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page))).strip()
