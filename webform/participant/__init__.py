"""Participant pages: ateliers, émargement, idées, fiches de sous-groupe, receipts and corrections."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale  # type: ignore[import-untyped]
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_wtf import FlaskForm  # type: ignore[import-untyped]

from werkzeug.wrappers import Response as HttpResponse
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]

from pipeline import store, votes
from pipeline.french import plural_word
from pipeline.votes import VoteError
from pipeline.workshop import Group, Phase, Question, Workshop, format_datetime
from webform.forms import ROLE_LABELS, parse
from webform.points import Line, format_points, ids_then_new, nest
from webform.receipts import (
    SUBMISSION,
    SUBMISSION_FIELD,
    TOKEN,
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
    workshop = catalog.workshop(slug)  # BrokenAtelier: the app's handler (webform.safety) explains
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
    if g.get("refusal"):
        form.validate()  # show the other mistakes at the same time
        return False
    return form.validate_on_submit()


def form_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """(anchor id, label, message) for the error summary, in the order of the fields."""
    out: list[tuple[str, str, str]] = []
    if g.get("refusal"):
        out.append(("", "", g.refusal[1]))
    for field in form:
        if field.type == "CSRFTokenField":
            if field.errors and not g.get("refusal"):
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


# The forms a person or a group sends once: one signature per person, one sheet per group
# (the page says « une fois par groupe »).  The same page sent again — Back, a box unticked
# or a typo fixed, send — finds the first receipt whatever its content, and is applied as
# a correction of it: never a second signature nor a second sheet.  An idea is different:
# Back, another text, send is a second idea (`sent_form` tells them apart by content).
SENT_ONCE = ("emargement", "fiche")


def sent_page() -> str | None:
    """What identifies the page a form was sent from, whatever it holds: its submission token
    and its address (a sheet's phase, question and group are in its query string)."""
    submission = sent_submission()
    if submission is None:
        return None
    return f"{submission}@{request.path}?{request.query_string.decode('latin-1')}"


def new_receipt_token(slug: str, kind: str) -> str | None:
    """The receipt token a new submission of form `kind` gets: derived from its submission token,
    so that the same form sent again (double tap, resend after a lost answer) finds the same receipt;
    for a form sent once (`SENT_ONCE`) whatever its content.
    None for a form sent without a token (a page older than this mechanism): no replay detection."""
    submission = sent_page() if kind in SENT_ONCE else sent_form()
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


def blank_form(
    template: str, workshop: Workshop, build: Callable[[], tuple[FlaskForm, dict[str, Any]]], variant: str = ""
) -> HttpResponse:
    """The blank form page: the same for everyone but its CSRF token (webform/pages.py)."""
    return Response(services().blank_forms.render(template, workshop, build, variant), status=200)


def language() -> str:
    """The page's language (fr or en): the rubric and group labels of atelier.yaml follow it."""
    return "en" if str(get_locale() or "fr").startswith("en") else "fr"


def target_hints(workshop: Workshop, phase: Phase, question: Question) -> dict[str, str]:
    """« Objectif : 3 à 5 moteurs » per rubric of this phase, for this question only."""
    hints = {}
    for section, target in workshop.targets(phase, question).items():
        rubric = phase.rubric(section)

        def noun(count: int) -> str:  # « 1 moteur », « 0 frein », « 5 moteurs »: the language's plural rule
            if rubric is None:
                return section
            return plural_word(count, rubric.singular, rubric.plural, language())

        if target.min is not None and target.max is not None:
            if target.min == target.max:
                hints[section] = _("Objectif : %(n)d %(noun)s.", n=target.min, noun=noun(target.min))
            else:
                hints[section] = _("Objectif : %(min)d à %(max)d %(noun)s.", min=target.min, max=target.max, noun=noun(target.max))
        elif target.min is not None:
            hints[section] = _("Objectif : au moins %(min)d %(noun)s.", min=target.min, noun=noun(target.min))
        elif target.max is not None:
            hints[section] = _("Objectif : au plus %(max)d %(noun)s.", max=target.max, noun=noun(target.max))
    return hints


def pooled_phases(workshop: Workshop) -> tuple[Phase, ...]:
    """The phases whose points participants send one by one (ideas, questions…), in the déroulé's order."""
    return tuple(p for p in workshop.phases if p.for_participants and not p.grouped and p.kind in ("ideas", "qa"))


def sheet_phases(workshop: Workshop) -> tuple[Phase, ...]:
    return tuple(p for p in workshop.phases if p.for_participants and p.grouped)


def column_choices(workshop: Workshop) -> list[SelectChoice]:
    """« phase/rubric » for each column a participant may post a point in."""
    phases = pooled_phases(workshop)
    lang = language()
    out = []
    for phase in phases:
        for rubric in phase.columns:
            label = rubric.text(lang) if len(phases) == 1 else f"{phase.text(lang)} — {rubric.text(lang)}"
            out.append(SelectChoice(f"{phase.id}/{rubric.id}", label))
    return out


def question_choices(workshop: Workshop, phases: tuple[Phase, ...] = ()) -> list[SelectChoice]:
    wanted = {q.id for p in phases for q in workshop.phase_questions(p)} if phases else None
    return [SelectChoice(q.id, q.title) for q in workshop.questions if wanted is None or q.id in wanted]


def idea_form(workshop: Workshop, data: dict[str, Any] | None = None) -> FlaskForm:
    form = services().forms.idea(data=data) if data is not None else services().forms.idea()
    form.question.choices = question_choices(workshop, pooled_phases(workshop))
    form.question.label.text = workshop.terms.word("question", language()).capitalize()  # « Thème »
    form.column.choices = column_choices(workshop)
    if request.method == "GET" and len(form.question.choices) == 1:
        form.question.data = form.question.choices[0].value
    if len(form.column.choices) == 1 and not form.column.data:
        form.column.data = form.column.choices[0].value  # one column: nothing to ask
    phases = pooled_phases(workshop)
    if len(form.column.choices) == 1:
        rubric = phases[0].columns[0]
        noun = rubric.singular if language() == "fr" else (rubric.label_en or rubric.label).lower()
        form.text.label.text = _("Votre %(noun)s", noun=noun)
    else:
        form.text.label.text = _("Votre point")
    return form


def idea_context(workshop: Workshop) -> dict[str, Any]:
    """The idea page's heading: the names of the phases it serves (« Brainstorming », « Constats »)."""
    return {"heading": ", ".join(p.text(language()) for p in pooled_phases(workshop))}


def idea_column(workshop: Workshop, form: FlaskForm) -> tuple[str, str] | None:
    """(phase, rubric) of a valid idea form, or None after adding the French error to the form."""
    phase, _sep, rubric = (form.column.data or "").partition("/")
    found = workshop.column_problem(form.question.data, phase, "", rubric)
    if found:
        form.question.errors = [found[1]]
        return None
    return phase, rubric


def chosen_sheet(workshop: Workshop, args: Any) -> tuple[Phase, Question, Group] | str | None:
    """The (phase, question, group) of a sheet page's address when atelier.yaml declares it;
    else the French reason (naming the ids that exist), or None when nothing was chosen."""
    wanted = {k: str(args.get(k) or "")[:40] for k in ("temps", "question", "groupe")}  # ids are 32 at most
    if not any(wanted.values()):
        return None
    phases = sheet_phases(workshop)
    phase = workshop.phase(wanted["temps"])
    if phase is None or phase not in phases:
        return _(
            "Le temps « %(phase)s » n'a pas de fiche de %(group)s ; temps possibles : %(ids)s.",
            phase=wanted["temps"][:40],
            group=workshop.terms.word("group", language()),
            ids=", ".join(p.id for p in phases) or "aucun",
        )
    found = workshop.column_problem(wanted["question"], phase.id, wanted["groupe"], phase.rubrics[0].id)
    if found:
        return found[1]
    question, group = workshop.question(wanted["question"]), workshop.group(wanted["groupe"])
    assert question is not None and group is not None  # column_problem found them
    return phase, question, group


def sheet_form(
    workshop: Workshop, phase: Phase, question: Question, group: Group, data: dict[str, Any] | None = None
) -> tuple[FlaskForm, dict[str, Any]]:
    lang = language()
    cls = services().forms.sheet(tuple((r.id, r.full_text(lang)) for r in phase.columns))
    form = cls(data=data) if data is not None else cls()
    return form, {
        "phase": phase,
        "question": question,
        "group": group,
        "rubrics": phase.columns,
        "targets": target_hints(workshop, phase, question),
        "group_label": group.text(lang),
        "language": lang,
    }


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
        row = participant_row(form)
        row.update(id=row_ids(slug, "emargement", "p")(), created_at=now(), status="present")
        saved = save(workshop, folder, "emargement", "participants", [row], form)
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
    if not pooled_phases(workshop):
        raise refuse(404, _("Cet atelier ne recueille pas d'idées individuelles."))
    if blank_request():
        return blank_form("participant/idea.html", workshop, lambda: (idea_form(workshop), idea_context(workshop)))
    form = idea_form(workshop)
    if submitted(form):
        column = idea_column(workshop, form)
        if column:
            phase, rubric = column
            rows = contribution_rows(
                idea_lines(form, rubric),
                question=form.question.data,
                phase=phase,
                group=None,
                status=new_status(workshop),
                new_ids=row_ids(slug, "idee", "c"),
            )
            saved = save(workshop, folder, "idee", "contributions", rows)
            if saved:
                return saved
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
        ids = row_ids(slug, "fiche", "c")
        rows = []
        for rubric in phase.columns:
            rows += contribution_rows(
                {rubric.id: parse(form[rubric.id].data, services().forms.rules)},
                question=question.id,
                phase=phase.id,
                group=group.id,
                status=new_status(workshop),
                new_ids=ids,
            )
        saved = save(workshop, folder, "fiche", "contributions", rows, form)
        if saved:
            return saved
    return show_form("participant/sheet.html", form, workshop, **context)


def sheet_choices(workshop: Workshop) -> list[tuple[Phase, list[tuple[Question, list[Group]]]]]:
    """Every sheet a rapporteur may fill: by phase, then question, the groups declared for it."""
    return [
        (phase, [(q, list(workshop.groups_for(phase, q))) for q in workshop.phase_questions(phase) if workshop.groups_for(phase, q)])
        for phase in sheet_phases(workshop)
    ]


# ---- saving --------------------------------------------------------------


def participant_row(form: FlaskForm) -> dict[str, str]:
    return {
        "name": form.name.data,
        "organisation": form.organisation.data or "",
        "role": form.role.data,
        "listed": "true" if form.listed.data else "false",
    }


def idea_lines(form: FlaskForm, rubric: str) -> dict[str, list[Line]]:
    details = parse(form.details.data, services().forms.rules, depth=1)
    return {rubric: [Line(0, form.text.data, 0)] + [Line(line.depth + 1, line.text, line.number) for line in details]}


def contribution_rows(
    lines_by_section: dict[str, list[Line]],
    *,
    question: str,
    phase: str,
    group: str | None,
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
                    "group": group or "",
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
    workshop: Workshop,
    folder: Path,
    kind: str,
    resource: str,
    rows: list[dict[str, str]],
    form: FlaskForm | None = None,
) -> HttpResponse | None:
    """Append the rows (all or nothing) after their column's last points, record the receipt, redirect to it.

    Under the lock of the receipt token, so that the same form sent twice at
    once is saved once: the second finds the first's receipt.  A form sent
    once (`SENT_ONCE`) sent again with other content is applied, as `form`,
    as a correction of its first receipt.  A refusal of the store or of
    that correction leaves g.refusal for the view to show the form again (None).
    """
    book = services().receipts
    token = new_receipt_token(workshop.slug, kind)
    content = sent_form()
    sent = submission_digest(content) if content and kind in SENT_ONCE else ""
    with book.holding(token) if token else contextlib.nullcontext():
        first = book.find(token) if token is not None else None
        if token is not None and first is not None and (not sent or first.applied[-1:] == (sent,)):
            return already_saved(workshop.slug, token)
        try:
            if first is None:
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
        if first is None:
            token = book.issue(
                Receipt(
                    workshop.slug, kind, resource, tuple(r["id"] for r in rows), (sent,) if sent else (), written(rows)
                ),
                token,
            )
    if first is not None and token is not None:
        assert form is not None, "a form sent once is saved with its form"
        return resent(workshop, folder, token, form)
    if resource == "contributions" and rows[0]["status"] == "pending":
        flash(_("Merci ! C'est enregistré. Votre contribution apparaîtra après validation par l'équipe d'animation."))
    else:
        flash(_("Merci ! C'est enregistré."))
    return redirect(url_for(".receipt", slug=workshop.slug, token=token), code=303)


def resent(workshop: Workshop, folder: Path, token: str, form: FlaskForm) -> HttpResponse | None:
    """The page of a form sent once, sent again with other content: a correction of its first receipt.

    Applied under the receipt's lock like any correction, and only while the
    team has not touched the first sending (else the form comes back with its
    text: a resend never undoes a moderation decision).
    """
    outcome = apply_correction(workshop, folder, token, form, correction_state({}, False), resend=True)
    if outcome == ALREADY:
        return already_saved(workshop.slug, token)
    if outcome == APPLIED:
        flash(
            _(
                "Ce formulaire avait déjà été envoyé : ce nouvel envoi remplace le premier, qui n'est pas compté deux fois. "
                "Voici ce qui est enregistré ; pour le changer encore, utilisez « Corriger »."
            )
        )
        return redirect(url_for(".receipt", slug=workshop.slug, token=token), code=303)
    refused_here(409, REFUSED_CORRECTIONS[outcome]())
    return None


# ---- receipt, correction, withdrawal -------------------------------------


def no_store(response: HttpResponse) -> HttpResponse:
    """The page's URL holds the private token: keep it out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


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


def current_points(workshop: Workshop, rows: list[dict[str, str]]) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """The points not withdrawn, by section (in the phase's order of rubrics), each in reading order."""
    live = [r for r in rows if r["status"] != "withdrawn"]
    phase = workshop.phase(rows[0]["phase"]) if rows else None
    by_section: dict[str, list[tuple[int, dict[str, str]]]] = {r.id: [] for r in phase.rubrics} if phase else {}
    for depth, row in reading_order(live):
        by_section.setdefault(row["section"], []).append((depth, row))
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


STATE_FIELD = "etat"  # what a correction form was made from (hidden field, see correction_state)
APPLIED, ALREADY, TEAM_ACTED, WITHDRAWN = "applied", "already", "team", "withdrawn"
REFUSED_CORRECTIONS: dict[str, Callable[[], str]] = {
    TEAM_ACTED: lambda: _(
        "L'équipe d'animation a traité cette réponse pendant que vous la modifiiez : rien n'a été enregistré, "
        "pour ne pas défaire son travail. Votre texte est conservé ci-dessous ; votre reçu montre ce que l'équipe "
        "a fait, et « Corriger » depuis le reçu repart de là."
    ),
    WITHDRAWN: lambda: _(
        "Cette réponse a été retirée (peut-être depuis un autre onglet) : rien n'a été enregistré. Votre texte est "
        "conservé ci-dessous ; pour le proposer encore, copiez-le dans un nouveau formulaire depuis la page de l'atelier."
    ),
}


def correction_state(changes: dict[str, tuple[str, str]], withdrawn: bool) -> str:
    """A digest of what the team did to a receipt's points and whether it was withdrawn: a correction
    form carries the one it was made from, and is refused (with its text) when it changed since."""
    seen = [sorted((row_id, kind) for row_id, (kind, _host) in changes.items()), withdrawn]
    return hashlib.sha256(json.dumps(seen).encode("ascii")).hexdigest()[:16]


def all_withdrawn(rows: list[dict[str, str]]) -> bool:
    return bool(rows) and all(r["status"] == "withdrawn" for r in rows)


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
        if not g.get("refusal"):
            refused_here(409, REFUSED_CORRECTIONS[WITHDRAWN if all_withdrawn(rows) else TEAM_ACTED]())
        rows_to_correct = [r for r in rows if r["status"] != "withdrawn"] or rows
    form, template, context = correction_form(workshop, rec, rows_to_correct)
    if submitted(form) and correction_allowed(workshop, rec, rows_to_correct, form):
        outcome = apply_correction(workshop, folder, token, form, request.form.get(STATE_FIELD) or None)
        if outcome in (APPLIED, ALREADY):
            flash(_("Votre correction est enregistrée.") if outcome == APPLIED else _("Cette correction était déjà enregistrée."))
            return redirect(url_for(".receipt", slug=slug, token=token), code=303)
        refused_here(409, REFUSED_CORRECTIONS[outcome]())
    context["kept_by_team"] = [
        (row["text"], note) for row_id, note in team_notes(changes).items() for row in rows if row["id"] == row_id
    ]
    context["state"] = correction_state(changes, all_withdrawn(rows))
    if g.get("refusal") and g.refusal[0] == 409:
        # Sent again as it is, the text would bring back what the team changed: it is refused
        # again, until the participant starts over from the receipt (the sentence says so).
        context["state"] = request.form.get(STATE_FIELD) or context["state"]
    return no_store(show_form(template, form, workshop, token=token, **context))


def apply_correction(
    workshop: Workshop, folder: Path, token: str, form: FlaskForm, state: str | None = None, resend: bool = False
) -> str:
    """Rewrite the receipt's rows from the corrected form: APPLIED, or ALREADY when this very form was
    applied already, or (nothing written) TEAM_ACTED / WITHDRAWN when the receipt is no longer in
    `state` (see `correction_state`), the one the form was made from.  `resend`: the page of a form
    sent once, sent again (`resent`): ALREADY only when its content is the last applied.

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
        if sent and (rec.applied[-1:] == (sent,) if resend else sent in rec.applied):
            return ALREADY
        rows = receipt_rows(folder, rec)
        team = team_changes(folder, rec, rows)
        if all_withdrawn(rows):
            return WITHDRAWN
        if state is not None and state != correction_state(team, False):
            return TEAM_ACTED
        if rec.kind == "emargement":
            store.update_rows(folder, "participants", {rows[0]["id"]: participant_row(form)})
            book.replace(token, rec.with_applied(sent) if sent else rec)
            return APPLIED
        rows_to_correct = editable(rows, team)
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
        return APPLIED


def corrected_rows(
    workshop: Workshop, form: FlaskForm, rows: list[dict[str, str]], last: dict[tuple[str, ...], int]
) -> tuple[list[dict[str, str]], dict[str, dict[str, str]]]:
    """The rows the corrected form asks for, and the changes to the existing ones (by id).

    A point whose column or parent changes goes after its new siblings
    (`last`: each sibling group's highest rank); one that stays keeps its
    place; a corrected text is moderated again under `moderation: pre`.
    """
    if not rows:
        return [], {}
    stamp = now()
    old = current_points(workshop, rows)
    first = rows[0]
    phase = first["phase"]
    if "details" in form:  # the idea form
        lines = idea_lines(form, first["section"])
        question, group = form.question.data, None
    else:
        sheet_phase = workshop.phase(phase)
        assert sheet_phase is not None  # checked by correction_allowed
        lines = {r.id: parse(form[r.id].data, services().forms.rules) for r in sheet_phase.columns}
        question, group = first["question"], request.form.get("group") or first["group"]
    reuse = {section: [r["id"] for _d, r in old.get(section, [])] for section in lines}
    wanted = contribution_rows(
        lines, question=question, phase=phase, group=group, status=new_status(workshop), reuse=reuse
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
    context["closed"] = not workshop.is_open  # no button that could only be refused
    return no_store(show_form("participant/withdraw.html", form, workshop, token=token, **context))


# ---- vote with gommettes -------------------------------------------------------------------

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
    refusal = g.get("refusal")  # (code, sentence, retry-after) of a refused POST: webform.safety
    refused = refusal[1] if refusal else None
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
    return no_store(Response(body, status=refusal[0] if refusal else status))


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
    if request.method == "GET" or g.get("refusal"):
        if cast and kept:  # a second tab's or an old form refused: the device's ballot, with its link
            return ballot_page(workshop, folder, phase, kept)
        answer = ballot_page(workshop, folder, phase, None, new_token=kept)
        return keep_ballot_cookie(answer, slug, phase, g.ballot_token) if request.method == "GET" else answer
    # A browser that already cast a ballot changes that ballot, never casts a second one.
    token = kept if cast and kept else ballot_token(None)
    submit_ballot(workshop, folder, phase, token)
    flash(_("Merci ! Vos gommettes sont enregistrées. Gardez ce lien pour modifier votre vote jusqu'à sa clôture."))
    answer = redirect(url_for(".my_ballot", slug=slug, phase_id=phase.id, token=token), code=303)
    return keep_ballot_cookie(answer, slug, phase, token)


@bp.route("/<slug>/vote/<phase_id>/<token>", methods=["GET", "POST"])
@shows_form_again
def my_ballot(slug: str, phase_id: str, token: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    phase = vote_phase(workshop, phase_id)
    found = services().receipts.find(token)
    if found is None or found.slug != slug or found.kind != "vote" or found.ids[:1] != (phase.id,):
        raise refuse(404, _("Ce lien de vote n'est pas valable. Vérifiez qu'il a été copié en entier."))
    if request.method == "GET" or g.get("refusal"):
        return ballot_page(workshop, folder, phase, token)
    changed = submit_ballot(workshop, folder, phase, ballot_token(token))
    flash(_("Votre vote est modifié.") if changed else _("Votre vote était déjà celui-ci : rien n'a changé."))
    return redirect(url_for(".my_ballot", slug=slug, phase_id=phase.id, token=token), code=303)


# ---- an action proposed by a group -----------------------------------------------------------

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
    from pipeline import actions

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
        done = actions.add(folder, phase.id, item,
                           action_id="a-" + hashlib.sha256(f"action:{token}".encode("ascii")).hexdigest()[:16])
        if done == "replaced":
            flash(_("Ce formulaire avait déjà été envoyé : ce nouvel envoi remplace le premier, qui n'est pas compté deux fois."))
        else:
            flash(_("Merci ! L'action est proposée ; l'équipe d'animation la reprendra dans le plan."))
        return redirect(url_for(".propose_action", slug=slug, phase_id=phase.id), code=303)
    new_token = request.form.get(ACTION_FIELD) if request.method == "POST" else secrets.token_urlsafe(32)
    return no_store(show_form("participant/action.html", form, workshop, phase=phase, new_token=new_token))
