"""Helpers of the vote's tests: a « constats-propositions » atelier with propositions to vote on."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from conftest import contribution

from pipeline import store
from pipeline.scaffold import new_atelier

SLUG = "vote"
PHASE = "priorites"  # the vote of the constats-propositions ready format (data, not code)
PLAN = "plan"
DAY = dt.date(2026, 11, 20)
HIDDEN_TOKEN = re.compile(r'name="bulletin" value="([^"]+)"')


def proposition(row_id: str, group: str, position: int, text: str, **fields: str) -> dict[str, object]:
    return contribution(row_id, question="theme-1", phase="propositions", group=group, section="proposition",
                        position=position, text=text, **fields)


def vote_atelier(data_dir: Path, slug: str = SLUG) -> Path:
    """A new atelier of the constats-propositions format with five propositions (one with a précision, one hidden)."""
    folder = new_atelier(data_dir, slug, DAY, "constats-propositions")
    store.append_rows(folder, "contributions", [
        proposition("pa", "1", 1, "Un marché de producteurs le samedi"),
        proposition("pa1", "1", 1, "sur la place de la mairie", parent="pa"),
        proposition("pb", "1", 2, "Une cantine 100 % locale"),
        proposition("pc", "2", 1, "Un tiers-lieu agricole"),
        proposition("pd", "2", 2, "Une monnaie locale"),
        proposition("px", "3", 1, "Hors sujet", status="hidden"),
        contribution("cz", question="theme-1", phase="propositions", group="3", section="conditions", text="Des élus moteurs"),
    ])
    return folder
