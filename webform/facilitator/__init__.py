"""Facilitator pages under /<atelier>/animation/: dashboard, live wall, moderation, transcription, exports, preview."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from flask import Blueprint, Flask, Response, current_app, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import ngettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import export, moderation, opening, schemas, store, tables, votes
from pipeline.workshop import (
    CSV_FILES,
    TABLE_FILES,
    Atelier,
    AtelierError,
    Contribution,
    Group,
    Phase,
    Point,
    Workshop,
    atelier_from_tables,
    contribution_from_row,
    format_datetime,
    parse_datetime,
    participant_from_row,
    phase_tables,
)
from webform.catalog import BrokenAtelier
from webform.facilitator import access
from webform.facilitator.forms import (
    ActionForm,
    EditForm,
    LoginForm,
    MergeForm,
    OnePostItForm,
    several_post_its_form,
)
from webform.forms import TextareaRules
from webform.participant import open_atelier, row_ids, sent_submission, shows_form_again, submitted
from webform.points import leading_depth, nest, parse_points
from webform.preview import Previews
from webform.rows import rows_by_id
from webform.receipts import new_submission
from webform.safety import SECURITY_HEADERS, refuse

bp = Blueprint(access.BLUEPRINT, __name__, template_folder="templates")

POINT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RECENT = 10  # transcribed points shown under the entry field
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


def now() -> str:
    return format_datetime(dt.datetime.now(dt.timezone.utc))


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
        workshop = Workshop(slug=slug, title=slug, date=dt.date.today(), place="")
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


# ---- moderation -----------------------------------------------------------------------------


def point_or_404(rows: dict[str, dict[str, str]], point_id: str) -> dict[str, str]:
    row = rows.get(point_id) if POINT_ID.fullmatch(point_id) else None
    if row is None:
        raise refuse(404, _("Ce point n'existe pas (ou plus) dans cet atelier."))
    return row


def table(folder: Path) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in store.read_table(folder, "contributions")}


@bp.get("/<slug>/animation/moderation")
def queue(slug: str) -> str:
    workshop, folder = open_atelier(slug)
    atelier = current_atelier(workshop, folder)
    rows = {c.id: c for c in atelier.contributions}
    order = {c: n for n, c in enumerate(columns(workshop))}
    pending_roots = [
        c
        for c in atelier.contributions
        if c.status == "pending" and not (c.parent and c.parent in rows and rows[c.parent].status == "pending")
    ]
    kids: dict[str, list[Contribution]] = {}
    for c in atelier.contributions:
        if c.parent and c.status == "pending":
            kids.setdefault(c.parent, []).append(c)

    def branch(c: Contribution, seen: frozenset[str]) -> Point:
        below = sorted(kids.get(c.id, []), key=lambda k: k.order)
        return Point(c, tuple(branch(k, seen | {c.id}) for k in below if k.id not in seen))

    pending = [
        (Column(c.question, c.phase, c.group, c.section), branch(c, frozenset()), rows.get(c.parent or ""))
        for c in sorted(pending_roots, key=lambda c: (c.created_at, c.id))
    ]
    # A page of hundreds of points, each with its forms, is heavy on the facilitator's laptop:
    # past MODERATION_PAGE points, the published and hidden ones are shown one question and one
    # phase at a time (links at the top), and the queue shows its oldest MODERATION_PAGE branches.
    limit = int(current_app.config["MODERATION_PAGE"])
    shown = [c for c in columns(workshop)]
    filters: list[tuple[str, str, bool]] = []
    if len(atelier.contributions) > limit:
        wanted = (request.args.get("question", ""), request.args.get("temps", ""))
        choices = [(q.id, p.id) for p in workshop.phases for q in workshop.phase_questions(p)]
        current = wanted if wanted in choices else (choices[0] if choices else ("", ""))
        filters = [(q, p, (q, p) == current) for q, p in choices]
        shown = [c for c in shown if (c.question, c.phase) == current]
    published = []
    for column in shown:
        trees = atelier.points(column.question, column.phase, column.section, column.group)
        if trees:
            published.append((column, trees))
    shown_keys = set(shown)
    hidden = sorted(
        (
            c
            for c in atelier.contributions
            if c.status == "hidden" and Column(c.question, c.phase, c.group, c.section) in shown_keys
        ),
        key=lambda c: (order.get(Column(c.question, c.phase, c.group, c.section), 0), *c.order),
    )
    return render_template(
        "facilitator/moderation.html",
        workshop=workshop,
        pending=pending[:limit],
        pending_count=len(pending),
        published=published,
        hidden=hidden,
        filters=filters,
        phase_labels={p.id: p.text(workshop.language) for p in workshop.phases},
        form=ActionForm(),
        Column=Column,
    )


def decided(
    slug: str, outcome: moderation.Outcome, message: str, row: dict[str, str] | None = None, count: int = 0
) -> HttpResponse:
    """Back to the moderation page, at the point decided (on its question's page when the atelier is large)."""
    if outcome.changed:
        flash(message)
    if outcome.note:
        flash(outcome.note)
    place = {}
    if row is not None and count > int(current_app.config["MODERATION_PAGE"]):
        place = {"question": row["question"], "temps": row["phase"]}
    return back(".queue", slug, f"point-{outcome.changed[0]}" if outcome.changed else "", **place)


@bp.post("/<slug>/animation/moderation/<point_id>/publier")
def publish(slug: str, point_id: str) -> HttpResponse:
    _workshop, folder = open_atelier(slug)
    rows = table(folder)
    row = point_or_404(rows, point_id)
    try:
        outcome = moderation.publish(folder, point_id)
    except AtelierError as e:
        flash(said_to_team(e), "erreur")
        return back(".queue", slug)
    more = len(outcome.changed) - 1
    if more > 0:
        message = ngettext(
            "Publié : « %(text)s », avec %(num)d précision.",
            "Publié : « %(text)s », avec %(num)d précisions.",
            more,
            text=short(row["text"]),
        )
    else:
        message = _("Publié : « %(text)s ».", text=short(row["text"]))
    return decided(slug, outcome, message, row, len(rows))


@bp.post("/<slug>/animation/moderation/<point_id>/masquer")
def hide(slug: str, point_id: str) -> HttpResponse:
    _workshop, folder = open_atelier(slug)
    rows = table(folder)
    row = point_or_404(rows, point_id)
    try:
        outcome = moderation.hide(folder, point_id)
    except AtelierError as e:
        flash(said_to_team(e), "erreur")
        return back(".queue", slug)
    message = _("Masqué : « %(text)s ». Il ne figurera pas au compte-rendu.", text=short(row["text"]))
    return decided(slug, outcome, message, row, len(rows))


def short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@bp.route("/<slug>/animation/moderation/<point_id>/corriger", methods=["GET", "POST"])
@shows_form_again
def edit(slug: str, point_id: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    row = point_or_404(table(folder), point_id)
    form = EditForm(data={"text": row["text"]} if request.method == "GET" else None)
    if submitted(form):
        try:
            outcome = moderation.edit(folder, point_id, form.text.data)
        except AtelierError as e:
            form.text.errors.append(said_to_team(e))
        else:
            return decided(slug, outcome, _("Corrigé : « %(text)s ».", text=short(form.text.data)))
    return form_page("facilitator/edit.html", form, workshop, row=row, column=column_of(row))


@bp.route("/<slug>/animation/moderation/<point_id>/fusionner", methods=["GET", "POST"])
@shows_form_again
def merge(slug: str, point_id: str) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    rows = table(folder)
    duplicate = point_or_404(rows, point_id)
    candidates = sorted(moderation.merge_candidates(rows, point_id), key=lambda r: (r["created_at"], r["id"]))
    form = MergeForm()
    form.keep.choices = [
        (r["id"], _("%(text)s (précision de « %(parent)s »)", text=r["text"], parent=short(rows[r["parent"]]["text"], 50)))
        if r["parent"] in rows
        else (r["id"], r["text"])
        for r in candidates
    ]
    if submitted(form):
        try:
            outcome = moderation.merge(folder, form.keep.data, point_id, form.text.data or None)
        except AtelierError as e:
            form.keep.errors.append(said_to_team(e))
        else:
            kept = rows[form.keep.data]
            message = _(
                "Fusionné : « %(duplicate)s » est masqué, ses précisions sont passées sous « %(kept)s ».",
                duplicate=short(duplicate["text"]),
                kept=short(form.text.data or kept["text"]),
            )
            return decided(slug, outcome, message)
    return form_page(
        "facilitator/merge.html", form, workshop, row=duplicate, column=column_of(duplicate), candidates=candidates
    )


def form_page(template: str, form: Any, workshop: Workshop, **context: Any) -> HttpResponse:
    from webform.participant import form_errors

    errors = form_errors(form) if request.method == "POST" else []
    body = render_template(template, form=form, workshop=workshop, errors=errors, **context)
    return Response(body, status=400 if errors else 200)


# ---- transcription of paper post-its --------------------------------------------------------


def sticky(slug: str) -> dict[str, Any]:
    """What the facilitator chose last on this atelier (question, rubrique, sous-groupe), and what was typed."""
    state = session.get("saisie")
    return state if isinstance(state, dict) and state.get("atelier") == slug else {"atelier": slug}


@bp.route("/<slug>/animation/saisie", methods=["GET", "POST"])
@shows_form_again
def transcribe(slug: str) -> HttpResponse:
    return transcription(slug, several=False)


@bp.route("/<slug>/animation/saisie/lignes", methods=["GET", "POST"])
@shows_form_again
def transcribe_lines(slug: str) -> HttpResponse:
    return transcription(slug, several=True)


def transcription(slug: str, several: bool) -> HttpResponse:
    workshop, folder = open_atelier(slug)
    state = sticky(slug)
    rules = TextareaRules(int(current_app.config["MAX_POINTS_PER_FIELD"]), schemas.MAX_DEPTH)
    form_class = several_post_its_form(rules) if several else OnePostItForm
    defaults = {
        "question": state.get("question") or (workshop.questions[0].id if workshop.questions else ""),
        "section": state.get("section") or next((f"{c.phase}/{c.section}" for c in columns(workshop)), ""),
        "group": state.get("group") or "",
    }
    form = form_class(data=defaults if request.method == "GET" else None)
    form.set_workshop(workshop)
    if submitted(form):
        column = Column(form.question.data, form.phase, form.group_id(), form.rubric)
        chain = state.get("chaine", []) if state.get("colonne") == list(_key(column)) else []
        try:
            saved, chain = save_post_its(folder, column, form.text.data, several, chain, rules, row_ids(slug, "saisie", "c"))
        except store.DuplicateKey:
            # The same form sent twice (a double Enter): its ids derive from its submission token.
            flash(_("Cet envoi était déjà enregistré : rien n'a été ajouté une seconde fois."))
            return back(".transcribe_lines" if several else ".transcribe", slug)
        except store.StoreError as e:
            form.text.errors.append(_("Rien n'a été enregistré : %(reason)s", reason=str(e)))
        else:
            recent = [[r["id"], depth] for r, depth in reversed(saved)] + state.get("recents", [])
            session["saisie"] = {
                "atelier": slug,
                "question": column.question,
                "section": f"{column.phase}/{column.section}",
                "group": column.group or "",
                "colonne": list(_key(column)),
                "chaine": chain,
                "recents": recent[:RECENT],
            }
            if len(saved) == 1:
                flash(_("Enregistré : « %(text)s ».", text=short(saved[0][0]["text"])))
            else:
                flash(ngettext("%(num)d post-it enregistré.", "%(num)d post-its enregistrés.", len(saved)))
            return back(".transcribe_lines" if several else ".transcribe", slug)
    recent_rows = {r["id"]: r for r in rows_by_id(folder, "contributions", [i for i, _d in state.get("recents", [])])}
    recent = [(recent_rows[i], d) for i, d in state.get("recents", []) if i in recent_rows]
    return form_page(
        "facilitator/transcription.html",
        form,
        workshop,
        several=several,
        recent=recent,
        column_of=column_of,
        submission=sent_submission() or new_submission(),
    )


def _key(column: Column) -> tuple[str, str, str, str]:
    return (column.question, column.phase, column.group or "", column.section)


def save_post_its(
    folder: Path,
    column: Column,
    text: str,
    several: bool,
    chain: list[str],
    rules: TextareaRules,
    new_id: Callable[[], str] = lambda: store.new_id("c"),
) -> tuple[list[tuple[dict[str, str], int]], list[str]]:
    """Append the typed post-its to the column, published and credited to nobody; (rows with depth, new chain).

    `chain` holds the ids of the last point typed in this column and of its
    parents (top level first): a single line indented once is a précision of
    the last point, twice of its last précision, and so on.  Positions
    follow the column's existing points, computed under the store's lock
    that also covers the append.  `new_id` makes the ids: derived from the
    form's submission token (`webform.participant.row_ids`), the same form
    sent twice raises store.DuplicateKey instead of writing them twice.
    """
    stamp = now()
    with store.locked(folder):
        existing = [r for r in store.read_table(folder, "contributions") if _key(column_of(r)) == _key(column)]
        ids = {r["id"] for r in existing}
        chain = [i for i in chain if i in ids]

        def next_position(parent: str) -> int:
            return 1 + max((int(r["position"]) for r in existing if r["parent"] == parent), default=0)

        if several:
            lines = parse_points(text, rules.max_depth)
        else:
            depth, body = leading_depth(text)
            depth = min(depth, len(chain), rules.max_depth - 1)
            lines = None
        rows: list[tuple[dict[str, str], int]] = []
        if lines is None:
            parent = chain[depth - 1] if depth else ""
            row = _row(column, new_id(), parent, next_position(parent), body, stamp)
            rows.append((row, depth))
            chain = chain[:depth] + [row["id"]]
        else:
            top = next_position("") - 1
            path: list[str] = []
            for line, point_id, parent, rank in nest(lines, "", iter(new_id, None)):
                rows.append((_row(column, point_id, parent, top + rank if not parent else rank, line.text, stamp), line.depth))
                path = path[: line.depth] + [point_id]
            chain = path
        store.append_rows(folder, "contributions", [r for r, _d in rows])
    return rows, chain


def _row(column: Column, point_id: str, parent: str, position: int, text: str, stamp: str) -> dict[str, str]:
    return {
        "id": point_id,
        "question": column.question,
        "phase": column.phase,
        "group": column.group or "",
        "section": column.section,
        "parent": parent,
        "position": str(position),
        "number": "",
        "text": text,
        "link": "",
        "author": "",  # transcribed from the wall: the group's, not a person's
        "created_at": stamp,
        "updated_at": "",
        "status": "published",  # the facilitator transcribes what the room put up
    }


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
from webform.facilitator import vote_pages  # noqa: E402,F401  (registers the vote and action-plan pages)
