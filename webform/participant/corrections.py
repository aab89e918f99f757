"""A participant's receipt, and what it allows while the atelier is open: correct, withdraw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline.participation import (
    HIDDEN,
    MERGED,
    MOVED,
    TEAM_ACTED,
    WITHDRAWN,
    Points,
    all_withdrawn,
    correction_state,
    current_points,
    editable,
)
from pipeline.points import format_points
from pipeline.workshop import Workshop
from webform.forms import ROLE_LABELS
from webform.participant import bp
from webform.participant.forms import chosen_sheet, idea_column, idea_context, idea_form, idea_points, sheet_form, sheet_points, signature
from webform.participant.page import language, no_store, open_atelier, show_form, submitted
from webform.participant.sending import (
    APPLIED,
    apply_correction,
    receipt_rows,
    team_changes,
    team_kinds,
    withdraw_receipt,
)
from webform.receipts import Receipt
from webform.safety import REFUSED_CORRECTIONS, library_refusal, refusal, refuse, refused_here, shows_form_again
from webform.services import services

STATE_FIELD = "etat"  # what a correction form was made from (hidden field, see participation.correction_state)


def find_receipt(slug: str, token: str, read_only: bool = False) -> tuple[Workshop, Path, Receipt]:
    """The receipt of `token`, or a French 404; on a closed atelier, unless `read_only` (the receipt
    itself, which stays readable), a 403 (a POST gets its form back)."""
    workshop, folder = open_atelier(slug)
    receipt = services().receipts.find(token)
    if receipt is None or receipt.slug != slug:
        raise refuse(
            404,
            _("Ce lien de réponse n'est pas valable. Vérifiez qu'il a été copié en entier."),
        )
    if not workshop.is_open and not read_only:
        message = closed_receipt_message(workshop)
        if request.method != "POST":
            raise refuse(403, message)
        refused_here(403, message)  # the correction comes back with its text
    return workshop, folder, receipt


def closed_receipt_message(workshop: Workshop) -> str:
    return _(
        "L'atelier « %(title)s » est clos : les réponses ne peuvent plus être corrigées ni retirées. "
        "Pour toute demande, adressez-vous à l'équipe d'animation.",
        title=workshop.title,
    )


def team_notes(changes: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Row id → the receipt's French sentence about what the team did."""
    notes = {}
    for row_id, (kind, host) in changes.items():
        if kind == HIDDEN:
            notes[row_id] = _("masqué par l'équipe d'animation : ce point ne figurera pas au compte-rendu")
        elif kind == MERGED:
            notes[row_id] = _("fusionné par l'équipe d'animation avec un point semblable : « %(text)s »", text=host)
        elif kind == MOVED:
            notes[row_id] = _("rangé par l'équipe d'animation sous « %(text)s »", text=host)
        else:
            notes[row_id] = _("corrigé par l'équipe d'animation")
    return notes


def receipt_context(workshop: Workshop, folder: Path, rec: Receipt, rows: list[dict[str, str]]) -> dict[str, Any]:
    """What a receipt page (and the withdrawal page) shows of the rows."""
    context: dict[str, Any] = {"receipt": rec}
    if rec.resource == "participants":
        context["person"] = rows[0] if rows else None
        context["role_labels"] = ROLE_LABELS
        context["can_correct"] = bool(rows)
        return context
    first = rows[0] if rows else {}
    changes = team_changes(folder, rec, rows)
    phase = workshop.phase(first.get("phase", ""))
    context["question"] = workshop.question(first.get("question", ""))
    context["group"] = workshop.group_label(first["group"], language()) if first.get("group") else ""
    context["points"] = current_points(workshop, rows)
    context["pending"] = any(r["status"] == "pending" for r in rows)
    context["section_labels"] = {r.id: r.text(language()) for r in phase.rubrics} if phase else {}
    context["notes"] = team_notes(changes)
    context["can_correct"] = bool(editable(rows, changes))
    return context


@bp.get("/<slug>/recu/<token>")
def receipt(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token, read_only=True)
    rows = receipt_rows(folder, rec)
    withdrawn = all(r["status"] == "withdrawn" for r in rows)
    context = receipt_context(workshop, folder, rec, rows)
    # Closed: what was sent stays readable, without the links that could no longer change it.
    closed = "" if workshop.is_open else closed_receipt_message(workshop)
    context.update(workshop=workshop, token=token, withdrawn=withdrawn, closed=closed)
    return no_store(Response(render_template("participant/receipt.html", **context)))


