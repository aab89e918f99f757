"""A short plain-text summary of an atelier, for the terminal."""

from __future__ import annotations

from collections import Counter

from pipeline.french import date_fr
from pipeline.validate import SECTION_NAMES
from pipeline.workshop import Atelier

def summarize(atelier: Atelier) -> str:
    """Title, day, questions and counts of published points per column."""
    w = atelier.workshop
    state = "ouvert" if w.is_open else "clos"
    lines = [
        w.title,
        f"{date_fr(w.date)}, {w.place} — formulaire {state}",
        f"Participants : {sum(1 for p in atelier.participants if p.status == 'present')} "
        f"(dont {len(atelier.listed_participants())} nommés dans la liste des présents)",
        f"Points publiés : {len(atelier.published())} sur {len(atelier.contributions)}",
    ]
    counts = Counter((c.question, c.phase, c.group, c.section) for c in atelier.published())
    for q in w.questions:
        lines.append(f"\n{q.id} — {q.title}")
        ideas = counts[(q.id, "brainstorming", None, "idea")]
        lines.append(f"  brainstorming : {ideas} idée(s)")
        for g in range(1, q.subgroup_count + 1):
            parts = [
                f"{counts[(q.id, 'sous-groupe', g, s)]} {SECTION_NAMES[s]}"
                for s in ("practice", "reflection", "driver", "brake")
            ]
            asides = counts[(q.id, "sous-groupe", g, "aside")]
            if asides:
                parts.append(f"{asides} encadré{'s' if asides > 1 else ''}")
            lines.append(f"  sous-groupe {g} : " + ", ".join(parts))
    return "\n".join(lines)
