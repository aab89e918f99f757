"""Participant pages: ateliers, émargement, idées, fiches de sous-groupe, receipts and corrections."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]

from werkzeug.wrappers import Response as HttpResponse
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]

from pipeline import store
from pipeline.workshop import Workshop, format_datetime
from webform.catalog import BrokenAtelier
from webform.forms import ROLE_LABELS, SECTION_LABELS, SECTION_NOUNS, SHEET_SECTIONS, parse
from webform.points import Line, format_points, ids_then_new, nest
from webform.receipts import (
    SUBMISSION,
    SUBMISSION_FIELD,
    Receipt,
    derived,
    new_submission,
    receipt_token,
    submission_digest,
    text_digest,
)
from webform.rows import rows_by_id
from webform.safety import refuse, refused_here
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
    try:
        workshop = catalog.workshop(slug)
    except BrokenAtelier as e:
        current_app.logger.error("%s", e)
        raise refuse(
            503,
            _(
                "Cet atelier est momentanément indisponible : son fichier de description contient une erreur "
                "que l'équipe d'animation doit corriger."
            ),
        ) from None
    if workshop is None:
        raise refuse(404, _("Il n'y a pas d'atelier « %(slug)s ». Vérifiez l'adresse, ou repartez de la liste des ateliers.", slug=slug[:80]))
    folder = catalog.folder(slug)
    assert folder is not None
    return workshop, folder


def refuse_if_closed(workshop: Workshop) -> HttpResponse | None:
    """On a closed atelier: explain on a GET; a POST is refused (403) with its form and text shown again."""
    if workshop.is_open:
        return None
    if request.method == "POST":
        refused_here(
            403,
            _(
                "L'atelier « %(title)s » a été clos pendant que vous écriviez : il n'accepte plus de réponses. "
                "Votre texte est conservé ci-dessous : copiez-le et remettez-le à l'équipe d'animation.",
                title=workshop.title,
            ),
        )
        return None
    return Response(render_template("participant/closed.html", workshop=workshop), status=200)


def new_status(workshop: Workshop) -> str:
    return "pending" if workshop.moderation == "pre" else "published"


def submitted(form: FlaskForm) -> bool:
    """True when a valid submission arrived (never after a refusal — CSRF, closed form, rate
    limit — whose form is shown again with what was typed)."""
    if g.get("csrf_error") or g.get("refusal"):
        form.validate()  # show the other mistakes at the same time
        return False
    return form.validate_on_submit()


def form_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """(anchor id, label, message) for the error summary, in the order of the fields."""
    out: list[tuple[str, str, str]] = []
    if g.get("refusal"):
        out.append(("", "", g.refusal[1]))
    if g.get("csrf_error"):
        out.append(("", "", g.csrf_error))
    for field in form:
        if field.type == "CSRFTokenField":
            if field.errors and not g.get("csrf_error"):
                out.append(("", "", _("Le formulaire a expiré : vos réponses sont conservées ci-dessous, renvoyez-le.")))
            continue
        anchor = f"{field.id}-0" if field.type == "RadioField" else field.id
        for message in field.errors:
            out.append((anchor, str(field.label.text), str(message)))
    return out


def show_form(template: str, form: FlaskForm, workshop: Workshop, **context: Any) -> HttpResponse:
    """The form page; after a refused POST, with what was typed, the reasons, and the same submission token."""
    errors = form_errors(form) if request.method == "POST" else []
    context.setdefault("token", None)
    context.setdefault("submission", sent_submission() or new_submission())
    body = render_template(template, form=form, workshop=workshop, errors=errors, **context)
    refusal = g.get("refusal")
    response = Response(body, status=refusal[0] if refusal else 400 if errors else 200)
    if refusal and refusal[2]:
        response.headers["Retry-After"] = str(refusal[2])
    return response


# ---- submission tokens: a form sent twice is applied once ---------------------------------


def sent_submission() -> str | None:
    """The submission token of the form sent (hidden field « envoi »), when well-formed."""
    value = request.form.get(SUBMISSION_FIELD, "") if request.method == "POST" else ""
    return value if SUBMISSION.fullmatch(value) else None


def sent_form() -> str | None:
    """What identifies the form sent: its submission token and a digest of what it holds.

    The same bytes sent again (double tap, resend) are the same form; a form
    sent back with other text — Back, a change, send: a second idea — is a
    new one, whatever its token, so it is never mistaken for a replay.
    """
    submission = sent_submission()
    if submission is None:
        return None
    fields = sorted((k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", SUBMISSION_FIELD))
    content = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{submission}:{content[:32]}"


def new_receipt_token(slug: str, kind: str) -> str | None:
    """The receipt token a new submission of form `kind` gets: derived from its submission token,
    so that the same form sent again (double tap, resend after a lost answer) finds the same receipt.
    None for a form sent without a token (a page older than this mechanism): no replay detection."""
    submission = sent_form()
    if submission is None:
        return None
    if "receipt_token" not in g:
        g.receipt_token = receipt_token(current_app.config["SECRET_KEY"], slug, kind, submission)
    return str(g.receipt_token)


def already_saved(slug: str, token: str) -> HttpResponse:
    flash(_("Cet envoi était déjà enregistré : le voici, une seule fois."))
    return redirect(url_for(".receipt", slug=slug, token=token), code=303)


def row_ids(slug: str, kind: str, prefix: str) -> Callable[[], str]:
    """Fresh row ids; for a form with a submission token, derived from it (HMAC under SECRET_KEY,
    so as unguessable as random ones): a form resent after its rows were written but before its
    receipt (a worker killed between the two) finds its rows instead of writing them twice."""
    submission = sent_form()
    if submission is None:
        return lambda: store.new_id(prefix)
    count = iter(range(1, 10**6))
    seed = derived(current_app.config["SECRET_KEY"], "lignes", slug, kind, submission)
    return lambda: f"{prefix}-{hashlib.sha256(seed + str(next(count)).encode()).hexdigest()[:16]}"


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
        row.update(id=row_ids(slug, "emargement", "p")(), created_at=now(), status="present")
        saved = save(workshop, folder, "emargement", "participants", [row])
        if saved:
            return saved
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
            new_ids=row_ids(slug, "idee", "c"),
        )
        saved = save(workshop, folder, "idee", "contributions", rows)
        if saved:
            return saved
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
        ids = row_ids(slug, "fiche", "c")
        rows = []
        for section in SHEET_SECTIONS:
            rows += contribution_rows(
                {section: parse(form[section].data, services().forms.rules)},
                question=form.question.data,
                phase="sous-groupe",
                group=int(form.group.data),
                status=new_status(workshop),
                new_ids=ids,
            )
        saved = save(workshop, folder, "fiche", "contributions", rows)
        if saved:
            return saved
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
    new_ids: Callable[[], str] | None = None,
) -> list[dict[str, str]]:
    """One row per point, nested by `parent`, ids reused in reading order from `reuse` per section,
    then made by `new_ids` (random by default).  `position` is the rank among the sent siblings:
    `store.append_rows(after_siblings=True)` puts the top ones after the column's last point."""
    rows = []
    created = now()
    for section, lines in lines_by_section.items():
        ids = ids_then_new((reuse or {}).get(section, []), new_ids or (lambda: store.new_id("c")))
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


