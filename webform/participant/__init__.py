"""Participant pages: ateliers, émargement, idées, fiches de sous-groupe, receipts and corrections."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]

from werkzeug.wrappers import Response as HttpResponse
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]

from pipeline import store
from pipeline.workshop import Workshop, format_datetime
from webform.forms import ROLE_LABELS, SECTION_LABELS, SECTION_NOUNS, SHEET_SECTIONS, parse
from webform.points import Line, format_points, ids_then_new, nest
from webform.receipts import Receipt
from webform.rows import rows_by_id
from webform.safety import refuse
from webform.services import services

bp = Blueprint("participant", __name__, template_folder="templates")

View = Callable[..., Any]


def shows_form_again(view: View) -> View:
    """Mark a form view that can redisplay its form with the sent text after a CSRF failure."""
    view.shows_form_again = True  # type: ignore[attr-defined]
    return view


def now() -> str:
    return format_datetime(dt.datetime.now(dt.timezone.utc))


def open_atelier(slug: str) -> tuple[Workshop, Path]:
    """The atelier `slug` and its folder, or a French 404/503 page."""
    catalog = services().catalog
    workshop = catalog.workshop(slug)  # BrokenAtelier: the app's handler (webform.safety) explains
    if workshop is None:
        raise refuse(404, _("Il n'y a pas d'atelier « %(slug)s ». Vérifiez l'adresse, ou repartez de la liste des ateliers.", slug=slug[:80]))
    folder = catalog.folder(slug)
    assert folder is not None
    return workshop, folder


def refuse_if_closed(workshop: Workshop) -> HttpResponse | None:
    """On a closed atelier: refuse a submission (403), explain on a GET."""
    if workshop.is_open:
        return None
    if request.method == "POST":
        raise refuse(403, _("L'atelier « %(title)s » est clos : il n'accepte plus de réponses.", title=workshop.title))
    return Response(render_template("participant/closed.html", workshop=workshop), status=200)


def new_status(workshop: Workshop) -> str:
    return "pending" if workshop.moderation == "pre" else "published"


def submitted(form: FlaskForm) -> bool:
    """True when a valid submission arrived (never after a refusal, whose form is shown again)."""
    if g.get("form_refusal"):
        form.validate()  # show the other mistakes at the same time
        return False
    return form.validate_on_submit()


def form_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """(anchor id, label, message) for the error summary, in the order of the fields."""
    out: list[tuple[str, str, str]] = []
    if g.get("form_refusal"):
        out.append(("", "", g.form_refusal))
    for field in form:
        if field.type == "CSRFTokenField":
            if field.errors and not g.get("form_refusal"):
                out.append(("", "", _("Le formulaire a expiré : vos réponses sont conservées ci-dessous, renvoyez-le.")))
            continue
        anchor = f"{field.id}-0" if field.type == "RadioField" else field.id
        for message in field.errors:
            out.append((anchor, str(field.label.text), str(message)))
    return out


def show_form(template: str, form: FlaskForm, workshop: Workshop, **context: Any) -> HttpResponse:
    errors = form_errors(form) if request.method == "POST" else []
    context.setdefault("token", None)
    body = render_template(template, form=form, workshop=workshop, errors=errors, **context)
    return Response(body, status=400 if errors else 200)


def blank_request() -> bool:
    """A GET of a form with nothing to show but the form itself (no message waiting in the session)."""
    return request.method == "GET" and "_flashes" not in session


def blank_form(template: str, workshop: Workshop, build: Callable[[], tuple[FlaskForm, dict[str, Any]]]) -> HttpResponse:
    """The blank form page: the same for everyone but its CSRF token (webform/pages.py)."""
    return Response(services().blank_forms.render(template, workshop, build), status=200)


def target_hints(question_targets: dict[str, Any]) -> dict[str, str]:
    """« Objectif : 3 à 5 moteurs » per section, from the Temps instructions of atelier.yaml."""
    hints = {}
    for section, target in question_targets.items():
        noun = str(SECTION_NOUNS.get(section, section))
        if target.min is not None and target.max is not None:
            if target.min == target.max:
                hints[section] = _("Objectif : %(n)d %(noun)s.", n=target.min, noun=noun)
            else:
                hints[section] = _("Objectif : %(min)d à %(max)d %(noun)s.", min=target.min, max=target.max, noun=noun)
        elif target.min is not None:
            hints[section] = _("Objectif : au moins %(min)d %(noun)s.", min=target.min, noun=noun)
        elif target.max is not None:
            hints[section] = _("Objectif : au plus %(max)d %(noun)s.", max=target.max, noun=noun)
    return hints


def question_choices(workshop: Workshop, for_sheet: bool) -> list[SelectChoice]:
    return [SelectChoice(q.id, q.title) for q in workshop.questions if not for_sheet or q.subgroup_count > 0]


def idea_form(workshop: Workshop) -> FlaskForm:
    form = services().forms.idea()
    form.question.choices = question_choices(workshop, for_sheet=False)
    if request.method == "GET" and len(form.question.choices) == 1:
        form.question.data = form.question.choices[0].value
    return form


def sheet_form(workshop: Workshop) -> tuple[FlaskForm, dict[str, Any]]:
    form = services().forms.sheet()
    return form, prepare_sheet(form, workshop)


def prepare_sheet(form: FlaskForm, workshop: Workshop) -> dict[str, Any]:
    form.question.choices = question_choices(workshop, for_sheet=True)
    counts = {q.id: q.subgroup_count for q in workshop.questions if q.subgroup_count > 0}
    form.subgroup_counts = counts
    form.group.choices = [SelectChoice("", _("Choisissez…"))] + [
        SelectChoice(str(n), _("Sous-groupe %(n)s", n=n)) for n in range(1, max(counts.values(), default=0) + 1)
    ]
    hints = {q.id: target_hints(q.targets()) for q in workshop.questions}
    return {"sections": SHEET_SECTIONS, "targets": hints, "section_labels": SECTION_LABELS}


# ---- pages ---------------------------------------------------------------


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
    return render_template("participant/home.html", workshop=workshop)


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
        row = participant_row(form)
        row.update(id=store.new_id("p"), created_at=now(), status="present")
        return save(workshop, folder, "emargement", "participants", [row])
    return show_form("participant/emargement.html", form, workshop)


@bp.route("/<slug>/idee", methods=["GET", "POST"])
@shows_form_again
def idea(slug: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    closed = refuse_if_closed(workshop)
    if closed:
        return closed
    if blank_request():
        return blank_form("participant/idea.html", workshop, lambda: (idea_form(workshop), {}))
    form = idea_form(workshop)
    if submitted(form):
        rows = contribution_rows(
            idea_lines(form),
            question=form.question.data,
            phase="brainstorming",
            group=None,
            status=new_status(workshop),
        )
        return save(workshop, folder, "idee", "contributions", rows)
    return show_form("participant/idea.html", form, workshop)


@bp.route("/<slug>/fiche", methods=["GET", "POST"])
@shows_form_again
def sheet(slug: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    closed = refuse_if_closed(workshop)
    if closed:
        return closed
    if blank_request():
        return blank_form("participant/sheet.html", workshop, lambda: sheet_form(workshop))
    form, context = sheet_form(workshop)
    if submitted(form):
        rows = []
        for section in SHEET_SECTIONS:
            rows += contribution_rows(
                {section: parse(form[section].data, services().forms.rules)},
                question=form.question.data,
                phase="sous-groupe",
                group=int(form.group.data),
                status=new_status(workshop),
            )
        return save(workshop, folder, "fiche", "contributions", rows)
    return show_form("participant/sheet.html", form, workshop, **context)


# ---- saving --------------------------------------------------------------


def participant_row(form: FlaskForm) -> dict[str, str]:
    return {
        "name": form.name.data,
        "organisation": form.organisation.data or "",
        "role": form.role.data,
        "listed": "true" if form.listed.data else "false",
    }


def idea_lines(form: FlaskForm) -> dict[str, list[Line]]:
    details = parse(form.details.data, services().forms.rules, depth=1)
    return {"idea": [Line(0, form.text.data, 0)] + [Line(line.depth + 1, line.text, line.number) for line in details]}


def contribution_rows(
    lines_by_section: dict[str, list[Line]],
    *,
    question: str,
    phase: str,
    group: int | None,
    status: str,
    reuse: dict[str, list[str]] | None = None,
) -> list[dict[str, str]]:
    """One row per point, nested by `parent`, ids reused in reading order from `reuse` per section."""
    rows = []
    created = now()
    for section, lines in lines_by_section.items():
        ids = ids_then_new((reuse or {}).get(section, []), lambda: store.new_id("c"))
        for line, point_id, parent, rank in nest(lines, "", ids):
            rows.append(
                {
                    "id": point_id,
                    "question": question,
                    "phase": phase,
                    "group": "" if group is None else str(group),
                    "section": section,
                    "parent": parent,
                    "position": str(rank),
                    "number": "",
                    "text": line.text,
                    "link": "",
                    "author": "",
                    "created_at": created,
                    "updated_at": "",
                    "status": status,
                }
            )
    return rows


def save(workshop: Workshop, folder: Path, kind: str, resource: str, rows: list[dict[str, str]]) -> HttpResponse:
    """Append the rows (all or nothing), record the receipt, then redirect to it."""
    store.append_rows(folder, resource, rows)  # StoreError: the form comes back with its text (webform.safety)
    token = services().receipts.issue(Receipt(workshop.slug, kind, resource, tuple(r["id"] for r in rows)))
    if resource == "contributions" and rows[0]["status"] == "pending":
        flash(_("Merci ! C'est enregistré. Votre contribution apparaîtra après validation par l'équipe d'animation."))
    else:
        flash(_("Merci ! C'est enregistré."))
    return redirect(url_for(".receipt", slug=workshop.slug, token=token), code=303)


# ---- receipt, correction, withdrawal -------------------------------------


def no_store(response: HttpResponse) -> HttpResponse:
    """The page's URL holds the private token: keep it out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def find_receipt(slug: str, token: str) -> tuple[Workshop, Path, Receipt]:
    workshop, folder = open_atelier(slug)
    receipt = services().receipts.find(token)
    if receipt is None or receipt.slug != slug:
        raise refuse(
            404,
            _("Ce lien de réponse n'est pas valable. Vérifiez qu'il a été copié en entier."),
        )
    if not workshop.is_open:
        raise refuse(
            403,
            _(
                "L'atelier « %(title)s » est clos : les réponses ne peuvent plus être corrigées ni retirées. "
                "Pour toute demande, adressez-vous à l'équipe d'animation.",
                title=workshop.title,
            ),
        )
    return workshop, folder, receipt


