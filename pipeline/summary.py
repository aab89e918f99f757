"""A short plain-text summary of an atelier, for the terminal."""

from __future__ import annotations

from collections import Counter

from pipeline.french import date_fr, plural
from pipeline.workshop import Atelier


def summarize(atelier: Atelier) -> str:
    """Title, day, questions and counts of the points the compte-rendu prints, per column, in the déroulé's order."""
    w = atelier.workshop
    shown = atelier.shown()  # what the compte-rendu prints, counted alike
    state = "ouvert" if w.is_open else "clos"
    lines = [
        w.title,
        f"{date_fr(w.date)}, {w.place} — formulaire {state}",
        f"Participants : {sum(1 for p in atelier.participants if p.status == 'present')} "
        f"(dont {plural(len(atelier.listed_participants()), 'nommé')} dans la liste des présents)",
        f"Points publiés : {len(shown)} sur {len(atelier.contributions)}",
    ]
    counts = Counter((c.question, c.phase, c.group, c.section) for c in shown)
    for q in w.questions:
        lines.append(f"\n{q.id} — {q.title}")
        for phase in w.phases:
            if q not in w.phase_questions(phase):
                continue
            groups = w.groups_for(phase, q) if phase.grouped else (None,)
            for group in groups:
                parts = []
                for r in phase.rubrics:
                    n = counts[(q.id, phase.id, group.id if group else None, r.id)]
                    if r.box and not n:
                        continue
                    parts.append(plural(n, r.singular, r.plural))
                names = w.column_name(phase.id, group.id if group else None, phase.rubrics[0].id)
                where = " — ".join(names[:-1] if len(phase.rubrics) > 1 else names)  # the rubrics follow
                lines.append(f"  {where} : " + ", ".join(parts))
    return "\n".join(lines)
