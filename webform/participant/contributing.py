"""The pages where participants take part: the list of ateliers, an atelier's home, émargement, idées, fiches."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import gettext as _  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import clock
from pipeline.participation import new_status, point_rows, signature_row
from webform.participant import bp
from webform.participant.forms import (
    chosen_sheet,
    idea_column,
    idea_context,
    idea_form,
    idea_points,
    pooled_phases,
    sheet_choices,
    sheet_form,
    sheet_phases,
    sheet_points,
    signature,
)
from webform.participant.page import blank_form, blank_request, language, open_atelier, refuse_if_closed, show_form, submitted
from webform.participant.sending import row_ids, save
from webform.safety import library_refusal, refuse, shows_form_again
from webform.services import services


@bp.get("/")
def index() -> str:
    workshops = services().catalog.workshops()
    return render_template(
        "participant/index.html",
        open_workshops=[w for w in workshops if w.is_open],
        closed_workshops=[w for w in workshops if not w.is_open],
    )


@bp.get("/<slug>/")
def home(slug: str) -> str:
    workshop, _folder = open_atelier(slug)
    return render_template(
        "participant/home.html",
        workshop=workshop,
        pooled=pooled_phases(workshop),  # one page takes every pooled column
        sheets=sheet_phases(workshop),
        lang=language(),
    )


@bp.route("/<slug>/emargement", methods=["GET", "POST"])
@shows_form_again
def emargement(slug: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    closed = refuse_if_closed(workshop)
    if closed:
        return closed
    if blank_request():
        return blank_form("participant/emargement.html", workshop, lambda: (services().forms.emargement(), {}))
    form = services().forms.emargement()
    if submitted(form):
        fields = signature(form)
        row = signature_row(row_ids(slug, "emargement", "p")(), fields, clock.stamp())
        with library_refusal():
            return save(workshop, folder, "emargement", "participants", [row], fields)
    return show_form("participant/emargement.html", form, workshop)


@bp.route("/<slug>/idee", methods=["GET", "POST"])
@shows_form_again
def idea(slug: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    closed = refuse_if_closed(workshop)
    if closed:
        return closed
    if not pooled_phases(workshop):
        raise refuse(404, _("Cet atelier ne recueille pas d'idées individuelles."))
    if blank_request():
        return blank_form("participant/idea.html", workshop, lambda: (idea_form(workshop), idea_context(workshop)))
    form = idea_form(workshop)
    column = idea_column(workshop, form) if submitted(form) else None
    if column:
        points = idea_points(form, *column)
        rows = point_rows(points, status=new_status(workshop), created_at=clock.stamp(), new_ids=row_ids(slug, "idee", "c"))
        with library_refusal():
            return save(workshop, folder, "idee", "contributions", rows)
    return show_form("participant/idea.html", form, workshop, **idea_context(workshop))


@bp.route("/<slug>/fiche", methods=["GET", "POST"])
@shows_form_again
def sheet(slug: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    closed = refuse_if_closed(workshop)
    if closed:
        return closed
    chosen = chosen_sheet(workshop, request.args)
    if not isinstance(chosen, tuple):
        if request.method == "POST":
            reason = chosen or _(
                "choisissez d'abord la fiche à remplir (temps, %(question)s et %(group)s).",
                question=workshop.terms.word("question", language()),
                group=workshop.terms.word("group", language()),
            )
            raise refuse(400, _("Rien n'a été enregistré : %(reason)s", reason=reason))
        page = render_template(
            "participant/sheet_choice.html", workshop=workshop, choices=sheet_choices(workshop), lang=language(), problem=chosen
        )
        return Response(page, status=404 if chosen else 200)
    phase, question, group = chosen
    if blank_request():
        variant = f"{phase.id}/{question.id}/{group.id}"
        return blank_form("participant/sheet.html", workshop, lambda: sheet_form(workshop, phase, question, group), variant)
    form, context = sheet_form(workshop, phase, question, group)
    if submitted(form):
        points = sheet_points(form, phase, question.id, group.id)
        rows = point_rows(points, status=new_status(workshop), created_at=clock.stamp(), new_ids=row_ids(slug, "fiche", "c"))
        with library_refusal():
            return save(workshop, folder, "fiche", "contributions", rows, points)
    return show_form("participant/sheet.html", form, workshop, **context)
