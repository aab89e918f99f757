"""The vote with gommettes: a participant's ballot, one per person and device, changeable until the vote closes."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import votes
from pipeline.votes import VoteError
from pipeline.workshop import Phase, Workshop
from webform.participant import bp
from webform.participant.page import form_response, language, no_store, open_atelier
from webform.receipts import TOKEN, Receipt
from webform.safety import library_refusal, refusal, refuse, shows_form_again
from webform.services import services

BALLOT_FIELD = "bulletin"  # the hidden field carrying a new ballot's private token
BALLOT_VERSION = "version"  # the hidden field: how many times the ballot had changed when its form was shown


def vote_phase(workshop: Workshop, phase_id: str) -> Phase:
    phase = workshop.phase(phase_id)
    if phase is None or phase.kind != "vote":
        raise refuse(404, _("Il n'y a pas de vote « %(phase)s » dans cet atelier.", phase=phase_id[:40]))
    return phase


def ballot_cookie(phase: Phase) -> str:
    """The cookie that takes a browser back to its own ballot (one ballot per person and device)."""
    return f"bulletin-{phase.id}"


def ballot_id(token: str) -> str:
    """The public id of the ballot a private token opens (votes.csv never holds the token, nor its receipt hash)."""
    return "b-" + hashlib.sha256(f"bulletin:{token}".encode("ascii")).hexdigest()[:16]


def ballot_token(token: str | None) -> str:
    """The private token a ballot POST is about: the link's, else the one the blank ballot page handed out.

    The blank page carries a fresh token in a hidden field, so that a doubled
    or replayed first POST names the same ballot and the store, which keeps
    one set of choices per ballot, counts it once.  This is the one place
    where a generic submission token (issue 11) would come in.
    """
    chosen = token or request.form.get(BALLOT_FIELD, "")
    if not TOKEN.fullmatch(chosen):
        raise refuse(400, _("Ce bulletin n'est pas valable : rechargez la page du vote et recommencez."))
    return chosen


def typed_choices() -> dict[str, int]:
    """The gommettes typed on the ballot, by point id; a count that is not a whole number is refused in French."""
    choices: dict[str, int] = {}
    for name, value in request.form.items(multi=False):
        if not name.startswith("p-"):
            continue
        value = value.strip()
        if value in ("", "0"):
            continue
        if value == "on":
            value = "1"  # a ticked box, where one gommette per point is the rule
        if not value.isdigit() or len(value) > 3:
            raise VoteError(f"« {value[:20]} » n'est pas un nombre de gommettes ; écrivez un nombre entier (0, 1, 2…).")
        choices[name[2:]] = int(value)
    return choices


def ballot_page(workshop: Workshop, folder: Path, phase: Phase, token: str | None, status: int = 200,
                new_token: str | None = None) -> HttpResponse:
    """The ballot: every votable point with its précisions, the gommettes given, what is left.

    The form carries the ballot's version (`BALLOT_VERSION`), so that an
    older form sent later can never undo a newer ballot (`votes.cast_ballot`).
    A blank ballot hands out `new_token` (else a fresh one), kept in `g.ballot_token`.
    """
    atelier = current_vote_atelier(workshop, folder)
    candidates = votes.votable(workshop, phase, atelier.vote_candidates(phase))
    state = votes.states(atelier.votes).get(phase.id, votes.VoteState(phase.id))
    given_to = state.ballots.get(ballot_id(token), {}) if token else {}
    # What counts now: gommettes on a merged point follow it to the kept point (as in the tally);
    # those on a point withdrawn or hidden since count no more, and may be given again.
    ids = {p.contribution.id for p in candidates}
    mine: dict[str, int] = {}
    gone = 0
    for point, count in given_to.items():
        kept = state.kept(point)
        if kept in ids:
            mine[kept] = mine.get(kept, 0) + count
        else:
            gone += count
    refused_by = refusal()  # a refused POST (webform.safety): its choices shown as typed, with the sentence
    refused = refused_by.message if refused_by else None
    shown = mine
    if refused:
        try:
            shown = typed_choices()
        except VoteError:
            shown = {k[2:]: request.form[k] for k in request.form if k.startswith("p-")}  # type: ignore[misc]
    rule = phase.vote
    assert rule is not None
    questions = {q.id: q for q in workshop.questions}
    if token:
        g.ballot_token = None
    elif refused and TOKEN.fullmatch(request.form.get(BALLOT_FIELD, "")):
        g.ballot_token = request.form[BALLOT_FIELD]
    else:
        g.ballot_token = new_token or secrets.token_urlsafe(32)
    body = render_template(
        "participant/ballot.html",
        workshop=workshop,
        phase=phase,
        rule=rule,
        state=state,
        points=candidates,
        twins=votes.twins(candidates),
        questions=questions,
        shown=shown,
        mine=mine,
        given=sum(mine.values()),
        gone=gone,
        voided=token is not None and ballot_id(token) in state.voided,
        token=token,
        new_token=g.ballot_token,
        version=state.versions.get(ballot_id(token), 0) if token else 0,
        version_field=BALLOT_VERSION,
        action=url_for(".my_ballot", slug=workshop.slug, phase_id=phase.id, token=token) if token else None,
        form=FlaskForm(),
        errors=[("", "", refused)] if refused else [],
        lang=language(),
    )
    return no_store(form_response(body, status))


def current_vote_atelier(workshop: Workshop, folder: Path) -> Any:
    from webform.facilitator import current_atelier

    return current_atelier(workshop, folder)


def submit_ballot(workshop: Workshop, folder: Path, phase: Phase, token: str) -> bool:
    """Record the ballot of `token` with the choices of this POST (VoteError when refused); False for a replay."""
    atelier = current_vote_atelier(workshop, folder)
    allowed = [p.contribution.id for p in votes.votable(workshop, phase, atelier.vote_candidates(phase))]
    sent = request.form.get(BALLOT_VERSION, "")
    if sent and not (sent.isdigit() and len(sent) < 7):
        raise refuse(400, _("Ce bulletin n'est pas valable : rechargez la page du vote et recommencez."))
    # A form without a version is an old page's (before versions): its first ballot is version 0.
    version = int(sent) if sent else (None if request.view_args and "token" in request.view_args else 0)
    changed = votes.cast_ballot(folder, workshop, phase.id, ballot_id(token), typed_choices(), allowed, version=version)
    services().receipts.replace(token, Receipt(workshop.slug, "vote", "votes", (phase.id, ballot_id(token))))
    return changed


def device_ballot(slug: str, phase: Phase) -> tuple[str | None, bool]:
    """The ballot token this browser's cookie holds for `phase`, and whether a ballot was already cast with it.

    The cookie is set as soon as the blank ballot is shown, so two tabs
    opened before voting name the same ballot: whatever they send, one
    device has one ballot, and the older form is refused (`votes.STALE_BALLOT`).
    """
    kept = request.cookies.get(ballot_cookie(phase), "")
    if not TOKEN.fullmatch(kept):
        return None, False
    found = services().receipts.find(kept)
    if found is None:
        return kept, False
    if found.slug == slug and found.kind == "vote" and found.ids[:1] == (phase.id,):
        return kept, True
    return None, False


def keep_ballot_cookie(answer: HttpResponse, slug: str, phase: Phase, token: str) -> HttpResponse:
    answer.set_cookie(ballot_cookie(phase), token, max_age=7 * 24 * 3600, path=f"/{slug}/vote/",
                      secure=request.is_secure, httponly=True, samesite="Lax")
    return answer


@bp.route("/<slug>/vote/<phase_id>", methods=["GET", "POST"])
@shows_form_again
def ballot(slug: str, phase_id: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    phase = vote_phase(workshop, phase_id)
    kept, cast = device_ballot(slug, phase)
    if request.method == "GET" and cast and kept:
        # This browser already has a ballot: the same one again, not a second ballot.
        return no_store(redirect(url_for(".my_ballot", slug=slug, phase_id=phase.id, token=kept), code=303))
    if request.method == "POST" and not refusal():
        # A browser that already cast a ballot changes that ballot, never casts a second one.
        token = kept if cast and kept else ballot_token(None)
        with library_refusal():
            submit_ballot(workshop, folder, phase, token)
            flash(_("Merci ! Vos gommettes sont enregistrées. Gardez ce lien pour modifier votre vote jusqu'à sa clôture."))
            answer = redirect(url_for(".my_ballot", slug=slug, phase_id=phase.id, token=token), code=303)
            return keep_ballot_cookie(answer, slug, phase, token)
    if cast and kept:  # a second tab's or an old form refused: the device's ballot, with its link
        return ballot_page(workshop, folder, phase, kept)
    answer = ballot_page(workshop, folder, phase, None, new_token=kept)
    return keep_ballot_cookie(answer, slug, phase, g.ballot_token) if request.method == "GET" else answer


@bp.route("/<slug>/vote/<phase_id>/<token>", methods=["GET", "POST"])
@shows_form_again
def my_ballot(slug: str, phase_id: str, token: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    phase = vote_phase(workshop, phase_id)
    found = services().receipts.find(token)
    if found is None or found.slug != slug or found.kind != "vote" or found.ids[:1] != (phase.id,):
        raise refuse(404, _("Ce lien de vote n'est pas valable. Vérifiez qu'il a été copié en entier."))
    if request.method == "POST" and not refusal():
        with library_refusal():
            changed = submit_ballot(workshop, folder, phase, ballot_token(token))
            flash(_("Votre vote est modifié.") if changed else _("Votre vote était déjà celui-ci : rien n'a changé."))
            return redirect(url_for(".my_ballot", slug=slug, phase_id=phase.id, token=token), code=303)
    return ballot_page(workshop, folder, phase, token)
