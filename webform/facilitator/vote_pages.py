"""Facilitator pages of a vote (open, close, reveal, paper gommettes, void a ballot) and of the action plan."""

from __future__ import annotations

from pathlib import Path

from flask import Response, flash, render_template, request
from flask_babel import gettext as _  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import actions, schemas, votes
from pipeline.workshop import Atelier, AtelierError, Phase, Workshop
from webform.facilitator import back, bp, current_atelier, form_page
from webform.facilitator.forms import ActionForm, ActionItemForm
from webform.participant.page import open_atelier, submitted
from webform.safety import library_refusal, refuse, shows_form_again


def _phase(workshop: Workshop, phase_id: str, kind: str) -> Phase:
    phase = workshop.phase(phase_id)
    if phase is None or phase.kind != kind:
        raise refuse(404, _("Il n'y a pas de temps « %(phase)s » de ce genre dans cet atelier.", phase=phase_id[:40]))
    return phase


def vote_tally(atelier: Atelier, phase: Phase) -> votes.Tally:
    state = votes.states(atelier.votes).get(phase.id, votes.VoteState(phase.id))
    return votes.tally(atelier.workshop, phase, atelier.vote_candidates(phase), atelier.contributions, state)


@bp.get("/<slug>/animation/vote/<phase_id>")
def vote(slug: str, phase_id: str) -> str:
    workshop, folder = open_atelier(slug)
    phase = _phase(workshop, phase_id, "vote")
    return vote_page(workshop, folder, phase)


def vote_page(workshop: Workshop, folder: Path, phase: Phase, typed: dict[str, str] | None = None,
              errors: list[tuple[str, str, str]] | None = None) -> str:
    """The vote's page; after a refused paper count, the counts as typed (`typed`) and what is wrong (`errors`)."""
    atelier = current_atelier(workshop, folder)
    result = vote_tally(atelier, phase)
    return render_template(
        "facilitator/vote.html",
        workshop=workshop,
        phase=phase,
        tally=result,
        twins=votes.twins(r.point for r in result.results),
        state=result.state,
        per_minute=votes.per_minute(result.state)[-10:],
        ballots=sorted(result.state.ballots.items()),
        form=ActionForm(),
        typed=typed or {},
        errors=errors or [],
        invalid={anchor for anchor, _label, _message in errors or []},
    )


@bp.post("/<slug>/animation/vote/<phase_id>/etat")
def vote_state(slug: str, phase_id: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    phase = _phase(workshop, phase_id, "vote")
    event = request.form.get("event", "")
    if event not in votes.STATE_EVENTS:
        raise refuse(400, _("Action inconnue : le vote peut être ouvert, fermé ou dévoilé."))
    flash(votes.change_state(folder, event, phase.id))
    return back(".vote", slug, phase_id=phase.id)


@bp.post("/<slug>/animation/vote/<phase_id>/papier")
def vote_paper(slug: str, phase_id: str) -> HttpResponse:
    """The gommettes counted on the wall's post-its, per point: they replace the last paper count."""
    workshop, folder = open_atelier(slug)
    phase = _phase(workshop, phase_id, "vote")
    atelier = current_atelier(workshop, folder)
    allowed = [p.contribution.id for p in votes.votable(workshop, phase, atelier.vote_candidates(phase))]
    counts: dict[str, int] = {}
    typed = {point: request.form.get(f"papier-{point}", "").strip() for point in allowed}
    errors = []
    texts = {p.contribution.id: p.contribution.text for p in atelier.vote_candidates(phase)}
    for point in allowed:
        value = typed[point] or "0"
        if not value.isdigit() or len(value) > 4:
            errors.append((f"papier-{point}", texts.get(point, point)[:80], _("« %(value)s » n'est pas un nombre de gommettes ; rien n'a été enregistré.", value=value[:20])))
            continue
        counts[point] = int(value)
    if errors:  # every count comes back as typed, the wrong ones named
        return Response(vote_page(workshop, folder, phase, typed, errors), status=400)
    changed = votes.record_paper(folder, workshop, phase.id, counts, allowed)
    flash(_("Gommettes papier enregistrées.") if changed else _("Les gommettes papier étaient déjà celles-ci."))
    return back(".vote", slug, "papier", phase_id=phase.id)


@bp.post("/<slug>/animation/vote/<phase_id>/annuler/<ballot>")
def vote_void(slug: str, phase_id: str, ballot: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    phase = _phase(workshop, phase_id, "vote")
    changed = votes.void_ballot(folder, workshop, phase.id, ballot)
    flash(_("Bulletin annulé : il ne compte plus.") if changed else _("Ce bulletin était déjà annulé."))
    return back(".vote", slug, "bulletins", phase_id=phase.id)


@bp.route("/<slug>/animation/actions/<phase_id>", methods=["GET", "POST"])
@shows_form_again
def action_plan(slug: str, phase_id: str) -> HttpResponse:
    """The plan d'actions: its items, a form to add one, a statut to change."""
    workshop, folder = open_atelier(slug)
    phase = _phase(workshop, phase_id, "actions")
    atelier = current_atelier(workshop, folder)
    points = actions.source_points(atelier)
    form = ActionItemForm()
    form.points.choices = [(c.id, c.text[:120]) for c in points]
    if submitted(form):
        with library_refusal():
            actions.add(folder, phase.id, actions.item_from_form(form.data))
            flash(_("Action ajoutée au plan."))
            return back(".action_plan", slug, phase_id=phase.id)
    return form_page(
        "facilitator/actions.html",
        form,
        workshop,
        phase=phase,
        items=[a for a in atelier.actions if a.phase == phase.id],
        statuts=schemas.enum_labels("actions", "statut"),
        texts={c.id: c.text for c in atelier.contributions},
        action_form=ActionForm(),
    )


@bp.post("/<slug>/animation/actions/<phase_id>/<action_id>/statut")
def action_statut(slug: str, phase_id: str, action_id: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    phase = _phase(workshop, phase_id, "actions")
    try:
        actions.set_statut(folder, action_id, request.form.get("statut", ""))
    except AtelierError as error:  # a statut or an action the page never offered: the request is wrong
        raise refuse(400, str(error)) from None
    flash(_("Statut de l'action modifié."))
    return back(".action_plan", slug, phase_id=phase.id)


