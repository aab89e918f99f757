"""Helpers of the facilitator's tests: an atelier with points, an app with a facilitator secret, a logged-in client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import contribution, participant, write_atelier
from webform_helpers import make_app, submit

SECRET = "un code d'animation de test"


def make_folder(tmp_path: Path, slug: str = "essai", **workshop: Any) -> Path:
    """An atelier under tmp_path/data/ with a few points of each kind."""
    return write_atelier(
        tmp_path / "data" / slug,
        workshop=workshop,
        participants=[participant("p-1", name="Anne Dupont"), participant("p-2", listed="false")],
        contributions=[
            contribution("a", text="Circuits courts"),
            contribution("a1", parent="a", text="avec les cantines"),
            contribution("b", position=2, status="pending", text="Une monnaie locale"),
            contribution("b1", parent="b", status="pending", text="comme à Moulins"),
            contribution("h", position=3, status="hidden", text="Hors sujet"),
            contribution("s", phase="sous-groupe", group=2, section="driver", text="Volonté des élus"),
            contribution("s1", phase="sous-groupe", group=2, section="driver", parent="s", text="et des techniciens"),
        ],
    )


def facilitator_app(tmp_path: Path, **config: Any):
    config.setdefault("FACILITATOR_SECRET", SECRET)
    config.setdefault("PREVIEW_DIR", str(tmp_path / "instance" / "apercus"))
    return make_app(tmp_path, **config)


def log_in(client, slug: str = "essai", secret: str = SECRET, **kwargs: Any):
    return submit(client, f"/{slug}/animation/connexion", {"secret": secret}, **kwargs)


def logged_in(app, slug: str = "essai"):
    client = app.test_client()
    answer = log_in(client, slug)
    assert answer.status_code == 303, answer.text
    return client
