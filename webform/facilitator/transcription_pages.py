"""The team's saisie: paper post-its typed into the atelier's columns, one at a time or several lines at once."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, request, session
from flask_babel import gettext as _  # type: ignore[import-untyped]
from flask_babel import ngettext  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import participation, schemas, store
from pipeline.rows import rows_by_id
from webform.facilitator import Column, back, bp, column_of, columns, form_page
from webform.facilitator.forms import OnePostItForm, several_post_its_form
from webform.facilitator.moderation_pages import short
from webform.forms import TextareaRules
from webform.participant.page import open_atelier, sent_submission, submitted
from webform.participant.sending import row_ids
from webform.receipts import new_submission
from webform.safety import library_refusal, shows_form_again

RECENT = 10  # transcribed points shown under the entry field


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


def key(column: Column) -> participation.Column:
    return (column.question, column.phase, column.group or "", column.section)


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
        chain = state.get("chaine", []) if state.get("colonne") == list(key(column)) else []
        with library_refusal():
            try:
                saved, chain = participation.transcribe(
                    folder, key(column), form.text.data, several, chain, rules.max_depth, row_ids(slug, "saisie", "c")
                )
            except store.DuplicateKey:
                # The same form sent twice (a double Enter): its ids derive from its submission token.
                flash(_("Cet envoi était déjà enregistré : rien n'a été ajouté une seconde fois."))
                return back(".transcribe_lines" if several else ".transcribe", slug)
            except store.StoreError as e:
                form.text.errors.append(_("Rien n'a été enregistré : %(reason)s", reason=str(e)))
            else:
                return transcribed(slug, several, state, column, saved, chain)
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


def transcribed(
    slug: str, several: bool, state: dict[str, Any], column: Column, saved: list[tuple[dict[str, str], int]], chain: list[str]
) -> HttpResponse:
    """Remember the column and the chain of the last point for the next post-it; back to the empty form."""
    recent = [[r["id"], depth] for r, depth in reversed(saved)] + state.get("recents", [])
    session["saisie"] = {
        "atelier": slug,
        "question": column.question,
        "section": f"{column.phase}/{column.section}",
        "group": column.group or "",
        "colonne": list(key(column)),
        "chaine": chain,
        "recents": recent[:RECENT],
    }
    if len(saved) == 1:
        flash(_("Enregistré : « %(text)s ».", text=short(saved[0][0]["text"])))
    else:
        flash(ngettext("%(num)d post-it enregistré.", "%(num)d post-its enregistrés.", len(saved)))
    return back(".transcribe_lines" if several else ".transcribe", slug)