def written(rows: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    """What the participant wrote, row by row, for the receipt to tell a text the team changed since."""
    return tuple((r["id"], text_digest(r.get("text") or r.get("name") or "")) for r in rows)


def save(
    workshop: Workshop, folder: Path, kind: str, resource: str, rows: list[dict[str, str]]
) -> HttpResponse | None:
    """Append the rows (all or nothing) after their column's last points, record the receipt, redirect to it.

    Under the lock of the receipt token, so that the same form sent twice at
    once is saved once: the second finds the first's receipt.  A refusal of
    the store leaves g.refusal for the view to show the form again (None).
    """
    book = services().receipts
    token = new_receipt_token(workshop.slug, kind)
    with book.holding(token) if token else contextlib.nullcontext():
        if token is not None and book.find(token) is not None:
            return already_saved(workshop.slug, token)
        try:
            store.append_rows(folder, resource, rows, after_siblings=resource in store.SIBLINGS)
        except store.DuplicateKey as e:
            if token is None:  # random ids: never in practice
                refused_here(400, _("Rien n'a été enregistré : %(reason)s", reason=str(e)))
                return None
            # A request with this very form wrote these rows and was killed before its
            # receipt (the ids derive from the submission token): record the receipt now.
        except store.StoreError as e:
            refused_here(400, _("Rien n'a été enregistré : %(reason)s", reason=str(e)))
            return None
        token = book.issue(
            Receipt(workshop.slug, kind, resource, tuple(r["id"] for r in rows), written=written(rows)), token
        )
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
    """The receipt of `token`, or a French 404; on a closed atelier a 403 (a POST gets its form back)."""
    workshop, folder = open_atelier(slug)
    receipt = services().receipts.find(token)
    if receipt is None or receipt.slug != slug:
        raise refuse(
            404,
            _("Ce lien de réponse n'est pas valable. Vérifiez qu'il a été copié en entier."),
        )
    if not workshop.is_open:
        message = _(
            "L'atelier « %(title)s » est clos : les réponses ne peuvent plus être corrigées ni retirées. "
            "Pour toute demande, adressez-vous à l'équipe d'animation.",
            title=workshop.title,
        )
        if request.method != "POST":
            raise refuse(403, message)
        refused_here(403, message)  # the correction comes back with its text
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
        # Points the team moved under another participant's point come after the receipt's own.
        order = lambda r: (r["parent"] not in ("", parent), int(r["position"]), r["created_at"], r["id"])  # noqa: E731
        for row in sorted(children.get(parent, []), key=order):
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


# What the team did to a participant's points since they wrote them.  A correction never
# touches these points (nor what hangs below them): it would undo a moderation decision.
HIDDEN, MERGED, MOVED, CORRECTED = "masque", "fusionne", "range", "corrige"


def team_changes(folder: Path, rec: Receipt, rows: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    """Row id → (what the team did, the text of the point it now sits under, if moved).

    A point sits under a point outside the receipt only when the team merged
    a duplicate (its précisions move to the point kept); a hidden point whose
    précisions went elsewhere in its column was merged; a text whose digest
    differs from the one the participant last wrote was corrected by the team.
    """
    if rec.resource != "contributions":
        return {}
    by_id = {r["id"]: r for r in rows}
    wrote = dict(rec.written)
    live = [r for r in rows if r["status"] != "withdrawn"]
    outside = {r["parent"] for r in live if r["parent"] and r["parent"] not in by_id}
    hosts = {r["id"]: r for r in rows_by_id(folder, rec.resource, outside)} if outside else {}
    found: dict[str, tuple[str, str]] = {}
    for row in live:
        if row["parent"] and row["parent"] not in by_id:
            found[row["id"]] = (MOVED, hosts.get(row["parent"], {}).get("text", ""))
        elif row["status"] == "hidden":
            found[row["id"]] = (HIDDEN, "")
        elif row["id"] in wrote and text_digest(row["text"]) != wrote[row["id"]]:
            found[row["id"]] = (CORRECTED, "")
    for row in live:
        if found.get(row["id"], ("",))[0] == HIDDEN:
            into = [
                found[r["id"]][1]
                for r in live
                if found.get(r["id"], ("",))[0] == MOVED and column_key(r) == column_key(row)
            ]
            if into:
                found[row["id"]] = (MERGED, into[0])
    return found


def column_key(row: dict[str, str]) -> tuple[str, str, str, str]:
    return (row["question"], row["phase"], row["group"], row["section"])


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


def editable(rows: list[dict[str, str]], changes: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    """The rows a correction may rewrite: not withdrawn, untouched by the team, nor below such a point."""
    by_id = {r["id"]: r for r in rows}
    frozen = set(changes)
    out = []
    for row in rows:
        if row["status"] == "withdrawn":
            continue
        seen: set[str] = set()
        current: dict[str, str] | None = row
        ok = True
        while current is not None and current["id"] not in seen:
            if current["id"] in frozen or current["status"] == "withdrawn":
                ok = False
                break
            seen.add(current["id"])
            current = by_id.get(current.get("parent", ""))
        if ok:
            out.append(row)
    return out


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
    context["question"] = workshop.question(first.get("question", ""))
    context["group"] = first.get("group", "")
    context["points"] = current_points(rows)
    context["pending"] = any(r["status"] == "pending" for r in rows)
    context["section_labels"] = SECTION_LABELS
    context["notes"] = team_notes(changes)
    context["can_correct"] = bool(editable(rows, changes))
    return context


@bp.get("/<slug>/recu/<token>")
def receipt(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    rows = receipt_rows(folder, rec)
    withdrawn = all(r["status"] == "withdrawn" for r in rows)
    context = receipt_context(workshop, folder, rec, rows)
    context.update(workshop=workshop, token=token, withdrawn=withdrawn)
    return no_store(Response(render_template("participant/receipt.html", **context)))


def correction_form(workshop: Workshop, rec: Receipt, rows: list[dict[str, str]]) -> tuple[FlaskForm, str, dict[str, Any]]:
    """The form of a receipt's kind, filled with the rows a correction may change; its template and context."""
    forms = services().forms
    if rec.kind == "emargement":
        person = rows[0]
        return forms.emargement(data={**person, "listed": person["listed"] == "true"}), "participant/emargement.html", {}
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
        return form, "participant/idea.html", {}
    data = {"question": first["question"], "group": first["group"]}
    for section in SHEET_SECTIONS:
        data[section] = format_points((d, r["text"]) for d, r in points.get(section, []))
    form = forms.sheet(data=data)
    return form, "participant/sheet.html", prepare_sheet(form, workshop)


@bp.route("/<slug>/recu/<token>/corriger", methods=["GET", "POST"])
@shows_form_again
def correct(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    rows = receipt_rows(folder, rec)
    changes = team_changes(folder, rec, rows)
    rows_to_correct = editable(rows, changes)
    if not rows_to_correct:
        if changes:
            flash(_("L'équipe d'animation a déjà traité cette réponse : il n'y a plus rien à y corriger."))
        return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    form, template, context = correction_form(workshop, rec, rows_to_correct)
    if submitted(form):
        done = apply_correction(workshop, folder, token, form)
        flash(_("Votre correction est enregistrée.") if done else _("Cette correction était déjà enregistrée."))
        return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    context["kept_by_team"] = [
        (row["text"], note) for row_id, note in team_notes(changes).items() for row in rows if row["id"] == row_id
    ]
    return no_store(show_form(template, form, workshop, token=token, **context))


def apply_correction(workshop: Workshop, folder: Path, token: str, form: FlaskForm) -> bool:
    """Rewrite the receipt's rows from the corrected form; False when this very form was applied already.

    Under the receipt's lock and the folder's, the receipt and its rows are
    read again: two corrections, a correction and a moderation decision,
    never interleave.  Only rows the team did not change are rewritten (see
    `team_changes`).  Points keep their ids and places in reading order;
    surplus old points are withdrawn, extra new points appended after their
    siblings.  Order of writes: the receipt with the new ids first (so new
    rows are never orphans), the new rows (whose parents exist already), the
    atomic rewrite of the old ones, then the receipt marked with this form.
    """
    book = services().receipts
    submission = sent_form()
    sent = submission_digest(submission) if submission else ""
    with book.holding(token), store.locked(folder):
        rec = book.find(token)
        assert rec is not None  # receipts are never removed
        if sent and sent in rec.applied:
            return False
        rows = receipt_rows(folder, rec)
        if rec.kind == "emargement":
            store.update_rows(folder, "participants", {rows[0]["id"]: participant_row(form)})
            book.replace(token, rec.with_applied(sent) if sent else rec)
            return True
        rows_to_correct = editable(rows, team_changes(folder, rec, rows))
        wanted, changes = corrected_rows(workshop, form, rows_to_correct, store.last_ranks(folder, "contributions"))
        added = [row for row in wanted if row["id"] not in {r["id"] for r in rows}]
        written_now = dict(rec.written) | dict(written(wanted))
        if added:
            rec = replace(rec, ids=rec.ids + tuple(r["id"] for r in added))
            book.replace(token, rec)
            store.append_rows(folder, "contributions", added, after_siblings=True)
        if changes:
            store.update_rows(folder, "contributions", changes)
        rec = replace(rec, written=tuple(written_now.items()))
        book.replace(token, rec.with_applied(sent) if sent else rec)
        return True


def corrected_rows(
    workshop: Workshop, form: FlaskForm, rows: list[dict[str, str]], last: dict[tuple[str, ...], int]
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """The rows the corrected form asks for, and the changes to the existing ones (by id).

    A point whose column or parent changes goes after its new siblings
    (`last`: each sibling group's highest rank); one that stays keeps its
    place; a corrected text is moderated again under `moderation: pre`.
    """
    stamp = now()
    old = current_points(rows)
    if "details" in form:  # the idea form
        lines = idea_lines(form)
        group, phase = None, "brainstorming"
    else:
        lines = {s: parse(form[s].data, services().forms.rules) for s in SHEET_SECTIONS}
        group, phase = int(form.group.data), "sous-groupe"
    reuse = {section: [r["id"] for _d, r in old.get(section, [])] for section in lines}
    wanted = contribution_rows(
        lines, question=form.question.data, phase=phase, group=group, status=new_status(workshop), reuse=reuse
    )
    by_id = {r["id"]: r for r in rows}
    changes: dict[str, dict[str, str]] = {}
    for row in wanted:
        before = by_id.get(row["id"])
        if before is None:
            continue
        fields = ("question", "group", "parent", "text")
        if not any(before[f] != row[f] for f in fields):
            row["position"] = before["position"]
            continue
        change = {f: row[f] for f in fields}
        siblings = (row["question"], row["phase"], row["group"], row["section"], row["parent"])
        if any(before[f] != row[f] for f in ("question", "group", "parent")):
            last[siblings] = last.get(siblings, 0) + 1
            change["position"] = row["position"] = str(last[siblings])
        else:
            row["position"] = before["position"]
        change["updated_at"] = stamp
        if workshop.moderation == "pre" and before["status"] == "published":
            change["status"] = "pending"  # a corrected text is moderated again
        changes[row["id"]] = change
    kept = {r["id"] for r in wanted}
    for points in old.values():
        for _depth, row in points:
            if row["id"] not in kept:
                changes[row["id"]] = {"status": "withdrawn", "updated_at": stamp}
    return wanted, changes


@bp.route("/<slug>/recu/<token>/retirer", methods=["GET", "POST"])
@shows_form_again
def withdraw(slug: str, token: str) -> HttpResponse:
    workshop, folder, rec = find_receipt(slug, token)
    form = FlaskForm()
    if submitted(form):
        book = services().receipts
        submission = sent_form()
        with book.holding(token), store.locked(folder):
            rec = book.find(token) or rec
            rows = receipt_rows(folder, rec)
            stamp = now()
            if rec.resource == "participants":
                changes = {r["id"]: {"status": "withdrawn"} for r in rows if r["status"] != "withdrawn"}
            else:
                changes = {
                    r["id"]: {"status": "withdrawn", "updated_at": stamp} for r in rows if r["status"] != "withdrawn"
                }
            if changes:
                store.update_rows(folder, rec.resource, changes)
            if submission:
                book.replace(token, rec.with_applied(submission_digest(submission)))
        flash(_("C'est retiré : votre contribution ne figurera pas au compte-rendu."))
        return redirect(url_for(".receipt", slug=slug, token=token), code=303)
    rows = receipt_rows(folder, rec)
    context = receipt_context(workshop, folder, rec, rows)
    return no_store(show_form("participant/withdraw.html", form, workshop, token=token, **context))
