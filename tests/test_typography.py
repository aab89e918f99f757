"""French typography at render time: spaces, apostrophes, ellipses — and URLs left alone."""

from __future__ import annotations

import pytest

from pipeline.french import NBSP, NNBSP, french


@pytest.mark.parametrize(
    ("typed", "printed"),
    [
        ("« Qui est le territoire » ?", f"«{NBSP}Qui est le territoire{NBSP}»{NNBSP}?"),
        ("productif local» ?", f"productif local{NBSP}»{NNBSP}?"),
        ("«organiser»", f"«{NBSP}organiser{NBSP}»"),
        (f"«{NBSP}déjà{NBSP}»", f"«{NBSP}déjà{NBSP}»"),
        ("Plateformes :", f"Plateformes{NNBSP}:"),
        ("Temps 1: état des lieux", f"Temps 1{NNBSP}: état des lieux"),
        ("a ; b ! c?", f"a{NNBSP}; b{NNBSP}! c{NNBSP}?"),
        ("innovants…?", f"innovants…{NNBSP}?"),
        ("quoi ?!", f"quoi{NNBSP}?!"),
        ("l'atelier", "l’atelier"),
        ("voir...", "voir…"),
        # Left as typed: URLs, times, query strings, a quote that is not an apostrophe.
        ("http://www.agrilocal63.fr/, mis", "http://www.agrilocal63.fr/, mis"),
        ("https://exemple.fr/page?id=3&x=1", "https://exemple.fr/page?id=3&x=1"),
        ("de 10:30 à 12:00", "de 10:30 à 12:00"),
        ("'citation'", "'citation'"),
    ],
)
def test_french(typed, printed):
    assert french(typed) == printed


def test_french_is_idempotent():
    text = "Capacité à changer : « le changement c'est maintenant »... ; et l'inverse ?"
    assert french(french(text)) == french(text)
