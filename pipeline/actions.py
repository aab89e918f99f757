"""The plan d'actions: items with a porteur, partenaires, an échéance, moyens and a statut, linked to points."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping

from pipeline import clock, schemas, store
from pipeline.workshop import Atelier, AtelierError, Contribution, format_datetime

RESOURCE = "actions"


def source_points(atelier: Atelier) -> list[Contribution]:
    """The points an action may come from: published top-level points, the most voted first when there was a vote."""
    from pipeline import votes

    ranked: list[Contribution] = []
    for phase in atelier.workshop.phases:
        if phase.kind == "vote":
            state = votes.states(atelier.votes).get(phase.id, votes.VoteState(phase.id))
            result = votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions, state)
            ranked += [r.point.contribution for r in result.results if r.point.contribution not in ranked]
    rest = [c for c in atelier.contributions if c.status == "published" and c.parent is None and c not in ranked]
    return ranked + rest


def item_from_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """The row of an action from the facilitator's form data (title, porteur, …, points as a list)."""
    echeance = data.get("echeance")
    return {
        "title": data.get("title") or "",
        "porteur": data.get("porteur") or "",
        "partenaires": data.get("partenaires") or "",
        "echeance": echeance.isoformat() if isinstance(echeance, dt.date) else (echeance or ""),
        "moyens": data.get("moyens") or "",
        "statut": data.get("statut") or "proposee",
        "points": " ".join(dict.fromkeys(data.get("points") or ())),  # each point once, in the order chosen
        "group": data.get("group") or "",
    }


CONTENT = ("title", "porteur", "partenaires", "echeance", "moyens", "points", "group")  # what a resent form replaces


def add(folder: Path, phase_id: str, item: Mapping[str, Any], now: dt.datetime | None = None,
        action_id: str | None = None) -> str:
    """Append one action to actions.csv (checked against its schema; StoreError in French when refused).

    Returns "added"; with `action_id` (the id a form's token gives), the
    same form sent again adds nothing: "" when it holds the same action (a
    replay), "replaced" when it holds other words (Back, a correction, send):
    they replace the first ones, its statut kept (the team may have decided it).
    """
    stamp = format_datetime(now or clock.now())
    row = {**item, "id": action_id or store.new_id("a"), "phase": phase_id, "created_at": stamp}
    with store.locked(folder):
        first = next((r for r in store.read_table(folder, RESOURCE) if r["id"] == action_id), None) if action_id else None
        if first is None:
            store.append_rows(folder, RESOURCE, [row])
            return "added"
    changed = {k: str(item.get(k) or "") for k in CONTENT if str(item.get(k) or "") != (first.get(k) or "")}
    if not changed:
        return ""
    store.update_rows(folder, RESOURCE, {row["id"]: {**changed, "updated_at": stamp}})
    return "replaced"


def set_statut(folder: Path, action_id: str, statut: str, now: dt.datetime | None = None) -> None:
    """Change an action's statut (proposée, décidée, en cours…), stamping updated_at."""
    labels = schemas.enum_labels(RESOURCE, "statut")
    if statut not in labels:
        raise AtelierError(f"statut « {statut[:40]} » inconnu ; statuts possibles : {', '.join(labels)}.")
    stamp = format_datetime(now or clock.now())
    store.update_rows(folder, RESOURCE, {action_id: {"statut": statut, "updated_at": stamp}})