def correction_form(workshop: Workshop, rec: Receipt, rows: list[dict[str, str]]) -> tuple[FlaskForm, str, dict[str, Any]]:
    """The form of a receipt's kind, filled with the rows a correction may change; its template and context."""
    forms = services().forms
    if rec.kind == "emargement":
        person = rows[0]
        return forms.emargement(data={**person, "listed": person["listed"] == "true"}), "participant/emargement.html", {}
    points = current_points(workshop, rows)
    first = rows[0]
    if rec.kind == "idee":
        idea_points = points.get(first["section"], [])
        root = idea_points[0][1] if idea_points else first
        form = idea_form(
            workshop,
            data={
                "question": first["question"],
                "column": f"{first['phase']}/{first['section']}",
                "text": root["text"],
                "details": format_points((d - 1, r["text"]) for d, r in idea_points[1:]),
            },
        )
        return form, "participant/idea.html", idea_context(workshop)
    chosen = chosen_sheet(workshop, {"temps": first["phase"], "question": first["question"], "groupe": first["group"]})
    if not isinstance(chosen, tuple):
        raise refuse(409, _("Cette fiche n'est plus dans la description de l'atelier : adressez-vous à l'équipe d'animation."))
    data = {r.id: format_points((d, row["text"]) for d, row in points.get(r.id, [])) for r in chosen[0].columns}
    form, context = sheet_form(workshop, *chosen, data=data)
    # A correction may move the sheet to another group of the same phase and question.
    context["groups"] = workshop.groups_for(chosen[0], chosen[1])
    context["current_group"] = request.form.get("group", first["group"])
    return form, "participant/sheet.html", context


def correction_allowed(workshop: Workshop, rec: Receipt, rows: list[dict[str, str]], form: FlaskForm) -> bool:
    """Whether a valid correction form names a column atelier.yaml declares; else the form says why."""
    if rec.kind == "idee":
        return idea_column(workshop, form) is not None
    if rec.kind != "fiche":
        return True
    first = rows[0]
    phase = workshop.phase(first["phase"])
    group = request.form.get("group") or first["group"]
    found = workshop.column_problem(first["question"], first["phase"], group, phase.columns[0].id) if phase else None
    if found:
        refused_here(400, _("Rien n'a été enregistré : %(reason)s", reason=found[1]))
        return False
    return True


def corrected(workshop: Workshop, rec: Receipt, rows: list[dict[str, str]], form: FlaskForm) -> Points | dict[str, str]:
    """What a valid correction form asks for: a signature's fields, or the points of an idea or a sheet."""
    if rec.kind == "emargement":
        return signature(form)
    first = rows[0]
    if rec.kind == "idee":
        return idea_points(form, first["phase"], first["section"])
    phase = workshop.phase(first["phase"])
    assert phase is not None  # checked by correction_allowed
    return sheet_points(form, phase, first["question"], request.form.get("group") or first["group"])


@bp.route("/<slug>/recu/<token>/corriger", methods=["GET", "POST"])
@shows_form_again
def correct(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    rows = receipt_rows(folder, rec)
    changes = team_changes(folder, rec, rows)
    rows_to_correct = editable(rows, changes)
    if not rows_to_correct:
        if request.method != "POST":
            if changes:
                flash(_("L'équipe d'animation a déjà traité cette réponse : il n'y a plus rien à y corriger."))
            return redirect(url_for(".receipt", slug=slug, token=token), code=303)
        # Sent from a page opened before the team's decision or a withdrawal: the text comes back.
        if not refusal():
            refused_here(409, str(REFUSED_CORRECTIONS[WITHDRAWN if all_withdrawn(rows) else TEAM_ACTED]))
        rows_to_correct = [r for r in rows if r["status"] != "withdrawn"] or rows
    form, template, context = correction_form(workshop, rec, rows_to_correct)
    if submitted(form) and correction_allowed(workshop, rec, rows_to_correct, form):
        with library_refusal():
            outcome = apply_correction(
                workshop, folder, token, corrected(workshop, rec, rows_to_correct, form), request.form.get(STATE_FIELD) or None
            )
            flash(_("Votre correction est enregistrée.") if outcome == APPLIED else _("Cette correction était déjà enregistrée."))
            return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    context["kept_by_team"] = [
        (row["text"], note) for row_id, note in team_notes(changes).items() for row in rows if row["id"] == row_id
    ]
    context["state"] = correction_state(team_kinds(changes), all_withdrawn(rows))
    refused = refusal()
    if refused and refused.code == 409:
        # Sent again as it is, the text would bring back what the team changed: it is refused
        # again, until the participant starts over from the receipt (the sentence says so).
        context["state"] = request.form.get(STATE_FIELD) or context["state"]
    return no_store(show_form(template, form, workshop, token=token, **context))


@bp.route("/<slug>/recu/<token>/retirer", methods=["GET", "POST"])
@shows_form_again
def withdraw(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    form = FlaskForm()
    if submitted(form):
        with library_refusal():
            withdraw_receipt(folder, token)
            flash(_("C'est retiré : votre contribution ne figurera pas au compte-rendu."))
            return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    rows = receipt_rows(folder, rec)
    context = receipt_context(workshop, folder, rec, rows)
    context["closed"] = not workshop.is_open  # no button that could only be refused
    return no_store(show_form("participant/withdraw.html", form, workshop, token=token, **context))
