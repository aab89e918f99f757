"""The web form's catalogs: complete, compiled from the current .po files, French typography in the msgids."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webform" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}


def catalog(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def norm(value):
    """Plural entries come as lists or tuples depending on the reader."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def msgids(cat) -> set:
    return {norm(m.id) for m in cat if m.id}


def test_the_template_lists_exactly_the_strings_of_the_code():
    method_map = [
        ("webform/**.py", "python"),
        ("pipeline/textrules.py", "python"),
        ("webform/**/templates/**.html", "jinja2"),
    ]
    found = {
        (msg if isinstance(msg, str) else tuple(msg))
        for _file, _line, msg, _comments, _context in extract_from_dir(
            str(ROOT), method_map=method_map, keywords=KEYWORDS
        )
        if "translations" not in _file
    }
    pot = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog(TRANSLATIONS / "messages.pot") if m.id}
    assert found - pot == set(), "run `make translations`"
    assert pot - found == set(), "run `make translations`"


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_each_catalog_follows_the_template_and_its_mo_is_compiled(locale):
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    po = catalog(po_path, locale)
    pot = catalog(TRANSLATIONS / "messages.pot")
    assert msgids(po) == msgids(pot), "run `make translations`"
    compiled = BytesIO()
    write_mo(compiled, po)  # what `pybabel compile` writes
    assert compiled.getvalue() == po_path.with_suffix(".mo").read_bytes(), "the .mo is stale: run `make translations`"


def test_english_is_complete():
    po = catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po", "en")
    untranslated = [m.id for m in po if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))]
    assert untranslated == []
    for m in po:
        if m.id:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            wanted = set(re.findall(r"%\(\w+\)\w", " ".join(ids)))
            assert set(re.findall(r"%\(\w+\)\w", " ".join(strings))) <= wanted, m.id


def test_french_typography_of_the_msgids():
    bad = []
    for m in catalog(TRANSLATIONS / "messages.pot"):
        for text in (m.id if isinstance(m.id, tuple) else (m.id,)):
            if re.search(r" [:;!?]", text) or re.search(r"« |«[^\u00a0]| »|[^\u00a0]»", text) or "..." in text:
                bad.append(text)
    assert bad == []
