"""A short plain-text summary of an atelier, for the terminal."""

from __future__ import annotations

from collections import Counter

from pipeline.french import date_fr, plural
from pipeline.workshop import Atelier, Phase


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
            if not phase.rubrics or q not in w.phase_questions(phase):
                continue  # a vote or an action plan has no columns: its own lines follow
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
    for phase in w.phases:
        if phase.kind == "vote":
            lines += _vote_lines(atelier, phase)
        elif phase.kind == "actions":
            lines += _plan_lines(atelier, phase)
    return "\n".join(lines)


VOTE_STATUS = {"waiting": "pas encore ouvert", "open": "ouvert", "closed": "fermé"}


def _vote_lines(atelier: Atelier, phase: Phase) -> list[str]:
    """« Vote « Priorités » — fermé : 3 bulletins en ligne, 12 gommettes en ligne, 8 sur papier », then the three first points."""
    from pipeline import votes

    state = votes.states(atelier.votes).get(phase.id, votes.VoteState(phase.id))
    result = votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions, state)
    lines = [
        f"\nVote « {phase.title} » — {VOTE_STATUS[state.status]} : {plural(result.ballots, 'bulletin')} en ligne, "
        f"{plural(result.online, 'gommette')} en ligne, {result.paper} sur papier, "
        f"{plural(len(result.results), 'point soumis', 'points soumis')} au vote"
    ]
    for r in result.results:
        if not r.total or r.rank > 3:
            break
        lines.append(f"  {r.rank}{'ᵉ' if r.rank > 1 else 'ᵉʳ'}{' ex æquo' if r.tied else ''} : "
                     f"{r.point.contribution.text} ({plural(r.total, 'gommette')})")
    return lines


def _plan_lines(atelier: Atelier, phase: Phase) -> list[str]:
    """« Plan d'actions « Plan » : 2 actions (proposée : 1, décidée : 1) »."""
    from pipeline import schemas

    labels = schemas.enum_labels("actions", "statut")
    items = [a for a in atelier.actions if a.phase == phase.id]
    statuts = Counter(a.statut for a in items)
    detail = ", ".join(f"{labels.get(s, s)} : {n}" for s, n in statuts.items())
    return [f"\nPlan d'actions « {phase.title} » : {plural(len(items), 'action')}" + (f" ({detail})" if detail else "")]
