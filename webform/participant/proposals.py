"""A group proposes an action for the plan d'actions (statut « proposée »); the team decides later."""

from __future__ import annotations

import hashlib
import secrets

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import actions
from pipeline.workshop import Workshop
from webform.participant import bp
from webform.participant.page import language, no_store, open_atelier, refuse_if_closed, show_form, submitted
from webform.receipts import TOKEN
from webform.safety import library_refusal, refuse, shows_form_again

ACTION_FIELD = "proposition"  # the hidden field naming the action a form adds (a replay adds nothing)


def action_form(workshop: Workshop) -> FlaskForm:
    from webform.facilitator.forms import ActionItemForm

    form = ActionItemForm()
    form.group.choices = [("", _("— choisir —"))] + [(g.id, g.text(language())) for g in workshop.groups]
    return form


@bp.route("/<slug>/action/<phase_id>", methods=["GET", "POST"])
@shows_form_again
def propose_action(slug: str, phase_id: str) -> HttpResponse:
    """A group proposes an action for the plan (statut « proposée »); the team decides later."""
    workshop, folder = open_atelier(slug)
    phase = workshop.phase(phase_id)
    if phase is None or phase.kind != "actions":
        raise refuse(404, _("Il n'y a pas de plan d'actions « %(phase)s » dans cet atelier.", phase=phase_id[:40]))
    closed = refuse_if_closed(workshop)
    if closed:
        return closed
    form = action_form(workshop)
    if submitted(form) and form.group.data and workshop.group(form.group.data) is None:
        form.group.errors = [_("Choisissez un des groupes proposés.")]
    elif submitted(form):
        token = request.form.get(ACTION_FIELD, "")
        if not TOKEN.fullmatch(token):
            raise refuse(400, _("Ce formulaire n'est pas valable : rechargez la page et recommencez."))
        item = {**actions.item_from_form(form.data), "statut": "proposee", "points": "", "group": form.group.data or ""}
        with library_refusal():
            done = actions.add(folder, phase.id, item,
                               action_id="a-" + hashlib.sha256(f"action:{token}".encode("ascii")).hexdigest()[:16])
            if done == "replaced":
                flash(_("Ce formulaire avait déjà été envoyé : ce nouvel envoi remplace le premier, qui n'est pas compté deux fois."))
            else:
                flash(_("Merci ! L'action est proposée ; l'équipe d'animation la reprendra dans le plan."))
            return redirect(url_for(".propose_action", slug=slug, phase_id=phase.id), code=303)
    new_token = request.form.get(ACTION_FIELD) if request.method == "POST" else secrets.token_urlsafe(32)
    return no_store(show_form("participant/action.html", form, workshop, phase=phase, new_token=new_token))
