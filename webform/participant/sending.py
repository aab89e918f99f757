"""Saving what a participant sends, once: submission tokens, receipts, and the bookkeeping of corrections."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Callable

from flask import current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as HttpResponse

from pipeline import participation, store
from pipeline.participation import Points
from pipeline.rows import rows_by_id
from pipeline.workshop import Workshop
from webform.participant.page import sent_submission
from webform.receipts import SUBMISSION_FIELD, Receipt, derived, receipt_token, submission_digest, text_digest
from webform.services import services

# ---- submission tokens: a form sent twice is applied once ---------------------------------


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


def written(rows: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    """What the participant wrote, row by row, for the receipt to tell a text the team changed since."""
    return tuple((r["id"], text_digest(r.get("text") or r.get("name") or "")) for r in rows)


def save(
    workshop: Workshop,
    folder: Path,
    kind: str,
    resource: str,
    rows: list[dict[str, str]],
    wanted: Points | dict[str, str] | None = None,
) -> HttpResponse:
    """Append the rows (all or nothing) after their column's last points, record the receipt, redirect to it.

    Under the lock of the receipt token, so that the same form sent twice at
    once is saved once: the second finds the first's receipt.  A form sent
    once (`SENT_ONCE`) sent again with other content is applied, as
    `wanted` (what the form asks for), as a correction of its first receipt.
    Errors: store.StoreError (nothing written: the view shows its form again,
    see `webform.safety.library_refusal`), CorrectionRefused (a resend the team overtook).
    """
    book = services().receipts
    token = new_receipt_token(workshop.slug, kind)
    content = sent_form()
    sent = submission_digest(content) if content and kind in SENT_ONCE else ""
    with book.holding(token) if token else contextlib.nullcontext():
        first = book.find(token) if token is not None else None
        if token is not None and first is not None and (not sent or first.applied[-1:] == (sent,)):
            return already_saved(workshop.slug, token)
        if first is None:
            try:
                store.append_rows(folder, resource, rows, after_siblings=resource in store.SIBLINGS)
            except store.DuplicateKey:
                if token is None:  # random ids: never in practice
                    raise
                # A request with this very form wrote these rows and was killed before its
                # receipt (the ids derive from the submission token): record the receipt now.
            receipt = Receipt(workshop.slug, kind, resource, tuple(r["id"] for r in rows), (sent,) if sent else (), written(rows))
            token = book.issue(receipt, token)
    if first is not None and token is not None:
        assert wanted is not None, "a form sent once is saved with what it asks for"
        return resent(workshop, folder, token, wanted)
    if resource == "contributions" and rows[0]["status"] == "pending":
        flash(_("Merci ! C'est enregistré. Votre contribution apparaîtra après validation par l'équipe d'animation."))
    else:
        flash(_("Merci ! C'est enregistré."))
    return redirect(url_for(".receipt", slug=workshop.slug, token=token), code=303)


def resent(workshop: Workshop, folder: Path, token: str, wanted: Points | dict[str, str]) -> HttpResponse:
    """The page of a form sent once, sent again with other content: a correction of its first receipt.

    Applied under the receipt's lock like any correction, and only while the
    team has not touched the first sending (else CorrectionRefused: the form
    comes back with its text, a resend never undoes a moderation decision).
    """
    state = participation.correction_state({}, False)
    if apply_correction(workshop, folder, token, wanted, state, resend=True) == ALREADY:
        return already_saved(workshop.slug, token)
    flash(
        _(
            "Ce formulaire avait déjà été envoyé : ce nouvel envoi remplace le premier, qui n'est pas compté deux fois. "
            "Voici ce qui est enregistré ; pour le changer encore, utilisez « Corriger »."
        )
    )
    return redirect(url_for(".receipt", slug=workshop.slug, token=token), code=303)


# ---- corrections of a receipt ---------------------------------------------------------------


def receipt_rows(folder: Path, receipt: Receipt) -> list[dict[str, str]]:
    return rows_by_id(folder, receipt.resource, receipt.ids)


def team_changes(folder: Path, rec: Receipt, rows: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    """What the team did to a receipt's points (`participation.team_changes`); a text is the team's
    correction when its digest differs from the one the participant last wrote (`Receipt.written`)."""
    if rec.resource != "contributions":
        return {}
    wrote = dict(rec.written)
    corrected = {r["id"] for r in rows if r["id"] in wrote and text_digest(r["text"]) != wrote[r["id"]]}
    return participation.team_changes(folder, rows, corrected)


def team_kinds(changes: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Row id → what the team did (HIDDEN, MERGED…), as `participation.correction_state` reads it."""
    return {row_id: kind for row_id, (kind, _host) in changes.items()}


APPLIED, ALREADY = "applied", "already"


def apply_correction(
    workshop: Workshop, folder: Path, token: str, wanted: Points | dict[str, str], state: str | None, resend: bool = False
) -> str:
    """Rewrite the receipt's rows as the corrected form asks (`wanted`: Points, or a signature's
    `person_fields`): APPLIED, or ALREADY when this very form was applied already.  `state`: the
    `correction_state` the form was made from (None: not checked).  `resend`: the page of a form sent
    once, sent again (`resent`): ALREADY only when its content is the last applied.

    Errors: participation.CorrectionRefused (nothing written) when the receipt
    is no longer in `state`; store.StoreError.  Under the receipt's lock and
    the folder's, the receipt and its rows are read again: two corrections,
    a correction and a moderation decision, never interleave.  Order of
    writes: the receipt with the new ids first (so new rows are never
    orphans), the rows (`participation.correct_points`), then the receipt
    marked with this form.
    """
    book = services().receipts
    submission = sent_form()
    sent = submission_digest(submission) if submission else ""
    with book.holding(token), store.locked(folder):
        found = book.find(token)
        assert found is not None  # receipts are never removed
        rec: Receipt = found
        if sent and (rec.applied[-1:] == (sent,) if resend else sent in rec.applied):
            return ALREADY
        rows = receipt_rows(folder, rec)
        team = team_kinds(team_changes(folder, rec, rows))
        participation.check_unchanged(rows, team, state)
        if isinstance(wanted, dict):
            participation.correct_signature(folder, rows[0]["id"], wanted)
        else:

            def record(ids: list[str]) -> None:
                nonlocal rec
                rec = replace(rec, ids=rec.ids + tuple(ids))
                book.replace(token, rec)

            result = participation.correct_points(folder, workshop, rows, team, wanted, before_adding=record)
            rec = replace(rec, written=tuple((dict(rec.written) | dict(written(result))).items()))
        book.replace(token, rec.with_applied(sent) if sent else rec)
        return APPLIED


def withdraw_receipt(folder: Path, token: str) -> None:
    """Withdraw every row of a receipt (`participation.withdraw`), under its lock; the form is marked applied."""
    book = services().receipts
    submission = sent_form()
    with book.holding(token):
        rec = book.find(token)
        assert rec is not None  # receipts are never removed
        participation.withdraw(folder, rec.resource, rec.ids)
        if submission:
            book.replace(token, rec.with_applied(submission_digest(submission)))
