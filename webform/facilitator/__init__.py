"""Facilitator pages under /<atelier>/animation/: login, dashboard, live wall, exports, preview; the rest in submodules."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from flask import Blueprint, Flask, Response, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import clock, export, opening, schemas, store, tables, votes
from pipeline.workshop import (
    CSV_FILES,
    TABLE_FILES,
    Atelier,
    AtelierError,
    Workshop,
    atelier_from_tables,
    parse_datetime,
    phase_tables,
)
from webform.catalog import BrokenAtelier
from webform.facilitator import access
from webform.facilitator.forms import ActionForm, LoginForm
from webform.participant.page import form_errors, open_atelier
from webform.preview import Previews
from webform.safety import SECURITY_HEADERS, refuse

bp: Blueprint = Blueprint(access.BLUEPRINT, __name__, template_folder="templates")

EXPORT_TYPES = {
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def init_app(app: Flask) -> None:
    access.init_app(app)
    app.extensions["animation-previews"] = Previews(
        Path(app.config["PREVIEW_DIR"]), cpu_seconds=int(app.config["PREVIEW_CPU_SECONDS"])
    )
    app.register_blueprint(bp)


def previews() -> Previews:
    return current_app.extensions["animation-previews"]  # type: ignore[no-any-return]


@bp.after_request
def private(response: Response) -> Response:
    """Facilitator pages show unpublished points and downloads: kept out of every cache and index.

    A page that updates itself loads one script, our own file: only that page's
    policy allows scripts, from this site and never inline.
    """
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    if g.get("updates_itself"):
        policy = SECURITY_HEADERS["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace("script-src 'none'", "script-src 'self'")
    return response


def updating_every(seconds: int | None) -> int | None:
    """The page will update itself every `seconds` (None: it will not)."""
    g.updates_itself = bool(seconds)
    return seconds


def back(endpoint: str, slug: str, anchor: str = "", **values: Any) -> HttpResponse:
    url = url_for(endpoint, slug=slug, **values)
    return redirect(url + (f"#{anchor}" if anchor else ""), code=303)


def current_atelier(workshop: Workshop, folder: Path) -> Atelier:
    """The atelier with its committed rows (read under the store's lock: never half a batch).

    Read by `pipeline.tables` like every step: a file it refuses raises
    TableError, which the app's handler shows to the facilitator (file, line, fix).
    """
    wanted = (*CSV_FILES, *phase_tables(workshop))
    with store.locked(folder, shared=True):
        data = {resource: export.stored(folder, resource) for resource in wanted}
    read = {
        resource: tables.parse_table(data[resource], resource, f"{workshop.slug}/{TABLE_FILES[resource]}", str(folder))
        for resource in wanted
    }
    return atelier_from_tables(folder, workshop, read)


_FILE_PREFIX = re.compile(r"^[\w.-]+\.(?:csv|yaml|json)\s?[:\u202f]\s*")


def said_to_team(error: Exception) -> str:
    """A moderation or saisie refusal as the team reads it on a page: without the « contributions.csv : » that
    names the file for organisers at a terminal (the team acts on points, not on files), first letter up.
    Errors about atelier.yaml keep its name: someone has to edit that file."""
    text = _FILE_PREFIX.sub("", str(error), count=1)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Column:
    """One column of the compte-rendu: (question, phase, group, rubric), as atelier.yaml declares it."""

    question: str
    phase: str
    group: str | None
    section: str

    def label(self, workshop: Workshop) -> str:
        return " · ".join((workshop.question_label(self.question), *workshop.column_name(self.phase, self.group, self.section)))


def columns(workshop: Workshop) -> Iterator[Column]:
    for phase, question, group, rubric in workshop.columns():
        yield Column(question.id, phase.id, group.id if group else None, rubric.id)


def column_of(row: dict[str, str]) -> Column:
    return Column(row["question"], row["phase"], row["group"] or None, row["section"])


# ---- login, logout ---------------------------------------------------------------------------


@bp.route("/<slug>/animation/connexion", methods=["GET", "POST"])
def login(slug: str) -> HttpResponse:
    try:
        workshop, _folder = open_atelier(slug)
    except BrokenAtelier:  # its file is broken: once signed in, the dashboard says what to correct
        workshop = Workshop(slug=slug, title=slug, date=clock.now().date(), place="")
    if not access.enabled():
        raise refuse(
            503,
            _("Les pages d'animation sont désactivées : aucun code d'animation n'est défini (FLASK_FACILITATOR_SECRET)."),
        )
    target = access.safe_next(request.args.get("suite"), slug) or url_for(".dashboard", slug=slug)
    if access.signed_in():
        return redirect(target, code=303)
    form = LoginForm()
    verdict, wait = "", 0.0
    if form.validate_on_submit():  # (a CSRF failure never reaches here: CSRFProtect answers first)
        verdict, wait = access.lockout().attempt(access.client(), lambda: access.secret_matches(form.secret.data))
        if verdict == "accepted":
            access.sign_in()
            flash(_("Vous êtes connecté·e à l'animation. Pensez à vous déconnecter sur un ordinateur partagé."))
            return redirect(target, code=303)
        if verdict == "wrong":
            current_app.logger.warning("Code d'animation erroné depuis %s", access.client())
            form.secret.errors.append(_("Ce code d'animation n'est pas le bon."))
        if wait > 0:
            form.secret.errors.append(access.wait_message(wait))
    errors = [("secret", str(form.secret.label.text), str(m)) for m in form.secret.errors]
    body = render_template("facilitator/login.html", workshop=workshop, form=form, errors=errors)
    response = Response(body, status=429 if verdict == "wait" else 400 if errors else 200)
    if wait > 0:
        response.headers["Retry-After"] = str(math.ceil(wait))
    return response


@bp.post("/<slug>/animation/deconnexion")
def logout(slug: str) -> HttpResponse:
    access.sign_out()
    flash(_("Vous êtes déconnecté·e de l'animation."))
    return back(".login", slug)


# ---- dashboard, open/close ------------------------------------------------------------------


@bp.get("/<slug>/animation/")
def dashboard(slug: str) -> str:
    workshop, folder = open_atelier(slug)
    atelier = current_atelier(workshop, folder)
    by_status = {status: 0 for status in schemas.STATUSES}
    for c in atelier.contributions:
        by_status[c.status] = by_status.get(c.status, 0) + 1
    present = [p for p in atelier.participants if p.status == "present"]
    job = previews().job(slug)
    return render_template(
        "facilitator/dashboard.html",
        workshop=workshop,
        people=len(present),
        listed=sum(1 for p in present if p.listed),
        by_status=by_status,
        job=job,
        form=ActionForm(),
        vote_states=votes.states(atelier.votes),
    )


@bp.post("/<slug>/animation/statut")
def set_status(slug: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)  # the CSRF token was checked by CSRFProtect before the view
    status = request.form.get("status", "")
    if status not in opening.form_statuses():
        raise refuse(400, _("Statut inconnu : le formulaire peut être ouvert (open) ou clos (closed)."))
    if status == "closed" and workshop.is_open and request.form.get("confirme") != "oui":
        # Closing turns every participant away: a step to confirm, which works without JavaScript.
        atelier = current_atelier(workshop, folder)
        people = sum(1 for p in atelier.participants if p.status == "present")
        return Response(render_template("facilitator/close.html", workshop=workshop, form=ActionForm(), people=people))
    try:
        changed = opening.set_status(folder, status)
    except AtelierError as e:
        flash(str(e), "erreur")  # about atelier.yaml, which someone must fix: named
        return back(".dashboard", slug)
    if status == "open":
        flash(_("Le formulaire est ouvert : les participants peuvent répondre.") if changed else _("Le formulaire était déjà ouvert."))
    else:
        flash(
            _("Le formulaire est clos : il n'accepte plus de réponses.") if changed else _("Le formulaire était déjà clos.")
        )
    return back(".dashboard", slug)


# ---- live wall ------------------------------------------------------------------------------


@bp.get("/<slug>/animation/mur")
def wall(slug: str) -> str:
    workshop, folder = open_atelier(slug)
    atelier = current_atelier(workshop, folder)
    wanted_question = request.args.get("question")
    wanted_phase = request.args.get("temps")
    questions = [q for q in workshop.questions if wanted_question in (None, "", q.id)] or list(workshop.questions)
    phases = [p for p in workshop.phases if wanted_phase in (None, "", p.id)] or list(workshop.phases)
    blocks = []
    for q in questions:
        parts: list[Any] = []
        for phase in phases:
            if q not in workshop.phase_questions(phase) or phase.kind in ("vote", "actions"):
                continue  # shown after the questions, each in its own section
            if phase.grouped:
                sheets = []
                for group in workshop.groups_for(phase, q):
                    sheet = {r.id: atelier.points(q.id, phase.id, r.id, group.id) for r in phase.rubrics}
                    if any(sheet.values()):
                        sheets.append((group, sheet))
                parts.append((phase, {}, sheets))
            else:
                pooled = {r.id: atelier.points(q.id, phase.id, r.id) for r in phase.rubrics}
                parts.append((phase, pooled, []))
        if parts:
            blocks.append((q, parts))
    from webform.facilitator.vote_pages import vote_tally

    tallies = [vote_tally(atelier, p) for p in phases if p.kind == "vote"]
    plans = [(p, [a for a in atelier.actions if a.phase == p.id]) for p in phases if p.kind == "actions"]
    return render_template(
        "facilitator/wall.html",
        workshop=workshop,
        blocks=blocks,
        tallies=tallies,
        twins=votes.twins,
        plans=plans,
        statuts=schemas.enum_labels("actions", "statut"),
        wanted_question=wanted_question or "",
        wanted_phase=wanted_phase or "",
        refresh=updating_every(None if request.args.get("pause") else int(current_app.config["WALL_REFRESH_SECONDS"])),
    )


def form_page(template: str, form: Any, workshop: Workshop, **context: Any) -> HttpResponse:
    """A team's form page; after a POST, with the refusal (`webform.safety.refusal`) and the fields' errors on top."""
    errors = form_errors(form) if request.method == "POST" else []
    body = render_template(template, form=form, workshop=workshop, errors=errors, **context)
    return Response(body, status=400 if errors else 200)


# ---- exports --------------------------------------------------------------------------------


@bp.get("/<slug>/animation/exports")
def exports(slug: str) -> str:
    workshop, _folder = open_atelier(slug)
    return render_template("facilitator/exports.html", workshop=workshop, tables={r: True for r in phase_tables(workshop)})


def download(data: bytes, name: str, kind: str) -> Response:
    response = Response(data, mimetype=EXPORT_TYPES[kind])
    response.headers["Content-Type"] = EXPORT_TYPES[kind]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/<slug>/animation/exports/donnees.zip")
def export_zip(slug: str) -> Response:
    _workshop, folder = open_atelier(slug)
    return download(export.export_zip(folder), f"{slug}-donnees.zip", "zip")


@bp.get("/<slug>/animation/exports/classeur.xlsx")
def export_xlsx(slug: str) -> Response:
    _workshop, folder = open_atelier(slug)
    return download(export.export_xlsx(folder), f"{slug}.xlsx", "xlsx")


@bp.get("/<slug>/animation/exports/<any(contributions, participants, votes, actions):resource>.csv")
def export_csv(slug: str, resource: str) -> Response:
    _workshop, folder = open_atelier(slug)
    return download(export.export_spreadsheet_csv(folder, resource), f"{slug}-{resource}-tableur.csv", "csv")


# ---- preview PDF ----------------------------------------------------------------------------


@bp.get("/<slug>/animation/apercu")
def preview(slug: str) -> str:
    workshop, folder = open_atelier(slug)
    job = previews().job(slug)
    current = job is not None and job.fingerprint == _fingerprint(folder)
    return render_template(
        "facilitator/preview.html",
        workshop=workshop,
        job=job,
        current=current,
        finished=parse_datetime(job.finished_at) if job is not None and job.finished_at else None,
        refresh=updating_every(
            int(current_app.config["PREVIEW_REFRESH_SECONDS"]) if job is not None and job.state == "running" else None
        ),
        form=ActionForm(),
    )


def _fingerprint(folder: Path) -> str:
    from webform.preview import data_fingerprint

    return data_fingerprint(folder)


@bp.post("/<slug>/animation/apercu")
def start_preview(slug: str) -> HttpResponse:
    _workshop, folder = open_atelier(slug)
    _job, started = previews().start(slug, folder)
    flash(_("Le rendu de l'aperçu a commencé.") if started else _("L'aperçu de ces données est déjà prêt ou en cours."))
    return back(".preview", slug)


@bp.get("/<slug>/animation/apercu.pdf")
def preview_pdf(slug: str) -> Response:
    open_atelier(slug)
    path = previews().pdf(slug)
    if path is None:
        raise refuse(404, _("Aucun aperçu PDF n'est prêt : produisez-le depuis la page « Aperçu PDF »."))
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=f"{slug}-apercu.pdf", max_age=0)
# The other pages register themselves on `bp` when imported.
from webform.facilitator import moderation_pages, transcription_pages, vote_pages  # noqa: E402,F401
