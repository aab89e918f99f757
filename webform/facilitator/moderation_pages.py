"""The team's moderation pages: the queue, publish, hide, correct a point, merge a duplicate (`pipeline.moderation`)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import ngettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import moderation, store, tree
from pipeline.workshop import AtelierError, Contribution, Point
from webform.facilitator import Column, back, bp, column_of, columns, current_atelier, form_page, said_to_team
from webform.facilitator.forms import ActionForm, EditForm, MergeForm
from webform.participant.page import open_atelier, submitted
from webform.safety import refuse, shows_form_again

POINT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


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
    kids = tree.children_by_parent(
        (c for c in atelier.contributions if c.parent and c.status == "pending"),
        parent_of=lambda c: c.parent,
        order=lambda c: c.order,
    )

    def branch(c: Contribution) -> Point:
        return Point(c, tree.nest(kids, lambda k: k.id, Point, root=c.id))

    pending = [
        (Column(c.question, c.phase, c.group, c.section), branch(c), rows.get(c.parent or ""))
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