def receipt_rows(folder: Path, receipt: Receipt) -> list[dict[str, str]]:
    return rows_by_id(folder, receipt.resource, receipt.ids)


def reading_order(rows: list[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    """(depth, row) in reading order: parents before children, siblings by position."""
    ids = {r["id"] for r in rows}
    children: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        parent = row["parent"] if row["parent"] in ids else ""
        children.setdefault(parent, []).append(row)
    out: list[tuple[int, dict[str, str]]] = []

    def walk(parent: str, depth: int) -> None:
        for row in sorted(children.get(parent, []), key=lambda r: (int(r["position"]), r["id"])):
            out.append((depth, row))
            walk(row["id"], depth + 1)

    walk("", 0)
    return out


def current_points(rows: list[dict[str, str]]) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """The points not withdrawn, by section (in the schema's order), each in reading order."""
    live = [r for r in rows if r["status"] != "withdrawn"]
    by_section: dict[str, list[tuple[int, dict[str, str]]]] = {s: [] for s in SECTION_LABELS}
    for depth, row in reading_order(live):
        by_section[row["section"]].append((depth, row))
    return {section: points for section, points in by_section.items() if points}


@bp.get("/<slug>/recu/<token>")
def receipt(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    rows = receipt_rows(folder, rec)
    withdrawn = all(r["status"] == "withdrawn" for r in rows)
    context: dict[str, Any] = {"workshop": workshop, "receipt": rec, "token": token, "withdrawn": withdrawn}
    if rec.resource == "participants":
        context["person"] = rows[0] if rows else None
        context["role_labels"] = ROLE_LABELS
    else:
        first = rows[0] if rows else {}
        context["question"] = workshop.question(first.get("question", ""))
        context["group"] = first.get("group", "")
        context["points"] = current_points(rows)
        context["pending"] = any(r["status"] == "pending" for r in rows)
        context["section_labels"] = SECTION_LABELS
    return no_store(Response(render_template("participant/receipt.html", **context)))


@bp.route("/<slug>/recu/<token>/corriger", methods=["GET", "POST"])
@shows_form_again
def correct(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    rows = receipt_rows(folder, rec)
    if not rows or all(r["status"] == "withdrawn" for r in rows):
        return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    forms = services().forms
    context: dict[str, Any] = {"token": token}
    if rec.kind == "emargement":
        person = rows[0]
        form = forms.emargement(
            data={**person, "listed": person["listed"] == "true"}
        )
        template = "participant/emargement.html"
    else:
        points = current_points(rows)
        first = rows[0]
        if rec.kind == "idee":
            idea_points = points.get("idea", [])
            root = idea_points[0][1] if idea_points else first
            form = forms.idea(
                data={
                    "question": first["question"],
                    "text": root["text"],
                    "details": format_points((d - 1, r["text"]) for d, r in idea_points[1:]),
                }
            )
            form.question.choices = question_choices(workshop, for_sheet=False)
            template = "participant/idea.html"
        else:
            data = {"question": first["question"], "group": first["group"]}
            for section in SHEET_SECTIONS:
                data[section] = format_points((d, r["text"]) for d, r in points.get(section, []))
            form = forms.sheet(data=data)
            context.update(prepare_sheet(form, workshop))
            template = "participant/sheet.html"
    if submitted(form):
        apply_correction(workshop, folder, token, rec, rows, form)
        flash(_("Votre correction est enregistrée."))
        return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    return no_store(show_form(template, form, workshop, **context))


def apply_correction(
    workshop: Workshop, folder: Path, token: str, rec: Receipt, rows: list[dict[str, str]], form: FlaskForm
) -> None:
    """Rewrite the receipt's rows from the corrected form.

    Points keep their ids in reading order; surplus old points are
    withdrawn, extra new points appended.  Order of writes: the receipt first
    (so new ids are never orphans), then the new rows (whose parents exist
    already), then the atomic rewrite of the old ones.
    """
    book = services().receipts
    with book.editing():
        if rec.kind == "emargement":
            store.update_rows(folder, "participants", {rows[0]["id"]: participant_row(form)})
            return
        stamp = now()
        old = current_points(rows)
        if rec.kind == "idee":
            lines = idea_lines(form)
            question, group, phase = form.question.data, None, "brainstorming"
        else:
            lines = {s: parse(form[s].data, services().forms.rules) for s in SHEET_SECTIONS}
            question, group, phase = form.question.data, int(form.group.data), "sous-groupe"
        reuse = {section: [r["id"] for _d, r in old.get(section, [])] for section in lines}
        wanted = contribution_rows(
            lines, question=question, phase=phase, group=group, status=new_status(workshop), reuse=reuse
        )
        by_id = {r["id"]: r for r in rows}
        changes: dict[str, dict[str, str]] = {}
        added = []
        for row in wanted:
            before = by_id.get(row["id"])
            if before is None:
                added.append(row)
                continue
            fields = ("question", "group", "parent", "position", "text")
            if any(before[f] != row[f] for f in fields):
                change = {f: row[f] for f in fields}
                change["updated_at"] = stamp
                if workshop.moderation == "pre" and before["status"] == "published":
                    change["status"] = "pending"  # a corrected text is moderated again
                changes[row["id"]] = change
        kept = {r["id"] for r in wanted}
        for points in old.values():
            for _depth, row in points:
                if row["id"] not in kept:
                    changes[row["id"]] = {"status": "withdrawn", "updated_at": stamp}
        if added:
            book.replace(token, Receipt(rec.slug, rec.kind, rec.resource, rec.ids + tuple(r["id"] for r in added)))
            store.append_rows(folder, "contributions", added)
        if changes:
            store.update_rows(folder, "contributions", changes)


@bp.route("/<slug>/recu/<token>/retirer", methods=["GET", "POST"])
@shows_form_again
def withdraw(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    form = FlaskForm()
    if submitted(form):
        stamp = now()
        rows = receipt_rows(folder, rec)
        with services().receipts.editing():
            if rec.resource == "participants":
                changes = {r["id"]: {"status": "withdrawn"} for r in rows}
            else:
                changes = {
                    r["id"]: {"status": "withdrawn", "updated_at": stamp} for r in rows if r["status"] != "withdrawn"
                }
            if changes:
                store.update_rows(folder, rec.resource, changes)
        flash(_("C'est retiré : votre contribution ne figurera pas au compte-rendu."))
        return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    return no_store(show_form("participant/withdraw.html", form, workshop, token=token, receipt=rec))
